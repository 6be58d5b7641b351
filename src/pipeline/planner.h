#pragma once
// Splits a copy into chunks: a large table becomes key ranges on the first column of its primary key,
// a small table one chunk. Mattermost keys are random 26-character IDs, uniform over their base32
// alphabet, so ranges cut at ID prefixes come out even without scanning the table; the first and
// last ranges are open, so any key at all falls in exactly one chunk.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "check/check.h"
#include "transform/planned_table.h"

namespace mmmove {

struct CopyPlan {
    std::vector<PlannedTable> tables;
    uint64_t chunk_rows = 0;
};

CopyPlan plan_copy(const CheckReport& check, const CheckOptions& options, Database& source, uint64_t chunk_rows);
// The SQL predicate that selects chunk `number` of `t` on the source ("" for a single-chunk table of
// every row), the scope's predicate included.
std::string chunk_predicate(Database& source, const PlannedTable& t, size_t number);
// The same chunk on either side, with that side's name of the key column (verify reads both sides).
std::string chunk_predicate(Database& db, const PlannedTable& t, size_t number, const std::string& key_column);
// The chunk boundaries, stored with the checkpoint so a resumed run cuts the same chunks.
nlohmann::json plan_bounds(const CopyPlan& plan);
void apply_bounds(CopyPlan& plan, const nlohmann::json& bounds);

}  // namespace mmmove
