// Canonical values: the same Mattermost value read from either engine compares equal, and different
// values never do.
#include <catch2/catch.hpp>

#include "verify/canonical.h"
#include "verify/expected_changes.h"

using namespace mmmove;

namespace {

std::string canon(std::string_view v, Canon c, Engine e) {
    std::string scratch;
    return std::string(canonical_value(v, c, e, scratch));
}

}  // namespace

TEST_CASE("the comparison of a column follows the kinds on both sides", "[verify]") {
    CHECK(canon_for(ColumnKind::text, "varchar(26)", Engine::mysql, ColumnKind::text, "varchar(26)", Engine::mysql) == Canon::raw);
    CHECK(canon_for(ColumnKind::text, "varchar(26)", Engine::mysql, ColumnKind::text, "character varying(26)", Engine::postgres) ==
          Canon::text);
    CHECK(canon_for(ColumnKind::boolean, "tinyint(1)", Engine::mysql, ColumnKind::boolean, "boolean", Engine::postgres) == Canon::boolean);
    CHECK(canon_for(ColumnKind::json, "json", Engine::mysql, ColumnKind::json, "jsonb", Engine::postgres) == Canon::json);
    CHECK(canon_for(ColumnKind::text_array, "character varying(26)[]", Engine::postgres, ColumnKind::json, "json", Engine::mysql) ==
          Canon::array);
    CHECK(canon_for(ColumnKind::binary, "bytea", Engine::postgres, ColumnKind::binary, "longblob", Engine::mysql) == Canon::binary);
    // jsonb sorts keys itself; JSON kept as text (MariaDB's longtext) may spell an object either way.
    CHECK(canon_for(ColumnKind::json, "jsonb", Engine::postgres, ColumnKind::json, "jsonb", Engine::postgres) == Canon::raw);
    CHECK(canon_for(ColumnKind::json, "longtext", Engine::mysql, ColumnKind::json, "longtext", Engine::mysql) == Canon::json);
}

TEST_CASE("staged comparisons canonicalise by the destination's kind, never as raw server bytes", "[verify]") {
    CHECK(destination_canon(ColumnKind::json) == Canon::json);
    CHECK(destination_canon(ColumnKind::boolean) == Canon::boolean);
    CHECK(destination_canon(ColumnKind::binary) == Canon::binary);
    CHECK(destination_canon(ColumnKind::text_array) == Canon::array);
    CHECK(destination_canon(ColumnKind::floating) == Canon::floating);
    for (ColumnKind k : {ColumnKind::text, ColumnKind::integer, ColumnKind::enumeration}) CHECK(destination_canon(k) == Canon::text);
}

TEST_CASE("canonical values agree across engines and keep differences", "[verify]") {
    CHECK(canon("1", Canon::boolean, Engine::mysql) == canon("t", Canon::boolean, Engine::postgres));
    CHECK(canon("0", Canon::boolean, Engine::mysql) == canon("f", Canon::boolean, Engine::postgres));
    CHECK(canon("0", Canon::boolean, Engine::mysql) != canon("t", Canon::boolean, Engine::postgres));
    CHECK(canon(std::string("\x00\xff", 2), Canon::binary, Engine::mysql) == canon("\\x00ff", Canon::binary, Engine::postgres));
    CHECK(canon(R"({"b": 1, "a": [1, 2]})", Canon::json, Engine::postgres) == canon(R"({"a":[1,2],"b":1})", Canon::json, Engine::mysql));
    CHECK(canon(R"({"a": 1})", Canon::json, Engine::postgres) != canon(R"({"a": 2})", Canon::json, Engine::mysql));
    CHECK(canon("not json {", Canon::json, Engine::mysql) == "not json {");
    CHECK(canon(R"({a,"b c"})", Canon::array, Engine::postgres) == canon(R"(["a", "b c"])", Canon::array, Engine::mysql));
    CHECK(canon("{}", Canon::array, Engine::postgres) == canon("[]", Canon::array, Engine::mysql));
    CHECK(canon("1.5", Canon::floating, Engine::mysql) == canon("1.50", Canon::floating, Engine::postgres));
    CHECK(canon("1.5", Canon::floating, Engine::mysql) != canon("1.25", Canon::floating, Engine::postgres));
    CHECK(canon("Text", Canon::text, Engine::mysql) != canon("text", Canon::text, Engine::postgres));
}

TEST_CASE("a copy's report becomes the changes verify expects", "[verify]") {
    ExpectedChanges e;
    CHECK(e.add_line(R"({"table":"Posts","key":"Id=a","column":"Message","problem":"NUL byte","action":"removed"})"));
    CHECK(e.add_line(R"({"table":"Posts","key":"Id=a","column":"Props","problem":"invalid JSON","action":"replaced with {}"})"));
    CHECK(e.add_line(R"({"table":"Emoji","key":"Id=b","column":"","problem":"refused by the destination","action":"row skipped"})"));
    CHECK_FALSE(e.add_line("not json"));
    CHECK_FALSE(e.add_line(R"({"table":"Posts","key":"Id=c"})"));
    CHECK_FALSE(e.add_line(R"({"table":1,"key":"Id=c","column":"x","action":"removed"})"));
    CHECK(e.size() == 3);
    REQUIRE(e.find("posts", "Id=a"));
    CHECK(e.find("posts", "Id=a")->columns == std::vector<std::string>{"message", "props"});
    CHECK_FALSE(e.find("posts", "Id=a")->left_out);
    REQUIRE(e.find("emoji", "Id=b"));
    CHECK(e.find("emoji", "Id=b")->left_out);
    CHECK_FALSE(e.find("posts", "Id=b"));
    CHECK(e.has_table("posts"));
    CHECK_FALSE(e.has_table("users"));
}
