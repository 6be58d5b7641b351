// copy --follow and sync through PostgreSQL's change stream (sync/follow.h), into PostgreSQL and into
// MariaDB: a writer changes the source while the copy runs (so transactions land on both sides of its
// snapshot), more changes follow (inserts, edits, soft and hard deletes, a row changed twice, a key
// changed); the sync must find them through the stream, the destination must then equal the source,
// and a second sync must find nothing. A planted record and a source role without REPLICATION fall
// back to scanning, never fail. The source server needs wal_level = logical (scripts/servers sets it).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <thread>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

void require_logical(Database& db) {
    INFO("the test PostgreSQL needs wal_level = logical: restart it with scripts/servers (stop, then start)");
    REQUIRE(query_text(db, "SHOW wal_level") == "logical");
}

std::string now_ms() {
    return std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

CliRun copy_follow(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json",
                                     "--chunk-rows", "300", "--follow", "--report", report_path(dst)};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mmmove(args);
}

uint64_t total(const nlohmann::json& j, const char* field) {
    uint64_t n = 0;
    for (const auto& t : j["tables"]) n += t[field].get<uint64_t>();
    return n;
}

// Edits and deletes on the source, each its own transaction, until stopped: during the copy, so
// some commit before its snapshot, some after, some while it is taken.
class Writer {
public:
    explicit Writer(const ScratchDb& src) : db_(src.connect(Side::source)) {
        for (const auto& r : db_->query("SELECT id FROM posts ORDER BY id LIMIT 200")) ids_.push_back(*r[0]);
        REQUIRE(ids_.size() == 200);
    }
    void start() {
        thread_ = std::thread([this] {
            try {
                for (size_t i = 0; !stop_ || i < 40; ++i) {
                    const std::string id = db_->quote_literal(ids_[i % ids_.size()]);
                    db_->exec("UPDATE posts SET message = message || ' w', updateat = " + now_ms() + " WHERE id = " + id);
                    if (i % 5 == 0) db_->exec("DELETE FROM reactions WHERE postid = " + id);
                    std::this_thread::sleep_for(std::chrono::milliseconds(5));
                }
            } catch (const std::exception& e) {
                error_ = e.what();
            }
        });
    }
    void stop() {
        stop_ = true;
        thread_.join();
    }
    std::string error_;

private:
    std::unique_ptr<Database> db_;
    std::vector<std::string> ids_;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

// After the copy: a new post, an edit, a soft delete, a row edited twice, hard deletes, a changed key.
void change_source(Database& s) {
    std::vector<std::string> ids;
    for (const auto& r : s.query("SELECT id FROM posts ORDER BY id DESC LIMIT 5")) ids.push_back(s.quote_literal(*r[0]));
    s.exec("CREATE TEMP TABLE newpost AS SELECT * FROM posts WHERE id = " + ids[0]);
    s.exec("UPDATE newpost SET id = 'zzzzfollowinsertedpost0001', message = 'inserted after the copy', updateat = " + now_ms());
    s.exec("INSERT INTO posts SELECT * FROM newpost");
    s.exec("DROP TABLE newpost");
    s.exec("UPDATE posts SET message = 'edited once', updateat = " + now_ms() + " WHERE id = " + ids[1]);
    s.exec("UPDATE posts SET message = 'edited twice', updateat = " + now_ms() + " WHERE id = " + ids[1]);
    s.exec("UPDATE posts SET deleteat = " + now_ms() + ", updateat = " + now_ms() + " WHERE id = " + ids[2]);
    s.exec("DELETE FROM posts WHERE id = " + ids[3]);
    s.exec("DELETE FROM reactions WHERE postid IN (SELECT postid FROM reactions LIMIT 3)");
    // A key change: Preferences' key is (userid, category, name).
    s.exec("UPDATE preferences SET name = name || '_moved' WHERE (userid, category, name) IN "
           "(SELECT userid, category, name FROM preferences ORDER BY 1, 2, 3 LIMIT 2)");
    s.exec("DELETE FROM preferences WHERE (userid, category, name) IN (SELECT userid, category, name FROM preferences ORDER BY 1 DESC LIMIT 1)");
}

void follow_and_sync(Engine dest) {
    ScratchDb src(Engine::postgres, "fol"), dst(dest, "fol");
    fill_sample(src, 1500);
    auto s = src.connect(Side::source);
    require_logical(*s);
    s->exec("ALTER TABLE preferences REPLICA IDENTITY DEFAULT");  // as Mattermost leaves it (printed old keys)

    Writer writer(src);
    writer.start();
    CliRun copied = copy_follow(src, dst);
    writer.stop();
    REQUIRE(writer.error_.empty());
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};
    REQUIRE(slot.rfind("mmmove_", 0) == 0);
    CHECK(copied.output.find("--stop-following") != std::string::npos);  // it says how to drop the slot
    const std::string copied_at = query_text(*s, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    REQUIRE(!copied_at.empty());

    change_source(*s);
    CliRun first = sync(src, dst);
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    auto j = json_of(first);
    CHECK(table_of(j, "posts")["method"] == "stream");
    CHECK(table_of(j, "preferences")["method"] == "stream");
    CHECK(table_of(j, "reactions")["method"] == "stream");
    CHECK(j["follow"]["slot"] == slot);
    CHECK(table_of(j, "posts")["inserted"].get<uint64_t>() >= 1);
    CHECK(table_of(j, "posts")["deleted"].get<uint64_t>() >= 1);
    CHECK(table_of(j, "preferences")["inserted"].get<uint64_t>() >= 2);   // the moved keys
    CHECK(table_of(j, "preferences")["deleted"].get<uint64_t>() >= 3);    // their old keys, and one deleted
    CHECK(total(j, "rows_compared") < 1000);  // only the keys the stream named, not the 1,500 posts
    CliRun v = verify(src, dst);
    INFO(v.output);
    CHECK(v.exit_code == 0);

    // Nothing changed since: nothing written, (almost) nothing read; the slot moved on.
    CliRun second = sync(src, dst);
    REQUIRE(second.exit_code == 0);
    auto k = json_of(second);
    CHECK(k["inserted"] == 0);
    CHECK(k["updated"] == 0);
    CHECK(k["deleted"] == 0);
    CHECK(total(k, "rows_compared") == 0);
    CHECK(table_of(k, "posts")["method"] == "stream");
    const std::string synced_at = query_text(*s, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'");
    CHECK(query_text(*s, "SELECT ('" + synced_at + "'::pg_lsn > '" + copied_at + "'::pg_lsn)::text") == "true");

    CliRun stopped = run_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn(), "--stop-following"});
    INFO(stopped.output);
    CHECK(stopped.exit_code == 0);
    CHECK(query_text(*s, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = '" + slot + "'") == "0");
    CliRun after = sync(src, dst);  // scans again, as without following
    REQUIRE(after.exit_code == 0);
    CHECK(table_of(json_of(after), "posts")["method"] != "stream");
}

}  // namespace

TEST_CASE("sync reads the change stream after copy --follow: PostgreSQL to PostgreSQL", "[e2e][sync][follow][pg]") {
    follow_and_sync(Engine::postgres);
}

TEST_CASE("sync reads the change stream after copy --follow: PostgreSQL to MariaDB", "[e2e][sync][follow][pg][mysql][long]") {
    follow_and_sync(Engine::mysql);
}

// Many keys of one table are written in shares side by side; a source with no commits since the last
// pass still lets the slot move on past other databases' WAL; and a transaction open across such a
// pass (its commit after the position the slot moved to) is found by the next one.
TEST_CASE("following: many keys in shares, the slot moving past other databases' WAL, a transaction open across a pass",
          "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folsh"), dst(Engine::postgres, "folsh"), other(Engine::postgres, "folwal");
    fill_sample(src, 2200);
    auto s = src.connect(Side::source);
    require_logical(*s);
    CliRun copied = copy_follow(src, dst);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};
    auto confirmed = [&] { return query_text(*s, "SELECT confirmed_flush_lsn::text FROM pg_replication_slots WHERE slot_name = '" + slot + "'"); };

    const uint64_t posts = std::stoull(query_text(*s, "SELECT count(*) FROM posts"));
    REQUIRE(posts > 2000);  // more keys than one share holds
    s->exec("UPDATE posts SET message = message || ' shared', updateat = " + now_ms());
    CliRun first = sync(src, dst);
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    auto j = json_of(first);
    CHECK(table_of(j, "posts")["method"] == "stream");
    CHECK(table_of(j, "posts")["updated"].get<uint64_t>() == posts);
    CHECK(table_of(j, "posts")["chunks"].get<uint64_t>() == 2);  // shares of keys, not the copy's 300-row chunks

    auto open = src.connect(Side::source);
    const std::string id = query_text(*s, "SELECT id FROM posts ORDER BY id LIMIT 1");
    open->exec("BEGIN");
    open->exec("UPDATE posts SET message = 'open across a pass', updateat = " + now_ms() + " WHERE id = " + s->quote_literal(id));
    auto o = other.connect(Side::destination);
    o->exec("CREATE TABLE wal_filler AS SELECT g, repeat('x', 200) AS pad FROM generate_series(1, 20000) g");
    const std::string filled_to = query_text(*o, "SELECT pg_current_wal_lsn()::text");
    CliRun idle = sync(src, dst);
    INFO(idle.output);
    REQUIRE(idle.exit_code == 0);
    CHECK(json_of(idle)["updated"] == 0);
    CHECK(query_text(*s, "SELECT ('" + confirmed() + "'::pg_lsn >= '" + filled_to + "'::pg_lsn)::text") == "true");

    open->exec("COMMIT");
    CliRun last = sync(src, dst);
    INFO(last.output);
    REQUIRE(last.exit_code == 0);
    CHECK(table_of(json_of(last), "posts")["method"] == "stream");
    CHECK(table_of(json_of(last), "posts")["updated"] == 1);
    CliRun v = verify(src, dst);
    INFO(v.output);
    CHECK(v.exit_code == 0);
}

