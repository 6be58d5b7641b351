#include "catalog/references.h"

#include <algorithm>
#include <cctype>
#include <map>
#include <initializer_list>
#include <utility>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "catalog/schema_model.h"
#include "core/error.h"

namespace mmmove {
namespace {

[[noreturn]] void malformed(const std::string& entry, const std::string& problem) {
    throw Error(ExitCode::internal, "The reference model (mappings/references.yaml) is malformed: " + entry + " " +
                                        problem + ". This is a bug in mmmove's built-in data; please report it.");
}

std::string scalar_or_empty(const YAML::Node& n, const char* field) {
    const YAML::Node v = n[field];
    return v && v.IsScalar() ? v.Scalar() : "";
}

// "columns entry 4 (Posts.OriginalId)": where to look when an entry is refused.
std::string entry_label(const char* section, size_t index, const YAML::Node& n) {
    std::string label = std::string(section) + " entry " + std::to_string(index + 1);
    if (!n.IsMap()) return label;
    std::string what = scalar_or_empty(n, "table");
    if (!what.empty() && !scalar_or_empty(n, "column").empty()) what += "." + scalar_or_empty(n, "column");
    if (!scalar_or_empty(n, "path").empty()) what += " " + scalar_or_empty(n, "path");
    if (!scalar_or_empty(n, "category").empty()) what = "category " + scalar_or_empty(n, "category");
    if (!scalar_or_empty(n, "name").empty() && what.empty()) what = scalar_or_empty(n, "name");
    return what.empty() ? label : label + " (" + what + ")";
}

void check_fields(const YAML::Node& n, const std::string& entry, std::initializer_list<const char*> allowed) {
    if (!n.IsMap()) malformed(entry, "is not a mapping");
    for (const auto& field : n) {
        const std::string key = field.first.Scalar();
        bool known = false;
        for (const char* a : allowed) known = known || key == a;
        if (!known) malformed(entry, "has an unknown field '" + key + "'");
    }
}

std::string required(const YAML::Node& n, const char* field, const std::string& entry) {
    const YAML::Node v = n[field];
    if (!v) malformed(entry, std::string("has no '") + field + "'");
    if (!v.IsScalar() || v.Scalar().empty()) malformed(entry, std::string("has an empty or non-text '") + field + "'");
    return v.Scalar();
}

std::string optional_text(const YAML::Node& n, const char* field, const std::string& entry) {
    const YAML::Node v = n[field];
    if (!v) return "";
    if (!v.IsScalar()) malformed(entry, std::string("has a non-text '") + field + "'");
    return v.Scalar();
}

bool flag(const YAML::Node& n, const char* field, const std::string& entry) {
    const YAML::Node v = n[field];
    if (!v) return false;
    try {
        return v.as<bool>();
    } catch (const YAML::Exception&) {
        malformed(entry, std::string("has a '") + field + "' that is neither true nor false");
    }
}

template <typename E>
E choice(const std::string& value, const char* field, const std::string& entry,
         std::initializer_list<std::pair<const char*, E>> options) {
    for (const auto& [word, e] : options)
        if (value == word) return e;
    malformed(entry, std::string("has an unknown ") + field + " '" + value + "'");
}

RefTarget target_of(const std::string& text, const std::string& entry) {
    auto dot = text.find('.');
    if (dot == std::string::npos || dot == 0 || dot + 1 == text.size() || text.find('.', dot + 1) != std::string::npos)
        malformed(entry, "has a target '" + text + "' that is not Table.Column");
    return {text.substr(0, dot), text.substr(dot + 1)};
}

std::vector<RefTarget> target_list(const YAML::Node& n, const char* field, const std::string& entry) {
    const YAML::Node v = n[field];
    if (!v) malformed(entry, std::string("has no '") + field + "'");
    if (!v.IsSequence() || v.size() == 0) malformed(entry, std::string("has an empty or non-list '") + field + "'");
    std::vector<RefTarget> out;
    for (const auto& t : v) {
        if (!t.IsScalar()) malformed(entry, std::string("has a non-text item in '") + field + "'");
        out.push_back(target_of(t.Scalar(), entry));
    }
    return out;
}

bool is_name_char(char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'; }

// Appends the steps of one dot-separated part ("name", "*", "{key}", "[]", "name[]"); returns what is wrong, if anything.
std::string add_steps(const std::string& part, std::vector<JsonStep>& steps) {
    if (part.empty()) return "has an empty step";
    if (part == "*") {
        steps.push_back({JsonStep::Kind::any_member, ""});
        return "";
    }
    if (part == "{key}") {
        steps.push_back({JsonStep::Kind::member_name, ""});
        return "";
    }
    std::string name = part;
    size_t arrays = 0;
    while (name.size() >= 2 && name.compare(name.size() - 2, 2, "[]") == 0) {
        name.resize(name.size() - 2);
        ++arrays;
    }
    for (char c : name)
        if (!is_name_char(c)) return std::string("has a character '") + c + "' that no step allows";
    if (!name.empty()) steps.push_back({JsonStep::Kind::member, name});
    for (size_t i = 0; i < arrays; ++i) steps.push_back({JsonStep::Kind::each_element, ""});
    return "";
}

std::string path_problem(const std::string& path, std::vector<JsonStep>& steps) {
    if (path.empty()) return "is empty";
    size_t start = 0;
    while (true) {
        size_t dot = path.find('.', start);
        std::string problem = add_steps(path.substr(start, dot == std::string::npos ? std::string::npos : dot - start), steps);
        if (!problem.empty()) return problem;
        if (dot == std::string::npos) return "";
        if (steps.back().kind == JsonStep::Kind::member_name) return "has a step after {key}, which only ends a path";
        start = dot + 1;
    }
}

constexpr std::pair<const char*, IdentityKey::Matcher> kMatchers[] = {
    {"name", IdentityKey::Matcher::name},         {"users", IdentityKey::Matcher::users},
    {"bots", IdentityKey::Matcher::bots},         {"teams", IdentityKey::Matcher::teams},
    {"channels", IdentityKey::Matcher::channels}, {"direct_channels", IdentityKey::Matcher::direct_channels},
    {"emoji", IdentityKey::Matcher::emoji},
};

// The shape of keys a matcher's code reads (how many keys, of how many columns), and whether it renames.
struct MatcherShape {
    size_t keys, columns;  // 0: any
    bool renames, live_only;
};
MatcherShape shape_of(IdentityKey::Matcher m) {
    using M = IdentityKey::Matcher;
    switch (m) {
        case M::users: return {2, 1, true, false};
        case M::bots: return {1, 1, false, false};
        case M::teams: return {1, 1, true, false};
        case M::channels: return {1, 2, true, false};
        case M::direct_channels: return {1, 2, false, false};
        case M::emoji: return {1, 1, true, true};
        case M::name:
        case M::joined: break;
    }
    return {0, 0, false, false};
}

void check_matcher_shape(const IdentityKey& id, const std::string& entry) {
    const MatcherShape want = shape_of(id.matcher);
    const std::string m = std::string("matcher '") + matcher_name(id.matcher) + "'";
    if (want.keys && id.keys.size() != want.keys) malformed(entry, "has " + m + ", which reads " + std::to_string(want.keys) + " key(s)");
    for (const auto& key : id.keys)
        if (want.columns && key.size() != want.columns)
            malformed(entry, "has " + m + ", whose keys have " + std::to_string(want.columns) + " column(s)");
    if (want.renames && id.rename.empty()) malformed(entry, "has " + m + ", which renames a row: it needs 'rename'");
    if (!want.renames && !id.rename.empty()) malformed(entry, "has a 'rename', which " + m + " never does");
    if (id.live_only != want.live_only) malformed(entry, "has " + m + ", which " + (want.live_only ? "needs" : "does not take") + " live_only");
}

IdentityKey parse_identity(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"table", "keys", "live_only", "matcher", "rename", "display"});
    IdentityKey id;
    id.table = required(n, "table", entry);
    id.live_only = flag(n, "live_only", entry);
    const YAML::Node keys = n["keys"];
    if (!keys || !keys.IsSequence() || keys.size() == 0) malformed(entry, "has no list of 'keys'");
    for (const auto& key : keys) {
        if (!key.IsSequence() || key.size() == 0) malformed(entry, "has a key that is not a list of columns");
        std::vector<std::string> columns;
        for (const auto& c : key) {
            if (!c.IsScalar() || c.Scalar().empty()) malformed(entry, "has a key column that is not a name");
            columns.push_back(c.Scalar());
        }
        id.keys.push_back(std::move(columns));
    }
    const std::string matcher = optional_text(n, "matcher", entry);
    if (!matcher.empty()) {
        std::string known;
        for (const auto& [word, m] : kMatchers) known += (known.empty() ? "'" : ", '") + std::string(word) + "'";
        bool found = false;
        for (const auto& [word, m] : kMatchers)
            if (matcher == word) id.matcher = m, found = true;
        if (!found) malformed(entry, "has unknown matcher '" + matcher + "' (one of " + known + ")");
    }
    id.rename = optional_text(n, "rename", entry);
    id.display = optional_text(n, "display", entry);
    check_matcher_shape(id, entry);
    return id;
}

// Each code matcher (all but `name`) is one step of a merge, applied to one table.
void check_one_entry_per_matcher(const std::vector<IdentityKey>& ids) {
    for (size_t i = 0; i < ids.size(); ++i)
        for (size_t j = i + 1; j < ids.size(); ++j)
            if (ids[i].matcher == ids[j].matcher && shape_of(ids[i].matcher).keys)
                malformed("identity entry " + std::to_string(j + 1) + " (" + ids[j].table + ")",
                          std::string("repeats matcher '") + matcher_name(ids[j].matcher) + "', which entry " + std::to_string(i + 1) + " has");
}

ColumnReference parse_column(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"table", "column", "target", "kind", "optional", "loose"});
    ColumnReference r;
    r.table = required(n, "table", entry);
    r.column = required(n, "column", entry);
    r.target = target_of(required(n, "target", entry), entry);
    const std::string kind = optional_text(n, "kind", entry);
    r.kind = kind.empty() ? ColumnRefKind::column
                          : choice(kind, "kind", entry, {std::pair{"column", ColumnRefKind::column},
                                                         {"key-part", ColumnRefKind::key_part},
                                                         {"names", ColumnRefKind::names}});
    r.optional = flag(n, "optional", entry);
    r.loose = flag(n, "loose", entry);
    return r;
}

