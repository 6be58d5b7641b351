#include "sync_support.h"

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <stdexcept>
#include <thread>

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

SlotGuard::~SlotGuard() {
    try {
        if (!slot.empty()) db.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = " + db.quote_literal(slot));
    } catch (...) {
    }
}

bool killed(const CliRun& run) { return run.exit_code == -1 || run.exit_code == 128 + 9; }

CliRun sync_killed_at(const ScratchDb& src, const ScratchDb& dst, const std::string& kill_at) {
    ::setenv("MMMOVE_TEST_KILL_AT", kill_at.c_str(), 1);
    CliRun run = sync(src, dst);
    for (int tries = 0; run.exit_code == 9 && tries < 50; ++tries) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        run = sync(src, dst);
    }
    ::unsetenv("MMMOVE_TEST_KILL_AT");
    return run;
}

std::string tables_beside(Database& d, const std::string& table) {
    std::string pattern;  // LIKE's pattern: `table`'s underscores are themselves, then any suffix
    for (char c : table) pattern += c == '_' ? std::string("\\_") : std::string(1, c);
    return query_one(d, std::string("SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = ") +
                            (d.engine() == Engine::postgres ? "current_schema()" : "DATABASE()") + " AND LOWER(table_name) LIKE '" +
                            pattern + "%' AND LOWER(table_name) <> " + d.quote_literal(table));
}

}  // namespace mmmove::test
