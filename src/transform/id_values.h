#pragma once
// Ids hidden inside values, rewritten for `mmmove merge`. When two Mattermost instances become one,
// some rows get new ids (a user both sides know takes the destination's id, a colliding id gets a
// fresh one), and every copy of an old id must follow: inside JSON (Posts.Props userId,
// channel_mentions.<name>.id, FileIds arrays), in names built from ids (DM and GM channel names) and in
// Preferences values that join several ids. mappings/references.yaml says where; these pure functions
// do the rewriting, one value at a time.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/references.h"

namespace mmmove {

// Looks an id up; returns nullptr when the id keeps its value.
using IdLookup = std::function<const std::string*(std::string_view id)>;

// Rewrites every string found at `steps` inside the JSON text `json` through `lookup` (for a path
// ending in {key}: the member names of the objects it leads to). True and `out`
// filled when something changed; `out` is left as it was otherwise. The result is the input with only
// the rewritten strings replaced: key order, spacing, number spellings, escapes elsewhere, duplicate
// keys and non-ASCII text stay byte for byte. Only a whole string is an id: "a,b" is one value, not
// two. A value that is not valid JSON, or a path that does not fit the document (a string where an
// object is expected), is left alone. Never throws for the document's sake (any depth, any bytes);
// an exception thrown by `lookup` passes through.
bool remap_json_ids(std::string_view json, const std::vector<JsonStep>& steps, const IdLookup& lookup,
                    std::string& out);
// The same for several paths at once, read in one pass: what the merge transform calls for a column.
// Pass a named vector: a braced pair of pointers would also read as vector<JsonStep>(first, last).
bool remap_json_ids(std::string_view json, const std::vector<const std::vector<JsonStep>*>& paths,
                    const IdLookup& lookup, std::string& out);

// Mattermost's name of the DM channel between two users: the ids sorted, joined by "__".
std::string dm_channel_name(std::string_view user_a, std::string_view user_b);
// Mattermost's name of a group channel: lower-case hex SHA-1 of its members' ids sorted and
// concatenated. Duplicates are hashed as given, as Mattermost does.
std::string gm_channel_name(std::vector<std::string> user_ids);

// A value holding ids joined by `separator` (Preferences teams_order: "t1,t2"); an empty separator
// makes the whole value one id. Empty parts stay as they are. True and `out` filled when changed.
bool remap_joined_ids(std::string_view value, std::string_view separator, const IdLookup& lookup,
                      std::string& out);

}  // namespace mmmove
