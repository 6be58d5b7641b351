#pragma once
// Which columns hold personal or secret values, and what kind each is (mappings/anonymise.yaml,
// compiled in). An anonymised copy replaces them by keyed hashes that keep what the kind says (a
// username stays a valid, unique username); everything else, ids above all, is copied as it is.
// Table and column names compare case-insensitively (MySQL CamelCase and PostgreSQL lower case alike).
#include <yaml-cpp/yaml.h>

#include <map>
#include <string>
#include <vector>

namespace mmmove {

enum class AnonKind {
    username,
    email,
    person_name,    // first and last names, nicknames
    person_detail,  // position, phone
    free_text,      // messages, headers, purposes, descriptions
    secret,         // password hashes, tokens, keys, auth data
    ip_address,
    json_text,      // JSON whose string values (under `paths`, or all) are personal
    file_name,
    url,
};

struct AnonymisedColumn {
    std::string table, column;
    AnonKind kind = AnonKind::free_text;
    std::string when;                // condition on the row (SQL-like); empty: every row
    std::vector<std::string> paths;  // json_text: members whose strings are personal; empty: all
};

struct AnonymiseModel {
    std::vector<AnonymisedColumn> columns;
    std::map<AnonKind, std::string> keeps;  // what the replacement keeps, for every kind
};

// The kind as the file spells it ("person_name").
const char* anon_kind_name(AnonKind kind);

// Parses a model (the layout of mappings/anonymise.yaml). An unknown kind or field, a missing table
// or column, a bad path, a duplicate entry or a kind without `keeps` throws Error(ExitCode::internal)
// naming the entry.
AnonymiseModel parse_anonymise_model(const YAML::Node& root);

// The built-in model, parsed once.
const AnonymiseModel& anonymise_model();
const std::vector<AnonymisedColumn>& anonymised_columns();
// The entries of `table` (case-insensitive), in file order.
std::vector<const AnonymisedColumn*> anonymised_columns_of(const std::string& table);

}  // namespace mmmove
