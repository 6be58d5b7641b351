// sync's table-wide key comparison by key ranges (sync/key_ranges.h), on real servers: the keys only
// one side holds are found exactly, hard deletes and inserts spread over many ranges, among keys that
// do not look like Mattermost's ids (upper case, multibyte, quotes, a prefix hundreds of keys share);
// and where the collation's order does not keep a prefix's keys together, the comparison gives up
// (the caller then compares by hash buckets) rather than miss a key.
#include <catch2/catch.hpp>

#include <algorithm>
#include <set>

#include "support.h"
#include "sync/key_ranges.h"
#include "verify/table_compare.h"

using namespace mmmove;
using namespace mmmove::test;
using namespace mmmove::sync_detail;

namespace {

// The table k (id text key, n) with 3000 hex ids, 400 sharing one prefix and, with `hostile`, keys a
// Mattermost id never is; in `collation` ("" : the default).
void fill(Database& db, const std::string& collation, bool hostile = true) {
    const bool pg = db.engine() == Engine::postgres;
    db.exec("CREATE TABLE k (id varchar(60)" + collation + " NOT NULL PRIMARY KEY, n int)");
    const std::string series = pg ? "generate_series(1, 3000) AS s(g)" : "(SELECT seq AS g FROM seq_1_to_3000) AS s";
    db.exec("INSERT INTO k SELECT " + std::string(pg ? "left(md5(g::text), 26)" : "LEFT(MD5(g), 26)") + ", g FROM " + series);
    // 400 keys sharing one prefix (a group far larger than the others), and keys a Mattermost id never is.
    db.exec("INSERT INTO k SELECT CONCAT('zzz-shared-', g), g FROM " + series + " WHERE g <= 400");
    if (!hostile) return;
    for (const char* id : {"ÉCOLE-1", "ÉCOLE-2", "日本語キー", "日本-2", "O'Brien\\x", "UPPER-CASE-ID", "-bz", "-bq", "0a", "0b", " lead"})
        db.exec("INSERT INTO k VALUES (" + db.quote_literal(id) + ", 0)");
}

std::set<std::string> keys_of(Database& db) {
    std::set<std::string> out;
    for (const auto& r : db.query("SELECT id FROM k")) out.insert(verify_detail::TableComparer::key_of({Field::of(*r[0])}));
    return out;
}

// The same changes on `a`: 30 keys spread over the table deleted, hostile ones among them, 30 inserted.
void change(Database& a, bool hostile = true) {
    a.exec("DELETE FROM k WHERE n % 100 = 7 AND id NOT LIKE 'zzz%'");
    for (int i = 0; i < 20; ++i) a.exec("INSERT INTO k VALUES (" + a.quote_literal("new-" + std::to_string(i * 37) + "x") + ", 1)");
    if (!hostile) return;
    for (const char* id : {"ÉCOLE-2", "日本-2", "O'Brien\\x", "-bq", "0b", "zzz-shared-77", "zzz-shared-300"})
        a.exec("DELETE FROM k WHERE id = " + a.quote_literal(id));
    for (const char* id : {"ÉCOLE-3", "日本-3", "Q'uote\\y", "-bx", "zzz-shared-9999", "Upper-New", "0c"})
        a.exec("INSERT INTO k VALUES (" + a.quote_literal(id) + ", 1)");
}

std::vector<std::string> expected(Database& a, Database& b) {
    const auto ka = keys_of(a), kb = keys_of(b);
    std::vector<std::string> out;
    std::set_symmetric_difference(ka.begin(), ka.end(), kb.begin(), kb.end(), std::back_inserter(out));
    return out;
}

ServerKeyHasher hasher(Database& db) {
    auto h = ServerKeyHasher::make(db, {"id"}, {ColumnKind::text});
    REQUIRE(h);
    return *h;
}

}  // namespace

TEST_CASE("a key prefix counts UTF-8 characters, and any bytes have one", "[sync]") {
    CHECK(key_prefix("abcdef", 3) == "abc");
    CHECK(key_prefix("ab", 3) == "ab");
    CHECK(key_prefix("日本語キー", 2) == "日本");
    CHECK(key_prefix("z\x80\x80y", 1) == "z\x80\x80");  // stray continuation bytes go with the character before them
    CHECK(key_prefix("\x80\x80z", 1) == "\x80\x80z");  // or, first, with the one after
    CHECK(prefix_chars_for(1000) == 0);
    CHECK(prefix_chars_for(1000000) == 3);
}

