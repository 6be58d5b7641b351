#pragma once
// PostgreSQL's COPY text format: one row per line, fields separated by tabs, \N for NULL, and
// backslash escapes for backslash, tab, newline and carriage return.
#include <string>
#include <string_view>

#include "db/database.h"

namespace mmmove {

// Splits one COPY line (with or without its trailing newline) into fields. Decoded bytes go into buf,
// which out's fields point into: both must outlive the use of out.
void decode_copy_line(std::string_view line, std::string& buf, FieldRow& out);

// Appends one field, escaped for COPY FROM STDIN text format (no separator).
void append_copy_field(std::string& out, const Field& f);

}  // namespace mmmove
