// The change stream as a hostile source writes it (sync/follow.h): rows whose text looks like
// test_decoding's own lines, keys with quotes, spaces and brackets, a megabyte value, a TRUNCATE of
// two tables at once, a table whose replica identity prints no old key, a table that gained an
// inheriting child, a restored destination sharing another's slot. Whatever the stream says, a sync after copy --follow must leave the destination
// equal to the source (a table the stream cannot tell about is scanned, never skipped).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A copy of post `from` under key `id` with `message`.
void insert_post(Database& s, const std::string& from, const std::string& id, const std::string& message) {
    s.exec("CREATE TEMP TABLE newpost AS SELECT * FROM posts WHERE id = " + s.quote_literal(from));
    s.exec("UPDATE newpost SET id = " + s.quote_literal(id) + ", message = " + s.quote_literal(message));
    s.exec("INSERT INTO posts SELECT * FROM newpost");
    s.exec("DROP TABLE newpost");
}

}  // namespace

TEST_CASE("hostile rows and tables in the change stream never make sync miss a change", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folhost"), dst(Engine::postgres, "folhost");
    fill_sample(src, 300);
    auto s = src.connect(Side::source);
    REQUIRE(query_text(*s, "SHOW wal_level") == "logical");
    // A child table (left behind, as a plugin's table would be): the stream names its changes apart
    // from users' (mmmove reads users without the child's rows, by COPY and by key alike).
    s->exec("CREATE TABLE users_child () INHERITS (users)");
    const std::vector<std::string> skip = {"--skip-table", "users_child"};
    CliRun copied = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--follow",
                                "--report", report_path(dst), "--skip-table", "users_child"});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    SlotGuard guard{*s, json_of(copied)["follow_slot"]};
    REQUIRE(!guard.slot.empty());

    std::vector<std::string> ids;
    for (const auto& r : s->query("SELECT id FROM posts ORDER BY id LIMIT 4")) ids.push_back(*r[0]);
    REQUIRE(ids.size() == 4);
    // Text that looks like the stream's own lines, and keys a parser could split wrongly.
    insert_post(*s, ids[0], "a'b ]:'c d[text]:'e", "x' id[character varying]:'" + ids[1] + "'\nBEGIN 1\nCOMMIT 1\n\\'");
    insert_post(*s, ids[0], "q\"r\" new-tuple: s", "table public.posts: DELETE: id[character varying]:'" + ids[2] + "'");
    const std::string big = "'big00000000000000000000001'";
    insert_post(*s, ids[0], "big00000000000000000000001", std::string(60000, 'm') + "'");
    // A megabyte value, then an edit beside it (the stream prints the big value as unchanged-toast-datum).
    s->exec("UPDATE posts SET props = jsonb_build_object('k', repeat('m', 1048576) || '''') WHERE id = " + big);
    s->exec("UPDATE posts SET message = 'edited beside a big value' WHERE id = " + big);
    s->exec("UPDATE posts SET id = 'mv' || substr(id, 1, 20) WHERE id = " + s->quote_literal(ids[3]));
    // Two tables truncated by one statement: one stream line names both.
    REQUIRE(query_text(*s, "SELECT (count(*) > 0)::text FROM reactions") == "true");
    REQUIRE(query_text(*s, "SELECT (count(*) > 0)::text FROM threadmemberships") == "true");
    s->exec("TRUNCATE reactions, threadmemberships");
    // A key change the stream prints without the old key.
    s->exec("ALTER TABLE preferences REPLICA IDENTITY NOTHING");
    s->exec("UPDATE preferences SET name = 'rn' || substr(md5(name), 1, 12) WHERE (userid, category, name) IN "
            "(SELECT userid, category, name FROM preferences ORDER BY 1, 2, 3 LIMIT 2)");
    // Rows in the child table: the stream names the child, not users.
    s->exec("INSERT INTO users_child SELECT * FROM users LIMIT 1");
    s->exec("UPDATE users_child SET id = 'childuser00000000000000001', username = 'childuser', email = 'child@example.com'");

    CliRun r = sync(src, dst, skip);
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto j = json_of(r);
    CHECK(table_of(j, "posts")["method"] == "stream");  // the hostile values are read as values: posts still follows
    CHECK(table_of(j, "posts")["inserted"].get<uint64_t>() >= 4);
    CliRun v = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--skip-table", "users_child"});
    INFO(v.output);
    CHECK(v.exit_code == 0);
    s->exec("ALTER TABLE preferences REPLICA IDENTITY DEFAULT");
}

TEST_CASE("a destination restored with another's follow record neither drops nor consumes that slot", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folshare"), a(Engine::postgres, "folshare"), b(Engine::postgres, "folshare");
    fill_sample(src, 100);
    auto s = src.connect(Side::source);
    CliRun copied = run_mmmove({"copy", "--from", src.dsn(), "--to", a.dsn(), "--create-schema", "--quiet", "--json", "--follow",
                                "--report", report_path(a)});
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    SlotGuard guard{*s, json_of(copied)["follow_slot"]};
    REQUIRE(!guard.slot.empty());
    CliRun plain = run_mmmove({"copy", "--from", src.dsn(), "--to", b.dsn(), "--create-schema", "--quiet", "--report", report_path(b)});
    REQUIRE(plain.exit_code == 0);
    // B gets A's record, as a restore of A's backup would; then A syncs on, moving the slot past it.
    auto da = a.connect(), db = b.connect();
    const auto rec = da->query("SELECT slot, lsn, snapshot FROM mmmove_follow_state");
    REQUIRE(rec.size() == 1);
    db->exec("CREATE TABLE mmmove_follow_state (id integer NOT NULL PRIMARY KEY, slot varchar(64) NOT NULL, lsn varchar(20) NOT NULL, "
             "snapshot text NOT NULL)");
    db->exec("INSERT INTO mmmove_follow_state VALUES (1, " + db->quote_literal(*rec[0][0]) + ", " + db->quote_literal(*rec[0][1]) + ", " +
             db->quote_literal(*rec[0][2]) + ")");
    s->exec("UPDATE posts SET message = 'seen by A' WHERE id = (SELECT min(id) FROM posts)");
    REQUIRE(sync(src, a).exit_code == 0);

    CliRun stop = run_mmmove({"sync", "--from", src.dsn(), "--to", b.dsn(), "--stop-following"});
    INFO(stop.output);
    CHECK(stop.exit_code == 0);
    CHECK(query_text(*s, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + guard.slot + "'") == "1");
    CHECK_THAT(stop.output, Catch::Contains("left the replication slot"));
    // A still follows through its slot.
    s->exec("UPDATE posts SET message = 'seen by A again' WHERE id = (SELECT min(id) FROM posts)");
    CliRun again = sync(src, a);
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    CHECK(table_of(json_of(again), "posts")["method"] == "stream");
    CHECK(verify(src, a).exit_code == 0);
}