JsonReference parse_json(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"table", "column", "path", "target"});
    JsonReference r{required(n, "table", entry), required(n, "column", entry), optional_text(n, "path", entry), {},
                    target_of(required(n, "target", entry), entry)};
    std::string problem = path_problem(r.path, r.steps);
    if (!problem.empty()) malformed(entry, "has a path '" + r.path + "' that " + problem);
    return r;
}

PreferenceReference parse_preference(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"category", "name", "field", "target", "separator", "equals", "optional"});
    PreferenceReference r;
    r.category = required(n, "category", entry);
    r.name = optional_text(n, "name", entry);
    r.field = choice(required(n, "field", entry), "field", entry,
                     {std::pair{"name", PreferenceField::name}, {"value", PreferenceField::value}});
    r.target = target_of(required(n, "target", entry), entry);
    r.separator = optional_text(n, "separator", entry);
    r.equals = optional_text(n, "equals", entry);
    r.optional = flag(n, "optional", entry);
    return r;
}

// The {Column} names of a pattern, in order; empty when the braces do not pair up.
std::vector<std::string> pattern_columns(const std::string& pattern) {
    std::vector<std::string> out;
    for (size_t open = pattern.find('{'); open != std::string::npos; open = pattern.find('{', open + 1)) {
        size_t close = pattern.find('}', open);
        if (close == std::string::npos || close == open + 1 || pattern.find('{', open + 1) < close) return {};
        out.push_back(pattern.substr(open + 1, close - open - 1));
    }
    size_t closes = 0;
    for (char c : pattern) closes += c == '}';
    return closes == out.size() ? out : std::vector<std::string>{};
}

