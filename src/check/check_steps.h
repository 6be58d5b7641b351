#pragma once
// The steps of run_check that live in their own files (check_version.cpp: which Mattermost schema each
// side holds; check_destination.cpp: what the destination's rows are), and the helpers every step uses
// to record a finding. Internal to check; other code uses check.h.
#include <string>

#include "check/check.h"

namespace mmmove::check_steps {

void block(CheckReport& r, ExitCode code, std::string text);
void warn(CheckReport& r, std::string text);
void info(CheckReport& r, std::string text);

// "migration 141 (140 applied)", or "no applied migrations".
std::string describe_version(const SideState& side);
// An info finding for each side whose Systems table keeps the old Version row.
void note_systems_versions(CheckReport& r);
// False (with a blocking finding saying what the source is instead) when the source has no applied migrations.
bool source_has_schema(CheckReport& r);
// False (with a blocking finding) when the destination has tables but no db_migrations table.
bool destination_has_schema(CheckReport& r);
// An empty destination: blocks unless --create-schema and a built-in model for its engine matches the
// source's migrations; sets r.create_model when it does.
void plan_schema_creation(CheckReport& r, const CheckOptions& o);
// Blocks (exit 5) unless both sides applied the same migrations, by number and name.
void compare_versions(CheckReport& r);

// Warns about columns whose values the destination may refuse (nullability, integer width, enum types).
void check_value_fit(CheckReport& r, const CheckOptions& o);

// Fills r.dest_rows; blocks when the destination holds data that is more than a first server start writes
// (unless --truncate), and sets r.fresh_destination when it holds only that.
void check_destination_rows(CheckReport& r, Database& dest, const CheckOptions& o);

// Other sessions on the destination database (a running Mattermost): blocks a writing command unless
// allowed, warns otherwise; notes when the account cannot see every session.
void check_other_sessions(CheckReport& r, Database& dest, const CheckOptions& o);

}  // namespace mmmove::check_steps
