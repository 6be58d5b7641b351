#pragma once
// The copy's progress log, kept on the destination in two small tables (mmmove_copy_state,
// mmmove_copy_chunks). A chunk's rows and its checkpoint row commit in the same transaction, so
// after a crash every chunk is either fully in and recorded, or absent: --resume copies exactly the
// missing ones. The tables are dropped when a copy completes.
#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

#include "db/database.h"

namespace mmmove {

class Checkpoint {
public:
    explicit Checkpoint(Database& dest) : db_(dest) {}
    bool exists();
    void create(const nlohmann::json& state);
    nlohmann::json state();
    void set(const std::string& key, const nlohmann::json& value);
    // Rows of every committed chunk: (lower-case table, chunk number) → rows.
    std::map<std::pair<std::string, size_t>, uint64_t> done();
    // Records a chunk on `conn`, inside the transaction that loaded it.
    static void record(Database& conn, const std::string& table, size_t chunk, uint64_t rows);
    void drop();

    static constexpr const char* kStateTable = "mmmove_copy_state";
    static constexpr const char* kChunkTable = "mmmove_copy_chunks";

private:
    Database& db_;
};

}  // namespace mmmove
