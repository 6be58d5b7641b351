// mmmove merge on real servers: two sample instances (different seeds: the same usernames, teams and
// channel names, other ids) with the cases an admin meets — a username on both sides with another
// email, an email on both sides under another username, a destination admin who is a plain user on
// the source, a colliding post id, emoji on both sides, town-square on both sides, DMs between people
// both sides know — merged in three engine pairs. Each case is asserted on the resulting rows.
#include <catch2/catch.hpp>

#include <fstream>
#include <nlohmann/json.hpp>
#include <set>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "transform/id_values.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

struct Instance {
    const ScratchDb& db;
    bool lower_case;
    std::unique_ptr<Database> conn;
    Instance(const ScratchDb& d, bool lower) : db(d), lower_case(lower), conn(d.connect()) {}
    std::string t(const std::string& name) const {
        return conn->quote_ident(db.engine() == Engine::postgres || lower_case ? lower(name) : name);
    }
    std::string one(const std::string& sql) const {
        auto r = conn->query(sql);
        return r.empty() ? "" : r[0][0].value_or("NULL");
    }
    int64_t num(const std::string& sql) const { return std::stoll(one(sql)); }
    std::string lit(const std::string& v) const { return conn->quote_literal(v); }
    std::string user_id(const std::string& username) const {
        return one("SELECT Id FROM " + t("Users") + " WHERE Username = " + lit(username));
    }
    std::string town_square() const {  // of the first team, by name
        return one("SELECT c.Id FROM " + t("Channels") + " c JOIN " + t("Teams") + " tm ON tm.Id = c.TeamId WHERE tm.Name = " +
                   one("SELECT MIN(Name) FROM " + t("Teams")) + " AND c.Name = 'town-square'");
    }
    std::string first_team_name() const { return lit(one("SELECT MIN(Name) FROM " + t("Teams"))); }
    std::string town_square_id() const {
        return one("SELECT c.Id FROM " + t("Channels") + " c JOIN " + t("Teams") + " tm ON tm.Id = c.TeamId WHERE tm.Name = " +
                   first_team_name() + " AND c.Name = 'town-square'");
    }
    int64_t mmmove_tables() const {
        return num(db.engine() == Engine::postgres
                       ? "SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename LIKE 'mmmove%'"
                       : "SELECT COUNT(*) FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME LIKE 'mmmove%'");
    }
};

struct Scenario {
    std::string pinned_post, colliding_post, colliding_message, join_post, old_version, permalink_base;
    int64_t colliding_reactions = 0, source_posts = 0, dest_posts = 0;
    int64_t ts = 0, td = 0, ms = 0, md = 0;  // town-square totals and a shared member's counts
    std::string shared_member;
};

