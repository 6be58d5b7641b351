// mmmove merge into the wrong destination, on real servers: an instance merged into itself (one DSN,
// or two spellings of it) or into a copy of itself (the same DiagnosticId, or another one with every
// id shared) is refused before any row is written, --plan included, with the destination's rows as
// they were.
#include <catch2/catch.hpp>

#include <filesystem>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

TEST_CASE("a merge into itself or into a copy of itself is refused before anything is written", "[e2e][merge]") {
    ScratchDb src(Engine::postgres, "msame"), clone(Engine::postgres, "mclone");
    fill_sample(src, 400, 141, false, 1, false);
    auto s = src.connect();
    const std::string before = merge_counts(*s);

    // The same database: under its own DSN, under another spelling of it, and asked for a plan.
    std::string localhost = src.dsn();
    localhost.replace(localhost.find("127.0.0.1"), 9, "localhost");
    for (const auto& args : {std::vector<std::string>{"merge", "--from", src.dsn(), "--to", src.dsn(), "--quiet"},
                             std::vector<std::string>{"merge", "--from", src.dsn(), "--to", localhost, "--quiet"},
                             std::vector<std::string>{"merge", "--from", localhost, "--to", src.dsn(), "--plan"}}) {
        auto run = run_mmmove(args);
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("[BLOCKING]") && Catch::Contains("is the source's database") &&
                                   Catch::Contains("cannot be merged into itself"));
        CHECK(merge_counts(*s) == before);
    }

    // A copy of it, made by mmmove copy: the same DiagnosticId (and the record of the copy, mmmove_sync_state, which a
    // refused merge leaves alone).
    const std::string report = "/tmp/" + clone.name() + ".jsonl";
    auto copied = run_mmmove({"copy", "--from", src.dsn(), "--to", clone.dsn(), "--create-schema", "--quiet", "--report", report});
    fs::remove(report);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    auto c = clone.connect();
    const std::string cloned = merge_counts(*c);
    REQUIRE(cloned == before);
    for (const char* mode : {"--quiet", "--plan"}) {
        auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", clone.dsn(), mode});
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("[BLOCKING]") && Catch::Contains("has the source's DiagnosticId"));
        CHECK(merge_counts(*c) == cloned);
        CHECK(query_one(*c, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'mmmove%' AND tablename <> 'mmmove_sync_state'") == "0");
    }

    // The clone under another DiagnosticId: its ids are the source's all the same.
    c->exec("UPDATE systems SET value = 'anotherdiagnosticid0000001' WHERE name = 'DiagnosticId'");
    for (const char* mode : {"--quiet", "--plan"}) {
        auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", clone.dsn(), mode});
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("[BLOCKING]") && Catch::Contains("sampled source Users ids are already in the destination"));
        CHECK(merge_counts(*c) == cloned);
        CHECK(query_one(*c, "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'mmmove%' AND tablename <> 'mmmove_sync_state'") == "0");
    }
    CHECK(merge_counts(*s) == before);
}
