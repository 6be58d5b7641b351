#pragma once
// `mmmove check`: everything that must hold before a copy, found before anything is written. Both
// sides are read only. Each blocking finding names the problem and the fix.
#include <ostream>
#include <set>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "db/database.h"

namespace mmmove {

struct SideState {
    std::string label;
    Engine engine = Engine::postgres;
    std::string server_version;
    Catalog catalog;
    SchemaVersion version;
};

struct Finding {
    enum class Severity { blocking, warning, info };
    Severity severity;
    ExitCode code;  // for blocking findings: the exit code the run ends with
    std::string text;
};

struct CheckOptions {
    bool truncate = false;        // a destination holding data will be emptied first
    bool create_schema = false;   // an empty destination gets the source's schema level from the model
    bool skip_missing_tables = false;
    bool resume = false;          // finishing an interrupted copy: the destination's rows are ours
    bool merge = false;           // a merge: the destination holds a live instance's data, by design
    bool count_dest_rows = true;  // false (sync): dest_rows names the tables holding rows, counts left 0
    std::set<std::string> skip_tables;  // lower-case names
    // The command writes into the destination (copy, sync, merge, run): other sessions connected to the
    // destination database block it unless allowed; for check they are a warning.
    bool writes = false;
    bool allow_other_sessions = false;  // --allow-other-sessions: a warning instead
};

struct CheckReport {
    SideState source, dest;
    std::vector<Finding> findings;
    std::vector<std::string> source_only_tables, dest_only_tables;
    std::vector<std::pair<std::string, uint64_t>> dest_rows;  // content tables that hold rows
    // The destination's rows are only those a first Mattermost start writes (bots and their rows): the copy
    // empties dest_rows' tables without --truncate. first_start_rows names them: "Users (2 bots), Bots (2)".
    bool fresh_destination = false;
    std::string first_start_rows;
    const SchemaModel* create_model = nullptr;                // set when --create-schema will run
    bool blocked() const;
    ExitCode exit_code() const;
};

CheckReport run_check(Database& source, Database& dest, const CheckOptions& options);
// One side's label, server, catalog and schema version, as the check reads them.
SideState read_side(Database& db);
// The findings, then "check: ready to <action>." (the command the check precedes) or blocked.
void print_check(const CheckReport& report, std::ostream& out, const std::string& action = "copy");

// True for the tables a copy moves (and verify compares): content and the rows a first server start
// writes; not per-instance tables or the schema's migration records.
bool copied_role(const std::string& table);

// The source tables a copy moves, in load order (a table after those its foreign keys point to).
std::vector<const Table*> tables_to_copy(const CheckReport& report, const CheckOptions& options);

}  // namespace mmmove