TEST_CASE("key ranges find exactly the keys one PostgreSQL side holds, hostile keys and a shared prefix included", "[sync][pg]") {
    ScratchDb one(Engine::postgres, "kra"), two(Engine::postgres, "krb");
    auto a = one.connect(Side::source), b = two.connect(Side::destination);
    fill(*a, "");
    fill(*b, "");
    change(*a);
    const auto want = expected(*a, *b);
    REQUIRE(want.size() > 40);
    ServerKeyDigest rows;
    for (size_t chars : {2, 3}) {
        INFO(chars << " characters a prefix");
        auto got = server_range_differences({*a, "k", {"id"}}, {*b, "k", {"id"}}, hasher(*a), hasher(*b), {}, chars, rows);
        REQUIRE(got);  // the default collation keeps a prefix's keys together: read by ranges
        CHECK(*got == want);
        CHECK(rows.rows == std::stoull(query_one(*a, "SELECT count(*) FROM k")));
        CHECK(rows == hasher(*a).digest(*a, "k", ""));  // the source's whole digest, as the key ledger records it
    }
    // The stamped keys the destination lacks count as its own: those alone then differ no more.
    std::vector<std::string> lacking;
    for (const auto& k : want)
        if (k.find("new-") != std::string::npos) lacking.push_back(k);
    std::sort(lacking.begin(), lacking.end());
    auto got = server_range_differences({*a, "k", {"id"}}, {*b, "k", {"id"}}, hasher(*a), hasher(*b), lacking, 2, rows);
    REQUIRE(got);
    std::vector<std::string> rest;
    std::set_difference(want.begin(), want.end(), lacking.begin(), lacking.end(), std::back_inserter(rest));
    CHECK(*got == rest);
}

// An ICU collation that ignores punctuation ("-bz" sorts beside "bz", after "0a"): the keys of group
// "-b" are not between "-b" and the next group's text, so the counts do not add up and the comparison
// gives up instead of missing them.
TEST_CASE("key ranges give up where the collation's order scatters a prefix's keys", "[sync][pg]") {
    ScratchDb one(Engine::postgres, "krc"), two(Engine::postgres, "krd");
    auto a = one.connect(Side::source), b = two.connect(Side::destination);
    for (Database* db : {a.get(), b.get()}) {
        db->exec("CREATE COLLATION shifted (provider = icu, locale = 'und-u-ka-shifted')");
        fill(*db, " COLLATE shifted");
    }
    change(*a);
    ServerKeyDigest rows;
    auto got = server_range_differences({*a, "k", {"id"}}, {*b, "k", {"id"}}, hasher(*a), hasher(*b), {}, 2, rows);
    CHECK_FALSE(got);
    if (got) CHECK(*got == expected(*a, *b));  // had it answered, it would have had to be right
}

// MariaDB's case-insensitive order keeps lower-case prefixes' keys inside the ranges their byte order
// gives; upper-case and accented ones it may not, and then the comparison gives up, never misses.
TEST_CASE("key ranges find exactly the keys a MySQL source and a PostgreSQL destination differ by, client-side", "[sync][mysql][pg]") {
    for (bool hostile : {false, true}) {
        INFO((hostile ? "with" : "without") << " hostile keys");
        ScratchDb one(Engine::mysql, "kre"), two(Engine::postgres, "krf");
        auto a = one.connect(Side::source), b = two.connect(Side::destination);
        fill(*a, "", hostile);
        fill(*b, "", hostile);
        change(*a, hostile);
        const auto want = expected(*a, *b);
        REQUIRE(want.size() > 40);
        KeyDigest::Sum rows;
        auto got = client_range_differences({*a, "k", {"id"}}, {*b, "k", {"id"}}, [] { return std::vector<std::string>{}; }, 2, rows);
        if (!hostile) REQUIRE(got);
        if (got) CHECK(*got == want);
        CHECK(rows.rows == std::stoull(query_one(*a, "SELECT count(*) FROM k")));
        CHECK(rows == key_digest(*a, "k", {"id"}, "", 0, false).all);  // the source's whole digest, as the key ledger records it
    }
}
