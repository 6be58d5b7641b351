#include <catch2/catch.hpp>

#include "catalog/embedded_schema.h"
#include "catalog/schema_model.h"

using namespace mmmove;

TEST_CASE("the built-in schema models cover levels 124, 141 and 159", "[unit]") {
    for (int level : {124, 141}) {
        const SchemaModel* pg = find_model(Engine::postgres, level);
        const SchemaModel* my = find_model(Engine::mysql, level);
        REQUIRE(pg);
        REQUIRE(my);
        CHECK(pg->migrations.size() == my->migrations.size());
        // Same tables on both engines, names equal case-insensitively.
        std::set<std::string> a, b;
        for (const auto& t : pg->tables) a.insert(lower(t.name));
        for (const auto& t : my->tables) b.insert(lower(t.name));
        CHECK(a == b);
    }
    REQUIRE(find_model(Engine::postgres, 159));
    CHECK_FALSE(find_model(Engine::mysql, 159));
    CHECK(find_model(Engine::postgres, 141)->migrations.size() == 140);
    CHECK(find_model(Engine::postgres, 124)->level == 127);  // v9.11.5 carries the 127 backport
}

TEST_CASE("a model's migration set finds its model", "[unit]") {
    const SchemaModel* m141 = find_model(Engine::mysql, 141);
    std::map<int64_t, std::string> set;
    for (const auto& [v, n] : m141->migrations) set[v] = n;
    CHECK(find_model(Engine::postgres, set) == find_model(Engine::postgres, 141));
    set.erase(set.rbegin()->first);
    CHECK(find_model(Engine::postgres, set) == nullptr);
}

TEST_CASE("tables are sorted into copy roles", "[unit]") {
    CHECK(table_role("Posts") == TableRole::content);
    CHECK(table_role("users") == TableRole::content);
    CHECK(table_role("Systems") == TableRole::server_bootstrap);
    CHECK(table_role("ClusterDiscovery") == TableRole::per_instance);
    CHECK(table_role("db_migrations") == TableRole::schema_version);
}

// Deny by default: only the statistics views are left stale by a final sync; attributeview (access
// control reads it) is not one, and each listed name is a materialized view of the PostgreSQL models.
TEST_CASE("the statistics views are materialized views of the models, attributeview is not one", "[unit]") {
    CHECK(statistics_view("poststats"));
    CHECK(statistics_view("PostStats"));
    CHECK_FALSE(statistics_view("attributeview"));
    CHECK_FALSE(statistics_view("posts"));
    std::set<std::string> views;
    for (const auto& v : find_model(Engine::postgres, 159)->views)
        if (v.materialized) views.insert(lower(v.name));
    for (const char* v : {"poststats", "posts_by_team_day", "bot_posts_by_team_day", "file_stats"}) {
        INFO(v);
        CHECK(statistics_view(v));
        CHECK(views.count(v));
    }
}

TEST_CASE("models survive a YAML round trip", "[unit]") {
    const SchemaModel* m = find_model(Engine::postgres, 159);
    SchemaModel again = parse_model(model_to_yaml(*m), "round trip");
    CHECK(model_to_yaml(again) == model_to_yaml(*m));
    CHECK_THROWS_WITH(parse_model("level: [", "broken.yaml"), Catch::Contains("broken.yaml is malformed"));
}

TEST_CASE("change columns come from schema/tables.yaml", "[unit][change_columns]") {
    CHECK(change_columns("Posts") == std::vector<std::string>{"CreateAt", "UpdateAt", "DeleteAt"});
    CHECK(change_columns("posts") == change_columns("Posts"));  // PostgreSQL's spelling
    CHECK(change_columns("Reactions") == std::vector<std::string>{"CreateAt", "UpdateAt", "DeleteAt"});
    CHECK(change_columns("ChannelMembers") == std::vector<std::string>{"LastViewedAt", "LastUpdateAt"});
    CHECK(change_columns("Preferences").empty());     // listed with none
    CHECK(change_columns("ClusterDiscovery").empty()); // per-instance, never copied: not listed
    CHECK(change_columns("NoSuchTable").empty());
}

TEST_CASE("a change_columns section naming an unknown table or column is refused", "[unit][change_columns]") {
    auto ok = parse_change_columns("change_columns:\n  Posts: [UpdateAt]\n  preferences: []\n", "test.yaml");
    CHECK(ok.at("posts") == std::vector<std::string>{"UpdateAt"});
    CHECK(ok.at("preferences").empty());
    CHECK(parse_change_columns("per_instance: [db_lock]\n", "test.yaml").empty());
    CHECK_THROWS_WITH(parse_change_columns("change_columns:\n  Postz: [UpdateAt]\n", "test.yaml"),
                      Catch::Contains("test.yaml") && Catch::Contains("'Postz'"));
    CHECK_THROWS_WITH(parse_change_columns("change_columns:\n  Posts: [UpdatedAt]\n", "test.yaml"),
                      Catch::Contains("'UpdatedAt'"));
    CHECK_THROWS_WITH(parse_change_columns("change_columns:\n  Posts: [UpdateAt]\n  posts: [CreateAt]\n", "test.yaml"),
                      Catch::Contains("twice"));
    CHECK_THROWS_WITH(parse_change_columns("change_columns: [Posts]\n", "test.yaml"), Catch::Contains("must map"));
    CHECK_THROWS_WITH(parse_change_columns("change_columns:\n  Posts: UpdateAt\n", "test.yaml"), Catch::Contains("must map"));
}

// mmmove reads its built-in schema/tables.yaml without the models (a fixed cost of every command):
// this is where an entry naming a table or column no model has is caught.
TEST_CASE("the built-in change_columns name tables and columns of the built-in models", "[unit][change_columns]") {
    bool found = false;
    for (const auto& f : embedded_schema_files())
        if (f.name == "tables.yaml") {
            found = true;
            CHECK_FALSE(parse_change_columns(f.content, "schema/tables.yaml").empty());
        }
    CHECK(found);
}
