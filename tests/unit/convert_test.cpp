#include <catch2/catch.hpp>

#include "db/copy_text.h"
#include "transform/convert.h"

using namespace mmmove;
using namespace std::string_literals;

TEST_CASE("COPY text lines decode and encode back to the same bytes", "[unit]") {
    std::string buf;
    FieldRow row;
    decode_copy_line("a\\tb\t\\N\tline\\nbreak\\\\x\t\n", buf, row);
    REQUIRE(row.size() == 4);
    CHECK(row[0].view() == "a\tb");
    CHECK(row[1].null);
    CHECK(row[2].view() == "line\nbreak\\x");
    CHECK(row[3].view().empty());
    CHECK_FALSE(row[3].null);
    std::string out;
    for (size_t i = 0; i < row.size(); ++i) {
        if (i) out += '\t';
        append_copy_field(out, row[i]);
    }
    CHECK(out == "a\\tb\t\\N\tline\\nbreak\\\\x\t");
    decode_copy_line("\\x41\\101\\r", buf, row);
    CHECK(row[0].view() == "AA\r");
}

TEST_CASE("NUL bytes and invalid UTF-8 are found and repaired", "[unit]") {
    CHECK(has_nul("a\0b"s));
    CHECK(strip_nul("a\0b\0"s) == "ab");
    CHECK(valid_utf8("héllo 🚀"));
    CHECK_FALSE(valid_utf8("bad \xC3"));
    CHECK_FALSE(valid_utf8("\xED\xA0\x80"));   // a UTF-16 surrogate
    CHECK_FALSE(valid_utf8("\xC0\xAF"));       // an overlong encoding
    CHECK(repair_utf8("a\xFF" "b") == "a\xEF\xBF\xBD" "b");
    CHECK(utf8_length("🚀é") == 2);
    CHECK(utf8_prefix("🚀éab", 2, 0) == "🚀é");
    CHECK(utf8_prefix("🚀éab", 0, 5) == "🚀");  // never cuts a character in half
}

TEST_CASE("\\u0000 escapes are removed from JSON strings only", "[unit]") {
    std::string out;
    CHECK(strip_json_nul_escapes(R"({"a":"x\u0000y"})", out));
    CHECK(out == R"({"a":"xy"})");
    CHECK_FALSE(strip_json_nul_escapes(R"({"a":"\\u0000"})", out));  // an escaped backslash, not a NUL
    CHECK(out == R"({"a":"\\u0000"})");
    CHECK(valid_json(R"({"a":[1,2]})"));
    CHECK_FALSE(valid_json(""));
    CHECK_FALSE(valid_json("{bad"));
}

TEST_CASE("bytea and arrays convert both ways", "[unit]") {
    CHECK(bytes_to_pg_hex("\x00\xff"s) == "\\x00ff");
    std::string raw;
    REQUIRE(pg_hex_to_bytes("\\x00ff41", raw));
    CHECK(raw == "\x00\xff" "A"s);
    CHECK_FALSE(pg_hex_to_bytes("00ff", raw));
    std::string arr;
    REQUIRE(json_array_to_pg_array(R"(["ab","c\"d"])", arr));
    CHECK(arr == R"({"ab","c\"d"})");
    CHECK_FALSE(json_array_to_pg_array(R"({"a":1})", arr));
    std::string json;
    REQUIRE(pg_array_to_json_array(R"({ab,"c\"d",NULL,"NULL"})", json));
    CHECK(json == R"(["ab","c\"d",null,"NULL"])");
    REQUIRE(pg_array_to_json_array("{}", json));
    CHECK(json == "[]");
}
