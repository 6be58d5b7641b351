// mmmove merge into MySQL/MariaDB with several workers. Chunks of one table load at the same time, each
// in its own transaction, and the statements that skip keys the destination already has touch the same
// index ranges: the merge must neither fail on a deadlock nor write a row twice, and --verify must pass.
// Small chunks make many chunks of each table (Posts, Reactions, Threads…) run side by side.
#include <catch2/catch.hpp>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

int64_t count_of(Database& db, const std::string& sql) { return std::stoll(query_one(db, sql)); }

// Both samples have the same usernames, team and channel names under other ids: users, teams and
// channels map onto the destination's, everything below them is merged beneath them.
void merge_with_workers(const std::vector<std::string>& scope) {
    ScratchDb src(Engine::postgres, "mps"), dst(Engine::mysql, "mpd");
    fill_sample(src, 6000, 141, false, 1, false);
    fill_sample(dst, 3000, 141, false, 2, false);
    auto d = dst.connect();
    const int64_t reactions_before = count_of(*d, "SELECT COUNT(*) FROM Reactions");
    std::vector<std::string> args{"merge", "--from", src.dsn(), "--to", dst.dsn(), "--jobs", "2", "--chunk-rows", "40", "--verify"};
    args.insert(args.end(), scope.begin(), scope.end());
    auto run = run_mmmove(args);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.output, !Catch::Contains("Deadlock found"));
    // The loads take no gap locks (READ COMMITTED): chunks of one table never deadlock, so none was retried.
    CHECK_THAT(run.output, !Catch::Contains("lost a lock conflict"));
    CHECK_THAT(run.output, Catch::Contains("verify: every merged row is in the destination as merged ("));
    CHECK(count_of(*d, "SELECT COUNT(*) FROM Reactions") > reactions_before);
    // The merge finished: its chunk checkpoint is gone, only its record stays.
    CHECK(count_of(*d, "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'mmmove%'") == 1);
}

}  // namespace

TEST_CASE("merge into MariaDB with two workers and small chunks does not fail on InnoDB deadlocks", "[e2e][merge][threads]") {
    merge_with_workers({});
}

TEST_CASE("merge --team into MariaDB with two workers and small chunks does not fail on InnoDB deadlocks", "[e2e][merge][team][long]") {
    merge_with_workers({"--team", "team-0"});
}
