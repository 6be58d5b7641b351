// The masks of names other rows point at: team names (URL slugs), O/P channel names and custom emoji
// names, and what follows them: the paths of Mattermost links, channel_mentions in Posts.Props,
// Posts.Hashtags and group channels' display names. Each name mask is a pure function of the name
// under the job's key, so a name and every reference to it (a ~mention, a permalink, a reaction, a
// JSON member) become the same mask without any lookup, in any table and any chunk.
//
// Mattermost's rules (server/public/model): team.go IsValidTeamName (2 to 64 of a-z 0-9 '-', a
// letter or digit at each end, no reserved word such as "admin" or "api" as its prefix), channel.go
// IsValidChannelIdentifier (1 to 64 of a-z 0-9 '-' '_'), emoji.go IsValidEmojiName (1 to 64 of
// a-z A-Z 0-9 '-' '+' '_', and no system emoji's name). Each mask is a fixed word, '-' and 13 base-36
// characters of a 64-bit HMAC: valid, unique as usernames are, and of a form no reserved team name and
// no system emoji name has (those are English words and Unicode names, never 13 random characters).
#include <algorithm>

#include "catalog/system_emoji.h"
#include "core/json_depth.h"
#include "core/ordered_json.h"
#include "transform/anonymise.h"
#include "transform/id_values.h"
#include "transform/keyed_hash.h"

namespace mmmove {
namespace {

constexpr size_t npos = std::string_view::npos;
constexpr size_t id_length = 26;  // Mattermost ids: 26 base-32 characters

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c) || is_upper(c); }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
bool is_team_char(char c) { return is_alnum(c) || c == '-' || c == '_'; }
bool is_name_char(char c) { return is_alnum(c) || c == '-' || c == '_' || c == '.'; }

std::string ascii_lower(std::string_view v) {
    std::string out(v);
    for (char& c : out)
        if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return out;
}

bool all_of(std::string_view v, bool (*f)(char)) { return std::all_of(v.begin(), v.end(), f); }
bool is_hex(char c) { return is_digit(c) || (c >= 'a' && c <= 'f'); }

// Channels Mattermost creates in every team and finds by name (server/channels/app/team.go,
// model.DefaultChannelName and the off-topic channel): renamed, new members would not land in them.
bool mattermost_channel(std::string_view name) { return name == "town-square" || name == "off-topic"; }

// D and G channel names are built from the members' ids (references.yaml `derived`): id__id, and the
// SHA-1 of the ids in hex. They hold nothing but ids, and a merge or Mattermost rebuilds them.
bool derived_channel(std::string_view name) {
    if (name.size() == 2 * id_length + 2 && name.substr(id_length, 2) == "__")
        return all_of(name.substr(0, id_length), is_alnum) && all_of(name.substr(id_length + 2), is_alnum);
    return name.size() == 40 && all_of(name, is_hex);
}

// A Mattermost username: a leading letter, then a-z 0-9 . - _ (model.IsValidUsername), at most 64.
bool username_like(std::string_view v) {
    if (v.empty() || v.size() > 64 || !is_lower(v[0])) return false;
    return all_of(v, [](char c) { return is_lower(c) || is_digit(c) || c == '.' || c == '-' || c == '_'; });
}

// Follows `steps` from step i; a string at the end that names no system emoji takes its mask. A string
// met before the end that holds JSON (Users.Props customStatus) is followed inside, one level deep
// as Mattermost nests it, and written back. The walk goes no deeper than the path.
bool emoji_at(const Masker& m, OrderedJson& node, const std::vector<JsonStep>& steps, size_t i, bool inner) {
    if (node.is_string()) {
        const std::string& s = node.get_ref<const std::string&>();
        if (i == steps.size()) {
            if (s.empty() || is_system_emoji(s)) return false;
            node = m.emoji_name(s);
            return true;
        }
        if (inner || json_deeper_than(s)) return false;
        OrderedJson doc = OrderedJson::parse(s, nullptr, false);
        if (doc.is_discarded() || !(doc.is_object() || doc.is_array()) || !emoji_at(m, doc, steps, i, true)) return false;
        node = doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
        return true;
    }
    if (i == steps.size()) return false;
    const JsonStep& step = steps[i];
    bool changed = false;
    if (step.kind == JsonStep::Kind::member && node.is_object()) {
        auto it = node.find(step.name);
        if (it != node.end()) changed = emoji_at(m, *it, steps, i + 1, inner);
    } else if ((step.kind == JsonStep::Kind::any_member && node.is_object()) || (step.kind == JsonStep::Kind::each_element && node.is_array())) {
        for (auto& child : node) changed |= emoji_at(m, child, steps, i + 1, inner);
    }
    return changed;
}

}  // namespace

std::string Masker::team_name(std::string_view v) const {
    if (v.empty()) return {};
    return "team-" + base36(digest_word((*hash_)("team_name", ascii_lower(v))));
}

std::string Masker::channel_name(std::string_view v) const {
    const std::string name = ascii_lower(v);
    if (name.empty() || mattermost_channel(name) || derived_channel(name)) return std::string(v);
    return "channel-" + base36(digest_word((*hash_)("channel_name", name)));
}

// Emoji names compare exactly (the webapp and text_refs.h look them up so).
std::string Masker::emoji_name(std::string_view v) const {
    if (v.empty()) return {};
    return "emoji-" + base36(digest_word((*hash_)("emoji_name", v)));
}

// A bookmark may write its emoji between colons (":name:"); they stay around the mask.
std::string Masker::emoji_ref(std::string_view v) const {
    const bool colons = v.size() > 2 && v.front() == ':' && v.back() == ':';
    const std::string_view name = colons ? v.substr(1, v.size() - 2) : v;
    if (name.empty() || is_system_emoji(name)) return std::string(v);
    return colons ? ":" + emoji_name(name) + ":" : emoji_name(name);
}

