// Names written inside message text follow a merge's renames: @user, ~channel, :emoji:, permalinks.
#include <catch2/catch.hpp>

#include "transform/text_refs.h"

using namespace mmmove;
using namespace std::string_literals;

namespace {

TextRenames renames() {
    TextRenames r;
    r.users = {{"alice", "alice2"}, {"bob.smith", "bob"}, {"dev-team", "devs"}};
    r.channels = {{"town-square", "town-square-2"}, {"off_topic", "random"}};
    r.emoji = {{"parrot", "parrot2"}, {"+1_custom", "plus_one"}};
    r.teams = {{"eng", "engineering"}};
    r.posts = {{"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"}};
    return r;
}

// The rewritten text, or "(unchanged)" when the function reports no change.
std::string rewrite(std::string_view text, const TextRenames& r = renames()) {
    std::string out = "(untouched)";
    if (!rewrite_text_references(text, r, out)) {
        CHECK(out == "(untouched)");  // false leaves out as it was
        return "(unchanged)";
    }
    return out;
}

}  // namespace

TEST_CASE("Mentions of renamed users are rewritten, whole tokens only", "[text_refs]") {
    CHECK(rewrite("@alice") == "@alice2");
    CHECK(rewrite("hi @alice, see @bob.smith") == "hi @alice2, see @bob");
    CHECK(rewrite("(@alice)") == "(@alice2)");
    CHECK(rewrite("@alicex and @xalice") == "(unchanged)");
    CHECK(rewrite("@ali") == "(unchanged)");
    CHECK(rewrite("@bob") == "(unchanged)");  // bob.smith's new name is no old name
}

TEST_CASE("An @ glued to a word is no mention", "[text_refs]") {
    CHECK(rewrite("mail alice@alice.example") == "(unchanged)");
    CHECK(rewrite("x@alice 9@alice _x@alice") == "(unchanged)");
    CHECK(rewrite("_@alice_ is italic") == "_@alice2_ is italic");  // the webapp links it
    CHECK(rewrite("a_@alice") == "(unchanged)");
}

TEST_CASE("Trailing punctuation after a mention is kept", "[text_refs]") {
    CHECK(rewrite("thanks @alice.") == "thanks @alice2.");
    CHECK(rewrite("thanks @alice...") == "thanks @alice2...");
    CHECK(rewrite("@alice- and @alice_") == "@alice2- and @alice2_");
    CHECK(rewrite("ask @bob.smith.") == "ask @bob.");        // the dot inside the name stays part of it
    CHECK(rewrite("@alice.x") == "(unchanged)");             // alice.x is another name
    CHECK(rewrite("@alice: hi @alice!") == "@alice2: hi @alice2!");
}

TEST_CASE("Mentions are matched in any case and at the text's edges", "[text_refs]") {
    CHECK(rewrite("@Alice") == "@alice2");
    CHECK(rewrite("@BOB.Smith hi") == "@bob hi");
    CHECK(rewrite("@dev-team\n@alice") == "@devs\n@alice2");
}

TEST_CASE("Mentions next to non-ASCII text", "[text_refs]") {
    CHECK(rewrite("こんにちは @alice さん") == "こんにちは @alice2 さん");
    CHECK(rewrite("«@alice»") == "«@alice2»");
    CHECK(rewrite("été@alice.") == "été@alice2.");  // the webapp only counts ASCII as word characters
    CHECK(rewrite("@aliceé") == "@alice2é");
    CHECK(rewrite("héllo wörld @bob 🚀") == "(unchanged)");
}

TEST_CASE("Invalid UTF-8 passes through", "[text_refs]") {
    CHECK(rewrite("\xff\xfe @alice \xc3") == "\xff\xfe @alice2 \xc3");
    CHECK(rewrite("\xe2\x82@alice\xed\xa0\x80") == "\xe2\x82@alice2\xed\xa0\x80");
    CHECK(rewrite("\xc3@\xc3~\xc3:\xc3/pl/\xc3") == "(unchanged)");
}

TEST_CASE("Channel links of renamed channels are rewritten", "[text_refs]") {
    CHECK(rewrite("join ~town-square now") == "join ~town-square-2 now");
    CHECK(rewrite("~off_topic.") == "~random.");
    CHECK(rewrite("~Town-Square") == "~town-square-2");
    CHECK(rewrite("~town-squarex ~town") == "(unchanged)");
    CHECK(rewrite("a~town-square") == "(unchanged)");
    CHECK(rewrite("_~off_topic") == "(unchanged)");  // no underscore exception for channels
}

