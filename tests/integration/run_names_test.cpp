// An anonymised refresh where production's team, channel and custom emoji names are a patient's and a
// doctor's names: staging holds none of them, yet everything that names them still resolves there.
// A ~mention, a permalink, a channel link, a channel_mentions key and a reaction name a team, channel,
// post or emoji that exists in staging; town-square and :smile: stay; Posts.Hashtags matches the
// masked message's #tags; a group channel's display name is its members' masked usernames; an e-mail
// address in a message becomes an example.invalid one. MySQL→PostgreSQL and PostgreSQL→PostgreSQL.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>

#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// Planted names: a person's in every one, so any survivor is found by these words.
const char* const team_name = "dr-knightley-oncology";
const char* const channel_name = "smith-family-care";
const char* const emoji_name = "nurse_miller";
// Each has two consonants or two vowels in a row, which no scrambled pseudo-word has.
const char* const people[] = {"knightley", "smith", "miller", "janedoe"};

std::string one(Database& db, const std::string& sql) { return db.query(sql).at(0).at(0).value_or(""); }

struct Planted {
    std::string post, gm_channel, user;
};

// Renames a team, an open channel of it and the sample's custom emoji after people, and writes a post
// that names all of them (and a system emoji, hashtags, an address); a G channel gets its members'
// usernames as display name, as Mattermost writes it.
Planted plant_names(const ScratchDb& src) {
    auto db = src.connect(Side::source);
    const Catalog cat = read_catalog(*db);
    auto t = [&](const char* name) { return quoted_table(*db, cat, name); };
    Planted p;
    const std::string team_id = one(*db, "SELECT MIN(Id) FROM " + t("Teams"));
    const std::string channel_id = one(*db, "SELECT MIN(Id) FROM " + t("Channels") + " WHERE Type = 'O' AND TeamId = " + db->quote_literal(team_id) +
                                                " AND Name NOT IN ('town-square', 'off-topic')");
    REQUIRE(!channel_id.empty());
    db->exec("UPDATE " + t("Teams") + " SET Name = " + db->quote_literal(team_name) + " WHERE Id = " + db->quote_literal(team_id));
    for (const char* table : {"Channels", "PublicChannels"})
        db->exec("UPDATE " + t(table) + " SET Name = " + db->quote_literal(channel_name) + " WHERE Id = " + db->quote_literal(channel_id));
    db->exec("UPDATE " + t("Emoji") + " SET Name = " + db->quote_literal(emoji_name) + " WHERE Name = 'sample_party'");
    db->exec("UPDATE " + t("Reactions") + " SET EmojiName = " + db->quote_literal(emoji_name) + " WHERE EmojiName = 'sample_party'");
    p.post = one(*db, "SELECT MAX(Id) FROM " + t("Posts") + " WHERE Type = ''");
    REQUIRE(!p.post.empty());
    const std::string linked = one(*db, "SELECT MIN(Id) FROM " + t("Posts"));
    const std::string message = "Ask ~" + std::string(channel_name) + ". about :" + emoji_name + ": :smile: https://chat.example.com/" + team_name + "/pl/" +
                                linked + " and https://chat.example.com/" + team_name + "/channels/" + channel_name +
                                " #SmithReferral (#oncology) mail janedoe@clinic.example.org";
    const std::string props = R"({"channel_mentions":{")" + std::string(channel_name) + R"(":{"display_name":"Smith family care","id":")" +
                              channel_id + R"(","team_name":")" + team_name + R"("}}})";
    db->exec("UPDATE " + t("Posts") + " SET Message = " + db->quote_literal(message) + ", Hashtags = '#SmithReferral #oncology', Props = " +
             db->quote_literal(props) + " WHERE Id = " + db->quote_literal(p.post));
    // The custom emoji in a user's recent emoji and custom status (a string holding JSON).
    p.user = one(*db, "SELECT MIN(Id) FROM " + t("Users"));
    db->exec("INSERT INTO " + t("Preferences") + " (UserId, Category, Name, Value) VALUES (" + db->quote_literal(p.user) +
             ", 'recent_emojis', " + db->quote_literal(p.user) + ", " +
             db->quote_literal(R"([{"name":")" + std::string(emoji_name) + R"(","usageCount":2},{"name":"smile","usageCount":1}])") + ")");
    const std::string status = nlohmann::json({{"emoji", emoji_name}, {"text", "off"}}).dump();
    db->exec("UPDATE " + t("Users") + " SET Props = " + db->quote_literal(nlohmann::json({{"customStatus", status}}).dump()) +
             " WHERE Id = " + db->quote_literal(p.user));
    p.gm_channel = one(*db, "SELECT MIN(Id) FROM " + t("Channels") + " WHERE Type = 'G'");
    REQUIRE(!p.gm_channel.empty());
    std::string names;
    for (const auto& r : db->query("SELECT u.Username FROM " + t("ChannelMembers") + " m JOIN " + t("Users") + " u ON u.Id = m.UserId WHERE m.ChannelId = " +
                                   db->quote_literal(p.gm_channel) + " ORDER BY u.Username"))
        names += (names.empty() ? "" : ", ") + r[0].value_or("");
    db->exec("UPDATE " + t("Channels") + " SET DisplayName = " + db->quote_literal(names) + " WHERE Id = " + db->quote_literal(p.gm_channel));
    return p;
}

