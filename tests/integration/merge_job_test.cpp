// mmmove run with mode: merge and both data directories, on real servers: the job's files step is the
// merge's file join (as merge --files-from/--files-to), never a sync that replaces or deletes: a file
// only the destination has survives, a destination file is never replaced, and the source's folders
// follow the ID map.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

TEST_CASE("a merge job's files step joins the source's files through the ID map and deletes nothing", "[e2e][merge][run]") {
    ScratchDb src(Engine::postgres, "mjs"), dst(Engine::postgres, "mjd");
    fill_sample(src, 1500, 141, false, 1, false);
    fill_sample(dst, 1000, 141, false, 2, false);
    auto s = src.connect();
    auto d = dst.connect();
    const std::string nine_src = query_one(*s, "SELECT Id FROM users WHERE Username = 'user9'");
    const std::string nine_dst = query_one(*d, "SELECT Id FROM users WHERE Username = 'user9'");
    REQUIRE(nine_src != nine_dst);
    std::string theirs;
    for (auto& r : d->query("SELECT Username FROM users")) theirs += (theirs.empty() ? "" : ", ") + s->quote_literal(*r[0]);
    const std::string newcomer = query_one(*s, "SELECT MIN(Id) FROM users WHERE Username NOT IN (" + theirs + ")");
    REQUIRE(newcomer.size() == 26);
    const int64_t posts = std::stoll(query_one(*s, "SELECT COUNT(*) FROM posts")) + std::stoll(query_one(*d, "SELECT COUNT(*) FROM posts"));

    TempFolder dir("merge-job");
    const fs::path from = dir.path / "source-data", to = dir.path / "dest-data";
    spit(from / "users" / nine_src / "profile.png", "source nine");
    spit(from / "users" / newcomer / "profile.png", "newcomer");
    spit(from / "20240131/teams/t/channels/c/users/u/f1/a.txt", "source a");
    spit(from / "20240131/teams/t/channels/c/users/u/f2/b.txt", "source b");
    spit(to / "users" / nine_dst / "profile.png", "destination nine");
    spit(to / "20240131/teams/t/channels/c/users/u/f1/a.txt", "destination a");
    spit(to / "20240201/teams/t/channels/c/users/u/f9/only-here.txt", "the destination's own upload");
    spit(to / "plugins/com.example/state.json", "{}");
    const std::string job = (dir.path / "merge.yaml").string();
    spit(job, "job: merge-files-" + dst.name() + "\nmode: merge\n"
              "source:\n  database: ${MMMOVE_TEST_SOURCE}\n  data: " + from.string() + "\n"
              "destination:\n  database: ${MMMOVE_TEST_DEST}\n  data: " + to.string() + "\n"
              "steps: [check, copy, verify, files]\n"
              "lock: " + (dir.path / "merge.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() + "\n");
    setenv("MMMOVE_TEST_SOURCE", src.dsn().c_str(), 1);
    setenv("MMMOVE_TEST_DEST", dst.dsn().c_str(), 1);

    auto run = run_mmmove({"run", job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(std::stoll(query_one(*d, "SELECT COUNT(*) FROM posts")) == posts);
    // Nothing of the destination's is deleted or replaced.
    CHECK(slurp(to / "20240201/teams/t/channels/c/users/u/f9/only-here.txt") == "the destination's own upload");
    CHECK(slurp(to / "plugins/com.example/state.json") == "{}");
    CHECK(slurp(to / "20240131/teams/t/channels/c/users/u/f1/a.txt") == "destination a");
    CHECK(slurp(to / "users" / nine_dst / "profile.png") == "destination nine");
    // The source's files arrive, their folders through the ID map: user9 is the destination's user9.
    CHECK(slurp(to / "20240131/teams/t/channels/c/users/u/f2/b.txt") == "source b");
    CHECK(slurp(to / "users" / newcomer / "profile.png") == "newcomer");
    CHECK_FALSE(fs::exists(to / "users" / nine_src));
    const std::string summary = slurp(dir.path / "summary.json");
    CHECK_THAT(summary, Catch::Contains("\"copied\": 2"));
}
