// Values a hostile or broken database holds must neither hang, crash nor leak through mmmove's own
// handling: one-pass secret masking, JSON nested far deeper than the stack allows a recursive walk,
// and text with terminal escapes.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <map>
#include <string>

#include "../common/test_masker.h"
#include "catalog/references.h"
#include "catalog/secrets.h"
#include "copy/copy.h"
#include "core/json_depth.h"
#include "core/printable.h"
#include "core/replace.h"
#include "db/data_source.h"
#include "transform/anonymise.h"
#include "transform/convert.h"
#include "transform/id_values.h"
#include "verify/canonical.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// `levels` arrays inside one another around `inner`: [[[…inner…]]].
std::string nested(size_t levels, const std::string& inner = "\"Confidential Plan\"") {
    return std::string(levels, '[') + inner + std::string(levels, ']');
}

}  // namespace

TEST_CASE("secrets are masked in one pass, even when a mask holds a secret again", "[unit][secrets]") {
    for (const std::string secret : {"a", "c", "3"}) {
        const std::string mask = masked_secret(secret);
        const std::string out = replace_all_once("Key (" + secret + ") is " + secret + secret, {{secret, mask}});
        CHECK(out == "Key (" + mask + ") is " + mask + mask);
    }
    // Overlapping secrets: the longest one starting at a place wins; neither is left half shown.
    CHECK(replace_all_once("xabcx", {{"ab", "<1>"}, {"abc", "<2>"}, {"bc", "<3>"}}) == "x<2>x");
    CHECK(replace_all_once("abab", {{"bab", "<1>"}, {"ab", "<2>"}}) == "<2><2>");
    // A secret that appears inside another's mask stays in that mask: masks are never searched again.
    const std::string first = "token-one", first_mask = masked_secret(first);
    const std::string second(1, first_mask[1]);  // a hex digit of the first mask
    CHECK(replace_all_once(first + " " + second, {{first, first_mask}, {second, "#2"}}) == first_mask + " #2");
    CHECK(replace_all_once("", {{"a", "b"}}) == "");
    CHECK(replace_all_once("abc", {{"", "never"}}) == "abc");
}

TEST_CASE("a one-character password is masked in server messages without looping", "[unit][secrets]") {
    DataSource ds;
    ds.password = "*";
    CHECK(mask_secrets("access denied for * and **", ds) == "access denied for **** and ********");
    ds.password = "a";
    CHECK(mask_secrets("a bad password", ds) == "**** b****d p****ssword");
}

TEST_CASE("json_deeper_than counts brackets outside strings only", "[unit][json]") {
    CHECK_FALSE(json_deeper_than(nested(128)));
    CHECK(json_deeper_than(nested(129)));
    CHECK_FALSE(json_deeper_than("[\"" + std::string(500, '[') + "\"]"));
    CHECK_FALSE(json_deeper_than("[\"\\\"" + std::string(500, '{') + "\"]"));  // an escaped quote stays in the string
    CHECK(json_deeper_than(std::string(100000, '{')));                           // unfinished still counts
}

TEST_CASE("anonymise masks JSON nested 100,000 deep whole instead of crashing or keeping it", "[unit][anonymise][json]") {
    const std::string deep = nested(100000);
    std::string out;
    // The whole document too deep, with and without kept paths.
    for (const JsonMask& mask : {JsonMask::of({}), JsonMask::of({"attachments[].text"}, {"username"})}) {
        const std::string doc = "{\"attachments\":[{\"text\":" + deep + "}],\"username\":\"alice\"}";
        REQUIRE(masker().json_text_into(doc, mask, true, out));
        CHECK(out == "{}");
    }
    REQUIRE(masker().json_text_into(" " + deep, JsonMask::of({}), true, out));
    CHECK(out == "[]");
    // A string member holding deep JSON: under a kept path that goes on into it, and with no kept
    // path leading there.
    const std::string in_string = nlohmann::json{{"customStatus", deep}, {"keep", 1}}.dump();
    for (const JsonMask& mask : {JsonMask::of({"customStatus.emoji"}), JsonMask::of({"other"}), JsonMask::of({})}) {
        REQUIRE(masker().json_text_into(in_string, mask, true, out));
        CHECK(out.find("Confidential") == std::string::npos);
        CHECK(nlohmann::json::parse(out)["keep"] == 1);
    }
    // Strings of JSON inside one another, deeper than any Mattermost value.
    std::string strings = "\"Confidential Plan\"";
    for (int i = 0; i < 12; ++i) strings = nlohmann::json(nlohmann::json::array({nlohmann::json::parse(strings).dump()})).dump();
    REQUIRE(masker().json_text_into(strings, JsonMask::of({}), true, out));
    CHECK(out.find("Confidential") == std::string::npos);
    // A list of URLs too deep to be one is masked word by word.
    CHECK(masker().url(nested(100000, "\"https://intranet.acme.com/x\"")).find("acme") == std::string::npos);
}