TEST_CASE("Custom emoji of renamed names are rewritten, exact names only", "[text_refs]") {
    CHECK(rewrite(":parrot:") == ":parrot2:");
    CHECK(rewrite("nice :parrot::parrot: :+1_custom:") == "nice :parrot2::parrot2: :plus_one:");
    CHECK(rewrite(":parrots: :parrot") == "(unchanged)");
    CHECK(rewrite("x:parrot: :parrot:x") == "(unchanged)");
    CHECK(rewrite(":Parrot:") == "(unchanged)");
    CHECK(rewrite("at 10:30:00 see :parrot:!") == "at 10:30:00 see :parrot2:!");
}

TEST_CASE("Permalinks follow a renamed team and a post's new id", "[text_refs]") {
    const std::string id = "abcdefghijklmnopqrstuvwxyz", id2 = "zyxwvutsrqponmlkjihgfedcba";
    const std::string other = "0123456789abcdefghijklmnop";
    CHECK(rewrite("see https://chat.example.com/eng/pl/" + id + "?x=1") ==
          "see https://chat.example.com/engineering/pl/" + id2 + "?x=1");
    CHECK(rewrite("/eng/pl/" + other) == "/engineering/pl/" + other);
    CHECK(rewrite("https://c.example/sales/pl/" + id) == "https://c.example/sales/pl/" + id2);
    CHECK(rewrite("https://c.example/sales/pl/" + other) == "(unchanged)");
    CHECK(rewrite("/eng/pl/" + id + "x") == "(unchanged)");           // 27 characters: no post id
    CHECK(rewrite("/eng/pl/" + id.substr(1)) == "(unchanged)");       // 25 characters
    CHECK(rewrite("eng/pl/" + other) == "(unchanged)");               // no slash before the team
    CHECK(rewrite("/engx/pl/" + other + " /eng/channels/x") == "(unchanged)");
}

TEST_CASE("Nothing inside code is rewritten", "[text_refs]") {
    CHECK(rewrite("`@alice` and @alice") == "`@alice` and @alice2");
    CHECK(rewrite("``a ` @alice`` @alice") == "``a ` @alice`` @alice2");
    CHECK(rewrite("```\n@alice :parrot:\n```\n@alice") == "```\n@alice :parrot:\n```\n@alice2");
    CHECK(rewrite("~~~sh\n~town-square\n~~~\n~town-square") == "~~~sh\n~town-square\n~~~\n~town-square-2");
    CHECK(rewrite("text\n  ```\n@alice\n") == "(unchanged)");        // an unclosed fence runs to the end
    CHECK(rewrite("````\n```\n@alice\n````\n@alice") == "````\n```\n@alice\n````\n@alice2");
}

TEST_CASE("Backticks that open no code span are plain text", "[text_refs]") {
    CHECK(rewrite("a ` lone backtick @alice") == "a ` lone backtick @alice2");
    CHECK(rewrite("\\`@alice\\`") == "\\`@alice2\\`");               // escaped backticks
    CHECK(rewrite("`open\n\n@alice `close`") == "`open\n\n@alice2 `close`");  // a blank line ends the paragraph
    CHECK(rewrite("`open\n```\n@alice\n```\n@alice `") == "`open\n```\n@alice\n```\n@alice2 `");  // a fence ends it too
}

TEST_CASE("Several kinds of reference in one message", "[text_refs]") {
    const std::string id = "abcdefghijklmnopqrstuvwxyz";
    CHECK(rewrite("@alice posted in ~town-square :parrot: https://x.example/eng/pl/" + id + " cc @Bob.Smith.") ==
          "@alice2 posted in ~town-square-2 :parrot2: https://x.example/engineering/pl/zyxwvutsrqponmlkjihgfedcba"
          " cc @bob.");
}

TEST_CASE("Text without renamed references is reported unchanged", "[text_refs]") {
    CHECK(rewrite("") == "(unchanged)");
    CHECK(rewrite("plain words, nothing to do") == "(unchanged)");
    CHECK(rewrite("@carol ~general :smile: /eng/channels/x") == "(unchanged)");
    CHECK(rewrite("@alice ~town-square", TextRenames{}) == "(unchanged)");
    TextRenames same;
    same.users = {{"alice", "alice"}};
    CHECK(rewrite("@alice", same) == "(unchanged)");
    CHECK(TextRenames{}.empty());
    CHECK_FALSE(renames().empty());
}

TEST_CASE("Only the kinds that have renames are looked for", "[text_refs]") {
    TextRenames only_posts;
    only_posts.posts = {{"abcdefghijklmnopqrstuvwxyz", "zyxwvutsrqponmlkjihgfedcba"}};
    CHECK(rewrite("@alice /t/pl/abcdefghijklmnopqrstuvwxyz", only_posts) == "@alice /t/pl/zyxwvutsrqponmlkjihgfedcba");
    TextRenames only_users;
    only_users.users = {{"alice", "alice2"}};
    CHECK(rewrite(":alice: ~alice @alice", only_users) == ":alice: ~alice @alice2");
}
