#include "sample/generator.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "core/error.h"
#include "db/transaction.h"
#include "sample/table_fill.h"
#include "transform/id_values.h"

namespace mmmove {
namespace {

uint64_t mix(uint64_t x) {
    x += 0x9e3779b97f4a7c15ULL;
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
}

uint64_t hash_of(uint64_t seed, const char* kind, uint64_t index) {
    uint64_t h = mix(seed);
    for (const char* p = kind; *p; ++p) h = mix(h ^ static_cast<unsigned char>(*p));
    return mix(h ^ index);
}

struct Scale {
    uint64_t posts, teams, users, channels_per_team, dms, gms;
    explicit Scale(uint64_t p)
        : posts(p), teams(2 + p / 250000), users(20 + p / 200), channels_per_team(6 + p / 100000),
          dms(10 + p / 500), gms(3 + p / 5000) {}
    uint64_t team_channels() const { return teams * channels_per_team; }
    uint64_t channels() const { return team_channels() + dms + gms; }
};

const char* kWords[] = {"deploy", "release", "meeting", "review", "merge", "coffee", "incident", "ticket",
                        "roadmap", "sprint", "hotfix", "question", "thanks", "agenda", "design", "build"};

class Generator {
public:
    Generator(Database& db, const SampleOptions& o, std::ostream& log)
        : db_(db), o_(o), log_(log), s_(o.posts), cat_(read_catalog(db)) {
        pg_ = db.engine() == Engine::postgres;
    }

    SampleResult run() {
        if (!cat_.find("users") || !cat_.find("posts"))
            throw Error(ExitCode::destination, "The destination has no Mattermost schema; create it first (mmmove schema create, or --create-schema).");
        if (!db_.query("SELECT 1 FROM " + db_.quote_ident(cat_.find("users")->name) + " LIMIT 1").empty())
            throw Error(ExitCode::destination, "The destination already holds users; generate sample data into an empty Mattermost schema.");
        if (!pg_) db_.exec("SET SESSION foreign_key_checks = 0");
        teams();
        users();
        channels();
        posts();
        reactions_and_files();
        preferences_and_sidebars();
        misc();
        return result_;
    }

private:
    std::string id(const char* kind, uint64_t i) const { return sample_id(o_.seed, kind, i); }
    uint64_t pick(const char* kind, uint64_t i, uint64_t n) const { return n ? hash_of(o_.seed, kind, i) % n : 0; }
    int64_t ts(uint64_t i) const { return 1700000000000LL + static_cast<int64_t>(i) * 60000; }
    std::string user(uint64_t i) const { return id("user", i % s_.users); }
    std::string username(uint64_t i) const { return "user" + std::to_string(i); }
    std::string team_channel(uint64_t i) const { return id("channel", i); }
    uint64_t channel_team(uint64_t c) const { return c / s_.channels_per_team; }
    // Channel of post i's thread: roots and their reply share i / 5.
    uint64_t post_channel(uint64_t i) const { return pick("post-channel", i / 5, s_.channels()); }
    std::string channel_id(uint64_t c) const { return c < s_.team_channels() ? team_channel(c) : id("channel", c); }
    bool is_reply(uint64_t i) const { return i % 5 == 4; }
    // The users who may post in a channel: team channels take anyone, DMs/GMs their members.
    uint64_t member_of(uint64_t c, uint64_t k) const {
        if (c < s_.team_channels()) return pick("member", c * 64 + k, s_.users);
        if (c < s_.team_channels() + s_.dms) {
            uint64_t d = c - s_.team_channels();
            return k % 2 == 0 ? d % s_.users : (d + 1 + d / s_.users) % s_.users;
        }
        uint64_t g = c - s_.team_channels() - s_.dms;
        return (g * 3 + k % 3) % s_.users;
    }
    uint64_t members_in(uint64_t c) const {
        if (c < s_.team_channels()) return std::min<uint64_t>(s_.users, 12);
        return c < s_.team_channels() + s_.dms ? 2 : 3;
    }
    // A channel's members as the ChannelMembers rows list them: user ids, each once.
    std::vector<std::string> member_ids(uint64_t c) const {
        std::vector<uint64_t> seen;
        std::vector<std::string> ids;
        for (uint64_t k = 0; k < members_in(c); ++k) {
            uint64_t u = member_of(c, k);
            if (std::find(seen.begin(), seen.end(), u) != seen.end()) continue;
            seen.push_back(u);
            ids.push_back(user(u));
        }
        return ids;
    }
    std::string message(uint64_t i) const {
        std::string m;
        uint64_t n = 3 + pick("len", i, 20);
        for (uint64_t k = 0; k < n; ++k) m += std::string(k ? " " : "") + kWords[pick("word", i * 31 + k, 16)];
        if (!o_.hostile) return m;
        if (i % 97 == 1) m += " 🚀🎉 naïve café 日本語";  // 4-byte emoji and other scripts
        if (i % 499 == 2) m += " @" + username(pick("mention", i, s_.users)) + " ~town-square";
        if (i % 1009 == 3 && !pg_) m += std::string(" nul\0byte", 9);  // only MySQL can store NUL
        if (i % 4999 == 4) m = std::string(65000, 'x');                  // a 64 KiB message
        if (i % 211 == 5) m += "\ttab\nnewline\\backslash 'quote\" \r";
        return m;
    }

