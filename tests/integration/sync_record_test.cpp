// The record mmmove keeps on a destination it filled (mmmove_sync_state) survives a kill at any point
// of its rewrite: a sync killed with SIGKILL between any two of the statements that replace it leaves
// a readable record, the old one or the new one, and the next sync runs (clearing what a killed
// rewrite left behind). The kill is real; MMMOVE_TEST_KILL_AT only chooses the moment.
#include <catch2/catch.hpp>

#include "pipeline/sync_state.h"
#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

void survives_kills(Engine engine) {
    ScratchDb src(engine, "rks"), dst(engine, "rkd");
    fill_sample(src, 30, 141, false, 1, false);
    REQUIRE(run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet"}).exit_code == 0);
    auto d = dst.connect();
    // Kill the sync after the 1st, 2nd, … statement of the rewrite, until a sync gets through all of them.
    for (int point = 1;; ++point) {
        REQUIRE(point < 20);
        CliRun run = sync_killed_at(src, dst, "sync-state:" + std::to_string(point));
        INFO("killed after statement " << point << " of the rewrite: " << run.output.substr(0, 2000));
        std::optional<SyncState> record = read_sync_state(*d);
        REQUIRE(record);  // the old record or the new one, never none
        CHECK((record->command == "copy" || record->command == "sync"));
        if (!killed(run)) {
            REQUIRE(run.exit_code == 0);
            CHECK(record->command == "sync");
            CHECK(tables_beside(*d, kSyncStateTable) == "0");  // what killed rewrites left was cleared
            CHECK(point > 2);  // the rewrite has more than one statement to be killed between
            break;
        }
    }
    CHECK(sync(src, dst).exit_code == 0);
}

}  // namespace

// [long]: the follow record's kill tests (follow_record_test.cpp) drive the same rewrite
// (pipeline/record_table.cpp) at the same points on both engines under ASan; the plain run keeps these.
TEST_CASE("the sync record survives a kill at every point of its rewrite: PostgreSQL", "[e2e][sync][pg][long]") {
    survives_kills(Engine::postgres);
}

TEST_CASE("the sync record survives a kill at every point of its rewrite: MySQL", "[e2e][sync][mysql][long]") {
    survives_kills(Engine::mysql);
}
