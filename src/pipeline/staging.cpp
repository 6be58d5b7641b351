#include "pipeline/staging.h"

namespace mmmove {
namespace {

constexpr const char* kStaging = "mmmove_stage";

}  // namespace

std::string open_staging(Database& dst, const std::string& table) {
    if (dst.engine() == Engine::postgres) {
        dst.exec(std::string("DROP TABLE IF EXISTS pg_temp.") + kStaging);
        dst.exec(std::string("CREATE TEMPORARY TABLE ") + kStaging + " (LIKE " + dst.quote_ident(table) + ")");
    } else {
        dst.exec(std::string("DROP TEMPORARY TABLE IF EXISTS ") + kStaging);
        // Not LIKE: a temporary InnoDB table cannot carry the FULLTEXT indexes Mattermost's tables have.
        dst.exec(std::string("CREATE TEMPORARY TABLE ") + kStaging + " AS SELECT * FROM " + dst.quote_ident(table) + " WHERE 1 = 0");
    }
    return kStaging;
}

std::string rows_keyed_in(const Database& dst, const std::string& table, const std::vector<std::string>& columns,
                          const std::vector<std::string>& key, const std::string& other) {
    std::string cols, same;
    for (const auto& c : columns) cols += (cols.empty() ? "d." : ", d.") + dst.quote_ident(c);
    for (const auto& k : key) same += (same.empty() ? "" : " AND ") + std::string("o.") + dst.quote_ident(k) + " = d." + dst.quote_ident(k);
    // Driven from `other` (a chunk, or the held memberships): each of its keys is looked up in the table's
    // primary key, never a scan of the table. A key `other` holds twice gives the row twice: harmless.
    return "SELECT " + cols + " FROM " + other + " o JOIN " + dst.quote_ident(table) + " d ON " + same;
}

uint64_t settle_staging(Database& dst, const std::string& table, const std::vector<std::string>& columns,
                        const std::vector<std::string>& key, const std::string& kept_table) {
    const std::string cols = dst.column_list(columns);
    const std::string staged = dst.engine() == Engine::postgres ? std::string("pg_temp.") + kStaging : std::string(kStaging);
    if (!kept_table.empty() && !key.empty())
        dst.exec("INSERT INTO " + dst.quote_ident(kept_table) + " (" + cols + ") " + rows_keyed_in(dst, table, columns, key, staged));
    uint64_t inserted = 0;
    if (dst.engine() == Engine::postgres) {
        inserted = dst.exec_count("INSERT INTO " + dst.quote_ident(table) + " (" + cols + ") SELECT " + cols + " FROM pg_temp." +
                                  kStaging + " ON CONFLICT DO NOTHING");
        dst.exec(std::string("DROP TABLE pg_temp.") + kStaging);
    } else {
        // Assigning a column its own value changes nothing: the row already there stays as it is (and
        // counts 0 affected rows), unlike INSERT IGNORE, which would also hide conversion errors.
        const std::string first = dst.quote_ident(columns.at(0));
        inserted = dst.exec_count("INSERT INTO " + dst.quote_ident(table) + " (" + cols + ") SELECT " + cols + " FROM " + kStaging +
                                  " ON DUPLICATE KEY UPDATE " + first + " = " + dst.quote_ident(table) + "." + first);
        dst.exec(std::string("DROP TEMPORARY TABLE ") + kStaging);
    }
    return inserted;
}

}  // namespace mmmove