    // A small file at `rel` under --files, so the sample data directory matches the rows.
    void write_file(const std::string& rel, const std::string& content) const {
        if (o_.files_dir.empty()) return;
        std::filesystem::path p = std::filesystem::path(o_.files_dir) / rel;
        std::filesystem::create_directories(p.parent_path());
        std::ofstream(p, std::ios::binary) << content;
    }

    void log_table(const char* what, uint64_t n) { log_ << "  sample: " << n << " " << what << "\n"; }

    void teams() {
        TableFill t(db_, cat_, "Teams", result_);
        for (uint64_t i = 0; i < s_.teams; ++i) {
            t.set("Id", id("team", i)).set("CreateAt", ts(i)).set("UpdateAt", ts(i)).set("DeleteAt", 0)
                .set("DisplayName", "Team " + std::to_string(i)).set("Name", "team-" + std::to_string(i))
                .set("Description", "").set("Email", "team" + std::to_string(i) + "@example.com")
                .set("Type", i % 2 ? "I" : "O").set("CompanyName", "").set("AllowedDomains", "")
                .set("InviteId", id("invite", i)).flag("AllowOpenInvite", i % 2 == 0).set("LastTeamIconUpdate", 0)
                .flag("GroupConstrained", false).flag("CloudLimitsArchived", false);
            t.emit();
        }
        t.finish();
        TableFill m(db_, cat_, "TeamMembers", result_);
        for (uint64_t u = 0; u < s_.users; ++u)
            for (uint64_t k = 0; k < (u % 3 == 0 ? 2u : 1u) && k < s_.teams; ++k) {
                m.set("TeamId", id("team", (u + k) % s_.teams)).set("UserId", user(u)).set("Roles", "")
                    .set("DeleteAt", 0).flag("SchemeUser", true).flag("SchemeAdmin", u == 0).flag("SchemeGuest", false)
                    .set("CreateAt", ts(u));
                m.emit();
            }
        m.finish();
        log_table("teams", s_.teams);
    }

