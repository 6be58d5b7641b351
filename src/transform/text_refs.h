#pragma once
// Names written inside Mattermost message text, for `mmmove merge`. When a source instance is merged
// into a destination, some users, channels, custom emoji and teams are renamed (their name was taken)
// and some posts get a new id (their id was taken). Messages moved from the source must follow:
// @old-user → @new-user, ~old-channel → ~new-channel, :old_emoji: → :new_emoji:, and permalinks
// …/<team name>/pl/<post id> get the new team name and post id.
//
// The rules are those the Mattermost webapp uses to render these references (utils/text_formatting
// and utils/emoticons), since that is what readers of a moved message see:
//   @name     name of [a-z0-9._-], any case; the @ is not preceded by a letter, digit or _ (so
//             mail@host is no mention), except for _ that itself starts a word (_@alice_ is italic).
//             When the whole name is unknown, trailing . - _ are dropped one by one (end of sentence).
//   ~name     the same, without the _ exception.
//   :name:    name of [A-Za-z0-9_+-], neither colon touching a letter, digit or _; exact names only.
//   /<team>/pl/<id>   a team name segment, then a 26-character post id, with or without a host.
// Nothing inside inline code (`…`) or a fenced code block (``` or ~~~) is a reference. Indented
// code blocks are not recognised (they need the paragraph structure around them).
#include <string>
#include <string_view>
#include <unordered_map>

namespace mmmove {

// What the merge renamed. Keys of users, channels and teams are lower case, as Mattermost stores
// those names; a mention is looked up in lower case. Group names (UserGroups.Name) share the @
// namespace with usernames: put their renames in users too. emoji and posts are looked up exactly.
struct TextRenames {
    std::unordered_map<std::string, std::string> users;     // old username -> new username
    std::unordered_map<std::string, std::string> channels;  // old channel Name -> new Name
    std::unordered_map<std::string, std::string> emoji;     // old custom emoji name -> new name
    std::unordered_map<std::string, std::string> teams;     // old team Name -> new Name (permalinks)
    std::unordered_map<std::string, std::string> posts;     // old post id -> new post id (permalinks)
    bool empty() const;
};

// Rewrites the references in text in one left-to-right scan. True, with the rewritten text in out,
// when something changed; false (out untouched) otherwise. Bytes that are not ASCII, valid UTF-8 or
// not, are copied as they are.
bool rewrite_text_references(std::string_view text, const TextRenames& renames, std::string& out);

}  // namespace mmmove
