#pragma once
// Staging for rows that may already be on the destination (a merge: the membership of a user both
// instances know). A chunk's rows are loaded in bulk into a temporary table of the loading connection,
// then join the real table in one statement that leaves out every row whose primary or unique key is
// already there. The destination's row wins; nothing is updated.
#include <cstdint>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove {

// Creates (anew) this connection's staging table shaped like `table`; returns its name.
std::string open_staging(Database& dst, const std::string& table);
// Inserts the staged rows into `table`, minus those whose key is already there, and drops the staging
// table. Returns the rows inserted. With `kept_table` (shaped like `table`), first saves there the
// destination's rows whose primary key (`key`) a staged row has: what the destination held under the
// keys the load left to it, for verify.
uint64_t settle_staging(Database& dst, const std::string& table, const std::vector<std::string>& columns,
                        const std::vector<std::string>& key, const std::string& kept_table);
// "SELECT d.<columns> FROM <other> o JOIN <table> d ON o.key = d.key …": the rows of `table` whose
// primary key `other` holds.
std::string rows_keyed_in(const Database& dst, const std::string& table, const std::vector<std::string>& columns,
                          const std::vector<std::string>& key, const std::string& other);

}  // namespace mmmove