DerivedName parse_derived(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"name", "table", "column", "when", "rule", "inputs", "separator", "pattern"});
    DerivedName d;
    d.name = required(n, "name", entry);
    d.table = required(n, "table", entry);
    d.column = required(n, "column", entry);
    d.when = optional_text(n, "when", entry);
    d.rule = choice(required(n, "rule", entry), "rule", entry,
                    {std::pair{"sorted-join", DerivedRule::sorted_join}, {"sha1-sorted", DerivedRule::sha1_sorted},
                     {"pattern", DerivedRule::pattern}, {"same-id", DerivedRule::same_id}, {"mirror", DerivedRule::mirror}});
    d.inputs = target_list(n, "inputs", entry);
    d.separator = optional_text(n, "separator", entry);
    d.pattern = optional_text(n, "pattern", entry);
    if (d.rule == DerivedRule::sorted_join && d.separator.empty()) malformed(entry, "joins ids but has no 'separator'");
    if (d.rule == DerivedRule::pattern) {
        d.pattern_columns = pattern_columns(required(n, "pattern", entry));
        if (d.pattern_columns.empty()) malformed(entry, "has a pattern '" + d.pattern + "' without well-formed {Column}s");
    }
    return d;
}

TextReference parse_text(const YAML::Node& n, const std::string& entry) {
    check_fields(n, entry, {"table", "column", "form", "targets"});
    TextReference r{required(n, "table", entry), required(n, "column", entry),
                    choice(required(n, "form", entry), "form", entry,
                           {std::pair{"mention", TextForm::mention}, {"channel", TextForm::channel},
                            {"permalink", TextForm::permalink}, {"emoji", TextForm::emoji}, {"value", TextForm::value}}),
                    target_list(n, "targets", entry)};
    if ((r.form == TextForm::permalink) != (r.targets.size() == 2))
        malformed(entry, "needs two targets for a permalink (team name, post id) and one otherwise");
    return r;
}

