#include "catalog/migrations.h"

#include <utility>

#include "catalog/embedded_schema.h"

namespace mmmove {
namespace {

// (version, name) pairs that belong to one group of equivalent names, from schema/migration_names.yaml.
const std::map<std::pair<int64_t, std::string>, int>& name_groups() {
    static const std::map<std::pair<int64_t, std::string>, int> groups = [] {
        std::map<std::pair<int64_t, std::string>, int> out;
        int group = 0;
        for (const auto& entry : load_embedded_yaml("migration_names.yaml")["same_migration"]) {
            auto version = entry["version"].as<int64_t>();
            for (const auto& name : entry["names"]) out[{version, name.as<std::string>()}] = group;
            ++group;
        }
        return out;
    }();
    return groups;
}

}  // namespace

bool same_migration(int64_t version, const std::string& a, const std::string& b) {
    if (a == b) return true;
    const auto& groups = name_groups();
    auto ga = groups.find({version, a}), gb = groups.find({version, b});
    return ga != groups.end() && gb != groups.end() && ga->second == gb->second;
}

MigrationDiff compare_migrations(const MigrationSet& a, const MigrationSet& b) {
    MigrationDiff d;
    for (const auto& [version, name] : a) {
        auto other = b.find(version);
        if (other == b.end())
            d.only_a.push_back(version);
        else if (!same_migration(version, name, other->second))
            d.renamed.push_back({version, name, other->second});
    }
    for (const auto& [version, name] : b)
        if (!a.count(version)) d.only_b.push_back(version);
    return d;
}

}  // namespace mmmove
