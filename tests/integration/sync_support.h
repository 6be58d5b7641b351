#pragma once
// What the sync tests share: running sync and verify on two scratch databases in small chunks, and
// reading sync's --json summary.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "support.h"

namespace mmmove::test {

// The JSON summary a --json run printed (after any lines before it).
nlohmann::json json_of(const CliRun& run);
// A table's entry in a sync summary, by its lower-case name; fails the test when it is missing.
const nlohmann::json& table_of(const nlohmann::json& result, const std::string& name);
// `mmmove sync --quiet --json` in chunks of 300 rows, with `extra` options.
CliRun sync(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra = {});
// `mmmove verify --quiet` in chunks of 300 rows.
CliRun verify(const ScratchDb& src, const ScratchDb& dst);

// Drops the replication slot a test created, whatever happened (a slot keeps the shared server's WAL).
struct SlotGuard {
    Database& db;
    std::string slot;
    ~SlotGuard();
};

// Whether `run` was ended by SIGKILL (MMMOVE_TEST_KILL_AT's kill point: core/kill_point.h).
bool killed(const CliRun& run);
// sync() with MMMOVE_TEST_KILL_AT=`kill_at` ("name:n"), run again while an earlier killed run's server
// session still holds the destination's lock (exit 9).
CliRun sync_killed_at(const ScratchDb& src, const ScratchDb& dst, const std::string& kill_at);
// How many tables beside the record table `table` are named `table` plus a suffix: what a killed rewrite
// of the record (pipeline/record_table.h) could leave behind, as text.
std::string tables_beside(Database& d, const std::string& table);

}  // namespace mmmove::test
