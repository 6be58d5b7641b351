#include "merge/rules.h"

#include <yaml-cpp/yaml.h>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "core/error.h"
#include "core/safe_file.h"

namespace mmmove {
namespace {

[[noreturn]] void bad(const std::string& origin, const std::string& what) {
    throw Error(ExitCode::bad_input, "The merge rules " + origin + ": " + what +
                                         ". See mappings/merge.yaml in mmmove's sources for every key and its policies.");
}

template <typename Policy>
Policy pick(const YAML::Node& n, const std::string& key, const std::vector<std::pair<const char*, Policy>>& choices,
            Policy current, const std::string& origin) {
    if (!n[key]) return current;
    std::string v = n[key].as<std::string>();
    std::string known;
    for (const auto& [name, p] : choices) {
        if (v == name) return p;
        known += (known.empty() ? "" : ", ") + std::string(name);
    }
    bad(origin, key + ": unknown policy \"" + v + "\" (one of " + known + ")");
}

void only_keys(const YAML::Node& n, const std::string& section, const std::set<std::string>& keys, const std::string& origin) {
    if (!n) return;
    if (!n.IsMap()) bad(origin, section + " must be a mapping");
    for (const auto& kv : n) {
        std::string k = kv.first.as<std::string>();
        if (!keys.count(k)) bad(origin, "unknown key " + section + "." + k);
    }
}

std::map<std::string, std::string> string_map(const YAML::Node& n, const std::string& what, const std::string& origin) {
    std::map<std::string, std::string> out;
    if (!n) return out;
    if (!n.IsMap()) bad(origin, what + " must be a mapping of old name to new name");
    for (const auto& kv : n) out[lower(kv.first.as<std::string>())] = kv.second.as<std::string>();
    return out;
}

std::set<std::string> table_set(const YAML::Node& n, const std::string& what, const std::string& origin) {
    std::set<std::string> out;
    if (!n) return out;
    if (!n.IsSequence()) bad(origin, what + " must be a list of table names");
    for (const auto& t : n) out.insert(lower(t.as<std::string>()));
    return out;
}

std::string suffix(const YAML::Node& n, const std::string& current, const std::string& origin) {
    if (!n["rename_suffix"]) return current;
    std::string s = n["rename_suffix"].as<std::string>();
    if (s.empty() || s.size() > 20 || s.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789-_") != std::string::npos)
        bad(origin, "rename_suffix \"" + s + "\" must be 1 to 20 characters of a-z, 0-9, - and _");
    return s;
}

// `builtin`: mappings/merge.yaml, which alone may say which tables hold memberships to combine.
void apply(MergeRules& r, const YAML::Node& root, const std::string& origin, bool builtin) {
    using R = MergeRules;
    if (!root || root.IsNull()) return;
    if (!root.IsMap()) bad(origin, "the file must be a mapping (users:, teams:, channels:, emoji:, tables:)");
    only_keys(root, "(top level)", {"users", "teams", "channels", "emoji", "tables"}, origin);
    const YAML::Node u = root["users"], t = root["teams"], c = root["channels"], e = root["emoji"], tb = root["tables"];
    only_keys(u, "users", {"same_username_other_email", "other_username_same_email", "rename_suffix"}, origin);
    only_keys(t, "teams", {"rename"}, origin);
    only_keys(c, "channels", {"rename", "archived_destination", "rename_suffix"}, origin);
    only_keys(e, "emoji", {"same_name", "rename_suffix"}, origin);
    if (!builtin && tb && tb.IsMap() && tb["combine_members"])
        bad(origin, "tables.combine_members is mmmove's own knowledge of Mattermost (which tables hold memberships it knows how to "
                    "combine) and cannot be set in a rules file; remove it");
    std::set<std::string> table_keys{"keep_destination", "copy_as_is", "skip"};
    if (builtin) table_keys.insert("combine_members");
    only_keys(tb, "tables", table_keys, origin);
    if (u) {
        r.same_username_other_email = pick<R::UsernameClash>(u, "same_username_other_email",
            {{"refuse", R::UsernameClash::refuse}, {"rename-source", R::UsernameClash::rename_source},
             {"trust-username", R::UsernameClash::trust_username}}, r.same_username_other_email, origin);
        r.other_username_same_email = pick<R::EmailClash>(u, "other_username_same_email",
            {{"refuse", R::EmailClash::refuse}, {"map-by-email", R::EmailClash::map_by_email}}, r.other_username_same_email, origin);
        r.user_suffix = suffix(u, r.user_suffix, origin);
    }
    if (t && t["rename"]) r.team_renames = string_map(t["rename"], "teams.rename", origin);
    if (c) {
        if (c["rename"]) r.channel_renames = string_map(c["rename"], "channels.rename", origin);
        r.archived_destination = pick<R::ArchivedClash>(c, "archived_destination",
            {{"refuse", R::ArchivedClash::refuse}, {"merge", R::ArchivedClash::merge}, {"rename-source", R::ArchivedClash::rename_source}},
            r.archived_destination, origin);
        r.channel_suffix = suffix(c, r.channel_suffix, origin);
    }
    if (e) {
        r.emoji_same_name = pick<R::EmojiClash>(e, "same_name",
            {{"keep-destination", R::EmojiClash::keep_destination}, {"rename-source", R::EmojiClash::rename_source}},
            r.emoji_same_name, origin);
        r.emoji_suffix = suffix(e, r.emoji_suffix, origin);
    }
    if (tb) {
        if (tb["keep_destination"]) r.keep_destination = table_set(tb["keep_destination"], "tables.keep_destination", origin);
        if (tb["copy_as_is"]) r.copy_as_is = table_set(tb["copy_as_is"], "tables.copy_as_is", origin);
        if (tb["skip"]) r.skip = table_set(tb["skip"], "tables.skip", origin);
        if (builtin && tb["combine_members"]) r.combine_members = table_set(tb["combine_members"], "tables.combine_members", origin);
    }
}

}  // namespace

MergeRules MergeRules::defaults() {
    MergeRules r;
    apply(r, load_embedded_yaml("merge.yaml"), "built into mmmove (mappings/merge.yaml)", true);
    return r;
}

MergeRules MergeRules::load(const std::string& path) {
    MergeRules r = defaults();
    std::string text = read_input_file(path, "merge rules file (--rules)");
    const std::string origin = "file " + path;
    try {
        apply(r, YAML::Load(text), origin, false);
    } catch (const YAML::Exception& e) {
        bad(origin, "is not valid YAML (line " + std::to_string(e.mark.line + 1) + ": " + e.msg + ")");
    }
    return r;
}

const char* policy_name(MergeRules::UsernameClash p) {
    switch (p) {
        case MergeRules::UsernameClash::refuse: return "refuse";
        case MergeRules::UsernameClash::rename_source: return "rename-source";
        case MergeRules::UsernameClash::trust_username: return "trust-username";
    }
    return "?";
}
const char* policy_name(MergeRules::EmailClash p) { return p == MergeRules::EmailClash::refuse ? "refuse" : "map-by-email"; }
const char* policy_name(MergeRules::ArchivedClash p) {
    switch (p) {
        case MergeRules::ArchivedClash::refuse: return "refuse";
        case MergeRules::ArchivedClash::merge: return "merge";
        case MergeRules::ArchivedClash::rename_source: return "rename-source";
    }
    return "?";
}
const char* policy_name(MergeRules::EmojiClash p) {
    return p == MergeRules::EmojiClash::keep_destination ? "keep-destination" : "rename-source";
}

}  // namespace mmmove
