// mmmove merge --team: one team of a source instance into another instance. Every post of the team's
// channels and of the DMs and group messages among its members arrives, with its reactions, pins and
// threads; nothing of the other team, nor of DMs with people outside the team. --plan writes nothing
// and says what stays; --verify passes on the scoped merge. What the moved rows use comes too: the
// custom emoji their text names, the team's scheme with its roles; of a member's preferences that name
// a row, only those whose row moved.
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::vector<std::string> ids(Database& db, const std::string& sql) {
    std::vector<std::string> out;
    for (auto& r : db.query(sql)) out.push_back(r[0].value_or(""));
    return out;
}

std::string in_list(Database& db, const std::vector<std::string>& v) {
    std::string out;
    for (const auto& id : v) out += (out.empty() ? "(" : ", ") + db.quote_literal(id);
    return out.empty() ? "(NULL)" : out + ")";
}

size_t count_in(Database& db, const std::string& table, const std::string& column, const std::vector<std::string>& v) {
    return std::stoull(query_one(db, "SELECT COUNT(*) FROM " + table + " WHERE " + column + " IN " + in_list(db, v)));
}

// The source's posts by where they are, as the scope rule says, written here independently of mmmove.
struct SourceSplit {
    std::vector<std::string> team_posts, dm_in_posts, dm_out_posts, other_team_posts, moved_posts, moved_roots;
    size_t moved_reactions = 0, moved_pinned = 0;
};

SourceSplit split(Database& s) {
    const std::string team0 = "(SELECT Id FROM Teams WHERE Name = 'team-0')";
    const std::string members = "(SELECT UserId FROM TeamMembers WHERE DeleteAt = 0 AND TeamId = " + team0 + ")";
    const std::string outsider = "EXISTS (SELECT 1 FROM ChannelMembers m WHERE m.ChannelId = c.Id AND m.UserId NOT IN " + members + ")";
    auto posts = [&](const std::string& channels) {
        return ids(s, "SELECT p.Id FROM Posts p JOIN Channels c ON c.Id = p.ChannelId WHERE " + channels);
    };
    SourceSplit r;
    r.team_posts = posts("c.TeamId = " + team0);
    r.other_team_posts = posts("c.TeamId <> '' AND c.TeamId <> " + team0);
    r.dm_in_posts = posts("c.Type IN ('D', 'G') AND NOT " + outsider);
    r.dm_out_posts = posts("c.Type IN ('D', 'G') AND " + outsider);
    r.moved_posts = r.team_posts;
    r.moved_posts.insert(r.moved_posts.end(), r.dm_in_posts.begin(), r.dm_in_posts.end());
    r.moved_roots = ids(s, "SELECT PostId FROM Threads WHERE PostId IN " + in_list(s, r.moved_posts));
    r.moved_reactions = count_in(s, "Reactions", "PostId", r.moved_posts);
    r.moved_pinned = std::stoull(query_one(s, "SELECT COUNT(*) FROM Posts WHERE IsPinned = " + std::string(s.engine() == Engine::postgres ? "true" : "1") +
                                                  " AND Id IN " + in_list(s, r.moved_posts)));
    return r;
}

