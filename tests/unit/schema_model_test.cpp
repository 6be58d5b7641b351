#include <catch2/catch.hpp>

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

TEST_CASE("models survive a YAML round trip", "[unit]") {
    const SchemaModel* m = find_model(Engine::postgres, 159);
    SchemaModel again = parse_model(model_to_yaml(*m), "round trip");
    CHECK(model_to_yaml(again) == model_to_yaml(*m));
    CHECK_THROWS_WITH(parse_model("level: [", "broken.yaml"), Catch::Contains("broken.yaml is malformed"));
}
