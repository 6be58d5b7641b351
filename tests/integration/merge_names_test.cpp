// mmmove merge follows every name it changes into the moved messages: a user mapped by email onto a
// destination account of another username, a user renamed beside a namesake, a channel renamed beside
// an archived namesake — in message text (@name, ~name), in system messages' Props (username,
// addedUsername, removedUsername) and in channel_mentions, keyed by channel name. And `merge --plan`
// on a destination holding an unfinished merge says to resume it instead of planning another.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

struct Side {
    std::unique_ptr<Database> conn;
    std::string one(const std::string& sql) const {
        auto r = conn->query(sql);
        return r.empty() ? "" : r[0][0].value_or("NULL");
    }
    std::string lit(const std::string& v) const { return conn->quote_literal(v); }
    std::string user(const std::string& username) const { return one("SELECT Id FROM Users WHERE Username = " + lit(username)); }
    std::string channel(const std::string& name) const {
        return one("SELECT c.Id FROM Channels c JOIN Teams t ON t.Id = c.TeamId WHERE t.Name = 'team-0' AND c.Name = " + lit(name));
    }
    void post(const std::string& id, const std::string& type, const std::string& message, const nlohmann::json& props) const {
        conn->exec("UPDATE Posts SET Type = " + lit(type) + ", Message = " + lit(message) + ", Props = " + lit(props.dump()) +
                   " WHERE Id = " + lit(id));
    }
};

void names_case(Engine from) {
    ScratchDb src(from, "mns"), dst(Engine::postgres, "mnd");
    fill_sample(src, 400, 141, false, 1, false);
    fill_sample(dst, 400, 141, false, 2, false);
    Side s{src.connect()}, d{dst.connect()};
    // user8 is user8x on the source (same email: mapped by email); user5 of the destination has
    // another email (the source's user5 joins renamed); off-topic of team-0 is archived on the
    // destination (the source's joins renamed).
    s.conn->exec("UPDATE Users SET Username = 'user8x' WHERE Username = 'user8'");
    d.conn->exec("UPDATE Users SET Email = 'user5.elsewhere@example.com' WHERE Username = 'user5'");
    d.conn->exec("UPDATE Channels SET DeleteAt = 1700000000000 WHERE Name = 'off-topic' AND TeamId = (SELECT Id FROM Teams WHERE Name = 'team-0')");
    const std::string eight = s.user("user8x"), five = s.user("user5");
    REQUIRE(eight.size() == 26);
    REQUIRE(five.size() == 26);
    std::vector<std::string> ids;
    for (auto& r : s.conn->query("SELECT Id FROM Posts WHERE ChannelId = " + s.lit(s.channel("town-square")) + " ORDER BY Id LIMIT 4"))
        ids.push_back(*r[0]);
    REQUIRE(ids.size() == 4);
    s.post(ids[0], "", "ask @user8x and @user5 in ~off-topic",
           {{"channel_mentions",
             {{"off-topic", {{"display_name", "off-topic"}, {"team_name", "team-0"}}},
              {"town-square", {{"display_name", "Town Square"}, {"team_name", "team-0"}}}}}});
    s.post(ids[1], "system_join_channel", "user8x joined the channel.", {{"username", "user8x"}});
    s.post(ids[2], "system_add_to_channel", "user5 added to the channel by user8x.",
           {{"userId", eight}, {"username", "user8x"}, {"addedUserId", five}, {"addedUsername", "user5"}});
    s.post(ids[3], "system_remove_from_channel", "user5 removed from the channel.",
           {{"userId", eight}, {"username", "user8x"}, {"removedUserId", five}, {"removedUsername", "user5"}});

    const std::string rules = "/tmp/mmmove-merge-names-" + dst.name() + ".yaml";
    std::ofstream(rules) << "users:\n  same_username_other_email: rename-source\n  other_username_same_email: map-by-email\n"
                            "channels:\n  archived_destination: rename-source\n";
    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", rules, "--quiet", "--verify"});
    std::filesystem::remove(rules);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);

    auto moved = [&](const std::string& id) {
        auto r = d.conn->query("SELECT Message, Props FROM Posts WHERE Id = " + d.lit(id));
        REQUIRE(r.size() == 1);
        return std::pair{*r[0][0], nlohmann::json::parse(*r[0][1])};
    };
    const std::string dest_eight = d.user("user8");
    REQUIRE(d.one("SELECT COUNT(*) FROM Users WHERE Username = 'user5-merged'") == "1");
    REQUIRE(d.channel("off-topic-merged").size() == 26);
    // Mentions follow the account each person joins: user8x is the destination's user8.
    auto [message, props] = moved(ids[0]);
    CHECK(message == "ask @user8 and @user5-merged in ~off-topic-merged");
    // channel_mentions is keyed by channel name: the key (and a display name that is the name) follows the rename.
    const nlohmann::json mentions = props["channel_mentions"];
    CHECK_FALSE(mentions.contains("off-topic"));
    CHECK(mentions["off-topic-merged"] == nlohmann::json({{"display_name", "off-topic-merged"}, {"team_name", "team-0"}}));
    CHECK(mentions["town-square"] == nlohmann::json({{"display_name", "Town Square"}, {"team_name", "team-0"}}));
    // System messages name the destination's accounts.
    CHECK(moved(ids[1]).second == nlohmann::json({{"username", "user8"}}));
    CHECK(moved(ids[2]).second ==
          nlohmann::json({{"userId", dest_eight}, {"username", "user8"}, {"addedUserId", five}, {"addedUsername", "user5-merged"}}));
    CHECK(moved(ids[3]).second ==
          nlohmann::json({{"userId", dest_eight}, {"username", "user8"}, {"removedUserId", five}, {"removedUsername", "user5-merged"}}));
    CHECK(d.user("user5-merged") == five);
}

}  // namespace

TEST_CASE("merge PostgreSQL into PostgreSQL rewrites mapped and renamed users and channels in messages and system messages",
          "[e2e][merge][names]") {
    names_case(Engine::postgres);
}

TEST_CASE("merge MySQL into PostgreSQL rewrites mapped and renamed users and channels in messages and system messages",
          "[e2e][merge][names][long]") {
    names_case(Engine::mysql);
}

TEST_CASE("merge --plan on a destination with a killed merge says to resume it and writes nothing", "[e2e][merge][resume]") {
    ScratchDb src(Engine::postgres, "mps"), dst(Engine::postgres, "mpd");
    fill_sample(src, 6000, 141, false, 1, false);
    fill_sample(dst, 400, 141, false, 2, false);
    kill_mid_run({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--jobs", "1", "--chunk-rows", "200", "--quiet"}, dst, 2);
    auto d = dst.connect();
    const uint64_t chunks = committed_chunks(*d);
    REQUIRE(chunks >= 2);
    const std::string posts = d->query("SELECT COUNT(*) FROM posts").at(0).at(0).value_or("");

    auto plan = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--plan"});
    INFO(plan.output);
    CHECK(plan.exit_code == 4);
    CHECK_THAT(plan.output, Catch::Contains("did not finish") && Catch::Contains("resume it with mmmove merge --resume"));
    CHECK_THAT(plan.output, !Catch::Contains("Merge plan"));
    CHECK(committed_chunks(*d) == chunks);
    CHECK(d->query("SELECT COUNT(*) FROM posts").at(0).at(0).value_or("") == posts);
}