std::set<std::string> column_set(Database& db, const std::string& sql) {
    std::set<std::string> out;
    for (const auto& r : db.query(sql)) out.insert(r[0].value_or(""));
    return out;
}

// The tags model.ParseHashtags finds in a message (its fields, trimmed of punctuation), space-joined.
std::string parsed_hashtags(const std::string& text) {
    static const std::regex tag("^#[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]$");
    std::string out;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.front())) && w.front() != '#') w.erase(0, 1);
        while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.back()))) w.pop_back();
        if (std::regex_match(w, tag)) out += (out.empty() ? "" : " ") + w;
    }
    return out;
}

// What a staging database's posts name, and how much of it resolves there.
struct Resolved {
    int mentions = 0, links = 0, emoji = 0;  // ~channels, Mattermost links, custom :emoji: that resolve
    std::vector<std::string> dangling;       // what names something staging does not have
};

Resolved resolve_in(Database& db) {
    const auto channels = column_set(db, "SELECT name FROM channels"), teams = column_set(db, "SELECT name FROM teams"),
               posts = column_set(db, "SELECT id FROM posts"), emoji = column_set(db, "SELECT name FROM emoji");
    static const std::regex mention(R"((^|[^\w])~([a-z0-9][a-z0-9._-]*[a-z0-9]))"), custom(R"(:((?:emoji|nurse|sample)[\w+-]*):)"),
        link(R"(/([a-z0-9_-]+)/(pl|channels)/([a-z0-9_-]+))");
    Resolved r;
    for (const auto& row : db.query("SELECT message FROM posts")) {
        const std::string m = row[0].value_or("");
        for (std::sregex_iterator i(m.begin(), m.end(), mention), end; i != end; ++i)
            channels.count((*i)[2]) ? ++r.mentions : (r.dangling.push_back("~" + (*i)[2].str()), 0);
        for (std::sregex_iterator i(m.begin(), m.end(), custom), end; i != end; ++i)
            emoji.count((*i)[1]) ? ++r.emoji : (r.dangling.push_back(":" + (*i)[1].str() + ":"), 0);
        for (std::sregex_iterator i(m.begin(), m.end(), link), end; i != end; ++i) {
            const bool target = (*i)[2] == "pl" ? posts.count((*i)[3]) > 0 : channels.count((*i)[3]) > 0;
            teams.count((*i)[1]) && target ? ++r.links : (r.dangling.push_back((*i)[0]), 0);
        }
    }
    return r;
}

