#pragma once
// Sample Mattermost data at any scale, for the demo, the tests and the benchmarks. Deterministic for a
// given seed and scale; memory stays flat (posts and everything that refers to them are derived from
// their index, never kept). Shapes follow Mattermost: teams, users (bots, deactivated), open, private
// and archived channels, DMs and group messages, threads, reactions, file infos, pins, saved posts,
// preferences, custom emoji, sidebar categories; and hostile values: 4-byte emoji, NUL bytes (MySQL
// only: PostgreSQL cannot store them), empty-string JSON in text columns, 64 KiB messages, NULLs.
#include <cstdint>
#include <ostream>

#include "db/database.h"

namespace mmmove {

struct SampleOptions {
    uint64_t posts = 10000;
    uint64_t seed = 1;
    bool hostile = true;
    std::string files_dir;  // when set: also write the files the rows reference (a sample ./data)
};

struct SampleResult {
    uint64_t rows = 0;
    uint64_t tables = 0;
};

// Fills an empty Mattermost schema (either engine, either table case) with sample data.
SampleResult generate_sample(Database& db, const SampleOptions& options, std::ostream& log);

// The 26-character Mattermost ID the generator gives object `index` of kind `kind` (stable across runs).
std::string sample_id(uint64_t seed, const char* kind, uint64_t index);

}  // namespace mmmove
