#pragma once
// Comparing two sets of applied Mattermost migrations (db_migrations) by number AND name. A number
// alone does not identify a migration: release branches reuse numbers for different migrations, so
// two databases with the same numbers can hold different schemas. The few names Mattermost spells
// differently per engine are data (schema/migration_names.yaml), not code.
#include <cstdint>
#include <map>
#include <string>
#include <vector>

namespace mmmove {

using MigrationSet = std::map<int64_t, std::string>;  // Version → Name, as db_migrations holds them

struct RenamedMigration {
    int64_t version;
    std::string name_a, name_b;
};

struct MigrationDiff {
    std::vector<int64_t> only_a, only_b;     // numbers one side has and the other lacks
    std::vector<RenamedMigration> renamed;   // the same number under names that are not the same migration
    bool same() const { return only_a.empty() && only_b.empty() && renamed.empty(); }
};

// True when `a` and `b` name the same migration `version` (equal, or a known per-engine spelling).
bool same_migration(int64_t version, const std::string& a, const std::string& b);
MigrationDiff compare_migrations(const MigrationSet& a, const MigrationSet& b);

}  // namespace mmmove
