// The SQL a sync selects and deletes rows by key with (sync/chunk_apply.h key_predicate): on
// PostgreSQL, keys in arrays joined by position. Values with every character the array's text form
// or the literal around it treats specially must select exactly their own rows, no other.
#include <catch2/catch.hpp>

#include <set>

#include "catalog/catalog.h"
#include "support.h"
#include "sync/chunk_apply.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

const std::vector<std::string> kHostile = {"a'b", "q\"r", "back\\slash", "\\\"", "com,ma", "{brace}", "NULL", "", " spaced ",
                                           "\\", "\"", "é ü 漢", "''", "x}y{z", "tab\there"};

// The values of column `v` the predicate selects, sorted.
std::set<std::string> selected(Database& db, const std::string& table, const std::string& where) {
    std::set<std::string> out;
    for (const auto& r : db.query("SELECT v FROM " + table + " WHERE " + where)) out.insert(r.at(0).value_or("NULL"));
    return out;
}

}  // namespace

TEST_CASE("by-key statements on PostgreSQL select and delete exactly the keys named, whatever their values", "[e2e][sync][pg]") {
    ScratchDb scratch(Engine::postgres, "keypred");
    auto db = scratch.connect(Side::destination);
    db->exec("CREATE TABLE kp (\"Key\" varchar(64), n integer, t text, v text, PRIMARY KEY (\"Key\", n, t))");
    db->exec("CREATE TABLE kp1 (id varchar(64) PRIMARY KEY, v text)");
    // Every value in both tables; every other one's key named (with a composite key differing from a
    // named one in one column only, which must stay unselected).
    std::vector<std::string> keys, single_keys;
    std::set<std::string> named;
    for (size_t i = 0; i < kHostile.size(); ++i) {
        const std::string& h = kHostile[i];
        const std::string v = "row" + std::to_string(i);
        db->exec("INSERT INTO kp VALUES (" + db->quote_literal(h) + ", " + std::to_string(i) + ", " + db->quote_literal(h) + ", " +
                 db->quote_literal(v) + "), (" + db->quote_literal(h) + ", " + std::to_string(i + 100) + ", " + db->quote_literal(h) +
                 ", 'other')");
        db->exec("INSERT INTO kp1 VALUES (" + db->quote_literal(h) + ", " + db->quote_literal(v) + ")");
        if (i % 2) continue;
        named.insert(v);
        keys.push_back(verify_detail::TableComparer::key_of({Field::of(h), Field::of(std::to_string(i)), Field::of(h)}));
        single_keys.push_back(verify_detail::TableComparer::key_of({Field::of(h)}));
    }
    const Catalog catalog = read_catalog(*db);
    std::vector<const std::string*> at, single_at;
    for (const auto& k : keys) at.push_back(&k);
    for (const auto& k : single_keys) single_at.push_back(&k);

    const std::string where = sync_detail::key_predicate(*db, *catalog.find("kp"), {"Key", "n", "t"}, at, 0, at.size());
    const std::string where1 = sync_detail::key_predicate(*db, *catalog.find("kp1"), {"id"}, single_at, 0, single_at.size());
    INFO(where);
    INFO(where1);
    CHECK(where.find("unnest") != std::string::npos);  // the array form, not the lists
    CHECK(where1.find("unnest") != std::string::npos);
    CHECK(selected(*db, "kp", where) == named);
    CHECK(selected(*db, "kp1", where1) == named);
    // A share's keys from the middle of the list: just those.
    const std::string some = sync_detail::key_predicate(*db, *catalog.find("kp"), {"Key", "n", "t"}, at, 2, 5);
    CHECK(selected(*db, "kp", some).size() == 3);

    CHECK(db->exec_count("DELETE FROM kp WHERE " + where) == named.size());
    CHECK(db->exec_count("DELETE FROM kp1 WHERE " + where1) == named.size());
    CHECK(query_text(*db, "SELECT count(*) FROM kp") == std::to_string(2 * kHostile.size() - named.size()));
    CHECK(query_text(*db, "SELECT count(*) FROM kp1") == std::to_string(kHostile.size() - named.size()));
}