TEST_CASE("a planted follow record makes sync scan, never fail", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folbad"), dst(Engine::postgres, "folbad");
    fill_sample(src, 300);
    auto s = src.connect(Side::source);
    require_logical(*s);
    CliRun copied = copy_follow(src, dst);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};
    auto d = dst.connect();
    const std::string snapshot = query_text(*d, "SELECT snapshot FROM mmmove_follow_state");
    s->exec("UPDATE posts SET message = 'changed', updateat = " + now_ms() + " WHERE id = (SELECT min(id) FROM posts)");

    auto plant = [&](const std::string& column, const std::string& value, const std::string& reason) {
        CliRun c = copy_follow(src, dst, {"--truncate"});  // a fresh record (and slot) each time
        REQUIRE(c.exit_code == 0);
        guard.slot = json_of(c)["follow_slot"];
        s->exec("UPDATE posts SET message = message || '!', updateat = " + now_ms() + " WHERE id = (SELECT min(id) FROM posts)");
        d->exec("UPDATE mmmove_follow_state SET " + column + " = " + d->quote_literal(value));
        CliRun r = sync(src, dst);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(table_of(json_of(r), "posts")["method"] != "stream");
        CHECK(table_of(json_of(r), "posts")["updated"] == 1);
        CHECK(r.output.find(reason) != std::string::npos);
        CHECK(verify(src, dst).exit_code == 0);
    };
    SECTION("a slot name that is SQL") { plant("slot", "x'); SELECT pg_drop_replication_slot('" + slot, "slot name is not one mmmove makes"); }
    SECTION("a slot that does not exist") { plant("slot", "mmmove_nosuchslot", "no longer exists"); }
    SECTION("a snapshot that is not one") { plant("snapshot", snapshot + ";DROP TABLE posts", "snapshot is not one"); }
    SECTION("a snapshot from the future") { plant("snapshot", "4000000000:4000000001:", "later than"); }
}

