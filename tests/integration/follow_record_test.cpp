// The follow record (mmmove_follow_state, pipeline/follow_state.h) survives a kill at any point of its
// rewrite, on both destination engines: a sync killed with SIGKILL between any two of the statements
// that replace it leaves a usable record, the old one or the new one, never none (a lost record would
// leave a PostgreSQL source's slot holding WAL with nobody told). The source is MariaDB (binlog
// following: nothing to clean up on the source); the record's rewrite is the same for a slot's record.
// The kill is real; MMMOVE_TEST_KILL_AT only chooses the moment.
#include <catch2/catch.hpp>

#include "pipeline/follow_state.h"
#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

void survives_kills(Engine dest) {
    ScratchDb src(Engine::mysql, "fks"), dst(dest, "fkd");
    fill_sample(src, 30, 141, false, 1, false);
    CliRun copied = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--follow"});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    auto d = dst.connect();
    REQUIRE(read_follow_state(*d).record);
    auto s = src.connect(Side::source);
    // Kill the sync after the 1st, 2nd, … statement of the rewrite, until a sync gets through all of them.
    for (int point = 1;; ++point) {
        REQUIRE(point < 20);
        s->exec("UPDATE Posts SET Message = 'edited " + std::to_string(point) + "' ORDER BY Id LIMIT 1");  // the binlog moves on
        CliRun run = sync_killed_at(src, dst, "follow-state:" + std::to_string(point));
        INFO("killed after statement " << point << " of the rewrite: " << run.output.substr(0, 2000));
        const FollowRecordRead record = read_follow_state(*d);
        INFO(record.why_not);
        REQUIRE(record.record);  // the old record or the new one, never none
        CHECK(record.record->binlog);
        if (!killed(run)) {
            REQUIRE(run.exit_code == 0);
            CHECK(tables_beside(*d, kFollowStateTable) == "0");  // what killed rewrites left was cleared
            CHECK(point > 2);  // the rewrite has more than one statement to be killed between
            break;
        }
    }
    CliRun last = sync(src, dst);
    INFO(last.output);
    CHECK(last.exit_code == 0);
    CHECK(table_of(json_of(last), "posts")["method"] == "stream");  // still following
}

}  // namespace

TEST_CASE("the follow record survives a kill at every point of its rewrite: PostgreSQL destination",
          "[e2e][sync][follow][binlog][mysql][pg]") {
    survives_kills(Engine::postgres);
}

TEST_CASE("the follow record survives a kill at every point of its rewrite: MariaDB destination", "[e2e][sync][follow][binlog][mysql]") {
    survives_kills(Engine::mysql);
}
