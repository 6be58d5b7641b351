#pragma once
// Values as Mattermost means them, whichever engine holds them: a row read from MySQL and the same row
// read from PostgreSQL give the same canonical text. Booleans (tinyint(1) / boolean) become "true" or
// "false"; binary values their raw bytes (bytea arrives as \x… hex); JSON, jsonb and PostgreSQL's
// varchar(26)[] arrays become JSON with sorted keys and no spaces; floating-point numbers their
// shortest exact spelling. Text, integers and enum members are compared as they are.
#include <string>
#include <string_view>

#include "db/database.h"

namespace mmmove {

// How one column is compared. `raw`: both sides are the same engine and the same type, so equal values
// have equal bytes and nothing needs reading (not JSON kept as text: its keys may come in any order). Otherwise by the family both sides share.
// `array`: PostgreSQL's varchar(26)[] on one side, a JSON array on the other.
enum class Canon { raw, text, boolean, binary, json, array, floating };

// The comparison for a column held as `source` on one side and `dest` on the other.
Canon canon_for(ColumnKind source, const std::string& source_type, Engine from, ColumnKind dest, const std::string& dest_type, Engine to);

// The comparison for a column whose two sides are both in the destination's spelling, the source's
// values made by mmmove (a stage's transforms and the edge conversion) rather than read from a
// server: only what the destination itself may spell two ways (JSON, booleans, bytes, arrays,
// floats) needs a canonical form. Never Canon::raw: the source's bytes are not the server's own,
// so no raw-line shortcut may apply.
Canon destination_canon(ColumnKind dest);

// The canonical form of a non-NULL value as `engine` spells it. Returns a view of `value` itself when
// it is already canonical, else of `scratch`.
std::string_view canonical_value(std::string_view value, Canon canon, Engine engine, std::string& scratch);

// JSON with sorted keys and no whitespace; text that is not JSON is returned unchanged.
std::string canonical_json(std::string_view text);

}  // namespace mmmove
