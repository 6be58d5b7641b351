#include "merge/scope_model.h"

#include <cctype>
#include <initializer_list>

#include "catalog/embedded_schema.h"
#include "core/error.h"

namespace mmmove {
namespace {

[[noreturn]] void malformed(const std::string& where, const std::string& problem) {
    throw Error(ExitCode::internal, "The scope model (mappings/references.yaml, section scope) is malformed: " + where + " " + problem +
                                        ". This is a bug in mmmove's built-in data; please report it.");
}

bool identifier(const std::string& s) {
    if (s.empty() || s.size() > 64 || !(std::isalpha(static_cast<unsigned char>(s[0])) || s[0] == '_')) return false;
    for (unsigned char c : s)
        if (!std::isalnum(c) && c != '_') return false;
    return true;
}

void only(const YAML::Node& n, const std::string& where, std::initializer_list<const char*> allowed) {
    if (!n || !n.IsMap()) malformed(where, "is missing or not a mapping");
    for (const auto& field : n) {
        bool known = false;
        for (const char* a : allowed) known = known || field.first.Scalar() == a;
        if (!known) malformed(where, "has an unknown field '" + field.first.Scalar() + "'");
    }
}

// A table or column name; `optional`: may be absent.
std::string name(const YAML::Node& n, const char* field, const std::string& where, bool optional = false) {
    const YAML::Node v = n[field];
    if (!v && optional) return "";
    if (!v || !v.IsScalar() || !identifier(v.Scalar())) malformed(where, std::string("has no '") + field + "' that is a table or column name");
    return v.Scalar();
}

ScopeColumn column(const YAML::Node& v, const std::string& where) {
    const std::string text = v.IsScalar() ? v.Scalar() : "";
    const auto dot = text.find('.');
    ScopeColumn c{text.substr(0, dot), dot == std::string::npos ? "" : text.substr(dot + 1)};
    if (!identifier(c.table) || !identifier(c.column)) malformed(where, "has '" + text + "', which is not Table.Column");
    return c;
}

std::vector<ScopeColumn> columns(const YAML::Node& n, const char* field, const std::string& where, bool optional = false) {
    const YAML::Node list = n[field];
    if (!list && optional) return {};
    if (!list || !list.IsSequence() || list.size() == 0) malformed(where, std::string("has no list '") + field + "'");
    std::vector<ScopeColumn> out;
    for (const auto& v : list) out.push_back(column(v, where));
    return out;
}

ScopeWhere condition(const YAML::Node& n, const char* field, const std::string& where, bool optional = false) {
    const YAML::Node w = n[field];
    if (!w && optional) return {};
    if (!w || !w.IsMap() || w.size() == 0) malformed(where, std::string("has no mapping '") + field + "' of Column: values");
    ScopeWhere out;
    for (const auto& e : w) {
        if (!identifier(e.first.Scalar())) malformed(where, "has '" + e.first.Scalar() + "' in '" + field + "', which is not a column name");
        std::vector<std::string> values;
        if (e.second.IsScalar()) values.push_back(e.second.Scalar());
        else if (e.second.IsSequence())
            for (const auto& v : e.second) values.push_back(v.IsScalar() ? v.Scalar() : "");
        if (values.empty()) malformed(where, "has no value for " + e.first.Scalar() + " in '" + field + "'");
        for (const auto& v : values)
            if (!identifier(v) && v.find_first_not_of("0123456789") != std::string::npos)
                malformed(where, "has a value '" + v + "' in '" + field + "' that is no plain word");
        out.emplace_back(e.first.Scalar(), values);
    }
    return out;
}

ScopeModel::Lookup lookup(const YAML::Node& n, const std::string& where, bool channel) {
    if (channel) only(n, where, {"table", "id", "name", "team", "of_team"});
    else only(n, where, {"table", "id", "name"});
    ScopeModel::Lookup l{name(n, "table", where), name(n, "id", where), name(n, "name", where, !channel), "", {}};
    if (channel) l.team = name(n, "team", where), l.of_team = condition(n, "of_team", where);
    return l;
}

}  // namespace

ScopeModel parse_scope_model(const YAML::Node& s) {
    only(s, "the section", {"team", "channel", "user", "members", "conversations", "authors", "carry", "preferences"});
    ScopeModel m;
    m.team = lookup(s["team"], "team", false);
    if (m.team.name.empty()) malformed("team", "has no 'name'");
    m.channel = lookup(s["channel"], "channel", true);
    only(s["user"], "user", {"table", "id"});
    m.user = {name(s["user"], "table", "user"), name(s["user"], "id", "user"), "", "", {}};
    if (!s["members"].IsSequence() || s["members"].size() == 0) malformed("members", "is not a list of entries");
    for (size_t i = 0; i < s["members"].size(); ++i) {
        const YAML::Node e = s["members"][i];
        const std::string where = "members entry " + std::to_string(i + 1);
        only(e, where, {"table", "user", "team", "channel", "where"});
        ScopeModel::Members mm{name(e, "table", where), name(e, "user", where), name(e, "team", where, true), name(e, "channel", where, true),
                               condition(e, "where", where, true)};
        if (mm.team.empty() == mm.channel.empty()) malformed(where, "needs exactly one of 'team' and 'channel'");
        m.members.push_back(mm);
    }
    const YAML::Node c = s["conversations"];
    only(c, "conversations", {"where", "table", "channel", "user"});
    m.conversations = {condition(c, "where", "conversations"), name(c, "table", "conversations"), name(c, "channel", "conversations"),
                       name(c, "user", "conversations")};
    if (s["authors"]) m.authors = columns(s, "authors", "authors");
    if (s["carry"] && !s["carry"].IsSequence()) malformed("carry", "is not a list of entries");
    for (size_t i = 0; s["carry"] && i < s["carry"].size(); ++i) {
        const YAML::Node e = s["carry"][i];
        const std::string where = "carry entry " + std::to_string(i + 1);
        only(e, where, {"table", "key", "by", "text"});
        m.carry.push_back({name(e, "table", where), name(e, "key", where), columns(e, "by", where), columns(e, "text", where, true)});
    }
    only(s["preferences"], "preferences", {"table", "category", "name", "value"});
    const YAML::Node p = s["preferences"];
    m.preferences = {name(p, "table", "preferences"), name(p, "category", "preferences"), name(p, "name", "preferences"), name(p, "value", "preferences")};
    return m;
}

const ScopeModel& scope_model() {
    static const ScopeModel model = parse_scope_model(load_embedded_yaml("references.yaml")["scope"]);
    return model;
}

}  // namespace mmmove
