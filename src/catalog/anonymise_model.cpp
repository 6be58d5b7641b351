#include "catalog/anonymise_model.h"

#include <algorithm>
#include <initializer_list>
#include <regex>
#include <set>
#include <utility>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "catalog/references.h"
#include "core/error.h"

namespace mmmove {
namespace {

constexpr std::pair<const char*, AnonKind> kinds[] = {
    {"username", AnonKind::username},     {"email", AnonKind::email},         {"person_name", AnonKind::person_name},
    {"person_detail", AnonKind::person_detail}, {"free_text", AnonKind::free_text}, {"secret", AnonKind::secret},
    {"ip_address", AnonKind::ip_address}, {"json_text", AnonKind::json_text}, {"file_name", AnonKind::file_name},
    {"url", AnonKind::url},               {"password", AnonKind::password},   {"cleared", AnonKind::cleared},
    {"token", AnonKind::token},
    {"team_name", AnonKind::team_name},   {"channel_name", AnonKind::channel_name}, {"emoji_name", AnonKind::emoji_name},
    {"emoji_ref", AnonKind::emoji_ref},   {"hashtags", AnonKind::hashtags},   {"display_name", AnonKind::display_name},
};

[[noreturn]] void malformed(const std::string& entry, const std::string& problem) {
    throw Error(ExitCode::internal, "The anonymisation model (mappings/anonymise.yaml) is malformed: " + entry + " " +
                                        problem + ". This is a bug in mmmove's built-in data; please report it.");
}

std::string scalar_or_empty(const YAML::Node& n, const char* field) {
    const YAML::Node v = n[field];
    return v && v.IsScalar() ? v.Scalar() : "";
}

// "columns entry 4 (Users.Email)": where to look when an entry is refused.
std::string entry_label(size_t index, const YAML::Node& n) {
    std::string label = "columns entry " + std::to_string(index + 1);
    if (!n.IsMap() || scalar_or_empty(n, "table").empty()) return label;
    std::string what = scalar_or_empty(n, "table");
    if (!scalar_or_empty(n, "column").empty()) what += "." + scalar_or_empty(n, "column");
    return label + " (" + what + ")";
}

void check_fields(const YAML::Node& n, const std::string& entry, std::initializer_list<const char*> allowed) {
    if (!n.IsMap()) malformed(entry, "is not a mapping");
    for (const auto& field : n) {
        bool known = false;
        for (const char* a : allowed) known = known || field.first.Scalar() == a;
        if (!known) malformed(entry, "has an unknown field '" + field.first.Scalar() + "'");
    }
}

std::string required(const YAML::Node& n, const char* field, const std::string& entry) {
    const YAML::Node v = n[field];
    if (!v) malformed(entry, std::string("has no '") + field + "'");
    if (!v.IsScalar() || v.Scalar().empty()) malformed(entry, std::string("has an empty or non-text '") + field + "'");
    return v.Scalar();
}

AnonKind kind_of(const std::string& word, const std::string& entry) {
    for (const auto& [name, kind] : kinds)
        if (word == name) return kind;
    malformed(entry, "has an unknown kind '" + word + "'");
}

// A list of JSON member paths (references.yaml syntax), each checked.
std::vector<std::string> paths_of(const YAML::Node& v, const std::string& entry) {
    if (!v.IsSequence() || v.size() == 0) malformed(entry, "has an empty or non-list 'paths'");
    std::vector<std::string> out;
    for (const auto& p : v) {
        if (!p.IsScalar()) malformed(entry, "has a non-text item in 'paths'");
        try {
            parse_json_path(p.Scalar());
        } catch (const Error&) {
            malformed(entry, "has a bad path '" + p.Scalar() + "'");
        }
        out.push_back(p.Scalar());
    }
    return out;
}

// token's form: required for token, refused elsewhere, and a valid regular expression.
std::string form_of(const YAML::Node& n, AnonKind kind, const std::string& entry) {
    if (kind != AnonKind::token) {
        if (n["form"]) malformed(entry, "has 'form' but is not token");
        return "";
    }
    const std::string form = required(n, "form", entry);
    try {
        std::regex check(form);
    } catch (const std::regex_error&) {
        malformed(entry, "has a 'form' that is no regular expression");
    }
    return form;
}

AnonymisedColumn parse_column(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"table", "column", "kind", "form"});
    AnonymisedColumn c;
    c.table = required(n, "table", entry);
    c.column = required(n, "column", entry);
    c.kind = kind_of(required(n, "kind", entry), entry);
    c.form = form_of(n, c.kind, entry);
    return c;
}

