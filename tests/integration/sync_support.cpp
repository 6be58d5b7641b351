#include "sync_support.h"

#include <catch2/catch.hpp>
#include <stdexcept>

#include "catalog/catalog.h"

namespace mmmove::test {

nlohmann::json json_of(const CliRun& run) {
    size_t start = run.output.rfind("{\n", 0) == 0 ? 0 : run.output.find("\n{\n") + 1;
    INFO(run.output.substr(0, 4000));
    auto j = nlohmann::json::parse(run.output.substr(start), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

const nlohmann::json& table_of(const nlohmann::json& result, const std::string& name) {
    for (const auto& t : result["tables"])
        if (lower(t["table"].get<std::string>()) == name) return t;
    FAIL("no table " << name << " in the result");
    throw std::logic_error("unreachable");
}

CliRun sync(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra) {
    std::vector<std::string> args = {"sync", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--json", "--chunk-rows", "300"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mmmove(args);
}

CliRun verify(const ScratchDb& src, const ScratchDb& dst) {
    return run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--chunk-rows", "300"});
}

}  // namespace mmmove::test
