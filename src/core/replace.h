#pragma once
// Hiding secrets in text: every occurrence of each secret is replaced in ONE pass over the original
// text. Replacing in a loop that searches the text again never ends when a replacement contains what it
// replaces (a one-letter secret "a" and its mask "#a3…", a password "*" and "****").
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace mmmove {

// (what to find, what to write instead); an empty `find` is ignored.
using Replacement = std::pair<std::string, std::string>;

// `text` with every occurrence of each `find` replaced. Scans left to right; where several `find`s
// start at the same place the longest wins; replaced text and replacements are never searched again.
std::string replace_all_once(std::string_view text, const std::vector<Replacement>& replacements);

}  // namespace mmmove
