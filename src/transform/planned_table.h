#pragma once
// One table of a copy as the planner (pipeline/planner.h) cut it into chunks. Declared here, below the
// pipeline, because the transforms a load stage builds per chunk (transform.h) are given the table they
// work on; the pipeline fills it.
#include <cstdint>
#include <string>
#include <vector>

#include "catalog/catalog.h"

namespace mmmove {

struct PlannedTable {
    const Table* source = nullptr;
    const Table* dest = nullptr;
    std::string key_column;            // the source's first primary-key column ("" = one chunk)
    bool numeric_key = false;
    std::vector<std::string> bounds;   // n-1 cut points for n chunks, in key order
    uint64_t estimated_rows = 0;
    bool bootstrap = false;            // replaced at the end, in one transaction
    std::vector<std::string> parents;  // lower-case tables whose rows must be in first (foreign keys)
    std::string scope;                 // a scoped merge: the source rows it reads ("" = every row)
    size_t chunk_count() const { return bounds.size() + 1; }
};

}  // namespace mmmove