void refresh_names(Engine source_engine) {
    const std::string tag = std::string("names-") + (source_engine == Engine::postgres ? "pg" : "my");
    ScratchDb src(source_engine, "namesrc"), dst(Engine::postgres, "namedst");
    fill_sample(src, 400, 141);
    const Planted planted = plant_names(src);
    JobFiles files(tag, src, dst);
    CliRun r = run_mmmove({"run", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto db = dst.connect();

    // None of the planted names is anywhere in staging, in any table or column.
    for (const auto& t : read_catalog(*db).tables) {
        std::vector<std::string> names;
        for (const auto& c : t.columns) names.push_back(c.name);
        auto reader = db->read_table(t.name, names);
        FieldRow row;
        while (reader->next(row))
            for (const auto& f : row) {
                std::string v = lower(std::string(f.view()));
                for (const char* person : people) {
                    INFO(t.name << ": " << v);
                    CHECK(v.find(person) == std::string::npos);
                }
            }
    }
    // Mattermost's own channels stay; the renamed ones exist under their masks.
    CHECK(one(*db, "SELECT COUNT(*) FROM channels WHERE name = 'town-square'") != "0");
    CHECK(one(*db, "SELECT COUNT(*) FROM channels c JOIN publicchannels p ON p.id = c.id WHERE c.name <> p.name") == "0");
    // Every ~mention, Mattermost link and custom :emoji: of every post resolves in staging.
    const Resolved resolved = resolve_in(*db);
    CAPTURE(resolved.dangling);
    CHECK(resolved.dangling.empty());
    CHECK(resolved.mentions >= 1);
    CHECK(resolved.links >= 2);
    CHECK(resolved.emoji >= 1);
    const std::string message = one(*db, "SELECT message FROM posts WHERE id = " + db->quote_literal(planted.post));
    CHECK(message.find(":smile:") != std::string::npos);
    CHECK(message.find("@example.invalid") != std::string::npos);
    // channel_mentions keys and their team names exist in staging.
    const auto props = nlohmann::json::parse(one(*db, "SELECT props FROM posts WHERE id = " + db->quote_literal(planted.post)));
    REQUIRE(props["channel_mentions"].size() == 1);
    for (const auto& [name, mention] : props["channel_mentions"].items()) {
        CHECK(one(*db, "SELECT COUNT(*) FROM channels WHERE name = " + db->quote_literal(name)) == "1");
        CHECK(one(*db, "SELECT COUNT(*) FROM teams WHERE name = " + db->quote_literal(mention["team_name"].get<std::string>())) == "1");
    }
    // Reactions name emoji staging has: custom ones by their masks, system ones as they were.
    CHECK(one(*db, "SELECT COUNT(*) FROM reactions r WHERE NOT EXISTS (SELECT 1 FROM emoji e WHERE e.name = r.emojiname) "
                   "AND r.emojiname NOT IN ('+1', 'smile', 'tada', 'rocket', 'eyes')") == "0");
    CHECK(one(*db, "SELECT COUNT(*) FROM reactions r JOIN emoji e ON e.name = r.emojiname") != "0");
    CHECK(one(*db, "SELECT COUNT(*) FROM reactions WHERE emojiname = 'smile'") != "0");
    // The recent emoji and the custom status name the custom emoji by its mask, a system emoji as it was.
    const auto recent = nlohmann::json::parse(one(*db, "SELECT value FROM preferences WHERE category = 'recent_emojis' AND userid = " +
                                                           db->quote_literal(planted.user)));
    CHECK(one(*db, "SELECT COUNT(*) FROM emoji WHERE name = " + db->quote_literal(recent.at(0)["name"].get<std::string>())) == "1");
    CHECK(recent.at(1)["name"] == "smile");
    const auto user_props = nlohmann::json::parse(one(*db, "SELECT props FROM users WHERE id = " + db->quote_literal(planted.user)));
    const auto status = nlohmann::json::parse(user_props["customStatus"].get<std::string>());
    CHECK(one(*db, "SELECT COUNT(*) FROM emoji WHERE name = " + db->quote_literal(status["emoji"].get<std::string>())) == "1");
    // Hashtags are the tags of the masked message, so hashtag search finds it.
    const std::string hashtags = one(*db, "SELECT hashtags FROM posts WHERE id = " + db->quote_literal(planted.post));
    CHECK(hashtags.size() > 10);
    CHECK(hashtags == parsed_hashtags(message));
    // The group channel's display name is its members' masked usernames.
    const std::string gm = one(*db, "SELECT displayname FROM channels WHERE id = " + db->quote_literal(planted.gm_channel));
    for (const auto& row : db->query("SELECT u.username FROM channelmembers m JOIN users u ON u.id = m.userid WHERE m.channelid = " +
                                     db->quote_literal(planted.gm_channel)))
        CHECK(gm.find(row[0].value_or("?")) != std::string::npos);
    CHECK(gm.find("user-") == 0);
}

}  // namespace

TEST_CASE("an anonymised refresh masks team, channel and emoji names and every reference follows, PostgreSQL to PostgreSQL", "[e2e][run][names]") {
    refresh_names(Engine::postgres);
}

TEST_CASE("an anonymised refresh masks team, channel and emoji names and every reference follows, MySQL to PostgreSQL", "[e2e][run][names][long]") {
    refresh_names(Engine::mysql);
}
