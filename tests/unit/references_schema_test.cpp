// The reference model checked against mmmove's schema models: every table and column it names exists
// in the last MySQL schema (m141) or the newest PostgreSQL one (m159), key parts are primary-key
// columns, and identity keys are keys the database itself keeps unique.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "catalog/references.h"
#include "catalog/schema_model.h"

using namespace mmmove;

namespace {

using ColumnSet = std::set<std::string>;

struct TableShape {
    ColumnSet columns;
    ColumnSet primary_key;
    std::vector<ColumnSet> unique_keys;  // the primary key included
};
using Shapes = std::map<std::string, TableShape>;  // by lower-case table name

std::string unquoted_lower(std::string s) {
    std::string out;
    for (char c : s)
        if (c != '`' && c != '"' && c != ' ') out.push_back(c);
    return lower(out);
}

// "`Id` varchar(26) NOT NULL" or "id character varying(26)": the column's name.
std::string column_name(const std::string& definition) { return unquoted_lower(definition.substr(0, definition.find(' '))); }

// The columns in the parentheses that follow `keyword` in a key line.
ColumnSet key_columns(const std::string& line, const std::string& keyword) {
    size_t open = line.find('(', line.find(keyword)), close = line.find(')', open);
    ColumnSet out;
    std::string list = line.substr(open + 1, close - open - 1);
    for (size_t start = 0, comma = 0; comma != std::string::npos; start = comma + 1) {
        comma = list.find(',', start);
        out.insert(unquoted_lower(list.substr(start, comma == std::string::npos ? std::string::npos : comma - start)));
    }
    return out;
}

void add_shapes(Shapes& shapes, const SchemaModel& model) {
    for (const ModelTable& t : model.tables) {
        TableShape& shape = shapes[lower(t.name)];
        for (const auto& c : t.columns) shape.columns.insert(column_name(c));
        for (const auto& k : t.constraints) {
            if (k.find("PRIMARY KEY") != std::string::npos) {
                shape.primary_key = key_columns(k, "PRIMARY KEY");
                shape.unique_keys.push_back(shape.primary_key);
            } else if (k.find("UNIQUE") != std::string::npos) {
                shape.unique_keys.push_back(key_columns(k, "UNIQUE"));
            }
        }
    }
}

// m159 first: where both models have a table, the newest shape is the one that counts for keys; the
// columns of both are kept, so a name from either schema is found.
const Shapes& shapes() {
    static const Shapes all = [] {
        Shapes m159, m141;
        add_shapes(m159, *find_model(Engine::postgres, 159));
        add_shapes(m141, *find_model(Engine::mysql, 141));
        for (auto& [name, shape] : m141) {
            auto newer = m159.find(name);
            if (newer == m159.end()) {
                m159[name] = shape;
                continue;
            }
            newer->second.columns.insert(shape.columns.begin(), shape.columns.end());
        }
        return m159;
    }();
    return all;
}

bool has_column(const std::string& table, const std::string& column) {
    auto t = shapes().find(lower(table));
    return t != shapes().end() && t->second.columns.count(lower(column)) > 0;
}

void check_column(const std::string& table, const std::string& column) {
    INFO(table << "." << column);
    CHECK(has_column(table, column));
}

void check_target(const RefTarget& t) { check_column(t.table, t.column); }

}  // namespace

TEST_CASE("the schema models load for the cross-check", "[unit][references]") {
    REQUIRE(find_model(Engine::postgres, 159));
    REQUIRE(find_model(Engine::mysql, 141));
    CHECK(has_column("Posts", "userid"));
    CHECK(has_column("scheduledposts", "UserId"));   // all lower case on MySQL too
    CHECK(has_column("Recaps", "BotId"));            // newest schema only
    CHECK_FALSE(has_column("Posts", "NoSuchColumn"));
    CHECK(shapes().at("channelmembers").primary_key == ColumnSet{"channelid", "userid"});
}

TEST_CASE("every table and column the reference model names exists in a schema model", "[unit][references]") {
    const References& model = references();
    for (const auto& r : model.columns) {
        check_column(r.table, r.column);
        check_target(r.target);
    }
    for (const auto& j : model.json) {
        check_column(j.table, j.column);
        check_target(j.target);
    }
    for (const auto& p : model.preferences) {
        check_target(p.target);
        if (!p.equals.empty()) check_column("Preferences", p.equals);
    }
    for (const auto& d : model.derived) {
        check_column(d.table, d.column);
        for (const auto& in : d.inputs) check_target(in);
        for (const auto& c : d.pattern_columns) check_column(d.table, c);
    }
    for (const auto& t : model.text) {
        check_column(t.table, t.column);
        for (const auto& target : t.targets) check_target(target);
    }
    for (const auto& id : model.identities)
        for (const auto& key : id.keys)
            for (const auto& c : key) check_column(id.table, c);
}

TEST_CASE("key parts are primary-key columns, and plain references are not", "[unit][references]") {
    for (const auto& r : references().columns) {
        auto t = shapes().find(lower(r.table));
        REQUIRE(t != shapes().end());
        bool in_key = t->second.primary_key.count(lower(r.column)) > 0;
        INFO(r.table << "." << r.column);
        CHECK(in_key == (r.kind == ColumnRefKind::key_part));
    }
}

TEST_CASE("identity keys are keys the schema keeps unique", "[unit][references]") {
    for (const auto& id : references().identities) {
        auto t = shapes().find(lower(id.table));
        REQUIRE(t != shapes().end());
        for (const auto& key : id.keys) {
            ColumnSet wanted;
            for (const auto& c : key) wanted.insert(lower(c));
            if (id.live_only) wanted.insert("deleteat");
            INFO(id.table << " key of " << key.size() << " column(s), first " << key.front());
            CHECK(std::find(t->second.unique_keys.begin(), t->second.unique_keys.end(), wanted) != t->second.unique_keys.end());
        }
    }
}