// Shapes the two sample instances into the cases above; returns what the assertions compare with.
Scenario shape(Instance& s, Instance& d) {
    Scenario sc;
    d.conn->exec("UPDATE " + d.t("Users") + " SET Email = 'user5.elsewhere@example.com' WHERE Username = 'user5'");
    s.conn->exec("UPDATE " + s.t("Users") + " SET Username = 'user21x' WHERE Username = 'user21'");
    d.conn->exec("UPDATE " + d.t("Users") + " SET Roles = 'system_user system_admin' WHERE Username = 'user9'");
    s.conn->exec("UPDATE " + s.t("Users") + " SET Roles = 'system_user' WHERE Username = 'user9'");
    const std::string square = s.town_square_id();
    sc.pinned_post = s.one("SELECT MIN(Id) FROM " + s.t("Posts") + " WHERE ChannelId = " + s.lit(square));
    s.conn->exec("UPDATE " + s.t("Posts") + " SET Message = 'hello @user5 and :sample_party:', IsPinned = (1 = 1), EditAt = 1700000000999, "
                 "UserId = " + s.lit(s.user_id("user9")) + " WHERE Id = " + s.lit(sc.pinned_post));
    sc.join_post = s.one("SELECT MAX(Id) FROM " + s.t("Posts") + " WHERE ChannelId = " + s.lit(square));
    s.conn->exec("UPDATE " + s.t("Posts") + " SET Type = 'system_join_channel', Message = 'user9 joined the channel.' WHERE Id = " +
                 s.lit(sc.join_post));
    s.conn->exec("INSERT INTO " + s.t("Preferences") + " (UserId, Category, Name, Value) VALUES (" + s.lit(s.user_id("user9")) +
                 ", 'flagged_post', " + s.lit(sc.pinned_post) + ", 'true')");
    sc.colliding_post = s.one("SELECT MIN(p.Id) FROM " + s.t("Posts") + " p JOIN " + s.t("Reactions") + " r ON r.PostId = p.Id");
    sc.colliding_message = s.one("SELECT Message FROM " + s.t("Posts") + " WHERE Id = " + s.lit(sc.colliding_post));
    sc.colliding_reactions = s.num("SELECT COUNT(*) FROM " + s.t("Reactions") + " WHERE PostId = " + s.lit(sc.colliding_post));
    REQUIRE(sc.colliding_post != sc.pinned_post);
    // The pinned post also links to the colliding post: the permalink must follow its new id.
    sc.permalink_base = "https://chat.example.com/" + s.one("SELECT MIN(Name) FROM " + s.t("Teams")) + "/pl/";
    s.conn->exec("UPDATE " + s.t("Posts") + " SET Message = " + s.lit("hello @user5 and :sample_party: see " + sc.permalink_base + sc.colliding_post) +
                 " WHERE Id = " + s.lit(sc.pinned_post));
    d.conn->exec("UPDATE " + d.t("Posts") + " SET Id = " + d.lit(sc.colliding_post) + ", Message = 'the destination''s own post' WHERE Id = " +
                 d.lit(d.one("SELECT MIN(Id) FROM " + d.t("Posts"))));
    // An earlier version of the colliding post (edit history points at the live post by OriginalId).
    sc.old_version = s.one("SELECT MAX(Id) FROM " + s.t("Posts") + " WHERE ChannelId <> " + s.lit(square));
    s.conn->exec("UPDATE " + s.t("Posts") + " SET OriginalId = " + s.lit(sc.colliding_post) + " WHERE Id = " + s.lit(sc.old_version));
    // Integrations: an incoming webhook into town-square and a slash command, both by user9.
    const std::string team = s.one("SELECT TeamId FROM " + s.t("Channels") + " WHERE Id = " + s.lit(square));
    s.conn->exec("INSERT INTO " + s.t("IncomingWebhooks") + " (Id, CreateAt, UpdateAt, DeleteAt, UserId, ChannelId, TeamId, DisplayName) "
                 "VALUES ('mergehookmergehookmergehoo', 1, 1, 0, " + s.lit(s.user_id("user9")) + ", " + s.lit(square) + ", " + s.lit(team) + ", 'ci')");
    s.conn->exec("INSERT INTO " + s.t("Commands") + " (Id, Token, CreateAt, UpdateAt, DeleteAt, CreatorId, TeamId, " + s.conn->quote_ident(
                     s.db.engine() == Engine::postgres ? "trigger" : "Trigger") + ", Method, URL) VALUES ('mergecommandmergecommandme', "
                 "'commandtokencommandtokenco', 1, 1, 0, " + s.lit(s.user_id("user9")) + ", " + s.lit(team) + ", 'deploy', 'P', 'https://ci.example.com/hook')");
    sc.source_posts = s.num("SELECT COUNT(*) FROM " + s.t("Posts"));
    sc.dest_posts = d.num("SELECT COUNT(*) FROM " + d.t("Posts"));
    // A member of town-square on both sides, and the counts their unread badge comes from.
    const std::string dsquare = d.town_square_id();
    sc.ts = s.num("SELECT TotalMsgCount FROM " + s.t("Channels") + " WHERE Id = " + s.lit(square));
    sc.td = d.num("SELECT TotalMsgCount FROM " + d.t("Channels") + " WHERE Id = " + d.lit(dsquare));
    for (auto& r : s.conn->query("SELECT u.Username, m.MsgCount FROM " + s.t("ChannelMembers") + " m JOIN " + s.t("Users") +
                                 " u ON u.Id = m.UserId WHERE m.ChannelId = " + s.lit(square) + " ORDER BY u.Username")) {
        auto dm = d.conn->query("SELECT m.MsgCount FROM " + d.t("ChannelMembers") + " m JOIN " + d.t("Users") + " u ON u.Id = m.UserId WHERE m.ChannelId = " +
                                d.lit(dsquare) + " AND u.Username = " + d.lit(*r[0]));
        if (dm.empty() || *r[0] == "user5") continue;
        sc.shared_member = *r[0], sc.ms = std::stoll(*r[1]), sc.md = std::stoll(*dm[0][0]);
        break;
    }
    return sc;
}

