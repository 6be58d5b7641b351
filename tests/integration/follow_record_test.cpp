// The follow record (mmmove_follow_state, pipeline/follow_state.h) survives a kill at any point of its
// rewrite, on both destination engines: a sync killed with SIGKILL between any two of the statements
// that replace it leaves a usable record, the old one or the new one, never none (a lost record would
// leave a PostgreSQL source's slot holding WAL with nobody told). The source is MariaDB (binlog
// following: nothing to clean up on the source); the record's rewrite is the same for a slot's record.
// The kill is real; MMMOVE_TEST_KILL_AT only chooses the moment. A destination whose record is gone
// while the source's slot stays: --stop-following says so and names the slot, never staying silent.
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

TEST_CASE("--stop-following on a destination without a follow record names the slot left on the source", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "fnr"), dst(Engine::postgres, "fnr");
    fill_sample(src, 30);
    auto s = src.connect(Side::source);
    CliRun copied = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--follow"});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};
    REQUIRE(slot.rfind("mmmove_", 0) == 0);
    CliRun synced = run_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(synced.output);
    REQUIRE(synced.exit_code == 0);
    CHECK(synced.output.find("check: ready to sync.") != std::string::npos);  // not "ready to copy": it syncs
    dst.connect()->exec("DROP TABLE mmmove_follow_state");  // the record lost (a sync that gave up following, an older mmmove)

    CliRun stopped = run_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn(), "--stop-following"});
    INFO(stopped.output);
    CHECK(stopped.exit_code == 0);
    CHECK(stopped.output.find("holds no follow record") != std::string::npos);
    CHECK(stopped.output.find("pg_drop_replication_slot('" + slot + "')") != std::string::npos);
    // Named, not dropped: another destination may follow through it.
    CHECK(query_text(*s, "SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = " + s->quote_literal(slot)) == "1");
}

// A sync killed after recording its position and before moving the slot there leaves the slot behind
// its record: the next pass still follows (it reads those transactions again, all of them seen), and
// --stop-following still drops the slot as this destination's own, also after a final pass (which leaves it).
TEST_CASE("a sync killed between recording its position and moving the slot keeps following", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "fka"), dst(Engine::postgres, "fka");
    fill_sample(src, 30);
    auto s = src.connect(Side::source);
    CliRun copied = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--follow"});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};
    const std::string slot_lsn = "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = " + s->quote_literal(slot);
    auto d = dst.connect();
    for (int round = 1; round <= 2; ++round) {
        s->exec("UPDATE posts SET message = 'edited in round " + std::to_string(round) + "', updateat = updateat + 1 "
                "WHERE id = (SELECT min(id) FROM posts)");
        CliRun cut = sync_killed_at(src, dst, "follow-advance:1");
        INFO(cut.output.substr(0, 2000));
        REQUIRE(killed(cut));
        const auto record = read_follow_state(*d).record;
        REQUIRE(record);
        CHECK(query_text(*s, slot_lsn) != record->lsn);  // recorded, not moved
        if (round == 2) break;
        CliRun next = sync_killed_at(src, dst, "none:1");
        INFO(next.output.substr(0, 3000));
        REQUIRE(next.exit_code == 0);
        CHECK(table_of(json_of(next), "posts")["method"] == "stream");  // still following
        const auto moved = read_follow_state(*d).record;
        REQUIRE(moved);
        CHECK(query_text(*s, slot_lsn) == moved->lsn);
        CHECK(verify(src, dst).exit_code == 0);
    }
    // A final pass records its position and leaves the slot where it stood (about to be dropped; moving
    // it costs the downtime a WAL decode); a sync after it still follows, and --stop-following still
    // drops the slot after a final pass.
    for (int round = 3; round <= 4; ++round) {
        s->exec("UPDATE posts SET message = 'edited in round " + std::to_string(round) + "', updateat = updateat + 1 "
                "WHERE id = (SELECT max(id) FROM posts)");
        const std::string before = query_text(*s, slot_lsn);
        CliRun final_pass = sync(src, dst, {"--final"});
        INFO(final_pass.output.substr(0, 3000));
        REQUIRE(final_pass.exit_code == 0);
        CHECK(table_of(json_of(final_pass), "posts")["method"] == "stream");
        CHECK(query_text(*s, slot_lsn) == before);
        const auto record = read_follow_state(*d).record;
        REQUIRE(record);
        CHECK(record->lsn != before);  // recorded past the slot: the next pass reads a little again
        if (round == 4) break;
        s->exec("UPDATE posts SET message = 'edited after the final pass', updateat = updateat + 1 WHERE id = (SELECT min(id) FROM posts)");
        CliRun next = sync(src, dst);
        INFO(next.output.substr(0, 3000));
        REQUIRE(next.exit_code == 0);
        CHECK(table_of(json_of(next), "posts")["method"] == "stream");
        CHECK(table_of(json_of(next), "posts")["updated"] == 1);
        CHECK(verify(src, dst).exit_code == 0);
    }
    CliRun stopped = run_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn(), "--stop-following"});
    INFO(stopped.output);
    CHECK(stopped.exit_code == 0);
    CHECK(query_text(*s, "SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name = " + s->quote_literal(slot)) == "0");
}
