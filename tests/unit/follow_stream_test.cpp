// Reading test_decoding's lines and PostgreSQL's snapshots (sync/follow_stream.h, db/replication_slot.h):
// what decoding prints is data; anything of another form names no key.
#include <catch2/catch.hpp>

#include "db/replication_slot.h"
#include "sync/follow_stream.h"
#include "verify/table_compare.h"

using namespace mmmove;
using namespace mmmove::sync_detail;

namespace {
std::string key(std::vector<std::string> values) {
    FieldRow row;
    for (const auto& v : values) row.push_back(Field::of(v));
    return verify_detail::TableComparer::key_of(row);
}
}  // namespace

TEST_CASE("test_decoding lines give the keys they touch", "[follow]") {
    auto insert = parse_decoded_change(
        "table public.posts: INSERT: id[character varying]:'it''s an id' createat[bigint]:17 message[text]:'a b '' c' props[json]:null");
    REQUIRE(insert);
    CHECK(insert->table == "posts");
    CHECK(change_keys(*insert, {"id"}) == std::vector<std::string>{key({"it's an id"})});

    auto moved = parse_decoded_change("table public.preferences: UPDATE: old-key: userid[character varying]:'u' category[character "
                                      "varying]:'c' name[character varying]:'n' new-tuple: userid[character varying]:'u' "
                                      "category[character varying]:'c' name[character varying]:'n2' value[text]:'v'");
    REQUIRE(moved);
    CHECK(change_keys(*moved, {"userid", "category", "name"}) == std::vector<std::string>{key({"u", "c", "n"}), key({"u", "c", "n2"})});

    auto quoted = parse_decoded_change("table \"Public\".\"My \"\"T\"\"\": DELETE: \"Id\"[bigint]:-42");
    REQUIRE(quoted);
    CHECK(quoted->schema == "Public");
    CHECK(quoted->table == "My \"T\"");
    CHECK(change_keys(*quoted, {"Id"}) == std::vector<std::string>{key({"-42"})});
}

TEST_CASE("test_decoding lines that name no trustworthy key", "[follow]") {
    auto truncate = parse_decoded_change("table public.posts: TRUNCATE: (no-flags)");
    REQUIRE(truncate);
    CHECK_FALSE(change_keys(*truncate, {"id"}));
    auto no_key = parse_decoded_change("table public.posts: DELETE: (no-tuple-data)");
    REQUIRE(no_key);
    CHECK_FALSE(change_keys(*no_key, {"id"}));
    auto odd_type = parse_decoded_change("table public.t: INSERT: id[uuid]:'6f1c0b4e-0000-0000-0000-000000000000'");
    REQUIRE(odd_type);
    CHECK_FALSE(change_keys(*odd_type, {"id"}));
    auto null_key = parse_decoded_change("table public.t: INSERT: id[bigint]:null");
    REQUIRE(null_key);
    CHECK_FALSE(change_keys(*null_key, {"id"}));
    auto unterminated = parse_decoded_change("table public.t: INSERT: id[text]:'abc");
    REQUIRE(unterminated);
    CHECK_FALSE(change_keys(*unterminated, {"id"}));
    // One TRUNCATE of two tables names both, never one table called "a, public.b".
    auto two = parse_decoded_change("table public.reactions, public.\"Status\": TRUNCATE: (no-flags)");
    REQUIRE(two);
    CHECK(two->table == "reactions");
    REQUIRE(two->also.size() == 1);
    CHECK(two->also[0] == std::make_pair(std::string("public"), std::string("Status")));
    // Bare names are only what quote_identifier leaves bare; anything else is not a line mmmove reads.
    CHECK_FALSE(parse_decoded_change("table public.posts x: INSERT: id[text]:'a'"));
    CHECK_FALSE(parse_decoded_change("table public.Posts: INSERT: id[text]:'a'"));
    CHECK_FALSE(parse_decoded_change("table public.a, public.b: INSERT: id[text]:'a'"));
    // A type whose quoted name holds "]:" is read whole; a key named twice names nothing.
    auto odd_name = parse_decoded_change("table public.t: INSERT: id[text]:'k' v[\"a]:b\"]:'x'' id[text]:''fake'");
    REQUIRE(odd_name);
    REQUIRE(odd_name->tuples.size() == 1);
    REQUIRE(odd_name->tuples[0].size() == 2);
    CHECK(odd_name->tuples[0][1].type == "\"a]:b\"");
    CHECK(change_keys(*odd_name, {"id"}) == std::vector<std::string>{key({"k"})});
    auto twice = parse_decoded_change("table public.t: INSERT: id[text]:'k' id[text]:'fake'");
    REQUIRE(twice);
    CHECK_FALSE(change_keys(*twice, {"id"}));
    CHECK_FALSE(parse_decoded_change("BEGIN 42"));
    CHECK_FALSE(parse_decoded_change("table public.t INSERT id"));
}

TEST_CASE("snapshots and slot names read back are held to PostgreSQL's form", "[follow]") {
    auto s = XidSnapshot::parse("100:110:102,105");
    REQUIRE(s);
    CHECK(s->sees(99));
    CHECK(s->sees(101));
    CHECK_FALSE(s->sees(102));
    CHECK_FALSE(s->sees(110));
    CHECK(s->text() == "100:110:102,105");
    // 64-bit xids: the 32-bit xid decoding prints is widened next to xmax.
    auto wrapped = XidSnapshot::parse("4294967396:4294967400:");
    REQUIRE(wrapped);
    CHECK(wrapped->sees(99));          // 2^32 + 99
    CHECK_FALSE(wrapped->sees(104));   // 2^32 + 104: xmax
    CHECK(wrapped->sees(103));
    CHECK(wrapped->sees(4294967295u)); // the epoch before
    for (const char* bad : {"", "1:2", "2:1:", "10:20:5", "10:20:20", "10:20:15;DROP TABLE x", "a:b:", "010:20:", "1:2:,"})
        CHECK_FALSE(XidSnapshot::parse(bad));
    CHECK(follow_slot_name("mmmove_ab12_c"));
    for (const char* bad : {"mmmove_", "x'); DROP", "mmmove_A", "slot", "mmmove_a b"}) CHECK_FALSE(follow_slot_name(bad));
    CHECK(follow_slot_name(new_follow_slot_name()));
    CHECK(lsn_form("16/B374D848"));
    CHECK_FALSE(lsn_form("16/b374d848'"));
}
