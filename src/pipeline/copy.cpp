#include "pipeline/copy.h"

#include <chrono>
#include <iomanip>

namespace mmmove {

bool CopyResult::counts_match() const {
    for (const auto& t : tables)
        if (t.rows_read != t.rows_in_dest) return false;
    return true;
}

namespace {

using Clock = std::chrono::steady_clock;
double since(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

uint64_t count_rows(Database& db, const std::string& table) {
    return std::stoull(db.query("SELECT COUNT(*) FROM " + db.quote_ident(table)).at(0).at(0).value_or("0"));
}

// Streams one table. The destination transaction is the caller's.
TableCopy copy_table(Database& src, Database& dst, const Table& st, const Table& dt, const CopyOptions& o, IssueLog& log) {
    TableCopy tc{st.name, dt.name};
    auto start = Clock::now();
    RowConverter conv(st, dt, src.engine(), dst.engine(), o.policy, log);
    auto reader = src.read_table(st.name, conv.source_columns());
    auto writer = dst.write_table(dt.name, conv.dest_columns(), conv.dest_kinds());
    if (src.engine() == Engine::postgres && dst.engine() == Engine::postgres && conv.identity()) {
        tc.raw = true;
        std::string_view line;
        while (pg_read_raw(*reader, line)) {
            pg_write_raw(*writer, line);
            ++tc.rows_read;
        }
    } else {
        FieldRow row;
        while (reader->next(row)) {
            conv.convert(row);
            writer->write(row);
            ++tc.rows_read;
        }
    }
    writer->finish();
    tc.seconds = since(start);
    return tc;
}

void empty_tables(Database& dst, const std::vector<std::string>& tables) {
    if (tables.empty()) return;
    if (dst.engine() == Engine::postgres) {
        std::string list;
        for (const auto& t : tables) list += (list.empty() ? "" : ", ") + dst.quote_ident(t);
        dst.exec("TRUNCATE " + list);
    } else {
        dst.exec("SET SESSION foreign_key_checks = 0");
        for (const auto& t : tables) dst.exec("TRUNCATE TABLE " + dst.quote_ident(t));
        dst.exec("SET SESSION foreign_key_checks = 1");
    }
}

void refresh_views(Database& dst, const Catalog& cat, std::ostream& log, bool quiet) {
    for (const auto& v : cat.materialized_views) {
        dst.exec("REFRESH MATERIALIZED VIEW " + dst.quote_ident(v));
        if (!quiet) log << "  refreshed materialized view " << v << "\n";
    }
}

}  // namespace

CopyResult run_copy(Database& src, Database& dst, const CopyOptions& o, std::ostream& log) {
    auto start = Clock::now();
    CopyResult result;
    result.check = run_check(src, dst, o.check);
    if (!o.quiet) print_check(result.check, log);
    if (result.check.blocked()) throw Error(result.check.exit_code(), "The copy did not start: see the blocking problems above.");
    if (result.check.create_model) {
        create_schema(dst, *result.check.create_model, o.lower_case_tables);
        if (!o.quiet) log << "  created the Mattermost schema at migration " << result.check.create_model->level << "\n";
        CheckOptions again = o.check;
        again.create_schema = false;
        result.check = run_check(src, dst, again);
        if (result.check.blocked()) {
            print_check(result.check, log);
            throw Error(ExitCode::internal, "The schema mmmove created does not match the source; please report this as a bug.");
        }
    }
    const CheckReport& check = result.check;
    if (o.check.truncate && !check.dest_rows.empty()) {
        std::vector<std::string> names;
        for (const auto& [t, n] : check.dest_rows) names.push_back(t);
        empty_tables(dst, names);
        if (!o.quiet) log << "  emptied " << names.size() << " destination tables (--truncate)\n";
    }

    IssueLog issues(o.report_path);
    std::vector<std::string> loaded;  // content tables committed so far: emptied again on failure
    src.begin_snapshot_read();
    if (dst.engine() == Engine::mysql) dst.exec("SET SESSION foreign_key_checks = 0");
    try {
        std::vector<const Table*> bootstrap;
        for (const Table* st : tables_to_copy(check, o.check)) {
            if (table_role(st->name) == TableRole::server_bootstrap) {
                bootstrap.push_back(st);
                continue;
            }
            const Table& dt = *check.dest.catalog.find(st->name);
            dst.begin();
            TableCopy tc = copy_table(src, dst, *st, dt, o, issues);
            dst.commit();
            loaded.push_back(dt.name);
            if (!o.quiet) log << "  " << std::left << std::setw(28) << dt.name << std::right << std::setw(10) << tc.rows_read << " rows  "
                              << std::fixed << std::setprecision(2) << tc.seconds << " s" << (tc.raw ? "  (raw COPY)" : "") << "\n";
            result.tables.push_back(tc);
        }
        // The rows a freshly started server wrote are replaced by the source's, all at once.
        dst.begin();
        for (const Table* st : bootstrap) {
            const Table& dt = *check.dest.catalog.find(st->name);
            dst.exec("DELETE FROM " + dst.quote_ident(dt.name));
            TableCopy tc = copy_table(src, dst, *st, dt, o, issues);
            if (!o.quiet) log << "  " << std::left << std::setw(28) << dt.name << std::right << std::setw(10) << tc.rows_read << " rows  "
                              << std::fixed << std::setprecision(2) << tc.seconds << " s (replaces the destination's rows)\n";
            result.tables.push_back(tc);
        }
        dst.commit();
        for (const Table* st : bootstrap) loaded.push_back(check.dest.catalog.find(st->name)->name);
        if (dst.engine() == Engine::postgres) refresh_views(dst, check.dest.catalog, log, o.quiet);
    } catch (...) {
        dst.rollback();
        src.rollback();
        // Only content tables (empty before this run) are emptied; bootstrap rows were never committed.
        std::vector<std::string> content;
        for (const auto& t : loaded)
            if (table_role(t) == TableRole::content) content.push_back(t);
        try {
            empty_tables(dst, content);
        } catch (const std::exception&) {
        }
        throw;
    }
    src.rollback();  // the snapshot transaction read only; ending it releases it
    if (dst.engine() == Engine::mysql) dst.exec("SET SESSION foreign_key_checks = 1");
    for (auto& t : result.tables) t.rows_in_dest = count_rows(dst, t.dest_table);
    result.issues = issues.total();
    result.issue_counts = issues.counts();
    result.report_path = issues.total() ? issues.path() : "";
    result.seconds = since(start);
    return result;
}

void print_copy_summary(const CopyResult& r, std::ostream& out) {
    uint64_t rows = 0;
    std::vector<const TableCopy*> mismatched;
    for (const auto& t : r.tables) {
        rows += t.rows_read;
        if (t.rows_read != t.rows_in_dest) mismatched.push_back(&t);
    }
    out << "Summary: " << r.tables.size() << " tables, " << rows << " rows copied in " << std::fixed
        << std::setprecision(1) << r.seconds << " s from " << r.check.source.label << " to " << r.check.dest.label << ".\n";
    for (const auto* t : mismatched)
        out << "  ROW COUNT MISMATCH: " << t->source_table << ": " << t->rows_read << " read from the source, "
            << t->rows_in_dest << " in the destination.\n";
    if (mismatched.empty()) out << "  Row counts match on every table.\n";
    if (r.issues) {
        out << "  " << r.issues << " values were changed to fit the destination; every one is listed in " << r.report_path << ":\n";
        for (const auto& [what, n] : r.issue_counts) out << "    " << n << " × " << what << "\n";
    } else {
        out << "  No value needed changing.\n";
    }
}

}  // namespace mmmove
