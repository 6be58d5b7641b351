// mmmove sync on real servers: after a copy, the source changes (new posts, edits, a soft delete, hard
// deletes of Reactions and Preferences, a row changed twice, a table without UpdateAt) and a sync
// makes the destination equal again, in every engine direction. A destination mmmove did not fill is
// refused, a killed sync finishes with --resume, and a sync with nothing to do writes nothing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <filesystem>
#include <thread>

#include "catalog/catalog.h"
#include "db/transaction.h"
#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

CliRun copy(const ScratchDb& src, const ScratchDb& dst, bool lower_case = false) {
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--chunk-rows", "300"};
    if (lower_case) args.push_back("--lower-case-tables");
    return run_mmmove(args);
}

// A side's table and column names, as its catalog spells them (CamelCase, lower case on PostgreSQL or Bitnami).
struct Names {
    explicit Names(Database& d) : db(d), cat(read_catalog(d)) {}
    std::string t(const std::string& table) const {
        const Table* found = cat.find(table);
        REQUIRE(found);
        return db.quote_ident(found->name);
    }
    std::string c(const std::string& table, const std::string& column) const {
        const Column* found = cat.find(table)->find_column(column);
        REQUIRE(found);
        return db.quote_ident(found->name);
    }
    Database& db;
    Catalog cat;
};

// The first `n` rows of `table` by its key, as "a = 'x' AND b = 'y'" conditions.
std::vector<std::string> first_rows(const Names& n, const std::string& table, const std::vector<std::string>& key, size_t count) {
    std::string cols;
    for (const auto& k : key) cols += (cols.empty() ? "" : ", ") + n.c(table, k);
    std::vector<std::string> out;
    for (const auto& r : n.db.query("SELECT " + cols + " FROM " + n.t(table) + " ORDER BY " + cols + " LIMIT " + std::to_string(count))) {
        std::string where;
        for (size_t i = 0; i < key.size(); ++i) where += (where.empty() ? "" : " AND ") + n.c(table, key[i]) + " = " + n.db.quote_literal(*r[i]);
        out.push_back(where);
    }
    REQUIRE(out.size() == count);
    return out;
}

// A copy of post `id` under `new_id` (a post the source gained).
void add_post(const Names& n, const std::string& id, const std::string& new_id) {
    const Table* posts = n.cat.find("posts");
    std::string names, values;
    for (const auto& col : posts->columns) {
        names += (names.empty() ? "" : ", ") + n.db.quote_ident(col.name);
        values += (values.empty() ? "" : ", ") + (lower(col.name) == "id" ? n.db.quote_literal(new_id) : n.db.quote_ident(col.name));
    }
    n.db.exec("INSERT INTO " + n.t("posts") + " (" + names + ") SELECT " + values + " FROM " + n.t("posts") + " WHERE " + n.c("posts", "id") +
              " = " + n.db.quote_literal(id));
}