    void users() {
        TableFill t(db_, cat_, "Users", result_);
        for (uint64_t u = 0; u < s_.users; ++u) {
            bool bot = u % 50 == 7, deactivated = u % 40 == 9;
            t.set("Id", user(u)).set("CreateAt", ts(u)).set("UpdateAt", ts(u)).set("DeleteAt", deactivated ? ts(u + 1000) : 0)
                .set("Username", bot ? "bot" + std::to_string(u) : username(u)).set("Password", bot ? "" : "$2a$10$sampleHash" + std::to_string(u))
                .set("AuthService", "").set("Email", username(u) + "@example.com").flag("EmailVerified", true)
                .set("Nickname", o_.hostile && u == 3 ? "🦄 Ünïcødé" : "").set("FirstName", "First" + std::to_string(u))
                .set("LastName", "Last" + std::to_string(u)).set("Roles", u == 0 ? "system_admin system_user" : "system_user")
                .flag("AllowMarketing", false).set("Props", u % 7 == 0 ? R"({"customStatus":"{\"emoji\":\"coffee\",\"text\":\"☕ break\"}"})" : "{}")
                .set("NotifyProps", R"({"channel":"true","desktop":"mention","email":"true","mention_keys":"","push":"mention"})")
                .set("LastPasswordUpdate", ts(u)).set("LastPictureUpdate", u % 4 == 0 ? ts(u) : 0).set("FailedAttempts", 0)
                .set("Locale", "en").flag("MfaActive", false).set("MfaSecret", "")
                .set("Position", o_.hostile && u == 5 && !pg_ ? std::string("lead\0ops", 8) : "")
                .set("Timezone", R"({"automaticTimezone":"Europe/Berlin","manualTimezone":"","useAutomaticTimezone":"true"})")
                .set("LastLogin", ts(u)).set("MfaUsedTimestamps", "[]");
            t.emit();
            if (u % 4 == 0) write_file("users/" + user(u) + "/profile.png", "png " + user(u));
        }
        t.finish();
        TableFill b(db_, cat_, "Bots", result_);
        for (uint64_t u = 7; u < s_.users; u += 50) {
            b.set("UserId", user(u)).set("Description", "Sample bot").set("OwnerId", u % 100 == 7 ? user(0) : "com.mattermost.sample")
                .set("CreateAt", ts(u)).set("UpdateAt", ts(u)).set("DeleteAt", 0).set("LastIconUpdate", 0);
            b.emit();
        }
        b.finish();
        log_table("users", s_.users);
    }

    void channels() {
        TableFill c(db_, cat_, "Channels", result_);
        auto common = [&](uint64_t i) {
            c.set("Id", channel_id(i)).set("CreateAt", ts(i)).set("UpdateAt", ts(i)).set("Header", "").set("Purpose", "")
                .set("LastPostAt", ts(s_.posts)).set("TotalMsgCount", s_.posts / std::max<uint64_t>(1, s_.channels()))
                .set("ExtraUpdateAt", 0).set("CreatorId", user(i)).flag("GroupConstrained", false).flag("Shared", false)
                .set("TotalMsgCountRoot", 0).set("LastRootPostAt", ts(s_.posts)).set("BannerInfo", "{}");
        };
        for (uint64_t i = 0; i < s_.team_channels(); ++i) {
            uint64_t k = i % s_.channels_per_team;
            common(i);
            std::string name = k == 0 ? "town-square" : k == 1 ? "off-topic" : "channel-" + std::to_string(i);
            c.set("TeamId", id("team", channel_team(i))).set("Type", k % 4 == 3 ? "P" : "O")
                .set("DeleteAt", k == 5 ? ts(i + 1) : 0).set("DisplayName", o_.hostile && k == 2 ? "Ops 🔥 Öffentlich" : "Channel " + std::to_string(i))
                .set("Name", name).set("Header", k == 1 ? "Random chatter — see https://example.com" : "");
            c.emit();
        }
        for (uint64_t d = 0; d < s_.dms; ++d) {
            uint64_t ch = s_.team_channels() + d;
            std::string a = user(member_of(ch, 0)), b = user(member_of(ch, 1));
            common(ch);
            c.set("TeamId", "").set("Type", "D").set("DeleteAt", 0).set("DisplayName", "").set("Name", dm_channel_name(a, b));
            c.emit();
        }
        for (uint64_t g = 0; g < s_.gms; ++g) {
            uint64_t ch = s_.team_channels() + s_.dms + g;
            common(ch);
            c.set("TeamId", "").set("Type", "G").set("DeleteAt", 0).set("DisplayName", username(member_of(ch, 0)) + ", " + username(member_of(ch, 1)))
                .set("Name", gm_channel_name(member_ids(ch)));
            c.emit();
        }
        c.finish();
        TableFill p(db_, cat_, "PublicChannels", result_);
        for (uint64_t i = 0; i < s_.team_channels(); ++i) {
            uint64_t k = i % s_.channels_per_team;
            if (k % 4 == 3) continue;
            p.set("Id", team_channel(i)).set("DeleteAt", k == 5 ? ts(i + 1) : 0).set("TeamId", id("team", channel_team(i)))
                .set("DisplayName", "Channel " + std::to_string(i)).set("Name", k == 0 ? "town-square" : k == 1 ? "off-topic" : "channel-" + std::to_string(i))
                .set("Header", "").set("Purpose", "");
            p.emit();
        }
        p.finish();
        TableFill m(db_, cat_, "ChannelMembers", result_);
        for (uint64_t ch = 0; ch < s_.channels(); ++ch) {
            std::map<uint64_t, bool> seen;
            for (uint64_t k = 0; k < members_in(ch); ++k) {
                uint64_t u = member_of(ch, k);
                if (seen[u]) continue;
                seen[u] = true;
                m.set("ChannelId", channel_id(ch)).set("UserId", user(u)).set("Roles", "").set("LastViewedAt", ts(s_.posts - k))
                    .set("MsgCount", 3).set("MentionCount", k % 3).set("NotifyProps", R"({"desktop":"default","email":"default","mark_unread":"all","push":"default"})")
                    .set("LastUpdateAt", ts(ch)).flag("SchemeUser", true).flag("SchemeAdmin", k == 0).flag("SchemeGuest", false)
                    .set("MentionCountRoot", 0).set("MsgCountRoot", 2).set("UrgentMentionCount", 0);
                m.emit();
            }
        }
        m.finish();
        log_table("channels", s_.channels());
    }