std::string write_rules(const ScratchDb& db) {
    std::string path = "/tmp/mmmove-merge-rules-" + db.name() + ".yaml";
    std::ofstream(path) << "users:\n  same_username_other_email: rename-source\n  other_username_same_email: map-by-email\n";
    return path;
}

void merge_case(Engine from, Engine to, bool lower_case) {
    ScratchDb src(from, "mgs"), dst(to, "mgd");
    fill_sample(src, 1500, 141, lower_case, 1, false);
    fill_sample(dst, 1000, 141, lower_case && to == Engine::mysql, 2, false);
    Instance s(src, lower_case), d(dst, lower_case && to == Engine::mysql);
    Scenario sc = shape(s, d);
    REQUIRE_FALSE(sc.shared_member.empty());

    // The default rules refuse both user conflicts; the plan names them and their fixes, and writes nothing.
    auto plan = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--plan"});
    INFO(plan.output);
    CHECK(plan.exit_code == 8);
    CHECK_THAT(plan.output, Catch::Contains("[blocks] same username, other email: user user5 (source user5@example.com, destination "
                                            "user5.elsewhere@example.com)"));
    CHECK_THAT(plan.output, Catch::Contains("[blocks] other username, same email: user user21x <user21@example.com> is destination user user21"));
    CHECK_THAT(plan.output, Catch::Contains("fix: users.same_username_other_email: rename-source"));
    CHECK_THAT(plan.output, Catch::Contains("[settled] custom emoji on both sides: :sample_party:"));
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Posts")) == sc.dest_posts);
    CHECK(d.mmmove_tables() == 0);

    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", write_rules(dst), "--quiet", "--verify"});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(d.mmmove_tables() == 1);  // only the record of finished merges stays
    // --verify compared every merged row through the ID map: at least every source post.
    const std::string verified = "verify: every merged row is in the destination as merged (";
    const auto said = run.output.find(verified);
    REQUIRE(said != std::string::npos);
    CHECK(std::stoll(run.output.substr(said + verified.size())) >= sc.source_posts);
    // … including the rows under keys the destination already held: memberships combined by rule, its own preferences.
    CHECK_THAT(run.output, Catch::Contains(" under a key the destination already held, as the rules combine them)"));
    // Every source post landed, and the destination's own post with the colliding id is untouched.
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Posts")) == sc.dest_posts + sc.source_posts);
    CHECK(d.one("SELECT Message FROM " + d.t("Posts") + " WHERE Id = " + d.lit(sc.colliding_post)) == "the destination's own post");
    const std::string moved = d.one("SELECT Id FROM " + d.t("Posts") + " WHERE Message = " + d.lit(sc.colliding_message) + " AND Id <> " +
                                    d.lit(sc.colliding_post));
    REQUIRE(moved.size() == 26);
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Reactions") + " WHERE PostId = " + d.lit(moved)) == sc.colliding_reactions);
    CHECK(d.one("SELECT OriginalId FROM " + d.t("Posts") + " WHERE Id = " + d.lit(sc.old_version)) == moved);  // edit history follows
    // Integrations keep working: the webhook posts into the destination's town-square as its user9, the command keeps its token.
    auto hook = d.conn->query("SELECT UserId, ChannelId, TeamId FROM " + d.t("IncomingWebhooks") + " WHERE Id = 'mergehookmergehookmergehoo'");
    REQUIRE(hook.size() == 1);
    CHECK(*hook[0][0] == d.user_id("user9"));
    CHECK(*hook[0][1] == d.town_square_id());
    CHECK(*hook[0][2] == d.one("SELECT Id FROM " + d.t("Teams") + " WHERE Name = " + d.first_team_name()));
    auto command = d.conn->query("SELECT Token, CreatorId FROM " + d.t("Commands") + " WHERE Id = 'mergecommandmergecommandme'");
    REQUIRE(command.size() == 1);
    CHECK(*command[0][0] == "commandtokencommandtokenco");
    CHECK(*command[0][1] == d.user_id("user9"));
    // Users: user5 of the source joined under a new name, user21x is the destination's user21, user9 stays an admin.
    CHECK(d.one("SELECT Email FROM " + d.t("Users") + " WHERE Username = 'user5-merged'") == "user5@example.com");
    CHECK(d.one("SELECT COUNT(*) FROM " + d.t("Users") + " WHERE Username = 'user21x'") == "0");
    CHECK(d.one("SELECT Roles FROM " + d.t("Users") + " WHERE Username = 'user9'") == "system_user system_admin");
    // The pinned, edited post: in the destination's town-square, by the destination's user9, mention rewritten.
    const std::string dsquare = d.town_square_id();
    auto p = d.conn->query("SELECT ChannelId, UserId, Message, EditAt FROM " + d.t("Posts") + " WHERE Id = " + d.lit(sc.pinned_post));
    REQUIRE(p.size() == 1);
    CHECK(*p[0][0] == dsquare);
    CHECK(*p[0][1] == d.user_id("user9"));
    CHECK(*p[0][2] == "hello @user5-merged and :sample_party: see " + sc.permalink_base + moved);
    CHECK(*p[0][3] == "1700000000999");
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Posts") + " WHERE Id = " + d.lit(sc.pinned_post) + " AND IsPinned = (1 = 1)") == 1);
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Preferences") + " WHERE Category = 'flagged_post' AND Name = " + d.lit(sc.pinned_post) +
                " AND UserId = " + d.lit(d.user_id("user9"))) == 1);
    CHECK(d.one("SELECT Type FROM " + d.t("Posts") + " WHERE Id = " + d.lit(sc.join_post)) == "system_join_channel");
    // Every DM and group channel's name is built from its members' destination ids, as Mattermost builds it.
    std::map<std::string, std::vector<std::string>> members;
    for (auto& r : d.conn->query("SELECT c.Name, c.Type, m.UserId FROM " + d.t("Channels") + " c JOIN " + d.t("ChannelMembers") +
                                 " m ON m.ChannelId = c.Id WHERE c.Type IN ('D', 'G')"))
        members[*r[1] + " " + *r[0]].push_back(*r[2]);
    REQUIRE(members.size() > 10);
    for (const auto& [channel, ids] : members) {
        INFO(channel);
        const std::string name = channel.substr(2);
        if (channel[0] == 'D') CHECK((ids.size() == 2 && name == dm_channel_name(ids[0], ids[1])));
        else CHECK(name == gm_channel_name(ids));
    }
    // Threads follow their root post's channel, and no thread or membership names a source id that was mapped away.
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Threads") + " t JOIN " + d.t("Posts") + " p ON p.Id = t.PostId WHERE t.ChannelId <> p.ChannelId") == 0);
    if (s.user_id("user9") != d.user_id("user9")) {
        const std::string gone = d.lit("%" + s.user_id("user9") + "%");
        CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Threads") + " WHERE " + (to == Engine::postgres ? "Participants::text" : "Participants") + " LIKE " + gone) == 0);
        CHECK(d.num("SELECT COUNT(*) FROM " + d.t("ThreadMemberships") + " WHERE UserId = " + d.lit(s.user_id("user9"))) == 0);
        CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Posts") + " WHERE UserId = " + d.lit(s.user_id("user9"))) == 0);
    }
    // One town-square; its total adds both sides'; a member of both keeps exactly the unread count of both.
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Channels") + " WHERE Name = 'town-square' AND TeamId = (SELECT Id FROM " + d.t("Teams") +
                " WHERE Name = " + d.first_team_name() + ")") == 1);
    const int64_t total = d.num("SELECT TotalMsgCount FROM " + d.t("Channels") + " WHERE Id = " + d.lit(dsquare));
    CHECK(total == sc.td + sc.ts);
    const int64_t count = d.num("SELECT m.MsgCount FROM " + d.t("ChannelMembers") + " m WHERE m.ChannelId = " + d.lit(dsquare) +
                                " AND m.UserId = " + d.lit(d.user_id(sc.shared_member)));
    CHECK(total - count == (sc.td - sc.md) + (sc.ts - sc.ms));
    // DM channels: one per pair of people; none carries a source user id that was mapped away.
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Channels") + " WHERE Type = 'D' AND Name LIKE " + d.lit("%" + s.user_id("user9") + "%")) ==
          (s.user_id("user9") == d.user_id("user9") ? d.num("SELECT COUNT(*) FROM " + d.t("Channels") + " WHERE Type = 'D' AND Name LIKE " +
                                                                d.lit("%" + d.user_id("user9") + "%"))
                                                      : 0));

    // The same source again: refused, nothing written.
    auto again = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", write_rules(dst), "--quiet"});
    CHECK(again.exit_code == 4);
    CHECK_THAT(again.output, Catch::Contains("was already merged into the destination"));
    CHECK(d.num("SELECT COUNT(*) FROM " + d.t("Posts")) == sc.dest_posts + sc.source_posts);
}