// drop_rows: a list of table names, each once. The section may be absent (nothing dropped).
std::vector<std::string> parse_drop_rows(const YAML::Node& list) {
    if (!list) return {};
    if (!list.IsSequence()) malformed("section 'drop_rows'", "is not a list");
    std::vector<std::string> out;
    std::set<std::string> seen;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string entry = "drop_rows entry " + std::to_string(i + 1);
        if (!list[i].IsScalar() || list[i].Scalar().empty()) malformed(entry, "is not a table name");
        if (!seen.insert(lower(list[i].Scalar())).second) malformed(entry + " (" + list[i].Scalar() + ")", "repeats an earlier table");
        out.push_back(list[i].Scalar());
    }
    return out;
}

// systems: {table, name_column, value_column, identity, drop: [names]}. The section may be absent.
AnonymisedSystems parse_systems(const YAML::Node& n) {
    AnonymisedSystems out;
    if (!n) return out;
    const std::string entry = "section 'systems'";
    check_fields(n, entry, {"table", "name_column", "value_column", "identity", "drop", "keep_values"});
    out.table = required(n, "table", entry);
    out.name_column = required(n, "name_column", entry);
    out.value_column = required(n, "value_column", entry);
    out.identity = required(n, "identity", entry);
    const YAML::Node drop = n["drop"];
    if (drop && !drop.IsSequence()) malformed(entry, "has a 'drop' that is not a list");
    std::set<std::string> seen{out.identity};
    for (size_t i = 0; drop && i < drop.size(); ++i) {
        if (!drop[i].IsScalar() || drop[i].Scalar().empty()) malformed(entry, "has a 'drop' item that is not a row name");
        if (!seen.insert(drop[i].Scalar()).second) malformed(entry, "names the row '" + drop[i].Scalar() + "' twice");
        out.drop.push_back(drop[i].Scalar());
    }
    if (n["keep_values"]) {
        out.keep_values = required(n, "keep_values", entry);
        try {
            std::regex check(out.keep_values);
        } catch (const std::regex_error&) {
            malformed(entry, "has a 'keep_values' that is no regular expression");
        }
    }
    return out;
}

// keep: a list of groups {reason, columns: {Table: [Column, ...]}}. Every column is named: no group
// keeps columns by type or pattern, so nothing a person typed is kept by accident.
std::vector<KeptColumn> parse_kept(const YAML::Node& list) {
    if (!list) return {};
    if (!list.IsSequence()) malformed("section 'keep'", "is not a list");
    std::vector<KeptColumn> out;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string entry = "keep group " + std::to_string(i + 1);
        check_fields(list[i], entry, {"reason", "columns"});
        const std::string reason = required(list[i], "reason", entry);
        const YAML::Node tables = list[i]["columns"];
        if (!tables || !tables.IsMap() || tables.size() == 0) malformed(entry, "has no 'columns' mapping of tables to columns");
        for (const auto& t : tables) {
            const std::string table = t.first.Scalar();
            if (table.empty() || !t.second.IsSequence() || t.second.size() == 0)
                malformed(entry + " (" + table + ")", "does not list the table's columns");
            for (const auto& c : t.second) {
                if (!c.IsScalar() || c.Scalar().empty()) malformed(entry + " (" + table + ")", "has an item that is not a column name");
                out.push_back({table, c.Scalar(), reason});
            }
        }
    }
    return out;
}

// json_keep: {"Table.Column": [{reason, paths?, values?}]}: per json_text column, the members copied
// as they are and the whole string values kept wherever they stand, each group with its reason.
// Deny by default inside JSON: every other string is masked, so nothing here may be a guess.
void parse_json_keep(const YAML::Node& section, std::vector<AnonymisedColumn>& columns) {
    if (!section) return;
    if (!section.IsMap()) malformed("section 'json_keep'", "is not a mapping of Table.Column to groups");
    for (const auto& entry : section) {
        const std::string name = entry.first.Scalar(), label = "json_keep entry " + name;
        const size_t dot = name.find('.');
        auto it = std::find_if(columns.begin(), columns.end(), [&](const AnonymisedColumn& c) {
            return dot != std::string::npos && lower(c.table) == lower(name.substr(0, dot)) &&
                   lower(c.column) == lower(name.substr(dot + 1));
        });
        if (it == columns.end() || it->kind != AnonKind::json_text) malformed(label, "names no json_text entry of columns");
        if (!it->keep_paths.empty() || !it->keep_values.empty()) malformed(label, "repeats an earlier entry");
        if (!entry.second.IsSequence() || entry.second.size() == 0) malformed(label, "is not a list of groups");
        for (const auto& group : entry.second) {
            check_fields(group, label, {"reason", "paths", "values"});
            required(group, "reason", label);
            if (!group["paths"] && !group["values"]) malformed(label, "has a group with neither 'paths' nor 'values'");
            if (group["paths"])
                for (std::string& p : paths_of(group["paths"], label)) it->keep_paths.push_back(std::move(p));
            if (const YAML::Node values = group["values"]) {
                if (!values.IsSequence() || values.size() == 0) malformed(label, "has an empty or non-list 'values'");
                for (const auto& v : values) {
                    if (!v.IsScalar() || v.Scalar().empty()) malformed(label, "has an empty or non-text item in 'values'");
                    it->keep_values.push_back(v.Scalar());
                }
            }
        }
    }
}

