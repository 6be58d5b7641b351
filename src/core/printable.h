#pragma once
// Text mmmove prints but did not write itself — file names, database paths, table and column names
// read from a catalog, values, a server's own words — is chosen by whoever controls a data directory
// or a server; printed raw, a "\n" or an "ESC[2J" in it forges or erases lines on the admin's terminal.
#include <ostream>
#include <sstream>
#include <string>
#include <string_view>

namespace mmmove {

// The text as one safe line: control characters as \n, \t, \r or \xNN, invalid UTF-8 bytes as
// \xNN, a backslash as \\, and the Unicode controls that move or reorder text (C1, line and
// paragraph separators, bidirectional overrides) as \uXXXX. Everything else is kept as it is.
std::string printable(std::string_view text);

// The same for a message of several lines that mmmove composed around text it did not write:
// line breaks stay line breaks and backslashes stay single; every other control is escaped.
std::string printable_lines(std::string_view text);

// Writes to `out` what `print(stream)` prints, through printable_lines: for the human reports (check,
// copy, verify, merge) that print names and values read from the servers among mmmove's own lines.
template <class Print>
void print_printable(std::ostream& out, Print&& print) {
    std::ostringstream text;
    print(text);
    out << printable_lines(text.str());
}

}  // namespace mmmove
