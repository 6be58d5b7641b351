// An incremental refresh whose copy.skip_tables changed since the last refresh is a full refresh, and
// its copy step says why: a table skipped last night and copied tonight would otherwise stay empty or
// stale, and one copied last night and skipped tonight would keep the older refresh's rows.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// An incremental refresh job of `src` into `dst` skipping `skip` ("" for none); its summary is summary.json.
void write_job(const TempFolder& dir, const ScratchDb& src, const ScratchDb& dst, const std::string& skip) {
    spit(dir.path / "job.yaml", "job: test-skip\nmode: refresh\n"
                                "source:\n  database: " + src.dsn() + "\n"
                                "destination:\n  database: " + dst.dsn() + "\n"
                                "steps: [check, copy, anonymise]\n"
                                "copy:\n  create_schema: true\n  jobs: 1\n  incremental: true\n" +
                                (skip.empty() ? "" : "  skip_tables: [" + skip + "]\n") +
                                "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n"
                                "lock: " + (dir.path / "job.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
                                "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
}

nlohmann::json run_job(const TempFolder& dir) {
    setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    CliRun r = run_mmmove({"run", (dir.path / "job.yaml").string(), "--quiet"});
    INFO(r.output.substr(0, 4000));
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(slurp(dir.path / "summary.json"), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

std::string copy_detail(const nlohmann::json& summary) {
    for (const auto& s : summary["steps"])
        if (s["step"] == "copy") return s["detail"].get<std::string>();
    FAIL("no copy step in the summary");
    return "";
}

}  // namespace

TEST_CASE("an incremental refresh whose copy.skip_tables changed is a full refresh, in both directions", "[e2e][run][incremental][pg]") {
    ScratchDb src(Engine::postgres, "iss"), dst(Engine::postgres, "isd");
    fill_sample(src, 60, 141, false, 1, false);
    TempFolder dir("incremental-skip");
    auto d = dst.connect();
    const std::string reactions = query_one(*src.connect(Side::source), "SELECT COUNT(*) FROM reactions");
    REQUIRE(reactions != "0");

    write_job(dir, src, dst, "Reactions");
    run_job(dir);                                      // the first: a full refresh
    CHECK(run_job(dir)["incremental"] == true);        // the same list: incremental
    CHECK(query_one(*d, "SELECT COUNT(*) FROM reactions") == "0");

    write_job(dir, src, dst, "");  // Reactions copied again: a sync would leave it empty
    auto included = run_job(dir);
    CHECK(included["incremental"] == false);
    CHECK(copy_detail(included).find("copy.skip_tables no longer skips reactions") != std::string::npos);
    CHECK(query_one(*d, "SELECT COUNT(*) FROM reactions") == reactions);
    CHECK(run_job(dir)["incremental"] == true);

    write_job(dir, src, dst, "Reactions");  // skipped again: a sync would keep the older refresh's rows
    auto skipped = run_job(dir);
    CHECK(skipped["incremental"] == false);
    CHECK(copy_detail(skipped).find("copy.skip_tables now skips reactions") != std::string::npos);
    CHECK(run_job(dir)["incremental"] == true);
}
