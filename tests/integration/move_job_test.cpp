// `mmmove run` with mode: move on real servers: copy, sync passes, the stop command, the final sync,
// verify and the start command, in that order; the summary reports each pass and the downtime.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

void move_job(Engine from) {
    ScratchDb src(from, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    TempFolder dir("move-job");
    const auto stopped = dir.path / "stopped", started = dir.path / "started", summary = dir.path / "summary.json";
    const std::string job = (dir.path / "move.yaml").string();
    // start copies the stop's marker: it fails unless stop ran first. No shell: argv lists.
    spit(job, "job: test-move\nmode: move\nsource:\n  database: " + src.dsn() + "\ndestination:\n  database: " + dst.dsn() +
                  "\ncopy:\n  create_schema: true\n  jobs: 1\n  chunk_rows: 1000\n"
                  "move:\n  until_changed_rows: 10\n  max_passes: 3\n  stop: [/usr/bin/touch, " + stopped.string() +
                  "]\n  start: [/bin/cp, " + stopped.string() + ", " + started.string() + "]\n"
                  "lock: " + (dir.path / "move.lock").string() + "\nsummary: " + summary.string() + "\nreport: " +
                  (dir.path / "report.jsonl").string() + "\n");
    std::filesystem::permissions(job, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto run = run_mmmove({"run", job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(std::filesystem::exists(stopped));
    CHECK(std::filesystem::exists(started));
    CHECK_THAT(run.output, Catch::Contains("the source stood still during the final sync"));
    CHECK_THAT(run.output, Catch::Contains("Downtime: "));
    auto s = nlohmann::json::parse(slurp(summary));
    std::vector<std::string> steps;
    for (const auto& step : s["steps"]) steps.push_back(step["step"]);
    CHECK(steps == std::vector<std::string>{"check", "copy", "sync 1", "stop", "final sync", "start", "verify"});
    CHECK(s["move"]["copied"] == true);
    REQUIRE(s["move"]["passes"].size() == 2);
    CHECK(s["move"]["passes"][0]["rows"] == 0);
    CHECK(s["move"]["passes"][1]["final"] == true);
    CHECK(s["move"]["downtime_seconds"].get<double>() > 0);
    CHECK(s["move"]["final_source_moved"]["moved_on"] == false);
    auto v = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(v.output);
    CHECK(v.exit_code == 0);
}

}  // namespace

TEST_CASE("a move job from PostgreSQL runs copy, sync, stop, final sync and start in order and reports the downtime",
          "[e2e][pg][run][move]") {
    move_job(Engine::postgres);
}

TEST_CASE("a move job from MySQL to PostgreSQL ends equal, the source proven still", "[e2e][mysql][pg][run][move][long]") {
    move_job(Engine::mysql);
}