// Two people outside team-0, renamed so the destination has no namesake: outsider-x never wrote in
// team-0 (stays behind), author-y wrote one post there (comes along as an account without membership).
std::pair<std::string, std::string> outsiders(Database& s) {
    const std::string team0 = "(SELECT Id FROM Teams WHERE Name = 'team-0')";
    auto people = ids(s, "SELECT Id FROM Users WHERE Username LIKE 'user%' AND Id NOT IN (SELECT UserId FROM TeamMembers WHERE TeamId = " + team0 +
                             ") ORDER BY Username");
    REQUIRE(people.size() >= 2);
    const std::string x = s.quote_literal(people[0]), y = s.quote_literal(people[1]);
    const std::string member = query_one(s, "SELECT MIN(UserId) FROM TeamMembers WHERE DeleteAt = 0 AND TeamId = " + team0);
    const std::string team_channels = "(SELECT Id FROM Channels WHERE TeamId = " + team0 + ")";
    for (const auto& who : {x, y}) {
        s.exec("UPDATE Posts SET UserId = " + s.quote_literal(member) + " WHERE UserId = " + who + " AND ChannelId IN " + team_channels);
        s.exec("DELETE FROM Reactions WHERE UserId = " + who + " AND PostId IN (SELECT Id FROM Posts WHERE ChannelId IN " + team_channels + ")");
        s.exec("DELETE FROM ChannelMembers WHERE UserId = " + who + " AND ChannelId IN " + team_channels);
    }
    s.exec("UPDATE Users SET Username = 'outsider-x', Email = 'outsider-x@example.com' WHERE Id = " + x);
    s.exec("UPDATE Users SET Username = 'author-y', Email = 'author-y@example.com' WHERE Id = " + y);
    const std::string post = query_one(s, "SELECT MIN(Id) FROM Posts WHERE RootId = '' AND ChannelId IN " + team_channels);
    s.exec("UPDATE Posts SET UserId = " + y + " WHERE Id = " + s.quote_literal(post));
    return {people[0], people[1]};
}

void team_case(Engine from, Engine to) {
    ScratchDb src(from, "mts"), dst(to, "mtd");
    fill_sample(src, 600, 141, false, 1, false);
    fill_sample(dst, 400, 141, false, 2, false);
    auto s = src.connect(), d = dst.connect();
    const auto [outsider, author] = outsiders(*s);
    const SourceSplit x = split(*s);
    // The sample has posts on every side of the rule, or the test proves nothing.
    REQUIRE(!x.team_posts.empty());
    REQUIRE(!x.other_team_posts.empty());
    REQUIRE(!x.dm_in_posts.empty());
    REQUIRE(!x.dm_out_posts.empty());
    REQUIRE(x.moved_reactions > 0);
    REQUIRE(!x.moved_roots.empty());
    const std::string schema = to == Engine::postgres ? "current_schema()" : "DATABASE()";
    const std::string before = query_one(*d, "SELECT COUNT(*) FROM Posts");

    // The source's data directory: folders of moved rows and of rows that stay.
    TempFolder files_src("merge-team-src"), files_dst("merge-team-dst");
    const std::string team0 = query_one(*s, "SELECT Id FROM Teams WHERE Name = 'team-0'");
    const std::string team1 = query_one(*s, "SELECT Id FROM Teams WHERE Name = 'team-1'");
    const std::string ch0 = query_one(*s, "SELECT MIN(Id) FROM Channels WHERE TeamId = " + s->quote_literal(team0));
    const std::string ch1 = query_one(*s, "SELECT MIN(Id) FROM Channels WHERE TeamId = " + s->quote_literal(team1));
    const std::string dm_in = query_one(*s, "SELECT ChannelId FROM Posts WHERE Id = " + s->quote_literal(x.dm_in_posts[0]));
    const std::string dm_out = query_one(*s, "SELECT ChannelId FROM Posts WHERE Id = " + s->quote_literal(x.dm_out_posts[0]));
    const std::vector<std::pair<std::string, bool>> files = {
        {"users/" + author + "/profile.png", true},
        {"users/" + outsider + "/profile.png", false},
        {"20240131/teams/" + team0 + "/channels/" + ch0 + "/users/u/f1/a.txt", true},
        {"20240131/teams/" + team1 + "/channels/" + ch1 + "/users/u/f2/b.txt", false},
        {"20240131/teams/noteam/channels/" + dm_in + "/users/u/f3/c.txt", true},
        {"20240131/teams/noteam/channels/" + dm_out + "/users/u/f4/d.txt", false},
        {"plugins/com.example/state.json", false},
    };
    for (const auto& [rel, moves] : files) spit(files_src.path / rel, rel);

    auto plan = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", "team-0", "--plan"});
    INFO(plan.output);
    REQUIRE(plan.exit_code == 0);
    CHECK_THAT(plan.output, Catch::Contains("team team-0") && Catch::Contains("stay"));
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Posts") == before);  // --plan wrote nothing
    CHECK(query_one(*d, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = " + schema + " AND table_name LIKE 'mmmove%'") == "0");

    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", "team-0", "--quiet", "--verify", "--files-from",
                           files_src.path.string(), "--files-to", files_dst.path.string()});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.output, Catch::Contains("verify: every merged row is in the destination as merged ("));
    // Only the files of what moved.
    for (const auto& [rel, moves] : files) {
        INFO(rel);
        CHECK(std::filesystem::exists(files_dst.path / rel) == moves);
    }

    // Every post of the team and of its members' DMs/GMs arrived; none of the other team's, none of
    // the DMs and group messages with someone outside the team.
    CHECK(count_in(*d, "Posts", "Id", x.team_posts) == x.team_posts.size());
    CHECK(count_in(*d, "Posts", "Id", x.dm_in_posts) == x.dm_in_posts.size());
    CHECK(count_in(*d, "Posts", "Id", x.other_team_posts) == 0);
    CHECK(count_in(*d, "Posts", "Id", x.dm_out_posts) == 0);
    // Their reactions, pins and threads came with them.
    CHECK(count_in(*d, "Reactions", "PostId", x.moved_posts) == x.moved_reactions);
    CHECK(count_in(*d, "Threads", "PostId", x.moved_roots) == x.moved_roots.size());
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Posts WHERE IsPinned = TRUE AND Id IN " + in_list(*d, x.moved_posts)) == std::to_string(x.moved_pinned));
    // The other team did not come along.
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Teams") == "2");
    // Someone outside the team who never wrote in it stays behind; an outsider's post keeps its
    // author, who comes along as an account without a team.
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Users WHERE Username = 'outsider-x'") == "0");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Users WHERE Id = " + d->quote_literal(author) + " AND Username = 'author-y'") == "1");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM TeamMembers WHERE UserId = " + d->quote_literal(author)) == "0");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Users WHERE Id = " + d->quote_literal(outsider)) == "0");
}

