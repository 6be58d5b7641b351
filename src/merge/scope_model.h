#pragma once
// What a scoped merge starts from, as data: the `scope:` section of mappings/references.yaml (compiled
// in). It names Mattermost's tables and columns; src/merge/scope.cpp turns them into SQL. Every name
// is checked at load to be a plain identifier, so it can only ever be quoted as one.
#include <yaml-cpp/yaml.h>

#include <string>
#include <utility>
#include <vector>

namespace mmmove {

// `Table.Column`.
struct ScopeColumn {
    std::string table, column;
};

// {Column: [values]}: the rows whose column holds one of the values (values are quoted as literals).
using ScopeWhere = std::vector<std::pair<std::string, std::vector<std::string>>>;

struct ScopeModel {
    struct Lookup {
        std::string table, id, name, team;  // team: channels only, the column naming their team
        ScopeWhere of_team;                 // channels only: the channels a whole team moves
    };
    struct Members {
        std::string table, user, team, channel;  // exactly one of team, channel
        ScopeWhere where;
    };
    struct Conversations {
        ScopeWhere where;
        std::string table, channel, user;
    };
    struct Carry {
        std::string table, key;
        std::vector<ScopeColumn> by, text;
    };
    struct Preferences {
        std::string table, category, name, value;
    };
    Lookup team, channel, user;
    std::vector<Members> members;
    Conversations conversations;
    std::vector<ScopeColumn> authors;
    std::vector<Carry> carry;
    Preferences preferences;
};

// Parses and checks a `scope:` section; a missing or unknown field, or a name that is no identifier,
// throws Error(ExitCode::internal) naming it.
ScopeModel parse_scope_model(const YAML::Node& section);
// The built-in model, parsed once.
const ScopeModel& scope_model();

}  // namespace mmmove
