// sync's key comparison in hash buckets, on real servers: PostgreSQL's own digest of a key set
// (sync/key_digest.h) is equal for equal keys and changes with any one key, composite and bigint keys
// included; and a sync whose chunks are large enough for buckets (thousands of keys) still finds every
// hard delete and every row inserted with an old stamp, with the servers' digests (PostgreSQL to
// PostgreSQL) and with the client-side ones (MySQL to PostgreSQL).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <algorithm>
#include <set>
#include <tuple>

#include "catalog/catalog.h"
#include "support.h"
#include "sync_support.h"
#include "sync/key_digest.h"

using namespace mmmove;
using namespace mmmove::test;
using mmmove::sync_detail::ServerKeyHasher;

namespace {

// Rows 1..n of a table keyed (a text, b bigint, c text), and of one keyed by a bigint alone.
void fill_keys(Database& db, int n) {
    db.exec("CREATE TABLE k3 (a varchar(26) NOT NULL, b bigint NOT NULL, c varchar(20) NOT NULL, PRIMARY KEY (a, b, c))");
    db.exec("CREATE TABLE k1 (id bigint NOT NULL PRIMARY KEY)");
    db.exec("INSERT INTO k3 SELECT left(md5(g::text), 26), g * 1000000000000, 'c' || g FROM generate_series(1, " + std::to_string(n) + ") g");
    db.exec("INSERT INTO k1 SELECT g * 7000000000000 FROM generate_series(1, " + std::to_string(n) + ") g");
}

ServerKeyHasher hasher(Database& db, const std::vector<std::string>& columns, const std::vector<ColumnKind>& kinds) {
    auto h = ServerKeyHasher::make(db, columns, kinds);
    REQUIRE(h);
    return *h;
}

std::set<std::string> keys_in(Database& db, const std::string& sql) {
    std::set<std::string> out;
    for (const auto& r : db.query(sql)) out.insert(*r[0]);
    return out;
}

std::string reactions_ledger(const nlohmann::json& j) {
    for (const auto& t : j["tables"])
        if (lower(t["table"].get<std::string>()) == "reactions") return t["key_ledger"].get<std::string>();
    FAIL("no table reactions in the result");
    return "";
}

uint64_t reactions(const nlohmann::json& j, const std::string& field) {
    for (const auto& t : j["tables"])
        if (lower(t["table"].get<std::string>()) == "reactions") return t[field].get<uint64_t>();
    FAIL("no table reactions in the result");
    return 0;
}

// Reactions grown to about 30 times the sample's (new emoji names), so its one chunk has thousands of keys.
void grow_reactions(Database& s) {
    Catalog cat = read_catalog(s);
    const Table* t = cat.find("reactions");
    REQUIRE(t);
    std::string cols, values, series;
    for (const auto& c : t->columns) {
        cols += (cols.empty() ? "" : ", ") + s.quote_ident(c.name);
        values += (values.empty() ? "" : ", ") +
                  (lower(c.name) == "emojiname" ? "CONCAT(r." + s.quote_ident(c.name) + ", '_', g.n)" : "r." + s.quote_ident(c.name));
    }
    for (int i = 1; i <= 30; ++i) series += (series.empty() ? "SELECT " : " UNION ALL SELECT ") + std::to_string(i) + " AS n";
    s.exec("INSERT INTO " + s.quote_ident(t->name) + " (" + cols + ") SELECT " + values + " FROM " + s.quote_ident(t->name) + " r CROSS JOIN (" +
           series + ") g");
}

// Fresh statistics, so the plan's estimate (which sizes the buckets) sees the grown table; through a
// destination-side connection, as the other tests analyze.
void analyze_reactions(const ScratchDb& db) {
    auto d = db.connect();
    Catalog cat = read_catalog(*d);
    const std::string t = d->quote_ident(cat.find("reactions")->name);
    if (d->engine() == Engine::postgres)
        d->exec("ANALYZE " + t);
    else
        d->query("ANALYZE TABLE " + t);  // returns a result set
}

// After a copy and a first sync: 2 reactions hard-deleted, 2 inserted with their original's old
// stamps (so the table holds as many keys as before), 1 soft-deleted (stamped now). The next sync
// must find all five and leave both sides equal. The stamped row is on the destination already, so
// the chunk's keys are first digested whole (ChangeColumnsFinder::key_differences). Without
// `stamped`: nothing stamped since the last pass; with `chunk_rows`, the table is cut into several
// chunks and first checked whole (ChangeFinder::unchanged).
void bucketed_sync(Engine from, bool stamped = true, const std::string& chunk_rows = "") {
    ScratchDb src(from, "sybs"), dst(Engine::postgres, "sybd");
    fill_sample(src, 900, 141, false, 1, false);
    auto s = src.connect(Side::source);
    grow_reactions(*s);
    analyze_reactions(src);
    const std::vector<std::string> base = {"--from", src.dsn(), "--to", dst.dsn(), "--quiet"};
    auto args = [&](std::vector<std::string> head, std::vector<std::string> tail = {}) {
        head.insert(head.end(), base.begin(), base.end());
        head.insert(head.end(), tail.begin(), tail.end());
        return head;
    };
    REQUIRE(run_mmmove(args({"copy"}, {"--create-schema"})).exit_code == 0);
    REQUIRE(run_mmmove(args({"sync"})).exit_code == 0);

    Catalog cat = read_catalog(*s);
    const Table* t = cat.find("reactions");
    const std::string r = s->quote_ident(t->name), post = s->quote_ident(t->find_column("postid")->name),
                      user = s->quote_ident(t->find_column("userid")->name), emoji = s->quote_ident(t->find_column("emojiname")->name);
    const uint64_t rows = std::stoull(query_one(*s, "SELECT COUNT(*) FROM " + r));
    REQUIRE(rows > 8192);  // one chunk, with hash buckets (sync/key_digest.h)
    auto nth = [&](int i) {
        auto row = s->query("SELECT " + post + ", " + user + ", " + emoji + " FROM " + r + " ORDER BY " + post + ", " + user + ", " + emoji +
                            " LIMIT 1 OFFSET " + std::to_string(i));
        REQUIRE(row.size() == 1);
        return post + " = " + s->quote_literal(*row[0][0]) + " AND " + user + " = " + s->quote_literal(*row[0][1]) + " AND " + emoji + " = " +
               s->quote_literal(*row[0][2]);
    };
    const std::string old1 = nth(10), old2 = nth(4000), soft = nth(7000);
    for (int i : {100, 3000}) s->exec("DELETE FROM " + r + " WHERE " + nth(i));
    for (const auto* where : {&old1, &old2}) {  // a copy under a new emoji name, with the original's stamps
        std::string cols, values;
        for (const auto& c : t->columns) {
            cols += (cols.empty() ? "" : ", ") + s->quote_ident(c.name);
            values += (values.empty() ? "" : ", ") + (lower(c.name) == "emojiname" ? "'zz_old_stamps'" : s->quote_ident(c.name));
        }
        s->exec("INSERT INTO " + r + " (" + cols + ") SELECT " + values + " FROM " + r + " WHERE " + *where);
    }
    const std::string now = query_one(*s, from == Engine::postgres ? "SELECT (extract(epoch FROM now()) * 1000)::bigint"
                                                                   : "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)");
    if (stamped)
        s->exec("UPDATE " + r + " SET " + s->quote_ident(t->find_column("deleteat")->name) + " = " + now + ", " +
                s->quote_ident(t->find_column("updateat")->name) + " = " + now + " WHERE " + soft);
    REQUIRE(std::stoull(query_one(*s, "SELECT COUNT(*) FROM " + r)) == rows);

    auto out = run_mmmove(args({"sync"}, chunk_rows.empty() ? std::vector<std::string>{"--json"}
                                                            : std::vector<std::string>{"--json", "--chunk-rows", chunk_rows}));
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(reactions(j, "deleted") == 2);
    CHECK(reactions(j, "inserted") == 2);
    CHECK(reactions(j, "updated") == (stamped ? 1u : 0u));
    CHECK(reactions(j, "rows_compared") == (stamped ? 3u : 2u));  // the soft delete and the two old-stamped rows, not every row
    CHECK(run_mmmove(args({"verify"})).exit_code == 0);
}

// A table of several chunks with rows stamped since the last pass: compared as a whole (its stamped
// keys by key, its key set by one digest per side or table-wide buckets; ChangeColumnsFinder::unchanged).
// 2 hard deletes and 2 old-stamped inserts (as many keys as before), 1 soft delete and 1 fresh insert.
// The next sync, at once, finds the last two stamped again (inside the skew margin) and equal (from
// MySQL; from PostgreSQL it knows the last pass saw them); then an
// update stamped alone (the key sets equal) must still be found.
void stamped_several_chunks(Engine from) {
    ScratchDb src(from, "sybs"), dst(Engine::postgres, "sybd");
    fill_sample(src, 900, 141, false, 1, false);
    auto s = src.connect(Side::source);
    grow_reactions(*s);
    analyze_reactions(src);
    const std::vector<std::string> base = {"--from", src.dsn(), "--to", dst.dsn(), "--quiet"};
    auto run = [&](std::vector<std::string> head) {
        head.insert(head.end(), base.begin(), base.end());
        return run_mmmove(head);
    };
    REQUIRE(run({"copy", "--create-schema"}).exit_code == 0);
    REQUIRE(run({"sync"}).exit_code == 0);

    Catalog cat = read_catalog(*s);
    const Table* t = cat.find("reactions");
    const std::string r = s->quote_ident(t->name), post = s->quote_ident(t->find_column("postid")->name),
                      user = s->quote_ident(t->find_column("userid")->name), emoji = s->quote_ident(t->find_column("emojiname")->name);
    auto nth = [&](int i) {
        auto row = s->query("SELECT " + post + ", " + user + ", " + emoji + " FROM " + r + " ORDER BY " + post + ", " + user + ", " + emoji +
                            " LIMIT 1 OFFSET " + std::to_string(i));
        REQUIRE(row.size() == 1);
        return post + " = " + s->quote_literal(*row[0][0]) + " AND " + user + " = " + s->quote_literal(*row[0][1]) + " AND " + emoji + " = " +
               s->quote_literal(*row[0][2]);
    };
    const std::string now = query_one(*s, from == Engine::postgres ? "SELECT (extract(epoch FROM now()) * 1000)::bigint"
                                                                   : "SELECT CAST(UNIX_TIMESTAMP(NOW(3)) * 1000 AS UNSIGNED)");
    const std::string deleteat = s->quote_ident(t->find_column("deleteat")->name), updateat = s->quote_ident(t->find_column("updateat")->name);
    // A copy of a row under another emoji name, with its stamps or new ones.
    auto insert_like = [&](const std::string& where, const std::string& name, bool fresh) {
        std::string cols, values;
        for (const auto& c : t->columns) {
            cols += (cols.empty() ? "" : ", ") + s->quote_ident(c.name);
            const std::string l = lower(c.name);
            const bool stamp = fresh && (l == "createat" || l == "updateat");
            values += (values.empty() ? "" : ", ") + (l == "emojiname" ? s->quote_literal(name) : stamp ? now : s->quote_ident(c.name));
        }
        s->exec("INSERT INTO " + r + " (" + cols + ") SELECT " + values + " FROM " + r + " WHERE " + where);
    };
    const std::string old1 = nth(10), old2 = nth(4000), soft = nth(7000), fresh = nth(9000), later = nth(5000);
    for (int i : {100, 3000}) s->exec("DELETE FROM " + r + " WHERE " + nth(i));
    insert_like(old1, "zz_old_stamps", false);
    insert_like(old2, "zz_old_stamps", false);
    insert_like(fresh, "zz_fresh", true);
    s->exec("UPDATE " + r + " SET " + deleteat + " = " + now + ", " + updateat + " = " + now + " WHERE " + soft);

    auto out = run({"sync", "--json", "--chunk-rows", "5000"});
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(reactions(j, "chunks") > 1);
    CHECK(reactions(j, "deleted") == 2);
    CHECK(reactions(j, "inserted") == 3);
    CHECK(reactions(j, "updated") == 1);
    CHECK(run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"}).exit_code == 0);

    auto again = json_of(run({"sync", "--json", "--chunk-rows", "5000"}));
    CHECK(reactions(again, "inserted") + reactions(again, "updated") + reactions(again, "deleted") == 0);
    // The pass before compared the keys by ranges (sync/key_ranges.h) and recorded the source's digest
    // from them: this one trusts it (sync/key_ledger.h).
    CHECK(reactions_ledger(again) == "trusted");
    // The two rows stamped inside the margin: compared by key again from MySQL; from PostgreSQL the last
    // pass's snapshot saw them (sync/seen_rows.h), so they are not.
    if (from == Engine::postgres) CHECK(reactions(again, "rows_compared") == 0);
    else CHECK(reactions(again, "rows_compared") >= 2);

    s->exec("UPDATE " + r + " SET " + deleteat + " = " + now + ", " + updateat + " = " + now + " WHERE " + later);
    auto last = json_of(run({"sync", "--json", "--chunk-rows", "5000"}));
    CHECK(reactions(last, "updated") == 1);
    CHECK(reactions(last, "inserted") + reactions(last, "deleted") == 0);
    CHECK(run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"}).exit_code == 0);
}

// Rows stamped only before the previous pass's snapshot (inside the skew margin: written late by an
// app server whose clock lags) let the next pass try one whole digest per side first, without looking
// the stamped keys up on the destination (ChangeColumnsFinder, `seen`). That guess must cost time
// only: here the key sets differ all the same (2 hard deletes, 2 old-stamped inserts, and a fresh
// row the previous pass never saw, stamped a minute before its snapshot), and an edit stamped so is
// not on the destination either. Round 1 compares the table as one chunk, round 2 (--chunk-rows) as
// a whole first.
void seen_stamps(Engine from) {
    ScratchDb src(from, "sybs"), dst(Engine::postgres, "sybd");
    fill_sample(src, 900, 141, false, 1, false);
    auto s = src.connect(Side::source);
    grow_reactions(*s);
    analyze_reactions(src);
    const std::vector<std::string> base = {"--from", src.dsn(), "--to", dst.dsn(), "--quiet"};
    auto run = [&](std::vector<std::string> head) {
        head.insert(head.end(), base.begin(), base.end());
        return run_mmmove(head);
    };
    REQUIRE(run({"copy", "--create-schema"}).exit_code == 0);
    Catalog cat = read_catalog(*s);
    const Table* t = cat.find("reactions");
    const std::string r = s->quote_ident(t->name), post = s->quote_ident(t->find_column("postid")->name),
                      user = s->quote_ident(t->find_column("userid")->name), emoji = s->quote_ident(t->find_column("emojiname")->name);
    auto nth = [&](int i) {
        auto row = s->query("SELECT " + post + ", " + user + ", " + emoji + " FROM " + r + " ORDER BY " + post + ", " + user + ", " + emoji +
                            " LIMIT 1 OFFSET " + std::to_string(i));
        REQUIRE(row.size() == 1);
        return post + " = " + s->quote_literal(*row[0][0]) + " AND " + user + " = " + s->quote_literal(*row[0][1]) + " AND " + emoji + " = " +
               s->quote_literal(*row[0][2]);
    };
    const std::string updateat = s->quote_ident(t->find_column("updateat")->name), createat = s->quote_ident(t->find_column("createat")->name);
    auto insert_like = [&](const std::string& where, const std::string& name, const std::string& stamp) {
        std::string cols, values;
        for (const auto& c : t->columns) {
            cols += (cols.empty() ? "" : ", ") + s->quote_ident(c.name);
            const std::string l = lower(c.name);
            values += (values.empty() ? "" : ", ") +
                      (l == "emojiname" ? s->quote_literal(name) : !stamp.empty() && (l == "createat" || l == "updateat") ? stamp : s->quote_ident(c.name));
        }
        s->exec("INSERT INTO " + r + " (" + cols + ") SELECT " + values + " FROM " + r + " WHERE " + where);
    };
    auto d = dst.connect();
    for (const std::string chunk_rows : {"200000", "5000"}) {
        REQUIRE(run({"sync"}).exit_code == 0);
        const int64_t previous = std::stoll(query_one(*d, "SELECT snapshot_ms FROM mmmove_sync_state"));
        const std::string late = std::to_string(previous - 60000);  // before that snapshot, inside the margin
        const std::string edited = nth(7000), fresh = nth(9000), old1 = nth(10), old2 = nth(4000);
        for (int i : {100, 3000}) s->exec("DELETE FROM " + r + " WHERE " + nth(i));
        insert_like(old1, "zz_old_" + chunk_rows, "");
        insert_like(old2, "zz_old_" + chunk_rows, "");
        insert_like(fresh, "zz_late_" + chunk_rows, late);
        s->exec("UPDATE " + r + " SET " + updateat + " = " + late + ", " + createat + " = " + late + " WHERE " + edited);

        auto out = run({"sync", "--json", "--chunk-rows", chunk_rows});
        INFO(chunk_rows + " rows a chunk: " + out.output.substr(0, 4000));
        REQUIRE(out.exit_code == 0);
        auto j = json_of(out);
        CHECK((reactions(j, "chunks") > 1) == (chunk_rows == "5000"));
        CHECK(reactions(j, "deleted") == 2);
        CHECK(reactions(j, "inserted") == 3);
        CHECK(reactions(j, "updated") == 1);
        CHECK(run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"}).exit_code == 0);
    }
}

}  // namespace

TEST_CASE("PostgreSQL's key digests are equal for equal keys and change with one key, composite and bigint keys included",
          "[sync][pg]") {
    ScratchDb one(Engine::postgres, "kda"), two(Engine::postgres, "kdb");
    auto a = one.connect(Side::source), b = two.connect(Side::source);
    fill_keys(*a, 5000);
    fill_keys(*b, 5000);
    using K = ColumnKind;
    const auto h3a = hasher(*a, {"a", "b", "c"}, {K::text, K::integer, K::text}), h3b = hasher(*b, {"a", "b", "c"}, {K::text, K::integer, K::text});
    const auto h1a = hasher(*a, {"id"}, {K::integer}), h1b = hasher(*b, {"id"}, {K::integer});
    CHECK(h3a.digest(*a, "k3", "").rows == 5000);
    CHECK(h3a.digest(*a, "k3", "") == h3b.digest(*b, "k3", ""));
    CHECK(h1a.digest(*a, "k1", "") == h1b.digest(*b, "k1", ""));
    CHECK(h3a.bucket_digests(*a, "k3", "", 512) == h3b.bucket_digests(*b, "k3", "", 512));
    CHECK_FALSE(ServerKeyHasher::make(*a, {"a"}, {K::json}));  // a kind whose text the engines may spell differently
    // A digest plans without parallel workers, and leaves the session's setting as it found it.
    a->exec("SET max_parallel_workers_per_gather = 3");
    (void)h3a.bucket_digests(*a, "k3", "", 8);
    CHECK(query_one(*a, "SHOW max_parallel_workers_per_gather") == "3");

    // One key changed on each table: the digests differ, and the buckets that differ hold exactly the keys that differ.
    b->exec("UPDATE k3 SET b = b + 1 WHERE c = 'c77'");
    b->exec("UPDATE k1 SET id = 9223372036854775807 WHERE id = 7000000000000");
    CHECK_FALSE(h3a.digest(*a, "k3", "") == h3b.digest(*b, "k3", ""));
    CHECK_FALSE(h1a.digest(*a, "k1", "") == h1b.digest(*b, "k1", ""));
    for (const auto& [table, key, ha, hb] : {std::tuple{"k3", "c", &h3a, &h3b}, std::tuple{"k1", "id::text", &h1a, &h1b}}) {
        auto da = ha->bucket_digests(*a, table, "", 512), db = hb->bucket_digests(*b, table, "", 512);
        std::vector<uint64_t> which;
        for (uint64_t i = 0; i < 512; ++i)
            if (!(da.count(i) ? db.count(i) && da[i] == db[i] : !db.count(i))) which.push_back(i);
        CHECK(which.size() >= 1);
        CHECK(which.size() <= 2);
        auto ka = keys_in(*a, std::string("SELECT ") + key + " FROM " + table + " WHERE " + ha->in_buckets(which, 512));
        auto kb = keys_in(*b, std::string("SELECT ") + key + " FROM " + table + " WHERE " + hb->in_buckets(which, 512));
        std::vector<std::string> only;
        std::set_symmetric_difference(ka.begin(), ka.end(), kb.begin(), kb.end(), std::back_inserter(only));
        CHECK(only.size() == (std::string(table) == "k3" ? 0u : 2u));  // k3's changed key keeps its c; k1's id itself changed
        CHECK(ka.size() < 100);  // a few buckets' keys, not the table's
    }

    // Column boundaries count: ("ab", "c") is not ("a", "bc").
    a->exec("CREATE TABLE k2 (x varchar(5) NOT NULL, y varchar(5) NOT NULL, PRIMARY KEY (x, y))");
    b->exec("CREATE TABLE k2 (x varchar(5) NOT NULL, y varchar(5) NOT NULL, PRIMARY KEY (x, y))");
    a->exec("INSERT INTO k2 VALUES ('ab', 'c')");
    b->exec("INSERT INTO k2 VALUES ('a', 'bc')");
    CHECK_FALSE(hasher(*a, {"x", "y"}, {K::text, K::text}).digest(*a, "k2", "") == hasher(*b, {"x", "y"}, {K::text, K::text}).digest(*b, "k2", ""));
}

TEST_CASE("a sync finds hard deletes and old-stamped inserts among thousands of keys a chunk: PostgreSQL to PostgreSQL", "[e2e][sync][pg]") {
    bucketed_sync(Engine::postgres);
}

TEST_CASE("a sync finds as many hard deletes as old-stamped inserts in a chunk with nothing stamped: PostgreSQL to PostgreSQL",
          "[e2e][sync][pg]") {
    bucketed_sync(Engine::postgres, false);
}

TEST_CASE("a sync finds as many hard deletes as old-stamped inserts in a table of several chunks with nothing stamped: PostgreSQL to PostgreSQL",
          "[e2e][sync][pg]") {
    bucketed_sync(Engine::postgres, false, "5000");
}

TEST_CASE("a sync finds as many hard deletes as old-stamped inserts in a table of several chunks with nothing stamped: MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][long]") {
    bucketed_sync(Engine::mysql, false, "5000");
}

TEST_CASE("a sync finds hard deletes and old-stamped inserts among thousands of keys a chunk: MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][long]") {
    bucketed_sync(Engine::mysql);
}

TEST_CASE("a sync of a table of several chunks with rows stamped finds hard deletes, old-stamped and fresh inserts: PostgreSQL to PostgreSQL",
          "[e2e][sync][pg]") {
    stamped_several_chunks(Engine::postgres);
}

TEST_CASE("a sync of a table of several chunks with rows stamped finds hard deletes, old-stamped and fresh inserts: MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][long]") {
    stamped_several_chunks(Engine::mysql);
}

TEST_CASE("a sync whose only stamped rows predate the last snapshot still finds hard deletes, old-stamped and late inserts: PostgreSQL to PostgreSQL",
          "[e2e][sync][pg]") {
    seen_stamps(Engine::postgres);
}

// From MySQL no horizon tells which rows the last pass saw: every stamped row is compared by key.
TEST_CASE("a sync whose only stamped rows predate the last snapshot still finds hard deletes, old-stamped and late inserts: MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][long]") {
    seen_stamps(Engine::mysql);
}