// A Mattermost-shaped id (26 lower-case letters and digits) for rows a test adds.
std::string test_id(const std::string& word) { return (word + std::string(26, '0')).substr(0, 26); }

// What a moved team uses without an id reference: a custom emoji written only as :name: in one of its
// messages, its custom scheme and the scheme's roles; and a member's preferences naming a channel of
// the team and one of another team.
void uses_of_team(Database& s, const std::string& team) {
    const std::string t = s.quote_literal(team), other = "(SELECT Id FROM Teams WHERE Name = 'team-1')";
    const std::string member = query_one(s, "SELECT MIN(UserId) FROM TeamMembers WHERE DeleteAt = 0 AND TeamId = " + t);
    s.exec("UPDATE Users SET Username = 'scope-member', Email = 'scope-member@example.com' WHERE Id = " + s.quote_literal(member));
    const std::string in_team = "(SELECT Id FROM Channels WHERE TeamId = " + t + ")", in_other = "(SELECT Id FROM Channels WHERE TeamId = " + other + ")";
    for (const auto& [name, channels] : {std::pair{"scope_text_emoji", in_team}, std::pair{"scope_other_emoji", in_other}}) {
        s.exec("INSERT INTO Emoji (Id, CreateAt, UpdateAt, DeleteAt, CreatorId, Name) VALUES (" + s.quote_literal(test_id(name)) + ", 1, 1, 0, " +
               s.quote_literal(member) + ", '" + name + "')");
        const std::string post = query_one(s, "SELECT MIN(Id) FROM Posts WHERE ChannelId IN " + channels);
        s.exec("UPDATE Posts SET Message = 'see :" + std::string(name) + ": here' WHERE Id = " + s.quote_literal(post));
    }
    const char* roles[] = {"DefaultTeamAdminRole", "DefaultTeamUserRole", "DefaultTeamGuestRole",
                           "DefaultChannelAdminRole", "DefaultChannelUserRole", "DefaultChannelGuestRole"};
    std::string columns, values;
    for (const char* r : roles) {
        const std::string name = lower(std::string("scoperole") + r).substr(0, 26);
        s.exec("INSERT INTO Roles (Id, Name, DisplayName, Description, CreateAt, UpdateAt, DeleteAt, Permissions, SchemeManaged, BuiltIn) VALUES (" +
               s.quote_literal(test_id(name)) + ", '" + name + "', 'r', '', 1, 1, 0, 'create_post', TRUE, FALSE)");
        columns += std::string(", ") + r, values += ", '" + name + "'";
    }
    s.exec("INSERT INTO Schemes (Id, Name, DisplayName, Description, CreateAt, UpdateAt, DeleteAt, Scope" + columns + ") VALUES (" +
           s.quote_literal(test_id("scopescheme")) + ", 'scopescheme', 'Scope scheme', '', 1, 1, 0, 'team'" + values + ")");
    s.exec("UPDATE Teams SET SchemeId = " + s.quote_literal(test_id("scopescheme")) + " WHERE Id = " + t);
    for (const auto& channels : {in_team, in_other})
        s.exec("INSERT INTO Preferences (UserId, Category, Name, Value) SELECT " + s.quote_literal(member) +
               ", 'favorite_channel', MIN(Id), 'true' FROM Channels WHERE Id IN " + channels);
}

}  // namespace

