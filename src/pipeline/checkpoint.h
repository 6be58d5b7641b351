#pragma once
// The copy's progress log, kept on the destination in small tables (mmmove_copy_state,
// mmmove_copy_chunks, mmmove_copy_issues). A chunk's rows, its checkpoint row and the values it
// changed commit in the same transaction, so after a crash every chunk is either fully in and
// recorded, or absent: --resume copies exactly the missing ones. The tables are dropped when a copy
// completes.
//
// What is read back is not trusted: the destination may not be the server mmmove wrote to. Chunk
// bounds that go into the source's SQL are checked against what mmmove itself writes (see planner.h).
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "db/database.h"

namespace mmmove {

struct ChunkDone {
    uint64_t rows = 0;     // rows written
    uint64_t skipped = 0;  // rows a policy left out (listed in the report)
    uint64_t matched = 0;  // a merge: source rows the destination already had (mapped onto its rows)
};

class Checkpoint {
public:
    explicit Checkpoint(Database& dest) : db_(dest) {}
    bool exists();
    void create(const nlohmann::json& state);
    nlohmann::json state();
    // Replaces one entry in a single statement (old value or new, never none). A value holding text
    // that is not UTF-8 is refused with an Error naming where it stands, before anything is written.
    void set(const std::string& key, const nlohmann::json& value);
    // Every committed chunk: (lower-case table, chunk number) → what it wrote.
    std::map<std::pair<std::string, size_t>, ChunkDone> done();
    // Records a chunk on `conn`, inside the transaction that loaded it.
    static void record(Database& conn, const std::string& table, size_t chunk, const ChunkDone& done);
    void drop();

    static constexpr const char* kStateTable = "mmmove_copy_state";
    static constexpr const char* kChunkTable = "mmmove_copy_chunks";

private:
    Database& db_;
};

}  // namespace mmmove