    void posts() {
        TableFill t(db_, cat_, "Posts", result_);
        for (uint64_t i = 0; i < s_.posts; ++i) {
            uint64_t ch = post_channel(i);
            uint64_t author = member_of(ch, pick("author", i, members_in(ch)));
            bool reply = is_reply(i) && i >= 4;
            bool system = !reply && i % 53 == 11;
            t.set("Id", id("post", i)).set("CreateAt", ts(i)).set("UpdateAt", ts(i) + (i % 17 == 0 ? 5000 : 0))
                .set("EditAt", i % 17 == 0 ? ts(i) + 5000 : 0).set("DeleteAt", i % 101 == 0 ? ts(i) + 9000 : 0)
                .set("UserId", user(author)).set("ChannelId", channel_id(ch)).set("RootId", reply ? id("post", i - 4) : "")
                .set("OriginalId", "").set("Message", system ? username(author) + " joined the channel." : message(i))
                .set("Type", system ? "system_join_channel" : "").set("Hashtags", i % 29 == 0 ? "#release" : "")
                .set("Filenames", "[]").set("FileIds", i % 20 == 0 ? "[\"" + id("file", i / 20) + "\"]" : (o_.hostile && i % 331 == 7 ? "" : "[]"))
                .flag("HasReactions", i % 5 == 1).flag("IsPinned", i % 61 == 0).set("LastReplyAt", 0).set("ReplyCount", reply ? 0 : (i + 4 < s_.posts && !is_reply(i) && i % 5 == 0 ? 1 : 0))
                .set("Props", system ? R"({"username":")" + username(author) + R"("})" : (i % 13 == 0 ? R"({"from_bot":"true","attachments":[]})" : "{}"));
            t.emit();
        }
        t.finish();
        // Threads: each root (i % 5 == 0) has exactly one reply (i + 4), written by a channel member.
        TableFill th(db_, cat_, "Threads", result_);
        for (uint64_t i = 0; i + 4 < s_.posts; i += 5) {
            uint64_t ch = post_channel(i);
            std::string a = user(member_of(ch, pick("author", i, members_in(ch))));
            std::string b = user(member_of(ch, pick("author", i + 4, members_in(ch))));
            th.set("PostId", id("post", i)).set("ReplyCount", 1).set("LastReplyAt", ts(i + 4))
                .set("Participants", a == b ? "[\"" + a + "\"]" : "[\"" + a + "\", \"" + b + "\"]").set("ChannelId", channel_id(ch))
                .set("ThreadDeleteAt", 0).set("ThreadTeamId", ch < s_.team_channels() ? id("team", channel_team(ch)) : "");
            th.emit();
        }
        th.finish();
        TableFill tm(db_, cat_, "ThreadMemberships", result_);
        for (uint64_t i = 0; i + 4 < s_.posts; i += 5) {
            uint64_t ch = post_channel(i);
            tm.set("PostId", id("post", i)).set("UserId", user(member_of(ch, pick("author", i, members_in(ch))))).flag("Following", true)
                .set("LastViewed", ts(i + 4)).set("LastUpdated", ts(i + 4)).set("UnreadMentions", 0);
            tm.emit();
        }
        tm.finish();
        log_table("posts", s_.posts);
    }

