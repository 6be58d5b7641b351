// Names other rows point at (team, channel and custom emoji names) and what follows them: each mask
// is a valid Mattermost name of its kind, the same wherever the name is referred to (~channel,
// :emoji:, permalinks and channel links, channel_mentions), in every messages: mode; Posts.Hashtags
// follows the message's masked #tags; a group channel's display name takes the username masks; an
// e-mail address inside text takes the email mask.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "../common/test_masker.h"
#include "catalog/references.h"
#include "transform/anonymise.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

const std::string post_id = "abcdefghijkmnopqrstuwxyz12";

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

// The tags model.ParseHashtags finds in a text (its fields, trimmed of punctuation, that are #tags).
std::vector<std::string> parsed_hashtags(const std::string& text) {
    static const std::regex tag("^#[A-Za-z][A-Za-z0-9_.-]*[A-Za-z0-9]$");
    std::vector<std::string> out;
    std::istringstream in(text);
    for (std::string w; in >> w;) {
        while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.front())) && w.front() != '#') w.erase(0, 1);
        while (!w.empty() && !std::isalnum(static_cast<unsigned char>(w.back()))) w.pop_back();
        while (w.size() > 1 && w[0] == '#' && w[1] == '#') w.erase(0, 1);
        if (std::regex_match(w, tag)) out.push_back(w);
    }
    return out;
}

}  // namespace

TEST_CASE("team, channel and emoji name masks are valid Mattermost names, unique, and keep what must stay", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const std::regex team("^[a-z0-9]+([a-z0-9-]+|(__)?)[a-z0-9]+$"), channel("^[a-z0-9][a-z0-9_-]*$"), emoji("^[a-zA-Z0-9_+-]+$");
    const std::vector<std::string> reserved = {"admin", "api", "channel", "claim", "error", "files", "help", "landing", "login",
                                               "mfa", "oauth", "plug", "plugins", "post", "signup", "boards", "playbooks"};
    std::set<std::string> teams, channels, emojis;
    for (int i = 0; i < 20000; ++i) {
        const std::string name = "smith-" + std::to_string(i);
        const std::string t = m.team_name(name), c = m.channel_name(name), e = m.emoji_name(name);
        REQUIRE(std::regex_match(t, team));
        REQUIRE(t.size() <= 64);
        for (const auto& r : reserved) REQUIRE(t.rfind(r, 0) != 0);
        REQUIRE(std::regex_match(c, channel));
        REQUIRE(c.size() <= 64);
        REQUIRE(std::regex_match(e, emoji));
        REQUIRE(!contains(t + c + e, "smith"));
        teams.insert(t), channels.insert(c), emojis.insert(e);
    }
    CHECK(teams.size() == 20000);
    CHECK(channels.size() == 20000);
    CHECK(emojis.size() == 20000);
    CHECK(m.team_name("Oncology") == m.team_name("oncology"));  // Mattermost stores them in lower case
    CHECK(m.team_name("oncology") != Masker(key2).team_name("oncology"));
    // Channels Mattermost finds by name, and D/G names built from ids, stay.
    CHECK(m.channel_name("town-square") == "town-square");
    CHECK(m.channel_name("off-topic") == "off-topic");
    const std::string dm = std::string(26, 'a') + "__" + std::string(26, 'b'), gm(40, 'f');
    CHECK(m.channel_name(dm) == dm);
    CHECK(m.channel_name(gm) == gm);
    // Reactions and bookmarks: every name but a system emoji's takes the emoji_name mask (a custom
    // emoji's, and any other a row holds), so it matches the masked Emoji.Name.
    CHECK(m.emoji_ref("partyparrot") == m.emoji_name("partyparrot"));
    CHECK(m.emoji_ref(":dr_smith:") == ":" + m.emoji_name("dr_smith") + ":");
    CHECK(m.emoji_ref("MkQ00313zX") == m.emoji_name("MkQ00313zX"));  // no emoji at all: masked too
    CHECK(m.emoji_ref("Smile") == m.emoji_name("Smile"));            // names compare exactly
    CHECK(m.emoji_ref("thumbsup_skin-tone-3") == m.emoji_name("thumbsup_skin-tone-3"));  // no Mattermost name
    CHECK(m.emoji_ref("smile_skin_tone") == m.emoji_name("smile_skin_tone"));
    CHECK(m.emoji_ref("_light_skin_tone") == m.emoji_name("_light_skin_tone"));
    // Mattermost's system emoji stay, with their skin tones (SystemEmojis names them so).
    for (const char* kept : {"smile", "+1", "-1", "100", "flag-gb", "thank you", "skin-tone-3", "mattermost", "thumbsup_medium_skin_tone",
                             "+1_dark_skin_tone", "woman-running_medium_light_skin_tone", "people_holding_hands_light_skin_tone_dark_skin_tone"})
        CHECK(m.emoji_ref(kept) == kept);
    CHECK(m.emoji_ref(":smile:") == ":smile:");
    CHECK(m.emoji_ref("") == "");
}

