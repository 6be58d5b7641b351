#include "pipeline/record_table.h"

#include "core/kill_point.h"
#include "db/transaction.h"

namespace mmmove {

void replace_record_table(Database& dst, const std::string& table, const char* kill_at, const RecordTableWriter& writer) {
    if (dst.engine() == Engine::postgres) {
        Transaction t(dst);
        dst.exec("DROP TABLE IF EXISTS " + table);
        kill_point(kill_at);
        writer.create(table);
        kill_point(kill_at);
        writer.insert(table);
        kill_point(kill_at);
        t.commit();
        kill_point(kill_at);
        return;
    }
    const std::string next = table + "_next", previous = table + "_previous";
    dst.exec("DROP TABLE IF EXISTS " + next + ", " + previous);
    kill_point(kill_at);
    writer.create(next);
    kill_point(kill_at);
    writer.insert(next);
    kill_point(kill_at);
    if (table_exists(dst, table))
        dst.exec("RENAME TABLE " + table + " TO " + previous + ", " + next + " TO " + table);
    else
        dst.exec("RENAME TABLE " + next + " TO " + table);
    kill_point(kill_at);
    dst.exec("DROP TABLE IF EXISTS " + previous);
    kill_point(kill_at);
}

void drop_record_table(Database& dst, const std::string& table) {
    dst.exec("DROP TABLE IF EXISTS " + table);
    if (dst.engine() != Engine::postgres) dst.exec("DROP TABLE IF EXISTS " + table + "_next, " + table + "_previous");
}

}  // namespace mmmove