// The scenario into a destination whose triggers silently lose merged rows of tables other than Posts:
// merged reactions and thread memberships never arrive (PostgreSQL drops them; MySQL cannot drop a row
// in a trigger, so it files the reactions under another emoji and changes the thread memberships), and
// the memberships both sides hold are not combined, nor the totals of channels both sides have (their
// message counts stay the destination's).
// --verify must fail and name each table, with counts and keys.
void merge_into_lossy_destination(Engine from, Engine to, bool lower_case) {
    ScratchDb src(from, "mvs"), dst(to, "mvd");
    fill_sample(src, 1500, 141, lower_case, 1, false);
    fill_sample(dst, 1000, 141, lower_case && to == Engine::mysql, 2, false);
    Instance s(src, lower_case), d(dst, lower_case && to == Engine::mysql);
    shape(s, d);
    const int64_t reactions = s.num("SELECT COUNT(*) FROM " + s.t("Reactions"));
    const int64_t thread_members = s.num("SELECT COUNT(*) FROM " + s.t("ThreadMemberships"));
    REQUIRE(reactions > 0);
    REQUIRE(thread_members > 0);
    if (to == Engine::postgres) {
        d.conn->exec("CREATE FUNCTION mmmove_test_lose() RETURNS trigger AS $$ BEGIN RETURN NULL; END $$ LANGUAGE plpgsql");
        d.conn->exec("CREATE FUNCTION mmmove_test_keep_count() RETURNS trigger AS $$ BEGIN NEW.msgcount := OLD.msgcount; RETURN NEW; END $$ "
                     "LANGUAGE plpgsql");
        for (const char* t : {"reactions", "threadmemberships"})
            d.conn->exec(std::string("CREATE TRIGGER lose BEFORE INSERT ON ") + t + " FOR EACH ROW EXECUTE FUNCTION mmmove_test_lose()");
        d.conn->exec("CREATE TRIGGER keep_count BEFORE UPDATE ON channelmembers FOR EACH ROW EXECUTE FUNCTION mmmove_test_keep_count()");
        d.conn->exec("CREATE FUNCTION mmmove_test_keep_total() RETURNS trigger AS $$ BEGIN NEW.totalmsgcount := OLD.totalmsgcount; RETURN NEW; "
                     "END $$ LANGUAGE plpgsql");
        d.conn->exec("CREATE TRIGGER keep_total BEFORE UPDATE ON channels FOR EACH ROW EXECUTE FUNCTION mmmove_test_keep_total()");
    } else {
        d.conn->exec("CREATE TRIGGER lose BEFORE INSERT ON " + d.t("Reactions") + " FOR EACH ROW SET NEW.EmojiName = CONCAT('gone_', NEW.EmojiName)");
        d.conn->exec("CREATE TRIGGER lose_unread BEFORE INSERT ON " + d.t("ThreadMemberships") +
                     " FOR EACH ROW SET NEW.UnreadMentions = NEW.UnreadMentions + 7");
        d.conn->exec("CREATE TRIGGER keep_count BEFORE UPDATE ON " + d.t("ChannelMembers") + " FOR EACH ROW SET NEW.MsgCount = OLD.MsgCount");
        d.conn->exec("CREATE TRIGGER keep_total BEFORE UPDATE ON " + d.t("Channels") + " FOR EACH ROW SET NEW.TotalMsgCount = OLD.TotalMsgCount");
    }
    const std::string rules = write_rules(dst);
    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", rules, "--quiet", "--verify"});
    std::filesystem::remove(rules);
    INFO(run.output);
    CHECK(run.exit_code == 7);
    CHECK_THAT(run.output, Catch::Contains("reactions: " + std::to_string(reactions) + " rows missing on the destination, 0 rows differ") &&
                               Catch::Contains("PostId=", Catch::CaseSensitive::No) && Catch::Contains(": missing on the destination"));
    CHECK_THAT(run.output, Catch::Contains(to == Engine::postgres ? "threadmemberships: " + std::to_string(thread_members) + " rows missing"
                                                                  : "threadmemberships: 0 rows missing on the destination, " +
                                                                        std::to_string(thread_members) + " rows differ"));
    CHECK_THAT(run.output, Catch::Contains("channelmembers: 0 rows missing on the destination, ") &&
                               Catch::Contains("(the destination's own row before the merge): " + std::string(to == Engine::postgres ? "msgcount" : "MsgCount") +
                                               " differs"));
    CHECK_THAT(run.output, Catch::Contains("channelmembers (destination-only members of channels both sides have): 0 rows missing on the "
                                           "destination, ") &&
                               Catch::Contains(": MsgCount differs", Catch::CaseSensitive::No));
    CHECK_THAT(run.output, Catch::Contains("channels (totals of channels both sides have): 0 rows missing on the destination, ") &&
                               Catch::Contains(": TotalMsgCount differs", Catch::CaseSensitive::No));
    CHECK_THAT(run.output, Catch::Contains("verify: DIFFERENT ("));
    CHECK(d.mmmove_tables() == 1);  // the merge finished; only its record stays
}

}  // namespace