TEST_CASE("text follows the masked channel, team and custom emoji names in every messages mode", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const std::string text = "See ~smith-clinic. :partyparrot: :smile: :johnsmith: :+1: :thumbsup_light_skin_tone: https://chat.example.com/oncology/pl/" + post_id +
                             " and /oncology/channels/smith-clinic, ~town-square, https://chat.example.com/oncology/messages/@alice";
    const std::string channel = m.channel_name("smith-clinic"), team = m.team_name("oncology");
    for (TextMode mode : {TextMode::keep, TextMode::scramble, TextMode::replace}) {
        INFO("mode " << static_cast<int>(mode));
        const std::string out = m.free_text(text, mode);
        INFO(out);
        CHECK(contains(out, "~" + channel));
        CHECK(contains(out, "~town-square"));
        for (const char* gone : {"smith", "oncology", "partyparrot", "alice"}) CHECK_FALSE(contains(out, gone));
        if (mode == TextMode::replace) continue;
        CHECK(contains(out, "~" + channel + ". "));
        CHECK(contains(out, ":" + m.emoji_name("partyparrot") + ":"));
        CHECK(contains(out, ":" + m.emoji_name("johnsmith") + ":"));  // custom or not: every name but a system one
        CHECK(contains(out, ":smile: "));
        CHECK(contains(out, ":+1: :thumbsup_light_skin_tone: "));
        CHECK(contains(out, "/" + team + "/pl/" + post_id));
        CHECK(contains(out, " /" + team + "/channels/" + channel + ","));
        CHECK(contains(out, "/" + team + "/messages/@" + m.username("alice")));
    }
    // Kept, a link keeps its host; scrambled, the host is masked too.
    CHECK(contains(m.free_text(text, TextMode::keep), "https://chat.example.com/" + team + "/pl/" + post_id));
    CHECK_FALSE(contains(m.free_text(text, TextMode::scramble), "chat.example.com"));
    // URL columns (bookmarks, webhooks) follow the same way.
    CHECK(contains(m.url("https://chat.example.com/oncology/channels/smith-clinic"), "/" + team + "/channels/" + channel));
}

TEST_CASE("Posts.Hashtags follows the masked #tags of its message", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const std::string message = "Follow-up #SmithReferral, see (#oncology.ward) and ##cardio; not#tag nor #a or #x,y";
    const std::string hashtags = "#SmithReferral #oncology.ward #cardio";
    REQUIRE(parsed_hashtags(message) == std::vector<std::string>{"#SmithReferral", "#oncology.ward", "#cardio"});
    std::string out;
    REQUIRE(m.hashtags_into(hashtags, TextMode::scramble, out));
    const std::string masked = m.free_text(message, TextMode::scramble);
    INFO(masked);
    std::string joined;
    for (const auto& t : parsed_hashtags(masked)) joined += (joined.empty() ? "" : " ") + t;
    CHECK(joined == out);
    CHECK_FALSE(contains(out, "Smith"));
    CHECK_FALSE(contains(masked, "oncology"));
    // The same tag in another post gets the same mask: hashtag search finds them all.
    CHECK(contains(m.free_text("#SmithReferral again", TextMode::scramble), out.substr(0, out.find(' '))));
    // Kept messages keep their tags; replaced ones keep no word, so no tag either.
    CHECK_FALSE(m.hashtags_into(hashtags, TextMode::keep, out));
    REQUIRE(m.hashtags_into(hashtags, TextMode::replace, out));
    CHECK(out.empty());
    CHECK(parsed_hashtags(m.free_text(message, TextMode::replace)).empty());
}

