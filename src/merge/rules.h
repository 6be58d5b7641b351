#pragma once
// The rules of a merge: how each kind of conflict is settled and which tables are not merged. The
// defaults are mappings/merge.yaml (compiled in); a rules file (--rules) overrides what it sets.
#include <map>
#include <set>
#include <string>

namespace mmmove {

struct MergeRules {
    enum class UsernameClash { refuse, rename_source, trust_username };
    enum class EmailClash { refuse, map_by_email };
    enum class ArchivedClash { refuse, merge, rename_source };
    enum class EmojiClash { keep_destination, rename_source };

    UsernameClash same_username_other_email = UsernameClash::refuse;
    EmailClash other_username_same_email = EmailClash::refuse;
    std::string user_suffix = "-merged";
    std::map<std::string, std::string> team_renames;     // source team Name → new Name
    std::map<std::string, std::string> channel_renames;  // "team/channel" → new Name
    ArchivedClash archived_destination = ArchivedClash::refuse;
    std::string channel_suffix = "-merged";
    EmojiClash emoji_same_name = EmojiClash::keep_destination;
    std::string emoji_suffix = "_merged";
    std::set<std::string> keep_destination, copy_as_is, skip;  // lower-case table names
    // Memberships both sides may hold, combined row by row: mmmove's own knowledge (mappings/merge.yaml
    // only), never set by a rules file, since combining needs code that knows the table.
    std::set<std::string> combine_members;

    // The built-in defaults.
    static MergeRules defaults();
    // The defaults overridden by the YAML rules file at `path` (read safely: a regular file only).
    // Malformed YAML, an unknown key or an unknown policy throws Error(bad_input) naming it and the fix.
    static MergeRules load(const std::string& path);
};

// How a policy is spelled in the rules file.
const char* policy_name(MergeRules::UsernameClash p);
const char* policy_name(MergeRules::EmailClash p);
const char* policy_name(MergeRules::ArchivedClash p);
const char* policy_name(MergeRules::EmojiClash p);

}  // namespace mmmove
