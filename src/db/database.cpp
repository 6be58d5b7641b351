#include "db/database.h"

#include "core/printable.h"

namespace mmmove {

const char* column_kind_name(ColumnKind k) {
    switch (k) {
        case ColumnKind::text: return "text";
        case ColumnKind::integer: return "integer";
        case ColumnKind::floating: return "floating";
        case ColumnKind::boolean: return "boolean";
        case ColumnKind::json: return "json";
        case ColumnKind::binary: return "binary";
        case ColumnKind::text_array: return "text array";
        case ColumnKind::enumeration: return "enum";
    }
    return "?";
}

std::unique_ptr<Database> Database::connect(const DataSource& ds, Side side) {
    return ds.engine == Engine::postgres ? connect_postgres(ds, side) : connect_mysql(ds, side);
}

std::string Database::statement_for_message(const std::string& sql) {
    std::string shown = sql;
    auto values = shown.find(" VALUES ");
    if (values != std::string::npos) shown = shown.substr(0, values) + " VALUES …";
    auto literal = shown.find('\'');
    if (shown.rfind("INSERT", 0) == 0 || shown.rfind("UPDATE", 0) == 0)
        if (literal != std::string::npos) shown = shown.substr(0, literal) + "…";
    return shown.size() > 200 ? shown.substr(0, 200) + "…" : shown;
}

void Database::fail(const std::string& what, const std::string& server_message, const std::string& sqlstate) const {
    std::string said = mask_secrets(server_message, ds_);
    // libpq ends its messages with a line break: shown escaped it would read as a stray "\n".
    while (!said.empty() && (said.back() == '\n' || said.back() == '\r' || said.back() == ' ')) said.pop_back();
    std::string msg = std::string("The ") + side_name(side_) + " database (" + ds_.label() + ") " + what;
    // The server's words are shown with their control characters escaped; callers that read them
    // (a refused row's reason) get them as the server wrote them, passwords masked.
    if (!said.empty()) msg += "\n  server said: " + printable(said);
    throw Error(side_exit_code(side_), msg, sqlstate, said);
}

std::string Database::column_list(const std::vector<std::string>& columns) const {
    std::string s;
    for (const auto& c : columns) s += (s.empty() ? "" : ", ") + quote_ident(c);
    return s;
}

bool table_exists(Database& db, const std::string& name) {
    std::string q = db.engine() == Engine::postgres
                        ? "SELECT 1 FROM pg_tables WHERE schemaname = current_schema() AND tablename = " + db.quote_literal(name)
                        : "SELECT 1 FROM information_schema.TABLES WHERE TABLE_SCHEMA = DATABASE() AND TABLE_NAME = " + db.quote_literal(name);
    return !db.query(q).empty();
}

void ValuesInsert::add(const std::string& row) {
    values_ += (values_.empty() ? "" : ", ") + row;
    if (++n_ == per_) finish();
}

void ValuesInsert::finish() {
    if (!values_.empty()) db_.exec(head_ + " VALUES " + values_);
    values_.clear();
    n_ = 0;
}

bool refused_rows(const Error& e) {
    const std::string& s = e.sqlstate();
    return e.code() == ExitCode::destination && s.size() == 5 && (s.rfind("22", 0) == 0 || s.rfind("23", 0) == 0 || s.rfind("54", 0) == 0);
}

bool lost_lock_conflict(const Error& e) {
    return e.code() == ExitCode::destination && (e.sqlstate() == "40001" || e.sqlstate() == "40P01");
}

}  // namespace mmmove