std::map<AnonKind, std::string> parse_keeps(const YAML::Node& keeps) {
    if (!keeps || !keeps.IsMap()) malformed("section 'keeps'", "is missing or not a mapping");
    std::map<AnonKind, std::string> out;
    for (const auto& k : keeps) {
        const std::string entry = "keeps entry '" + k.first.Scalar() + "'";
        if (!k.second.IsScalar() || k.second.Scalar().empty()) malformed(entry, "is not a description");
        out[kind_of(k.first.Scalar(), entry)] = k.second.Scalar();
    }
    for (const auto& [name, kind] : kinds)
        if (!out.count(kind)) malformed("section 'keeps'", std::string("says nothing of kind '") + name + "'");
    return out;
}

}  // namespace

const char* anon_kind_name(AnonKind kind) {
    for (const auto& [name, k] : kinds)
        if (k == kind) return name;
    return "?";
}

bool anon_kind_named(const std::string& name, AnonKind& kind) {
    for (const auto& [n, k] : kinds)
        if (name == n) {
            kind = k;
            return true;
        }
    return false;
}

std::vector<AnonKind> anon_kinds() {
    std::vector<AnonKind> out;
    for (const auto& entry : kinds) out.push_back(entry.second);
    return out;
}

AnonymiseModel parse_anonymise_model(const YAML::Node& root) {
    if (!root || !root.IsMap()) malformed("the document", "is not a mapping of sections");
    check_fields(root, "the document", {"keeps", "columns", "json_keep", "keep", "drop_rows", "systems"});
    AnonymiseModel model;
    model.keeps = parse_keeps(root["keeps"]);
    const YAML::Node list = root["columns"];
    if (!list || !list.IsSequence()) malformed("section 'columns'", "is missing or not a list");
    std::set<std::pair<std::string, std::string>> seen;
    for (size_t i = 0; i < list.size(); ++i) {
        const std::string entry = entry_label(i, list[i]);
        AnonymisedColumn c = parse_column(list[i], entry);
        if (!seen.emplace(lower(c.table), lower(c.column)).second) malformed(entry, "repeats an earlier entry");
        model.columns.push_back(std::move(c));
    }
    parse_json_keep(root["json_keep"], model.columns);
    for (KeptColumn& k : parse_kept(root["keep"])) {
        const std::string label = "keep entry " + k.table + "." + k.column;
        if (!seen.emplace(lower(k.table), lower(k.column)).second) malformed(label, "is also masked in columns, or kept twice");
        model.kept.push_back(std::move(k));
    }
    model.drop_rows = parse_drop_rows(root["drop_rows"]);
    model.systems = parse_systems(root["systems"]);
    return model;
}

const AnonymiseModel& anonymise_model() {
    static const AnonymiseModel model = parse_anonymise_model(load_embedded_yaml("anonymise.yaml"));
    return model;
}

const std::vector<AnonymisedColumn>& anonymised_columns() { return anonymise_model().columns; }

std::vector<const AnonymisedColumn*> anonymised_columns_of(const std::string& table) {
    std::vector<const AnonymisedColumn*> out;
    for (const auto& c : anonymised_columns())
        if (lower(c.table) == lower(table)) out.push_back(&c);
    return out;
}

const std::vector<std::string>& anonymised_drop_rows() { return anonymise_model().drop_rows; }

const AnonymisedSystems& anonymised_systems() { return anonymise_model().systems; }

ColumnClass classify_column(const std::string& table, const std::string& column) {
    const std::string t = lower(table), c = lower(column);
    const AnonymiseModel& m = anonymise_model();
    for (const std::string& d : m.drop_rows)
        if (lower(d) == t) return ColumnClass::dropped;
    for (const AnonymisedColumn& a : m.columns)
        if (lower(a.table) == t && lower(a.column) == c) return ColumnClass::masked;
    for (const KeptColumn& k : m.kept)
        if (lower(k.table) == t && lower(k.column) == c) return ColumnClass::kept;
    return ColumnClass::unclassified;
}

}  // namespace mmmove