TEST_CASE("merge --verify names merged reactions, thread memberships and combined memberships a PostgreSQL destination loses",
          "[e2e][merge]") {
    merge_into_lossy_destination(Engine::postgres, Engine::postgres, false);
}

TEST_CASE("merge --verify names merged reactions, thread memberships and combined memberships a MySQL destination changes", "[e2e][merge]") {
    merge_into_lossy_destination(Engine::mysql, Engine::mysql, true);
}

TEST_CASE("merge PostgreSQL into PostgreSQL keeps every case of the scenario", "[e2e][merge][threads]") {
    merge_case(Engine::postgres, Engine::postgres, false);
}

TEST_CASE("merge MySQL into PostgreSQL keeps every case of the scenario", "[e2e][merge][long]") {
    merge_case(Engine::mysql, Engine::postgres, false);
}

TEST_CASE("merge Bitnami's lower-case MySQL into MySQL keeps every case of the scenario", "[e2e][merge]") {
    merge_case(Engine::mysql, Engine::mysql, true);
}

namespace {

// Everything but mmmove's own record of the merge (which holds the time it finished).
Content merged_content(const ScratchDb& db) {
    auto c = db.connect();
    Content content = read_content(*c, false);
    std::erase_if(content, [](const auto& t) { return t.first.rfind("mmmove_", 0) == 0; });
    return content;
}

}  // namespace

