#pragma once
// nlohmann::json parses without recursion, but dumping, copying and every walker mmmove writes over a
// parsed document recurse once per level: a 200 KB value nested 100,000 levels deep (a post's Props,
// a checkpoint row) would overflow the stack. Each such place first asks how deep the text nests.
#include <cstddef>
#include <string_view>

namespace mmmove {

// Deeper than anything Mattermost writes (its JSON is a few levels deep; MySQL's JSON type stops at
// 100), shallow enough that a recursive walk never comes near the stack's end.
constexpr size_t kMaxJsonDepth = 128;

// True when `text`, read as JSON, opens more than `max_depth` objects and arrays inside one another.
// Brackets inside strings do not count. Needs no valid JSON: it only bounds what a parser would build.
bool json_deeper_than(std::string_view text, size_t max_depth = kMaxJsonDepth);

}  // namespace mmmove