    void reactions_and_files() {
        TableFill r(db_, cat_, "Reactions", result_);
        const char* emoji[] = {"+1", "smile", "tada", "rocket", "eyes", "sample_party"};
        uint64_t n = 0;
        for (uint64_t i = 1; i < s_.posts; i += 5) {  // posts with HasReactions
            uint64_t ch = post_channel(i);
            std::map<uint64_t, bool> seen;
            for (uint64_t k = 0; k < 1 + i % 3; ++k) {
                uint64_t u = member_of(ch, pick("reactor", i * 7 + k, members_in(ch)));
                if (seen[u]) continue;
                seen[u] = true;
                r.set("UserId", user(u)).set("PostId", id("post", i)).set("EmojiName", emoji[(i + k) % 6]).set("CreateAt", ts(i) + 100)
                    .set("UpdateAt", ts(i) + 100).set("DeleteAt", 0).set("RemoteId", "").set("ChannelId", channel_id(ch));
                r.emit();
                ++n;
            }
        }
        r.finish();
        TableFill f(db_, cat_, "FileInfo", result_);
        for (uint64_t i = 0; i < s_.posts; i += 20) {
            uint64_t ch = post_channel(i);
            uint64_t author = member_of(ch, pick("author", i, members_in(ch)));
            std::string team = ch < s_.team_channels() ? id("team", channel_team(ch)) : "noteam";
            std::string dir = "20240131/teams/" + team + "/channels/" + channel_id(ch) + "/users/" + user(author) + "/" + id("file", i / 20) + "/";
            bool image = i % 40 == 0;
            std::string name = image ? "screenshot.png" : "report " + std::to_string(i) + ".pdf";
            f.set("Id", id("file", i / 20)).set("CreatorId", user(author)).set("PostId", id("post", i)).set("ChannelId", channel_id(ch))
                .set("CreateAt", ts(i)).set("UpdateAt", ts(i)).set("DeleteAt", 0).set("Path", dir + name)
                .set("ThumbnailPath", image ? dir + "screenshot_thumb.jpg" : "").set("PreviewPath", image ? dir + "screenshot_preview.jpg" : "")
                .set("Name", name).set("Extension", image ? "png" : "pdf").set("Size", 1024 + i).set("MimeType", image ? "image/png" : "application/pdf")
                .set("Width", image ? 640 : 0).set("Height", image ? 480 : 0).flag("HasPreviewImage", image)
                .set("Content", "").set("RemoteId", "").flag("Archived", false);
            write_file(dir + name, "sample attachment " + std::to_string(i) + "\n");
            if (image) write_file(dir + "screenshot_thumb.jpg", "thumb"), write_file(dir + "screenshot_preview.jpg", "preview");
            if (image) f.set("MiniPreview", pg_ ? "\\x00ff10" + std::string("7f80") : std::string("\0\xff\x10\x7f\x80", 5));
            f.emit();
        }
        f.finish();
        log_table("reactions", n);
    }

    void preferences_and_sidebars() {
        TableFill p(db_, cat_, "Preferences", result_);
        for (uint64_t u = 0; u < s_.users; ++u) {
            p.set("UserId", user(u)).set("Category", "display_settings").set("Name", "use_military_time").set("Value", "false");
            p.emit();
            p.set("UserId", user(u)).set("Category", "theme").set("Name", "").set("Value", R"({"type":"Denim"})");
            p.emit();
            for (uint64_t k = 0; k < 3; ++k) {  // saved posts
                uint64_t post = (pick("flag", u, s_.posts) + k) % s_.posts;
                p.set("UserId", user(u)).set("Category", "flagged_post").set("Name", id("post", post)).set("Value", "true");
                p.emit();
            }
            p.set("UserId", user(u)).set("Category", "direct_channel_show").set("Name", user(u + 1)).set("Value", "true");
            p.emit();
        }
        p.finish();
        TableFill sc(db_, cat_, "SidebarCategories", result_);
        for (uint64_t u = 0; u < s_.users; ++u) {
            std::string team = id("team", u % s_.teams);
            const char* types[] = {"favorites", "channels", "direct_messages"};
            for (int k = 0; k < 3; ++k) {
                sc.set("Id", std::string(types[k]) + "_" + user(u) + "_" + team).set("UserId", user(u)).set("TeamId", team)
                    .set("SortOrder", k * 10).set("Sorting", "").set("Type", types[k])
                    .set("DisplayName", k == 0 ? "Favorites" : k == 1 ? "Channels" : "Direct Messages").flag("Muted", false).flag("Collapsed", false);
                sc.emit();
            }
        }
        sc.finish();
        TableFill sch(db_, cat_, "SidebarChannels", result_);
        for (uint64_t u = 0; u < s_.users; ++u) {
            std::string team = id("team", u % s_.teams);
            sch.set("ChannelId", team_channel((u % s_.teams) * s_.channels_per_team)).set("UserId", user(u))
                .set("CategoryId", "favorites_" + user(u) + "_" + team).set("SortOrder", 0);
            sch.emit();
        }
        sch.finish();
    }