TEST_CASE("the ID remap, verify's canonical JSON and the edge conversion survive 100,000-deep JSON", "[unit][json]") {
    const std::string deep = nested(100000, "\"8xk3ouq5h3gp8qjtpz4ayydh1a\"");
    std::map<std::string, std::string, std::less<>> ids{{"8xk3ouq5h3gp8qjtpz4ayydh1a", "a1hdyy4azptj8qpg3h5quo3kx8"}};
    IdLookup lookup = [&ids](std::string_view id) -> const std::string* {
        auto it = ids.find(id);
        return it == ids.end() ? nullptr : &it->second;
    };
    std::string out;
    // The scanner keeps its own stack: an id beside a deep member is replaced, the deep member kept.
    const std::string doc = "{\"user_id\":\"8xk3ouq5h3gp8qjtpz4ayydh1a\",\"x\":" + deep + "}";
    REQUIRE(remap_json_ids(doc, parse_json_path("user_id"), lookup, out));
    CHECK(out == "{\"user_id\":\"a1hdyy4azptj8qpg3h5quo3kx8\",\"x\":" + deep + "}");
    CHECK_FALSE(remap_json_ids("{\"a\":" + deep + "}", parse_json_path("a"), lookup, out));
    CHECK_FALSE(remap_json_ids(deep, parse_json_path("[]"), lookup, out));
    // verify compares such text as written; the edge refuses it as a list of ids.
    CHECK(canonical_json(deep) == deep);
    CHECK(canonical_json("{ \"b\": 1,  \"a\": [2] }") == "{\"a\":[2],\"b\":1}");
    CHECK_FALSE(json_array_to_pg_array(deep, out));
}

TEST_CASE("text from servers and catalogs is printed with escapes shown, not obeyed", "[unit][printable]") {
    CHECK(printable("Posts\x1b[2J") == "Posts\\x1b[2J");
    CHECK(printable("\x1b]0;owned\x07title") == "\\x1b]0;owned\\x07title");
    CHECK(printable_lines("The destination said:\n  \x1b[2Jgone\\x") == "The destination said:\n  \\x1b[2Jgone\\x");
    CHECK(printable_lines("caf\xc3\xa9 \xe2\x80\xae") == "caf\xc3\xa9 \\u202e");
}

TEST_CASE("a refused copy's clean-up says which step failed and what the destination holds", "[unit][copy]") {
    CHECK_THAT(undo_outcome(UndoStep::none, ""), Catch::Contains("emptied again and its indexes restored"));
    const std::string emptying = undo_outcome(UndoStep::empty_tables, "server said: no");
    CHECK_THAT(emptying, Catch::Contains("Emptying the destination again failed") && Catch::Contains("server said: no") &&
                             Catch::Contains("still holds the rows") && Catch::Contains("--truncate") && !Catch::Contains("emptied again and"));
    CHECK_THAT(undo_outcome(UndoStep::restore_indexes, "x"), Catch::Contains("lacks some of its indexes") && Catch::Contains("--truncate"));
    CHECK_THAT(undo_outcome(UndoStep::drop_checkpoint, "x"), Catch::Contains("mmmove_copy_*") && Catch::Contains("Drop them"));
}