// Now as Mattermost stamps a change (Unix ms); the test servers share this host's clock.
std::string now_ms() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// What a live server does between the copy and the sync, on the source. Edits set UpdateAt as
// Mattermost does (the sync's fast path finds them by it); the new posts keep their original's old
// stamps (only the comparison of keys finds them).
void change_source(Database& s) {
    Names n(s);
    std::string posts = n.t("posts"), id = n.c("posts", "id"), message = n.c("posts", "message");
    const std::string stamp = ", " + n.c("posts", "updateat") + " = " + now_ms();
    std::vector<std::string> ids;
    for (const auto& r : s.query("SELECT " + id + " FROM " + posts + " ORDER BY " + id + " LIMIT 4")) ids.push_back(*r[0]);
    REQUIRE(ids.size() == 4);
    add_post(n, ids[0], "zzzzsyncnewpost00000000001");
    add_post(n, ids[0], "zzzzsyncnewpost00000000002");
    s.exec("UPDATE " + posts + " SET " + message + " = 'edited after the copy'" + stamp + " WHERE " + id + " = " + s.quote_literal(ids[1]));
    s.exec("UPDATE " + posts + " SET " + n.c("posts", "deleteat") + " = " + now_ms() + stamp + " WHERE " + id + " = " + s.quote_literal(ids[2]));
    s.exec("UPDATE " + posts + " SET " + message + " = 'first edit'" + stamp + " WHERE " + id + " = " + s.quote_literal(ids[3]));
    s.exec("UPDATE " + posts + " SET " + message + " = 'second edit'" + stamp + " WHERE " + id + " = " + s.quote_literal(ids[3]));
    for (const auto& where : first_rows(n, "reactions", {"postid", "userid", "emojiname"}, 2))
        s.exec("DELETE FROM " + n.t("reactions") + " WHERE " + where);
    auto prefs = first_rows(n, "preferences", {"userid", "category", "name"}, 3);
    s.exec("DELETE FROM " + n.t("preferences") + " WHERE " + prefs[0]);
    s.exec("DELETE FROM " + n.t("preferences") + " WHERE " + prefs[1]);
    // Preferences has no UpdateAt: only comparing values finds this change.
    s.exec("UPDATE " + n.t("preferences") + " SET " + n.c("preferences", "value") + " = 'changed after the copy' WHERE " + prefs[2]);
}

void check_round_trip(Engine from, Engine to, bool lower_case) {
    ScratchDb src(from, "sys"), dst(to, "syd");
    fill_sample(src, 300, 141, from == Engine::mysql && lower_case, 1, false);
    auto copied = copy(src, dst, to == Engine::mysql && lower_case);
    INFO(copied.output);
    REQUIRE(copied.exit_code == 0);
    auto s = src.connect(Side::source);
    change_source(*s);

    auto planned = sync(src, dst, {"--plan"});
    REQUIRE(planned.exit_code == 0);
    CHECK(table_of(json_of(planned), "posts")["inserted"] == 2);
    REQUIRE(verify(src, dst).exit_code == 7);  // --plan wrote nothing

    auto out = sync(src, dst, {"--verify"});
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(table_of(j, "posts")["inserted"] == 2);
    CHECK(table_of(j, "posts")["updated"] == 3);  // an edit, a soft delete, a post edited twice
    CHECK(table_of(j, "posts")["deleted"] == 0);
    CHECK(table_of(j, "posts")["method"] == "change_columns");  // the copy noted its snapshot's moment
    CHECK(table_of(j, "preferences")["method"] == "digest");     // no change column
    CHECK(table_of(j, "reactions")["deleted"] == 2);
    CHECK(table_of(j, "preferences")["deleted"] == 2);
    CHECK(table_of(j, "preferences")["updated"] == 1);
    CHECK(j["inserted"] == 2);
    CHECK(j["updated"] == 4);
    CHECK(j["deleted"] == 4);
    CHECK(j["verify"]["equal"] == true);
    if (to == Engine::postgres) {  // the view summarising posts counts the inserted ones too, as after a copy
        auto d = dst.connect();
        CHECK(query_one(*d, "SELECT SUM(numposts) FROM poststats") == query_one(*d, "SELECT COUNT(*) FROM posts"));
        // The sync analysed what the copy left without statistics (its by-key reads would scan the
        // tables); mmmove's own record tables, rewritten at the end, are a row or two.
        CHECK(query_one(*d, "SELECT COALESCE(string_agg(relname::text, ','), '') FROM pg_class WHERE relkind = 'r' AND "
                            "reltuples < 0 AND relname NOT LIKE 'mmmove%' AND "
                            "relnamespace = (SELECT oid FROM pg_namespace WHERE nspname = current_schema())") == "");
    }
    auto checked = verify(src, dst);
    INFO(checked.output.substr(0, 3000));
    CHECK(checked.exit_code == 0);

    auto again = sync(src, dst);  // nothing changed since: nothing is written
    REQUIRE(again.exit_code == 0);
    auto a = json_of(again);
    CHECK(a["inserted"] == 0);
    CHECK(a["updated"] == 0);
    CHECK(a["deleted"] == 0);
}

}  // namespace