    void misc() {
        TableFill e(db_, cat_, "Emoji", result_);
        for (uint64_t i = 0; i < 10; ++i) {
            e.set("Id", id("emoji", i)).set("CreateAt", ts(i)).set("UpdateAt", ts(i)).set("DeleteAt", i == 9 ? ts(i + 1) : 0)
                .set("CreatorId", user(i)).set("Name", i == 0 ? "sample_party" : "sample_emoji_" + std::to_string(i));
            e.emit();
            if (i != 9) write_file("emoji/" + id("emoji", i) + "/image", "gif");
        }
        e.finish();
        TableFill r(db_, cat_, "Roles", result_);
        const char* roles[] = {"system_admin", "system_user", "team_admin", "team_user", "channel_admin", "channel_user"};
        for (uint64_t i = 0; i < 6; ++i) {
            r.set("Id", id("role", i)).set("Name", roles[i]).set("DisplayName", std::string("authentication.roles.") + roles[i] + ".name")
                .set("Description", "").set("CreateAt", ts(i)).set("UpdateAt", ts(i)).set("DeleteAt", 0)
                .set("Permissions", " create_post read_channel add_reaction").flag("SchemeManaged", true).flag("BuiltIn", true);
            r.emit();
        }
        r.finish();
        // A schema built by Mattermost itself already has its Systems rows: leave them alone there.
        const Table* systems = cat_.find("Systems");
        if (systems && db_.query("SELECT 1 FROM " + db_.quote_ident(systems->name) + " WHERE name = 'DiagnosticId'").empty()) {
            TableFill s(db_, cat_, "Systems", result_);
            s.set("Name", "DiagnosticId").set("Value", id("diagnostic", 0));
            s.emit();
            s.set("Name", "InstallationDate").set("Value", std::to_string(ts(0)));
            s.emit();
            s.set("Name", "AdvancedPermissionsMigrationComplete").set("Value", "true");
            s.emit();
            s.finish();
        }
        TableFill d(db_, cat_, "Drafts", result_);
        for (uint64_t u = 0; u < s_.users; u += 9) {
            d.set("CreateAt", ts(u)).set("UpdateAt", ts(u)).set("DeleteAt", 0).set("UserId", user(u)).set("ChannelId", team_channel(0))
                .set("RootId", "").set("Message", "draft " + std::to_string(u)).set("Props", o_.hostile && u == 0 ? "" : "{}").set("FileIds", "[]")
                .set("Priority", "");
            d.emit();
        }
        d.finish();
    }

    Database& db_;
    const SampleOptions& o_;
    std::ostream& log_;
    Scale s_;
    Catalog cat_;
    bool pg_ = false;
    SampleResult result_;
};

}  // namespace

std::string sample_id(uint64_t seed, const char* kind, uint64_t index) {
    static const char* alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
    uint64_t a = hash_of(seed, kind, index), b = mix(a ^ 0x5bd1e995);
    std::string out(26, 'y');
    for (int i = 0; i < 26; ++i) {
        uint64_t& src = i < 13 ? a : b;
        out[i] = alphabet[src & 31];
        src >>= 5;
    }
    return out;
}

SampleResult generate_sample(Database& db, const SampleOptions& options, std::ostream& log) {
    return Generator(db, options, log).run();
}

}  // namespace mmmove
