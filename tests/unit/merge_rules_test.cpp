// The merge's rules file (mappings/merge.yaml layout) and the ids it mints.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>
#include <set>

#include "../common/test_files.h"
#include "core/error.h"
#include "merge/id_map.h"
#include "merge/matching.h"
#include "merge/rules.h"

using namespace mmmove;

namespace {

std::string rules_file(const std::string& text) {
    static const test::TempFolder dir("rules-test");  // removed, with the file, when the tests end
    std::string path = (dir.path / "rules.yaml").string();
    std::ofstream(path, std::ios::trunc) << text;
    return path;
}

std::string refusal(const std::string& text) {
    try {
        MergeRules::load(rules_file(text));
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the built-in merge rules refuse user conflicts and keep the destination's emoji", "[merge_rules]") {
    MergeRules r = MergeRules::defaults();
    CHECK(r.same_username_other_email == MergeRules::UsernameClash::refuse);
    CHECK(r.other_username_same_email == MergeRules::EmailClash::refuse);
    CHECK(r.emoji_same_name == MergeRules::EmojiClash::keep_destination);
    CHECK(r.archived_destination == MergeRules::ArchivedClash::refuse);
    CHECK(r.keep_destination.count("systems"));
    CHECK(r.keep_destination.count("sessions"));
    CHECK_FALSE(r.keep_destination.count("posts"));
}

TEST_CASE("a rules file overrides only what it sets", "[merge_rules]") {
    MergeRules r = MergeRules::load(rules_file(
        "users:\n  same_username_other_email: rename-source\n  rename_suffix: -acme\nteams:\n  rename: {Sales: sales-acme}\n"
        "tables:\n  copy_as_is: [Focalboard_Blocks]\n"));
    CHECK(r.same_username_other_email == MergeRules::UsernameClash::rename_source);
    CHECK(r.user_suffix == "-acme");
    CHECK(r.other_username_same_email == MergeRules::EmailClash::refuse);
    CHECK(r.team_renames.at("sales") == "sales-acme");
    CHECK(r.copy_as_is.count("focalboard_blocks"));
    CHECK(r.keep_destination.count("systems"));  // the default list stays
}

TEST_CASE("a bad rules file is refused naming the key and the choices", "[merge_rules]") {
    CHECK_THAT(refusal("users:\n  same_username_other_email: merge-them\n"),
               Catch::Contains("same_username_other_email: unknown policy \"merge-them\" (one of refuse, rename-source, trust-username)"));
    CHECK_THAT(refusal("user:\n  same_username_other_email: refuse\n"), Catch::Contains("unknown key (top level).user"));
    CHECK_THAT(refusal("users: [1, 2\n"), Catch::Contains("is not valid YAML"));
    CHECK_THAT(refusal("emoji:\n  rename_suffix: \"; DROP TABLE\"\n"), Catch::Contains("must be 1 to 20 characters"));
    CHECK_THAT(refusal("tables:\n  skip: Posts\n"), Catch::Contains("tables.skip must be a list"));
}

TEST_CASE("a rules file that is a FIFO is refused, not waited on", "[merge_rules]") {
    std::string path = "/tmp/mmmove-rules-fifo-" + std::to_string(getpid());
    ::unlink(path.c_str());
    REQUIRE(::mkfifo(path.c_str(), 0600) == 0);
    try {
        MergeRules::load(path);
        FAIL("a FIFO was read");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("is not a regular file"));
    }
    ::unlink(path.c_str());
}

TEST_CASE("new ids look like Mattermost's: 26 characters of its alphabet, all different", "[merge_rules]") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        std::string id = new_mattermost_id();
        REQUIRE(id.size() == 26);
        REQUIRE(id.find_first_not_of("ybndrfg8ejkmcpqxot1uwisza345h769") == std::string::npos);
        seen.insert(id);
    }
    CHECK(seen.size() == 1000);
}

TEST_CASE("the id map keeps matches and renumbered ids apart", "[merge_rules]") {
    IdMap m;
    m.match("Users", "s1", "d1");
    m.match("users", "same", "same");
    m.renumber("posts", "p1", "p2");
    CHECK(*m.find("users", "s1") == "d1");
    CHECK(m.find("users", "same") == nullptr);  // the same id on both sides: nothing to rewrite
    CHECK(m.matched("users", "same"));
    CHECK_FALSE(m.matched("posts", "p1"));
    CHECK(*m.find("posts", "p1") == "p2");
    CHECK(m.find("posts", "p9") == nullptr);
}

TEST_CASE("a renamed row takes the first name nobody uses, at most 64 characters", "[merge_rules]") {
    std::set<std::string> taken = {"off-topic-merged", "off-topic-merged2"};
    auto used = [&](const std::string& n) { return taken.count(n) > 0; };
    CHECK(matching::unused_name("off-topic", "-merged", used) == "off-topic-merged3");
    CHECK(matching::unused_name("town-square", "-merged", used) == "town-square-merged");
    std::string renamed = matching::unused_name(std::string(64, 'a'), "-merged", used);
    CHECK(renamed.size() == 64);
    CHECK(renamed.substr(57) == "-merged");
}

TEST_CASE("the built-in merge rules combine ChannelMembers; a rules file cannot say which tables are combined", "[merge_rules]") {
    CHECK(MergeRules::defaults().combine_members == std::set<std::string>{"channelmembers"});
    CHECK(MergeRules::load(rules_file("tables: {skip: [Foo]}\n")).combine_members == std::set<std::string>{"channelmembers"});
    CHECK_THAT(refusal("tables:\n  combine_members: [Posts]\n"), Catch::Contains("tables.combine_members") && Catch::Contains("remove it"));
    CHECK_THAT(refusal("tables:\n  combine: [Posts]\n"), Catch::Contains("unknown key tables.combine"));
}
