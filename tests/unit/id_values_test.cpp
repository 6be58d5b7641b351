#include <catch2/catch.hpp>

#include <map>
#include <string>

#include "catalog/references.h"
#include "transform/id_values.h"

using namespace mmmove;

namespace {

// An id map as the merge builds one: old id → new id.
struct Ids {
    std::map<std::string, std::string, std::less<>> map;
    IdLookup lookup() {
        return [this](std::string_view id) -> const std::string* {
            auto it = map.find(id);
            return it == map.end() ? nullptr : &it->second;
        };
    }
};

// Rewrites `json` at one path (references.yaml syntax); "unchanged" when remap_json_ids says false.
std::string remap(const std::string& json, const std::string& path, Ids& ids) {
    std::string out = "untouched";
    bool changed = remap_json_ids(json, parse_json_path(path), ids.lookup(), out);
    if (!changed) {
        CHECK(out == "untouched");  // false never writes
        return "unchanged";
    }
    return out;
}

}  // namespace

TEST_CASE("Props ids are rewritten where the paths lead, nothing else", "[id_values]") {
    Ids users{{{"u1", "U1"}, {"u2", "U2"}}};
    Ids channels{{{"c1", "C1"}, {"u1", "wrong"}}};
    std::string props = R"({"userId":"u1","username":"u1","addedUserId":"u2",)"
                        R"("channel_mentions":{"town":{"id":"c1","display_name":"Town"},"off":{"id":"c9"}}})";
    CHECK(remap(props, "userId", users) ==
          R"({"userId":"U1","username":"u1","addedUserId":"u2","channel_mentions":{"town":{"id":"c1","display_name":"Town"},"off":{"id":"c9"}}})");
    CHECK(remap(props, "channel_mentions.*.id", channels) ==
          R"({"userId":"u1","username":"u1","addedUserId":"u2","channel_mentions":{"town":{"id":"C1","display_name":"Town"},"off":{"id":"c9"}}})");

    // Several paths, one pass.
    auto user_id = parse_json_path("userId"), added = parse_json_path("addedUserId");
    std::vector<const std::vector<JsonStep>*> paths{&user_id, &added};
    std::string out;
    REQUIRE(remap_json_ids(props, paths, users.lookup(), out));
    CHECK(out == R"({"userId":"U1","username":"u1","addedUserId":"U2","channel_mentions":{"town":{"id":"c1","display_name":"Town"},"off":{"id":"c9"}}})");
}

TEST_CASE("Arrays of ids: a whole document and a member", "[id_values]") {
    Ids files{{{"f2", "F2"}}};
    CHECK(remap(R"(["f1","f2","f3"])", "[]", files) == R"(["f1","F2","f3"])");
    CHECK(remap(R"([])", "[]", files) == "unchanged");
    CHECK(remap(R"({"gmMembersDuringConversionIDs":["f2",7,null,"f2"]})", "gmMembersDuringConversionIDs[]", files) ==
          R"({"gmMembersDuringConversionIDs":["F2",7,null,"F2"]})");
    // A nested array is not an element that is an id.
    CHECK(remap(R"([["f2"]])", "[]", files) == "unchanged");
}

TEST_CASE("Nothing to change, invalid JSON and paths that do not fit give false", "[id_values]") {
    Ids users{{{"u1", "U1"}, {"u1,u2", "X"}, {"u1 u2", "X"}}};
    CHECK(remap(R"({"userId":"u3","other":"u1"})", "userId", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1","userId2":"u1"})", "deleteBy", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1")", "userId", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1",})", "userId", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1"} x)", "userId", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1","n":01})", "userId", users) == "unchanged");
    CHECK(remap("{\"userId\":\"u1\",\"bad\":\"\xC3\"}", "userId", users) == "unchanged");  // invalid UTF-8
    CHECK(remap("", "userId", users) == "unchanged");
    CHECK(remap("not json", "userId", users) == "unchanged");
    CHECK_NOTHROW(remap("{\"userId\":\"u1\\", "userId", users));
    // A string where an object is expected, an object where a string is, a string that is a document.
    CHECK(remap(R"({"channel_mentions":"u1"})", "channel_mentions.*.id", users) == "unchanged");
    CHECK(remap(R"({"userId":{"id":"u1"}})", "userId", users) == "unchanged");
    CHECK(remap(R"("u1")", "[]", users) == "unchanged");
    // Ids joined in one string are one value: no whole-string match, no split.
    CHECK(remap(R"({"userId":"u1 u3"})", "userId", users) == "unchanged");
    CHECK(remap(R"({"userId":"u1,u3"})", "userId", users) == "unchanged");
}

