#pragma once
// Which columns hold secrets (mappings/secrets.yaml, compiled in): passwords, tokens, keys. Their values
// never reach a report, an error or a log; where such a column names a row (Tokens.Token is its key),
// the row is shown by a short hash that lets an admin find it without being able to use it.
#include <string>
#include <string_view>

namespace mmmove {

// True when table.column is listed as secret (case-insensitive).
bool is_secret_column(const std::string& table, const std::string& column);
// "#" and the first 12 hex digits of the value's SHA-256: stable, findable, not usable.
std::string masked_secret(std::string_view value);

}  // namespace mmmove