TEST_CASE("a merge killed with SIGKILL finishes with --resume exactly as an uninterrupted merge", "[threads][e2e][merge][resume]") {
    ScratchDb src(Engine::postgres, "mks"), whole(Engine::postgres, "mkw"), killed(Engine::postgres, "mkk");
    fill_sample(src, 20000, 141, false, 1, false);
    fill_sample(whole, 5000, 141, false, 2, false);
    fill_sample(killed, 5000, 141, false, 2, false);
    auto args = [&](const ScratchDb& dst) {
        return std::vector<std::string>{"merge", "--from", src.dsn(), "--to", dst.dsn(), "--jobs", "1", "--chunk-rows", "500", "--quiet"};
    };
    REQUIRE(run_mmmove(args(whole)).exit_code == 0);

    kill_mid_run(args(killed), killed, 5);
    auto k = killed.connect();
    CHECK(committed_chunks(*k) >= 5);
    auto again = run_mmmove(args(killed));
    INFO(again.output);
    CHECK(again.exit_code == 4);
    CHECK_THAT(again.output, Catch::Contains("did not finish") && Catch::Contains("--resume"));
    auto v = args(killed);
    v.push_back("--resume");
    v.push_back("--verify");  // the destination's rows the killed run kept were saved with its chunks
    auto resumed = run_mmmove(v);
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.output, Catch::Contains("Merged (resumed)") && Catch::Contains("verify: every merged row is in the destination as merged ("));

    Content a = merged_content(whole), b = merged_content(killed);
    REQUIRE(a.size() == b.size());
    for (const auto& [table, rows] : a) {
        INFO(table);
        CHECK(rows == b.at(table));  // no duplicate, no missing row, the same remapped references and counts
    }
    CHECK(committed_chunks(*k) == 0);  // the checkpoint is gone
}

