// A scoped merge copies the data-directory folders of the rows it moved and nothing else: a moved
// channel's dated file folders (DMs under "noteam"), moved users', teams' and emoji's pictures.
#include <catch2/catch.hpp>

#include "core/error.h"
#include "merge/scope.h"
#include "merge/scope_model.h"

using namespace mmmove;

TEST_CASE("a scoped merge copies only the file folders of moved rows", "[merge_scope]") {
    ScopeFolders f;
    f.users = {"u1"}, f.teams = {"t1"}, f.channels = {"c1", "dm1"}, f.emoji = {"e1"};
    for (const char* yes : {"users", "teams", "emoji", "20240131", "users/u1", "teams/t1", "emoji/e1", "20240131/teams", "20240131/teams/t1",
                            "20240131/teams/noteam", "20240131/teams/t1/channels", "20240131/teams/t1/channels/c1",
                            "20240131/teams/noteam/channels/dm1", "20240131/teams/t1/channels/c1/users/u9/f1"})
        CHECK(f.moves(yes));
    for (const char* no : {"plugins", "brand", "exports", "users/u2", "teams/t2", "emoji/e2", "20240131/other", "20240131/teams/t2",
                           "20240131/teams/t1/other", "20240131/teams/t1/channels/c2", "20240131/teams/noteam/channels/dm2"})
        CHECK_FALSE(f.moves(no));
}

// The scope's base sets are data (mappings/references.yaml `scope:`): the built-in model loads, and a
// section that is not of the form scope.cpp turns into SQL (a name that is no identifier, a value that
// is no plain word, an unknown field) is refused at load, naming the entry.
TEST_CASE("the scope model loads, and a malformed one is refused naming the entry", "[merge_scope]") {
    const ScopeModel& m = scope_model();
    CHECK(m.team.table == "Teams");
    CHECK(m.members.size() == 2);
    CHECK_FALSE(m.carry.empty());
    const std::string good = R"(
team: {table: Teams, id: Id, name: Name}
channel: {table: Channels, id: Id, name: Name, team: TeamId, of_team: {Type: [O, P]}}
user: {table: Users, id: Id}
members: [{table: TeamMembers, user: UserId, team: TeamId, where: {DeleteAt: 0}}]
conversations: {where: {Type: [D, G]}, table: ChannelMembers, channel: ChannelId, user: UserId}
carry: [{table: Emoji, key: Name, by: [Reactions.EmojiName]}]
preferences: {table: Preferences, category: Category, name: Name, value: Value}
)";
    CHECK(parse_scope_model(YAML::Load(good)).carry.at(0).by.at(0).column == "EmojiName");
    auto refused = [&](const std::string& from, const std::string& to, const std::string& names) {
        std::string text = good;
        text.replace(text.find(from), from.size(), to);
        INFO(text);
        try {
            parse_scope_model(YAML::Load(text));
            FAIL("accepted");
        } catch (const Error& e) {
            CHECK_THAT(e.what(), Catch::Contains(names));
        }
    };
    refused("table: Teams,", "table: \"Teams; DROP TABLE Users\",", "team");
    refused("Reactions.EmojiName", "\"Reactions.EmojiName) OR (1\"", "carry entry 1");
    refused("{Type: [O, P]}", "{Type: [\"O') OR ('1\"]}", "channel");
    refused("team: TeamId, where", "team: TeamId, channel: ChannelId, where", "members entry 1");
    refused("user: {table: Users, id: Id}", "user: {table: Users, id: Id, as: x}", "unknown field 'as'");
    refused("preferences: {table: Preferences, category: Category, name: Name, value: Value}", "", "preferences");
}