template <typename T, typename Parse>
void parse_section(const YAML::Node& root, const char* section, std::vector<T>& out, Parse parse) {
    const YAML::Node list = root[section];
    if (!list) return;
    if (!list.IsSequence()) malformed(std::string("section '") + section + "'", "is not a list");
    for (size_t i = 0; i < list.size(); ++i) out.push_back(parse(list[i], entry_label(section, i, list[i])));
}

}  // namespace

std::vector<JsonStep> parse_json_path(const std::string& path) {
    std::vector<JsonStep> steps;
    std::string problem = path_problem(path, steps);
    if (!problem.empty()) throw Error(ExitCode::internal, "The JSON path '" + path + "' " + problem + ".");
    return steps;
}

References parse_references(const YAML::Node& root) {
    if (!root || !root.IsMap()) malformed("the document", "is not a mapping of sections");
    check_fields(root, "the document", {"identity", "columns", "json", "preferences", "derived", "text", "scope"});  // scope: src/merge/scope_model.cpp
    References r;
    parse_section(root, "identity", r.identities, parse_identity);
    check_one_entry_per_matcher(r.identities);
    parse_section(root, "columns", r.columns, parse_column);
    parse_section(root, "json", r.json, parse_json);
    parse_section(root, "preferences", r.preferences, parse_preference);
    parse_section(root, "derived", r.derived, parse_derived);
    parse_section(root, "text", r.text, parse_text);
    return r;
}

const char* matcher_name(IdentityKey::Matcher matcher) {
    for (const auto& [word, m] : kMatchers)
        if (m == matcher) return word;
    return "joined";
}

void check_identity(const IdentityKey& id, const std::vector<std::string>& columns, const std::string& entry) {
    auto has = [&](const std::string& c) { return std::find(columns.begin(), columns.end(), lower(c)) != columns.end(); };
    std::vector<std::string> named;
    for (const auto& key : id.keys) named.insert(named.end(), key.begin(), key.end());
    if (!id.rename.empty()) named.push_back(id.rename);
    if (!id.display.empty()) named.push_back(id.display);
    for (const auto& c : named)
        if (!has(c)) malformed(entry, "names a column " + c + " that table " + id.table + " does not have");
}

void check_identity_columns(const References& model, const TableColumns& columns) {
    for (size_t i = 0; i < model.identities.size(); ++i) {
        const IdentityKey& id = model.identities[i];
        if (const std::vector<std::string>* have = columns(id.table))
            check_identity(id, *have, "identity entry " + std::to_string(i + 1) + " (" + id.table + ")");
    }
}

const std::vector<std::string>* schema_columns(const std::string& table) {
    static const std::map<std::string, std::vector<std::string>> all = [] {
        std::map<std::string, std::vector<std::string>> out;
        for (const auto& model : builtin_models())
            for (const auto& t : model.tables)
                for (const auto& definition : t.columns) {
                    std::string name;
                    for (char c : definition.substr(0, definition.find(' ')))
                        if (c != '`' && c != '"') name.push_back(c);
                    out[lower(t.name)].push_back(lower(name));
                }
        return out;
    }();
    auto it = all.find(lower(table));
    return it == all.end() ? nullptr : &it->second;
}

References load_references(const YAML::Node& root) {
    References m = parse_references(root);
    check_identity_columns(m, schema_columns);
    return m;
}

const References& references() {
    static const References model = load_references(load_embedded_yaml("references.yaml"));
    return model;
}

const IdentityKey* identity_with(const References& model, IdentityKey::Matcher matcher) {
    for (const auto& id : model.identities)
        if (id.matcher == matcher) return &id;
    return nullptr;
}

std::vector<const ColumnReference*> references_from(const std::string& table) {
    std::vector<const ColumnReference*> out;
    for (const auto& r : references().columns)
        if (lower(r.table) == lower(table)) out.push_back(&r);
    return out;
}

std::vector<const ColumnReference*> references_to(const std::string& table) {
    std::vector<const ColumnReference*> out;
    for (const auto& r : references().columns)
        if (lower(r.target.table) == lower(table)) out.push_back(&r);
    return out;
}

const IdentityKey* identity_of(const std::string& table) {
    for (const auto& id : references().identities)
        if (lower(id.table) == lower(table)) return &id;
    return nullptr;
}

}  // namespace mmmove