// Not [threads]: the copy of a live source (live_sync_test.cpp) runs copy and sync workers under ThreadSanitizer.
TEST_CASE("sync catches a copy up with the source (inserts edits deletes): PostgreSQL to PostgreSQL", "[e2e][sync][pg]") {
    check_round_trip(Engine::postgres, Engine::postgres, false);
}

TEST_CASE("sync catches a copy up with the source (inserts edits deletes): MySQL to PostgreSQL", "[e2e][sync][mysql][pg][long]") {
    check_round_trip(Engine::mysql, Engine::postgres, false);
}

TEST_CASE("sync catches a copy up with the source (inserts edits deletes): PostgreSQL to MySQL", "[e2e][sync][mysql][pg][long]") {
    check_round_trip(Engine::postgres, Engine::mysql, false);
}

TEST_CASE("sync catches a copy up with the source (inserts edits deletes): MySQL to MySQL", "[e2e][sync][mysql][long]") {
    check_round_trip(Engine::mysql, Engine::mysql, false);
}

TEST_CASE("sync brings a copy up to date from and into Bitnami's lower-case MySQL tables", "[e2e][sync][mysql][pg][long]") {
    SECTION("from Bitnami to PostgreSQL") { check_round_trip(Engine::mysql, Engine::postgres, true); }
    SECTION("from PostgreSQL to Bitnami") { check_round_trip(Engine::postgres, Engine::mysql, true); }
}

TEST_CASE("sync refuses a destination mmmove did not fill or a record it did not write or another instance",
          "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syr"), other(Engine::postgres, "syo"), filled(Engine::postgres, "syf"), dst(Engine::postgres, "syc");
    fill_sample(src, 60, 141, false, 1, false);
    fill_sample(other, 60, 141, false, 2, false);  // another instance: another DiagnosticId
    fill_sample(filled, 60, 141, false, 1, false);  // the same rows, but not filled by mmmove

    auto refused = sync(src, filled);
    CHECK(refused.exit_code == 4);
    CHECK(refused.output.find("holds no record that mmmove filled it") != std::string::npos);
    CHECK(refused.output.find("mmmove copy first") != std::string::npos);

    REQUIRE(copy(src, dst).exit_code == 0);
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT command FROM mmmove_sync_state") == "copy");
    d->exec("UPDATE mmmove_sync_state SET command = 'DROP TABLE posts'");
    auto tampered = sync(src, dst);
    CHECK(tampered.exit_code == 4);
    CHECK(tampered.output.find("which mmmove does not write") != std::string::npos);
    d->exec("UPDATE mmmove_sync_state SET command = 'copy', transformed = 1");
    auto anonymised = sync(src, dst);
    CHECK(anonymised.exit_code == 4);
    CHECK(anonymised.output.find("anonymised refresh") != std::string::npos);
    d->exec("UPDATE mmmove_sync_state SET transformed = 0");
    auto elsewhere = sync(other, dst);
    CHECK(elsewhere.exit_code == 4);
    CHECK(elsewhere.output.find("another Mattermost instance") != std::string::npos);
    CHECK(query_one(*d, "SELECT COUNT(*) FROM posts") == "60");  // nothing was written by the refused syncs

    auto ok = sync(src, dst);
    INFO(ok.output.substr(0, 3000));
    CHECK(ok.exit_code == 0);
    CHECK(query_one(*d, "SELECT command FROM mmmove_sync_state") == "sync");
}

