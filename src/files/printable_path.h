#pragma once
// File names and database paths are chosen by whoever writes into a data directory or a Mattermost
// database; printed raw, a "\n" or an "ESC[2J" in one forges or erases lines of mmmove's report.
#include <string>
#include <string_view>

namespace mmmove {

// The path as one safe line: control characters as \n, \t, \r or \xNN, invalid UTF-8 bytes as
// \xNN, a backslash as \\, and the Unicode controls that move or reorder text (C1, line and
// paragraph separators, bidirectional overrides) as \uXXXX. Everything else is kept as it is.
std::string printable_path(std::string_view path);

}  // namespace mmmove