// Letters stay letters of their case, digits digits, '-' '_' '.' stay (so a valid tag stays valid:
// model.ParseHashtags wants a letter first and a letter or digit last); a non-ASCII character becomes
// one letter. From the tag alone, in lower case: every post's #Tag gets the same mask.
std::string Masker::hashtag(std::string_view body) const {
    MaskRandom r((*hash_)("hashtag", ascii_lower(body)));
    static constexpr char consonants[] = "bcdfghjklmnprstvz", vowels[] = "aeiou";
    std::string out;
    bool vowel = r.below(2);
    for (char c : body) {
        if (is_continuation(c)) continue;
        if (is_digit(c)) {
            out += static_cast<char>('0' + r.below(10));
        } else if (c == '-' || c == '_' || c == '.') {
            out += c;
        } else {
            char l = vowel ? vowels[r.below(sizeof vowels - 1)] : consonants[r.below(sizeof consonants - 1)];
            vowel = !vowel;
            if (is_upper(c)) l = static_cast<char>(l - 'a' + 'A');
            out += l;
        }
    }
    return out;
}

bool Masker::hashtags_into(std::string_view v, TextMode mode, std::string& out) const {
    if (v.empty() || mode == TextMode::keep) return false;
    out.clear();
    if (mode == TextMode::replace) return true;
    for (size_t i = 0; i < v.size();) {
        size_t end = std::min(v.find(' ', i), v.size());
        const std::string_view tag = v.substr(i, end - i);
        if (tag.size() > 1 && tag[0] == '#') out += "#" + hashtag(tag.substr(1));
        else out += free_text(tag, mode);
        if (end < v.size()) out += ' ';
        i = end + 1;
    }
    return out != v;
}

bool Masker::display_name_into(std::string_view v, TextMode mode, std::string& out) const {
    std::vector<std::string_view> parts;
    for (size_t i = 0;;) {
        const size_t sep = v.find(", ", i);
        parts.push_back(v.substr(i, sep == npos ? npos : sep - i));
        if (sep == npos) break;
        i = sep + 2;
    }
    if (parts.size() < 2 || !std::all_of(parts.begin(), parts.end(), username_like)) return free_text_into(v, mode, out);
    out.clear();
    for (size_t i = 0; i < parts.size(); ++i) out += (i ? ", " : "") + username(parts[i]);
    return true;
}

size_t Masker::app_path(std::string_view s, size_t i, std::string& out) const {
    size_t team_end = i + 1;
    while (team_end < s.size() && is_team_char(s[team_end])) ++team_end;
    if (team_end == i + 1 || team_end >= s.size() || s[team_end] != '/') return npos;
    const size_t kind = team_end + 1;
    size_t kind_end = kind;
    while (kind_end < s.size() && is_lower(s[kind_end])) ++kind_end;
    const std::string_view what = s.substr(kind, kind_end - kind);
    if (kind_end >= s.size() || s[kind_end] != '/') return npos;
    const size_t name = kind_end + 1;
    size_t end = name + (name < s.size() && s[name] == '@' && what == "messages");
    while (end < s.size() && is_name_char(s[end])) ++end;
    while (end > name && (s[end - 1] == '.' || s[end - 1] == '-' || s[end - 1] == '_')) --end;  // a sentence's end
    const std::string_view last = s.substr(name, end - name);
    std::string masked;
    if (what == "pl" || what == "threads") {
        if (last.size() != id_length || !all_of(last, is_alnum)) return npos;
        masked = last;
    } else if (what == "channels" && !last.empty()) {
        masked = channel_name(last);
    } else if (what == "messages" && last.size() > 1 && last[0] == '@') {
        masked = "@" + username(last.substr(1));
    } else if (what == "messages" && !last.empty() && last[0] != '@') {
        masked = channel_name(last);  // a DM's channel name: ids, kept
    } else {
        return npos;
    }
    out += '/';
    out += team_name(s.substr(i + 1, team_end - i - 1));
    out += '/';
    out += what;
    out += '/';
    out += masked;
    return end;
}

bool Masker::json_names_into(std::string_view v, const JsonNames& names, std::string& out) const {
    if (v.empty() || std::none_of(names.needles.begin(), names.needles.end(),
                                  [v](const std::string& n) { return v.find(n) != npos; }))
        return false;
    std::string scratch, step;
    auto follow = [&](const std::vector<const std::vector<JsonStep>*>& paths, bool channels) {
        if (paths.empty()) return false;
        const std::string_view in = out.empty() ? v : std::string_view(step);
        const IdLookup lookup = [&](std::string_view name) -> const std::string* {
            scratch = channels ? channel_name(name) : team_name(name);
            return &scratch;
        };
        std::string result;
        if (!remap_json_ids(in, paths, lookup, result)) return false;
        out = step = std::move(result);
        return true;
    };
    out.clear();
    const bool channels = follow(names.channels, true);
    const bool teams = follow(names.teams, false);
    bool emoji = false;
    if (!names.emoji.empty()) {
        const std::string_view in = out.empty() ? v : std::string_view(step);
        OrderedJson doc;
        if (!json_deeper_than(in)) doc = OrderedJson::parse(in, nullptr, false);
        if (!doc.is_discarded() && (doc.is_object() || doc.is_array()))
            for (const auto* path : names.emoji) emoji |= emoji_at(*this, doc, *path, 0, false);
        if (emoji) out = doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace);
    }
    return channels || teams || emoji;
}

}  // namespace mmmove