TEST_CASE("merge --team moves one team with its members' DMs from PostgreSQL into PostgreSQL", "[e2e][merge][team]") {
    team_case(Engine::postgres, Engine::postgres);
}

TEST_CASE("merge --team moves one team with its members' DMs from MySQL into PostgreSQL", "[e2e][merge][team][long]") {
    team_case(Engine::mysql, Engine::postgres);
}

TEST_CASE("merge --team moves one team with its members' DMs from PostgreSQL into MySQL", "[e2e][merge][team][long]") {
    team_case(Engine::postgres, Engine::mysql);
}

TEST_CASE("merge --team moves one team with its members' DMs from MySQL into MySQL", "[e2e][merge][team][long]") {
    team_case(Engine::mysql, Engine::mysql);
}

TEST_CASE("merge --channel --no-direct-messages moves one channel and no DM", "[e2e][merge][team]") {
    ScratchDb src(Engine::postgres, "mcs"), dst(Engine::postgres, "mcd");
    fill_sample(src, 400, 141, false, 1, false);
    fill_sample(dst, 400, 141, false, 2, false);
    auto s = src.connect(), d = dst.connect();
    const std::string off_topic = "(SELECT c.Id FROM Channels c JOIN Teams t ON t.Id = c.TeamId WHERE t.Name = 'team-1' AND c.Name = 'off-topic')";
    auto moved = ids(*s, "SELECT Id FROM Posts WHERE ChannelId = " + off_topic);
    auto others = ids(*s, "SELECT Id FROM Posts WHERE ChannelId <> " + off_topic);
    REQUIRE(!moved.empty());
    REQUIRE(!others.empty());
    auto bad = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--channel", "team-1/no-such-channel", "--plan"});
    CHECK(bad.exit_code != 0);
    CHECK_THAT(bad.output, Catch::Contains("no channel no-such-channel in team team-1"));
    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--channel", "team-1/off-topic", "--no-direct-messages", "--quiet", "--verify"});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(count_in(*d, "Posts", "Id", moved) == moved.size());
    CHECK(count_in(*d, "Posts", "Id", others) == 0);
    // The same part of the same source again is refused; the record names the part.
    auto again = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--channel", "team-1/off-topic", "--no-direct-messages", "--quiet"});
    CHECK(again.exit_code == 4);
    CHECK_THAT(again.output, Catch::Contains("already merged"));
    // So is a full merge after a part (it would bring that part a second time); another part is not.
    auto full = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    CHECK(full.exit_code == 4);
    CHECK_THAT(full.output, Catch::Contains("already merged"));
    auto other = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--channel", "team-1/town-square", "--no-direct-messages", "--quiet"});
    INFO(other.output);
    CHECK(other.exit_code == 0);
}