TEST_CASE("a sync killed with SIGKILL finishes with --resume and ends equal", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syks"), dst(Engine::postgres, "sykd");
    const uint64_t posts = 900;  // three chunks of 300: the sync is killed after the first, the last one held
    fill_sample(src, posts, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto s = src.connect(Side::source);
    s->exec("UPDATE posts SET message = 'rewritten before the sync', updateat = " + now_ms());
    // A row of the last chunk stays locked on the destination, so the sync cannot finish before it is killed.
    auto holder = dst.connect();
    Transaction hold(*holder);
    holder->query("SELECT id FROM posts WHERE id = (SELECT MAX(id) FROM posts) FOR UPDATE");
    const std::string output = "/tmp/" + dst.name() + ".out";
    pid_t pid = spawn_mmmove({"sync", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--chunk-rows", "300", "--jobs", "1"}, output);
    auto d = dst.connect();
    auto rewritten = [&] { return std::stoull(query_one(*d, "SELECT COUNT(*) FROM posts WHERE message = 'rewritten before the sync'")); };
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (rewritten() < 300) {
        int status;
        REQUIRE(waitpid(pid, &status, WNOHANG) == 0);  // still running
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    CHECK(WIFSIGNALED(status));
    std::filesystem::remove(output);
    hold.commit();
    uint64_t partial = rewritten();
    CHECK(partial >= 300);
    CHECK(partial < posts);  // killed in the middle: some chunks synced, not all

    auto resumed = sync(src, dst, {"--resume"});
    INFO(resumed.output.substr(0, 3000));
    REQUIRE(resumed.exit_code == 0);
    CHECK(json_of(resumed)["updated"].get<uint64_t>() == posts - partial);
    CHECK(rewritten() == posts);
    CHECK(verify(src, dst).exit_code == 0);
}

TEST_CASE("sync --verify expects the values the sync changed on the way (NUL bytes and over-long text): MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][long]") {
    ScratchDb src(Engine::mysql, "syhs"), dst(Engine::postgres, "syhd");
    fill_sample(src, 300, 141, false, 1, true);  // hostile values: NUL bytes, invalid JSON, 64 KiB messages
    const std::vector<std::string> policies = {"--on-overlong=truncate", "--on-invalid-json=repair", "--on-refused-value=repair"};
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--report", report_path(dst)};
    args.insert(args.end(), policies.begin(), policies.end());
    auto copied = run_mmmove(args);
    INFO(copied.output.substr(0, 3000));
    REQUIRE(copied.exit_code == 0);
    std::filesystem::remove(report_path(dst));
    std::vector<std::string> extra = policies;
    extra.push_back("--verify");
    extra.push_back("--full");  // the converted rows carry old stamps: only comparing every row finds them
    auto out = sync(src, dst, extra);
    INFO(out.output.substr(0, 4000));
    CHECK(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(j["updated"].get<uint64_t>() > 0);  // rows whose values the conversion changes differ from the source's: written again
    CHECK(j["verify"]["equal"] == true);
}

TEST_CASE("a merge into a copied destination removes the copy's record: a sync would delete the merged rows", "[e2e][sync][merge][pg]") {
    ScratchDb src(Engine::postgres, "syms"), other(Engine::postgres, "symo"), dst(Engine::postgres, "symd");
    fill_sample(src, 60, 141, false, 1, false);
    fill_sample(other, 60, 141, false, 2, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto merged = run_mmmove({"merge", "--from", other.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(merged.output.substr(0, 3000));
    REQUIRE(merged.exit_code == 0);
    auto d = dst.connect();
    const std::string posts = query_one(*d, "SELECT COUNT(*) FROM posts");
    CHECK(posts == "120");
    auto refused = sync(src, dst);
    CHECK(refused.exit_code == 4);
    CHECK(refused.output.find("holds no record that mmmove filled it") != std::string::npos);
    CHECK(query_one(*d, "SELECT COUNT(*) FROM posts") == posts);
}

namespace {

// A count of one table in the sync's JSON summary.
uint64_t count_of(const nlohmann::json& j, const std::string& table, const std::string& field) {
    return table_of(j, table)[field].get<uint64_t>();
}

}  // namespace

TEST_CASE("a sync after a sync reads only the rows stamped since, and still finds hard deletes and rows with old stamps",
          "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syfs"), dst(Engine::postgres, "syfd");
    fill_sample(src, 300, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto first = sync(src, dst);
    REQUIRE(first.exit_code == 0);
    CHECK(json_of(first)["updated"] == 0);
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT command FROM mmmove_sync_state") == "sync");
    CHECK(std::stoll(query_one(*d, "SELECT snapshot_ms FROM mmmove_sync_state")) > 1700000000000LL);

    auto s = src.connect(Side::source);
    Names n(*s);
    auto ids = first_rows(n, "posts", {"id"}, 5);
    for (size_t i = 0; i < 3; ++i) s->exec("UPDATE posts SET message = 'edited', updateat = " + now_ms() + " WHERE " + ids[i]);
    s->exec("UPDATE posts SET message = 'edited behind Mattermost''s back' WHERE " + ids[3]);  // UpdateAt not bumped
    const std::string old_id = query_one(*s, "SELECT id FROM posts WHERE " + ids[4]);
    add_post(n, old_id, "zzzzsyncoldstamps000000001");  // a new key with its original's old CreateAt/UpdateAt
    for (const auto& where : first_rows(n, "reactions", {"postid", "userid", "emojiname"}, 2)) s->exec("DELETE FROM reactions WHERE " + where);

    auto out = sync(src, dst);
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(table_of(j, "posts")["method"] == "change_columns");
    CHECK(count_of(j, "posts", "source_rows") == 301);
    CHECK(count_of(j, "posts", "rows_compared") == 4);  // the 3 stamped edits and the missing key, not 301
    CHECK(count_of(j, "posts", "updated") == 3);
    CHECK(count_of(j, "posts", "inserted") == 1);
    CHECK(count_of(j, "reactions", "deleted") == 2);
    CHECK(table_of(j, "reactions")["method"] == "change_columns");
    // The documented limit: an edit that bumps no change column is not seen by the fast path ...
    CHECK(verify(src, dst).exit_code == 7);
    // ... and --full compares every row.
    auto full = sync(src, dst, {"--full"});
    INFO(full.output.substr(0, 4000));
    REQUIRE(full.exit_code == 0);
    auto f = json_of(full);
    CHECK(table_of(f, "posts")["method"] == "digest");
    CHECK(count_of(f, "posts", "updated") == 1);
    CHECK(f["updated"] == 1);
    CHECK(verify(src, dst).exit_code == 0);
}

TEST_CASE("sync reads the recorded snapshot time as data: another form is refused, none or a future one compares every row",
          "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syts"), dst(Engine::postgres, "sytd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto d = dst.connect();
    d->exec("UPDATE mmmove_sync_state SET snapshot_ms = '1; DROP TABLE posts'");
    auto tampered = sync(src, dst);
    CHECK(tampered.exit_code == 4);
    CHECK(tampered.output.find("a snapshot time") != std::string::npos);
    for (const std::string value : {"", "99999999999999"}) {  // unknown, or later than the source's clock: no guess
        d->exec("UPDATE mmmove_sync_state SET snapshot_ms = '" + value + "'");
        auto out = sync(src, dst);
        INFO(out.output.substr(0, 3000));
        REQUIRE(out.exit_code == 0);
        CHECK(table_of(json_of(out), "posts")["method"] == "digest");
    }
    // A record an older mmmove wrote has no snapshot_ms column: every row is compared.
    d->exec("ALTER TABLE mmmove_sync_state DROP COLUMN snapshot_ms");
    auto old = sync(src, dst);
    INFO(old.output.substr(0, 3000));
    REQUIRE(old.exit_code == 0);
    CHECK(table_of(json_of(old), "posts")["method"] == "digest");
    CHECK(table_of(json_of(sync(src, dst)), "posts")["method"] == "change_columns");  // the sync recorded its moment
}