TEST_CASE("a group channel's display name takes its members' username masks", "[unit][anonymise][names]") {
    const Masker& m = masker();
    std::string out;
    REQUIRE(m.display_name_into("alice, bob.smith, carol", TextMode::scramble, out));
    CHECK(out == m.username("alice") + ", " + m.username("bob.smith") + ", " + m.username("carol"));
    REQUIRE(m.display_name_into("alice, bob.smith, carol", TextMode::keep, out));
    CHECK(out == m.username("alice") + ", " + m.username("bob.smith") + ", " + m.username("carol"));
    // Any other display name is free text.
    REQUIRE(m.display_name_into("Smith Clinic, Ward 3", TextMode::scramble, out));
    CHECK(out == m.free_text("Smith Clinic, Ward 3", TextMode::scramble));
}

TEST_CASE("an e-mail address inside text takes the email mask", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const std::string mask = m.email("John.Smith@hospital.org");
    for (TextMode mode : {TextMode::keep, TextMode::scramble}) {
        const std::string out = m.free_text("write to John.Smith@hospital.org. Thanks", mode);
        INFO(out);
        CHECK(contains(out, " " + mask + ". "));
        CHECK_FALSE(contains(out, "hospital"));
    }
    CHECK_FALSE(contains(m.free_text("write to John.Smith@hospital.org.", TextMode::replace), "Smith"));
    CHECK(m.free_text("@alice", TextMode::keep) == "@" + m.username("alice"));  // a mention is no address
}

TEST_CASE("channel_mentions keys and team names in JSON take the channel and team masks", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const auto keys = parse_json_path("channel_mentions.{key}"), team = parse_json_path("channel_mentions.*.team_name");
    Masker::JsonNames names;
    names.channels = {&keys};
    names.teams = {&team};
    names.needles = {"\"channel_mentions\""};
    std::string out;
    const std::string props = R"({"channel_mentions":{"smith-clinic":{"display_name":"x","team_name":"oncology"},"town-square":{"team_name":"oncology"}}})";
    REQUIRE(m.json_names_into(props, names, out));
    CHECK(out == R"({"channel_mentions":{")" + m.channel_name("smith-clinic") + R"(":{"display_name":"x","team_name":")" +
                     m.team_name("oncology") + R"("},"town-square":{"team_name":")" + m.team_name("oncology") + R"("}}})");
    CHECK_FALSE(m.json_names_into(R"({"from_bot":"true"})", names, out));
}

TEST_CASE("emoji named in JSON (recent emoji, custom statuses) follow unless they are system emoji", "[unit][anonymise][names]") {
    const Masker& m = masker();
    const auto recent = parse_json_path("[].name"), status = parse_json_path("customStatus.emoji");
    Masker::JsonNames names;
    names.emoji = {&recent, &status};
    names.needles = {"\"name\"", "\"customStatus\""};
    std::string out;
    REQUIRE(m.json_names_into(R"([{"name":"partyparrot","usageCount":3},{"name":"smile","usageCount":1}])", names, out));
    CHECK(out == R"([{"name":")" + m.emoji_name("partyparrot") + R"(","usageCount":3},{"name":"smile","usageCount":1}])");
    // Users.Props customStatus is a string holding JSON: followed inside, and written back as a string.
    REQUIRE(m.json_names_into(R"({"customStatus":"{\"emoji\":\"dr_smith\",\"text\":\"x\"}"})", names, out));
    const auto props = nlohmann::json::parse(out);
    CHECK(nlohmann::json::parse(props["customStatus"].get<std::string>())["emoji"] == m.emoji_name("dr_smith"));
    CHECK_FALSE(m.json_names_into(R"({"customStatus":"{\"emoji\":\"smile\"}"})", names, out));
    CHECK_FALSE(m.json_names_into(R"([{"name":"+1_medium_skin_tone"},{"name":"thumbsup"}])", names, out));
}