TEST_CASE("copy --follow with a source role without REPLICATION copies, not following", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folrole"), dst(Engine::postgres, "folrole");
    fill_sample(src, 100);
    auto s = src.connect(Side::source);
    const std::string role = "mmmove_norepl_" + src.name().substr(src.name().size() - 8);
    const std::string password = src.data_source().password;
    s->exec("CREATE ROLE " + role + " LOGIN NOSUPERUSER NOREPLICATION PASSWORD " + s->quote_literal(password));
    s->exec("GRANT pg_read_all_data TO " + role);
    struct Drop {
        Database& db;
        std::string role;
        ~Drop() {
            try {
                db.exec("DROP OWNED BY " + role);
                db.exec("DROP ROLE " + role);
            } catch (...) {
            }
        }
    } drop{*s, role};
    std::string dsn = src.dsn();
    dsn.replace(dsn.find("mmuser@"), 6, role);
    CliRun c = run_mmmove({"copy", "--from", dsn, "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--follow", "--report",
                           report_path(dst)});
    INFO(c.output);
    CHECK(c.exit_code == 0);
    CHECK(c.output.find("not following the source's changes") != std::string::npos);
    CHECK(json_of(c)["follow_slot"] == "");
    CHECK(verify(src, dst).exit_code == 0);
}