TEST_CASE("Only the ids change: bytes, order, spacing and escapes stay", "[id_values]") {
    Ids users{{{"u1", "U1"}}};
    // Non-ASCII text, escapes Go writes (\u003c), a slash escape and numbers as spelled.
    std::string doc = "{\"z\":\"naïve café 日本語 🚀\",\"userId\":\"u1\",\"a\":\"\\u003cb\\u003e \\/\",\"n\":[1.50,1e2,-0]}";
    std::string want = "{\"z\":\"naïve café 日本語 🚀\",\"userId\":\"U1\",\"a\":\"\\u003cb\\u003e \\/\",\"n\":[1.50,1e2,-0]}";
    CHECK(remap(doc, "userId", users) == want);
    // PostgreSQL's jsonb prints spaces; they stay.
    CHECK(remap(R"( { "b": true, "userId" : "u1" , "a": null } )", "userId", users) ==
          R"( { "b": true, "userId" : "U1" , "a": null } )");
    // A repeated key: every occurrence follows.
    CHECK(remap(R"({"userId":"u1","userId":"u1"})", "userId", users) == R"({"userId":"U1","userId":"U1"})");
    // Escaped keys and values are compared decoded.
    CHECK(remap(R"({"user\u0049d":"\u00751"})", "userId", users) == R"({"user\u0049d":"U1"})");
}

TEST_CASE("Very deep documents neither crash nor throw", "[id_values]") {
    Ids users{{{"u1", "U1"}}};
    const size_t depth = 200000;
    std::string deep = R"({"userId":"u1","deep":)" + std::string(depth, '[') + std::string(depth, ']') + "}";
    std::string out;
    REQUIRE(remap_json_ids(deep, parse_json_path("userId"), users.lookup(), out));
    CHECK(out.substr(0, 14) == R"({"userId":"U1")");
    CHECK(out.size() == deep.size());
    std::string unclosed = R"({"userId":"u1","deep":)" + std::string(depth, '[');
    CHECK_FALSE(remap_json_ids(unclosed, parse_json_path("userId"), users.lookup(), out));
}

TEST_CASE("DM channel names sort the two ids", "[id_values]") {
    CHECK(dm_channel_name("bbb", "aaa") == "aaa__bbb");
    CHECK(dm_channel_name("aaa", "bbb") == "aaa__bbb");
    CHECK(dm_channel_name("abc", "abc") == "abc__abc");  // a DM with oneself
}

TEST_CASE("GM channel names are the SHA-1 of the sorted ids", "[id_values]") {
    // printf %s bbbbbbbbbbbbbbbbbbbbbbbbbbcccccccccccccccccccccccccczzzzzzzzzzzzzzzzzzzzzzzzzz | sha1sum
    const std::string expected = "f9372de5760082209f140aa5b450abadd07cb827";
    std::string b(26, 'b'), c(26, 'c'), z(26, 'z');
    CHECK(gm_channel_name({z, b, c}) == expected);
    CHECK(gm_channel_name({c, z, b}) == expected);
    CHECK(gm_channel_name({}) == "da39a3ee5e6b4b0d3255bfef95601890afd80709");  // SHA-1 of nothing
}

TEST_CASE("Joined ids are rewritten part by part", "[id_values]") {
    Ids teams{{{"t1", "T1"}, {"t3", "T3"}, {"t1,t2", "whole"}}};
    std::string out = "untouched";
    REQUIRE(remap_joined_ids("t1,t2,t3", ",", teams.lookup(), out));
    CHECK(out == "T1,t2,T3");
    REQUIRE(remap_joined_ids(",t1,,t2,", ",", teams.lookup(), out));
    CHECK(out == ",T1,,t2,");
    REQUIRE(remap_joined_ids("t1::t3", "::", teams.lookup(), out));
    CHECK(out == "T1::T3");
    REQUIRE(remap_joined_ids("t1,t2", "", teams.lookup(), out));  // no separator: one id
    CHECK(out == "whole");
    out = "untouched";
    CHECK_FALSE(remap_joined_ids("t2,t4", ",", teams.lookup(), out));
    CHECK_FALSE(remap_joined_ids("", ",", teams.lookup(), out));
    CHECK_FALSE(remap_joined_ids("", "", teams.lookup(), out));
    CHECK(out == "untouched");
}

TEST_CASE("a path ending in {key} rewrites member names, spliced into the text as they were", "[id_values]") {
    Ids channels{{{"off-topic", "off-topic-merged"}, {"display_name", "wrong"}}};
    const std::string props = R"({"channel_mentions": {"off-topic": {"display_name": "off-topic"}, "town": {"display_name": "Town"}},)"
                              R"( "off-topic": "off-topic"})";
    CHECK(remap(props, "channel_mentions.{key}", channels) ==
          R"({"channel_mentions": {"off-topic-merged": {"display_name": "off-topic"}, "town": {"display_name": "Town"}},)"
          R"( "off-topic": "off-topic"})");
    // An escaped name is decoded before the lookup; a document that is no object there is left alone.
    CHECK(remap(R"({"channel_mentions":{"off\u002dtopic":{}}})", "channel_mentions.{key}", channels) ==
          R"({"channel_mentions":{"off-topic-merged":{}}})");
    CHECK(remap(R"({"channel_mentions":["off-topic"]})", "channel_mentions.{key}", channels) == "unchanged");
    CHECK_THROWS(parse_json_path("channel_mentions.{key}.id"));
}
