// copy --follow and sync through a MariaDB source's row binlog (sync/follow_binlog.h), into PostgreSQL
// and into MariaDB: after the copy the source gains a post, an edit, a soft and hard deletes, a row
// changed twice and a changed key; the sync must find them through the binlog, the destination must
// then equal the source, and a second sync must find nothing. A planted binlog position and an account
// without REPLICATION SLAVE fall back to scanning, never fail. The test MariaDB writes a row binlog
// (scripts/servers: log_bin, binlog_format=ROW, server id 1).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <chrono>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string now_ms() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
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

// A copy of post `id` under `new_id`, every column named (the source's CamelCase names).
void add_post(Database& s, const std::string& id, const std::string& new_id) {
    std::string names, values;
    for (const auto& r : s.query("SELECT COLUMN_NAME FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() AND "
                                 "TABLE_NAME = 'Posts' ORDER BY ORDINAL_POSITION")) {
        names += (names.empty() ? "" : ", ") + s.quote_ident(*r[0]);
        values += (values.empty() ? "" : ", ") + (*r[0] == "Id" ? s.quote_literal(new_id) : s.quote_ident(*r[0]));
    }
    s.exec("INSERT INTO Posts (" + names + ") SELECT " + values + " FROM Posts WHERE Id = " + s.quote_literal(id));
}

// After the copy: a new post, an edit, a soft delete, a row edited twice, hard deletes, changed keys.
void change_source(Database& s) {
    std::vector<std::string> ids;
    for (const auto& r : s.query("SELECT Id FROM Posts ORDER BY Id DESC LIMIT 5")) ids.push_back(s.quote_literal(*r[0]));
    REQUIRE(ids.size() == 5);
    add_post(s, *s.query("SELECT Id FROM Posts ORDER BY Id LIMIT 1")[0][0], "zzzzfollowinsertedpost0001");
    s.exec("UPDATE Posts SET Message = 'edited once', UpdateAt = " + now_ms() + " WHERE Id = " + ids[1]);
    s.exec("UPDATE Posts SET Message = 'edited twice', UpdateAt = " + now_ms() + " WHERE Id = " + ids[1]);
    s.exec("UPDATE Posts SET DeleteAt = " + now_ms() + ", UpdateAt = " + now_ms() + " WHERE Id = " + ids[2]);
    s.exec("DELETE FROM Posts WHERE Id = " + ids[3]);
    s.exec("DELETE FROM Reactions ORDER BY PostId, UserId, EmojiName LIMIT 3");
    // A key change: Preferences' key is (UserId, Category, Name).
    s.exec("UPDATE Preferences SET Name = CONCAT(Name, '_moved') ORDER BY UserId, Category, Name LIMIT 2");
    s.exec("DELETE FROM Preferences ORDER BY UserId DESC, Category DESC, Name DESC LIMIT 1");
}

void follow_and_sync(Engine dest) {
    ScratchDb src(Engine::mysql, "bfol"), dst(dest, "bfol");
    fill_sample(src, 1500, 141, false, 1, false);
    auto s = src.connect(Side::source);

    CliRun copied = copy_follow(src, dst);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    REQUIRE(json_of(copied)["follow_slot"] == "binlog");
    auto d = dst.connect();
    const std::string copied_at = query_text(*d, "SELECT lsn FROM mmmove_follow_state");
    REQUIRE(copied_at.rfind("binlog.", 0) == 0);

    change_source(*s);
    CliRun first = sync(src, dst);
    INFO(first.output);
    REQUIRE(first.exit_code == 0);
    auto j = json_of(first);
    CHECK(j["follow"]["note"] == "");
    CHECK(table_of(j, "posts")["method"] == "stream");
    CHECK(table_of(j, "preferences")["method"] == "stream");
    CHECK(table_of(j, "reactions")["method"] == "stream");
    CHECK(table_of(j, "posts")["inserted"].get<uint64_t>() == 1);
    CHECK(table_of(j, "posts")["updated"].get<uint64_t>() == 2);
    CHECK(table_of(j, "posts")["deleted"].get<uint64_t>() == 1);
    CHECK(table_of(j, "preferences")["inserted"].get<uint64_t>() == 2);  // the moved keys
    CHECK(table_of(j, "preferences")["deleted"].get<uint64_t>() == 3);   // their old keys, and one deleted
    CHECK(table_of(j, "reactions")["deleted"].get<uint64_t>() == 3);
    CHECK(total(j, "rows_compared") < 100);  // only the keys the binlog named, not the 1,500 posts
    CliRun v = verify(src, dst);
    INFO(v.output);
    CHECK(v.exit_code == 0);

    // Nothing changed since: nothing written, nothing compared; the recorded position moved on.
    CliRun second = sync(src, dst);
    REQUIRE(second.exit_code == 0);
    auto k = json_of(second);
    CHECK(k["inserted"] == 0);
    CHECK(k["updated"] == 0);
    CHECK(k["deleted"] == 0);
    CHECK(total(k, "rows_compared") == 0);
    CHECK(table_of(k, "posts")["method"] == "stream");
    CHECK(query_text(*d, "SELECT lsn FROM mmmove_follow_state") != copied_at);

    CliRun stopped = run_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn(), "--stop-following"});
    INFO(stopped.output);
    CHECK(stopped.exit_code == 0);
    CliRun after = sync(src, dst);  // scans again, as without following
    REQUIRE(after.exit_code == 0);
    CHECK(table_of(json_of(after), "posts")["method"] != "stream");
}

}  // namespace