TEST_CASE("a merge --team killed with SIGKILL resumes only with the same scope, and finishes it", "[e2e][merge][team][resume]") {
    ScratchDb src(Engine::postgres, "mrs"), dst(Engine::postgres, "mrd");
    fill_sample(src, 8000, 141, false, 1, false);
    fill_sample(dst, 2000, 141, false, 2, false);
    auto s = src.connect();
    auto moved = ids(*s, "SELECT p.Id FROM Posts p JOIN Channels c ON c.Id = p.ChannelId JOIN Teams t ON t.Id = c.TeamId WHERE t.Name = 'team-0'");
    REQUIRE(!moved.empty());
    auto args = [&](const std::string& team) {
        return std::vector<std::string>{"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", team, "--jobs", "1", "--chunk-rows", "500", "--quiet"};
    };
    kill_mid_run(args("team-0"), dst, 3);
    auto v = args("team-1");
    v.push_back("--resume");
    auto other = run_mmmove(v);
    CHECK(other.exit_code != 0);
    CHECK_THAT(other.output, Catch::Contains("resume it with the same --team"));
    v = args("team-0");
    v.push_back("--resume");
    v.push_back("--verify");
    auto resumed = run_mmmove(v);
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Merged (resumed)") && Catch::Contains("verify: every merged row is in the destination as merged ("));
    auto d = dst.connect();
    CHECK(count_in(*d, "Posts", "Id", moved) == moved.size());
    CHECK(committed_chunks(*d) == 0);
}

TEST_CASE("merge --team carries the emoji its messages name, its scheme with its roles, and only the preferences of what moved",
          "[e2e][merge][team]") {
    ScratchDb src(Engine::postgres, "mus"), dst(Engine::postgres, "mud");
    fill_sample(src, 400, 141, false, 1, false);
    fill_sample(dst, 400, 141, false, 2, false);
    auto s = src.connect(), d = dst.connect();
    s->exec("UPDATE Teams SET Name = 'scoped' WHERE Name = 'team-0'");  // a new team on the destination, with the source's scheme
    const std::string team = query_one(*s, "SELECT Id FROM Teams WHERE Name = 'scoped'");
    uses_of_team(*s, team);
    const std::string favorite = query_one(*s, "SELECT MIN(Id) FROM Channels WHERE TeamId = " + s->quote_literal(team));
    const std::string favorite_name = query_one(*s, "SELECT Name FROM Channels WHERE Id = " + s->quote_literal(favorite));

    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", "scoped", "--quiet", "--verify"});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    // The emoji a moved message names arrives; the one only the other team's messages name does not.
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Emoji WHERE Name = 'scope_text_emoji'") == "1");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Emoji WHERE Name = 'scope_other_emoji'") == "0");
    // The team's scheme and every role it names arrived, and the team row points at that scheme.
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Teams t JOIN Schemes s ON s.Id = t.SchemeId WHERE t.Name = 'scoped' AND s.Name = 'scopescheme'") == "1");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Schemes s JOIN Roles r ON r.Name IN (s.DefaultTeamAdminRole, s.DefaultTeamUserRole, s.DefaultTeamGuestRole, "
                        "s.DefaultChannelAdminRole, s.DefaultChannelUserRole, s.DefaultChannelGuestRole) WHERE s.Name = 'scopescheme'") == "6");
    // The member's favourite channel of the moved team arrived (naming the channel as the destination
    // knows it); the one of the other team did not.
    const std::string moved = query_one(*d, "SELECT c.Id FROM Channels c JOIN Teams t ON t.Id = c.TeamId WHERE t.Name = 'scoped' AND c.Name = " +
                                                d->quote_literal(favorite_name));
    const std::string who = query_one(*d, "SELECT Id FROM Users WHERE Username = 'scope-member'");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Preferences WHERE Category = 'favorite_channel' AND UserId = " + d->quote_literal(who)) == "1");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Preferences WHERE Category = 'favorite_channel' AND UserId = " + d->quote_literal(who) +
                        " AND Name = " + d->quote_literal(moved)) == "1");
    // Preferences naming nothing still come along with their user.
    CHECK(query_one(*d, "SELECT COUNT(*) FROM Preferences WHERE Category = 'display_settings' AND UserId = " + d->quote_literal(who)) == "1");
}