// A following pass writes the rows its comparison read (no second read of the source): every kind of
// value must arrive as the source holds it. Rows of several shares, values that COPY escapes, NULL
// next to '' and a boolean flipped; the counts say each difference was written once, verify that each
// row arrived intact.
TEST_CASE("following writes the rows it compared with their values intact", "[e2e][sync][follow][pg]") {
    ScratchDb src(Engine::postgres, "folkeep"), dst(Engine::postgres, "folkeep");
    fill_sample(src, 2200);
    auto s = src.connect(Side::source);
    require_logical(*s);
    CliRun copied = copy_follow(src, dst);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    const std::string slot = json_of(copied)["follow_slot"];
    SlotGuard guard{*s, slot};

    // Every 7th post of 2,200 (more than one share of 2,000 keys), one post deleted, one inserted.
    s->exec("UPDATE posts SET message = E'tab\\there, line\\nbreak, back\\\\slash, quote '' \"', remoteid = NULL, "
            "hashtags = '', ispinned = NOT coalesce(ispinned, false), updateat = " + now_ms() + " WHERE abs(hashtext(id)) % 7 = 0");
    const uint64_t edited = std::stoull(query_text(*s, "SELECT count(*) FROM posts WHERE abs(hashtext(id)) % 7 = 0"));
    REQUIRE(edited > 100);
    s->exec("DELETE FROM posts WHERE id = (SELECT min(id) FROM posts WHERE abs(hashtext(id)) % 7 <> 0)");
    s->exec("INSERT INTO posts SELECT 'zzzzkeptrowsinsertedpost01', createat, " + now_ms() + ", 0, userid, channelid, '', '', "
            "E'new\\\\N not null', type, props, NULL, filenames, fileids, hasreactions, 0, true, NULL FROM posts LIMIT 1");
    CliRun first = sync(src, dst);
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    auto j = json_of(first);
    CHECK(table_of(j, "posts")["method"] == "stream");
    CHECK(table_of(j, "posts")["updated"].get<uint64_t>() == edited);
    CHECK(table_of(j, "posts")["inserted"] == 1);
    CHECK(table_of(j, "posts")["deleted"] == 1);
    auto d = dst.connect(Side::destination);
    const std::string rows = "SELECT md5(string_agg(p::text, '|' ORDER BY id)) FROM posts p";
    CHECK(query_text(*d, rows) == query_text(*s, rows));
    CHECK(query_text(*d, "SELECT message FROM posts WHERE id = 'zzzzkeptrowsinsertedpost01'") == "new\\N not null");
    CliRun v = verify(src, dst);
    INFO(v.output);
    CHECK(v.exit_code == 0);
}