TEST_CASE("merge rules settle archived channels, emoji and team clashes, and unknown tables block until listed", "[e2e][merge]") {
    ScratchDb src(Engine::postgres, "mrs"), dst(Engine::postgres, "mrd");
    fill_sample(src, 1500, 141, false, 1, false);
    fill_sample(dst, 1000, 141, false, 2, false);
    Instance s(src, false), d(dst, false);
    const std::string team0 = d.one("SELECT Id FROM teams WHERE Name = 'team-0'");
    d.conn->exec("UPDATE channels SET DeleteAt = 1700000000000 WHERE Name = 'off-topic' AND TeamId = " + d.lit(team0));
    for (Instance* side : {&s, &d}) side->conn->exec("CREATE TABLE focalboard_blocks (id varchar(26) PRIMARY KEY, title text)");
    s.conn->exec("INSERT INTO focalboard_blocks VALUES ('b1', 'a board')");
    const int64_t party = s.num("SELECT COUNT(*) FROM reactions WHERE EmojiName = 'sample_party'");
    REQUIRE(party > 0);
    const std::string off_topic = s.one("SELECT c.Id FROM channels c JOIN teams t ON t.Id = c.TeamId WHERE t.Name = 'team-0' AND c.Name = 'off-topic'");
    const int64_t off_topic_posts = s.num("SELECT COUNT(*) FROM posts WHERE ChannelId = " + s.lit(off_topic));
    const int64_t team1_channels = s.num("SELECT COUNT(*) FROM channels c JOIN teams t ON t.Id = c.TeamId WHERE t.Name = 'team-1'");

    auto plan = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--plan", "--json"});
    INFO(plan.output);
    CHECK(plan.exit_code == 8);
    auto j = nlohmann::json::parse(plan.output.substr(plan.output.find("\n{") + 1));
    CHECK(j["blocked"] == true);
    std::set<std::string> blocking;
    for (const auto& c : j["conflicts"])
        if (c["blocking"] == true) blocking.insert(c["kind"].get<std::string>() + ": " + c["subject"].get<std::string>());
    CHECK(blocking.count("archived destination channel: channel team-0/off-topic is archived on the destination, active on the source"));
    CHECK(blocking.count("unknown table: table focalboard_blocks (a plugin's, or a newer Mattermost's)"));
    CHECK(d.mmmove_tables() == 0);

    std::string rules = "/tmp/mmmove-merge-rules-" + dst.name() + ".yaml";
    std::ofstream(rules) << "channels:\n  archived_destination: rename-source\nemoji:\n  same_name: rename-source\n"
                            "teams:\n  rename: {team-1: team-1-acme}\ntables:\n  copy_as_is: [focalboard_blocks]\n";
    // The data directories: a person both sides know, a person only the source has, and an attachment
    // path both sides use with different content.
    TempFolder files_src("merge-files-src"), files_dst("merge-files-dst");
    const std::string nine_src = s.user_id("user9"), nine_dst = d.user_id("user9");
    REQUIRE(nine_src != nine_dst);
    const std::string newcomer = s.one("SELECT MIN(Id) FROM users WHERE Username NOT IN (" + [&] {
        std::string list;
        for (auto& r : d.conn->query("SELECT Username FROM users")) list += (list.empty() ? "" : ", ") + s.lit(*r[0]);
        return list;
    }() + ")");
    REQUIRE(newcomer.size() == 26);
    spit(files_src.path / "users" / nine_src / "profile.png", "source nine");
    spit(files_src.path / "users" / newcomer / "profile.png", "newcomer");
    spit(files_src.path / "20240131/teams/t/channels/c/users/u/f1/a.txt", "source a");
    spit(files_src.path / "20240131/teams/t/channels/c/users/u/f2/b.txt", "source b");
    spit(files_dst.path / "users" / nine_dst / "profile.png", "destination nine");
    spit(files_dst.path / "20240131/teams/t/channels/c/users/u/f1/a.txt", "destination a");

    // A destination trigger that changes one merged post as it is written: --verify must name it.
    const std::string tampered = s.one("SELECT MIN(Id) FROM posts");
    d.conn->exec("CREATE FUNCTION mmmove_test_tamper() RETURNS trigger AS $$ BEGIN IF NEW.id = " + d.lit(tampered) +
                 " THEN NEW.message := NEW.message || '!'; END IF; RETURN NEW; END $$ LANGUAGE plpgsql");
    d.conn->exec("CREATE TRIGGER tamper BEFORE INSERT ON posts FOR EACH ROW EXECUTE FUNCTION mmmove_test_tamper()");

    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", rules, "--quiet", "--verify", "--files-from",
                           files_src.path.string(), "--files-to", files_dst.path.string()});
    INFO(run.output);
    REQUIRE(run.exit_code == 7);
    CHECK_THAT(run.output, Catch::Contains("posts: 0 rows missing on the destination, 1 rows differ") &&
                               Catch::Contains("id=" + tampered + ": message differs") && Catch::Contains("verify: DIFFERENT ("));
    CHECK_THAT(run.output, Catch::Contains("files: 2 copied, 0 already there, 1 kept"));
    CHECK(slurp(files_dst.path / "users" / nine_dst / "profile.png") == "destination nine");
    CHECK_FALSE(std::filesystem::exists(files_dst.path / "users" / nine_src));  // the destination's user keeps their own picture
    CHECK(slurp(files_dst.path / "users" / newcomer / "profile.png") == "newcomer");
    CHECK(slurp(files_dst.path / "20240131/teams/t/channels/c/users/u/f1/a.txt") == "destination a");  // never replaced
    CHECK(slurp(files_dst.path / "20240131/teams/t/channels/c/users/u/f2/b.txt") == "source b");
    // The source's active off-topic joined team-0 as a new active channel with all its posts.
    auto renamed = d.conn->query("SELECT Id, DeleteAt FROM channels WHERE TeamId = " + d.lit(team0) + " AND Name = 'off-topic-merged'");
    REQUIRE(renamed.size() == 1);
    CHECK(*renamed[0][1] == "0");
    CHECK(d.num("SELECT COUNT(*) FROM posts WHERE ChannelId = " + d.lit(*renamed[0][0])) == off_topic_posts);
    CHECK(d.one("SELECT DeleteAt FROM channels WHERE TeamId = " + d.lit(team0) + " AND Name = 'off-topic'") == "1700000000000");
    // Its creator is the destination's account of the same person, its creation time the source's.
    auto made = s.conn->query("SELECT u.Username, c.CreateAt FROM channels c JOIN users u ON u.Id = c.CreatorId WHERE c.Id = " + s.lit(off_topic));
    REQUIRE(made.size() == 1);
    CHECK(d.one("SELECT u.Username FROM channels c JOIN users u ON u.Id = c.CreatorId WHERE c.Id = " + d.lit(*renamed[0][0])) == *made[0][0]);
    CHECK(d.one("SELECT CreateAt FROM channels WHERE Id = " + d.lit(*renamed[0][0])) == *made[0][1]);
    // The source's emoji joined under a new name, and its reactions follow it.
    CHECK(d.num("SELECT COUNT(*) FROM emoji WHERE Name = 'sample_party_merged' AND DeleteAt = 0") == 1);
    CHECK(d.num("SELECT COUNT(*) FROM reactions WHERE EmojiName = 'sample_party_merged'") == party);
    CHECK(d.one("SELECT u.Username FROM emoji e JOIN users u ON u.Id = e.CreatorId WHERE e.Name = 'sample_party_merged'") ==
          s.one("SELECT u.Username FROM emoji e JOIN users u ON u.Id = e.CreatorId WHERE e.Name = 'sample_party' AND e.DeleteAt = 0"));
    // team-1 of the source is a new team, with every one of its channels.
    CHECK(d.num("SELECT COUNT(*) FROM channels c JOIN teams t ON t.Id = c.TeamId WHERE t.Name = 'team-1-acme'") == team1_channels);
    CHECK(d.one("SELECT title FROM focalboard_blocks WHERE id = 'b1'") == "a board");
}