TEST_CASE("sync reads the binlog after copy --follow: MariaDB to PostgreSQL", "[e2e][sync][follow][binlog][mysql][pg]") {
    follow_and_sync(Engine::postgres);
}

TEST_CASE("sync reads the binlog after copy --follow: MariaDB to MariaDB", "[e2e][sync][follow][binlog][mysql][long]") {
    follow_and_sync(Engine::mysql);
}

TEST_CASE("a planted binlog position makes sync scan, never fail", "[e2e][sync][follow][binlog][mysql]") {
    ScratchDb src(Engine::mysql, "bfolbad"), dst(Engine::mysql, "bfolbad");
    fill_sample(src, 300, 141, false, 1, false);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    const std::string first_post = query_text(*s, "SELECT Id FROM Posts ORDER BY Id LIMIT 1");

    auto plant = [&](const std::string& value, const std::string& reason, bool follows_on) {
        CliRun c = copy_follow(src, dst, {"--truncate"});  // a fresh record each time
        INFO(c.output);
        REQUIRE(c.exit_code == 0);
        const std::string recorded = query_text(*d, "SELECT lsn FROM mmmove_follow_state");
        const std::string file = recorded.substr(0, recorded.find(':'));
        s->exec("UPDATE Posts SET Message = CONCAT(Message, '!'), UpdateAt = " + now_ms() + " WHERE Id = " + s->quote_literal(first_post));
        std::string planted = value;
        if (auto at = planted.find("FILE"); at != std::string::npos) planted.replace(at, 4, file);
        d->exec("UPDATE mmmove_follow_state SET lsn = " + d->quote_literal(planted));
        CliRun r = sync(src, dst);
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(table_of(json_of(r), "posts")["method"] != "stream");
        CHECK(table_of(json_of(r), "posts")["updated"] == 1);
        CHECK(r.output.find(reason) != std::string::npos);
        CHECK(verify(src, dst).exit_code == 0);
        // A position of mmmove's form that cannot be read: that pass scanned, and recorded its own.
        s->exec("UPDATE Posts SET Message = CONCAT(Message, '?'), UpdateAt = " + now_ms() + " WHERE Id = " + s->quote_literal(first_post));
        CliRun next = sync(src, dst);
        REQUIRE(next.exit_code == 0);
        CHECK((table_of(json_of(next), "posts")["method"] == "stream") == follows_on);
        CHECK(table_of(json_of(next), "posts")["updated"] == 1);
    };
    SECTION("junk") { plant("not a position", "binlog position is not one mmmove writes", false); }
    SECTION("a path") { plant("../../etc/passwd:4", "binlog position is not one mmmove writes", false); }
    SECTION("SQL text") { plant("binlog.000001:4'; DROP TABLE Posts; --", "binlog position is not one mmmove writes", false); }
    SECTION("a purged file") { plant("binlog.000000:4", "no longer on the source", true); }
    SECTION("a position after the source's") { plant("FILE:999999999999", "is not before the source's", true); }
    SECTION("a position inside an event") { plant("FILE:5", "the binlog could not be read", true); }
}

TEST_CASE("copy --follow from a MariaDB account without REPLICATION SLAVE copies, not following", "[e2e][sync][follow][binlog][mysql]") {
    ScratchDb src(Engine::mysql, "bfolacct"), dst(Engine::mysql, "bfolacct");
    fill_sample(src, 100, 141, false, 1, false);
    auto s = src.connect(Side::source);
    const std::string user = "mmnorepl_" + src.name().substr(src.name().size() - 8);
    const std::string account = "'" + user + "'@'127.0.0.1'";
    s->exec("CREATE USER " + account + " IDENTIFIED BY " + s->quote_literal(src.data_source().password));
    s->exec("GRANT SELECT, RELOAD, BINLOG MONITOR ON *.* TO " + account);
    struct Drop {
        Database& db;
        std::string account;
        ~Drop() {
            try {
                db.exec("DROP USER " + account);
            } catch (...) {
            }
        }
    } drop{*s, account};
    std::string dsn = src.dsn();
    dsn.replace(dsn.find("mmuser@"), 6, user);
    CliRun c = run_mmmove({"copy", "--from", dsn, "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--follow", "--report",
                           report_path(dst)});
    INFO(c.output);
    CHECK(c.exit_code == 0);
    CHECK(c.output.find("REPLICATION SLAVE") != std::string::npos);
    CHECK(json_of(c)["follow_slot"] == "");
    CHECK(verify(src, dst).exit_code == 0);
}
