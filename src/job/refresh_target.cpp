#include "job/refresh_target.h"

#include <regex>

#include "core/clock.h"
#include "core/error.h"
#include "catalog/anonymise_model.h"
#include "catalog/catalog.h"
#include "db/transaction.h"
#include "job/job_config.h"
#include "merge/id_map.h"

namespace mmmove {

namespace {

constexpr const char* kRefreshTable = "mmmove_refresh";

// The value of the model's identity row in Systems, or "" (no such table or row). `cat`: db's catalog.
std::string identity_of(Database& db, const Catalog& cat) {
    const AnonymisedSystems& sys = anonymised_systems();
    if (sys.table.empty()) return "";
    const Table* t = cat.find(sys.table);
    const Column* name = t ? t->find_column(sys.name_column) : nullptr;
    const Column* value = t ? t->find_column(sys.value_column) : nullptr;
    if (!name || !value) return "";
    auto rows = db.query("SELECT " + db.quote_ident(value->name) + " FROM " + db.quote_ident(t->name) + " WHERE " +
                         db.quote_ident(name->name) + " = " + db.quote_literal(sys.identity));
    return rows.size() == 1 ? rows[0][0].value_or("") : "";
}

}  // namespace

void refuse_source_as_destination(Database& src, Database& dst, const Job& job, bool force, std::vector<std::string>& warnings) {
    // The server's own word that both are one database is not a guess --force could overrule: a refresh
    // would empty the source, a move would sync it into itself and then stop it.
    if (same_database(src, dst))
        throw Error(ExitCode::destination, "The destination " + dst.data_source().label() + " is the source's database (the server "
                                           "says so, whatever the DSNs). Nothing was done, and --force does not change that: check "
                                           "`destination:` in " + job.file + ".");
    std::string problem;
    // A move's new server takes over the old one's address: the same SiteURL is what a move expects.
    if (problem.empty() && job.mode != "move") {
        auto from = site_url_of(config_location_of(job.source), Side::source);
        auto to = site_url_of(config_location_of(job.destination), Side::destination);
        if (from && to && *from == *to)
            problem = "The destination's configuration has the source's SiteURL (" + *to + "): it looks like the production server.";
    }
    if (problem.empty()) return;
    if (force) {
        warnings.push_back(problem + " Going on because of --force.");
        return;
    }
    throw Error(ExitCode::destination, problem + " Nothing was done. Check `destination:` in " + job.file +
                                           "; if this really is the target, run again with --force.");
}

bool holds_earlier_refresh(Database& dst) {
    if (!table_exists(dst, kRefreshTable)) return false;
    return !dst.query("SELECT 1 FROM " + dst.quote_ident(kRefreshTable)).empty();
}

bool holds_finished_refresh_by(Database& dst, const std::string& job) {
    if (!table_exists(dst, kRefreshTable)) return false;
    auto rows = dst.query("SELECT finished FROM " + dst.quote_ident(kRefreshTable) + " WHERE job = " + dst.quote_literal(job));
    static const std::regex finished(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)");
    return rows.size() == 1 && rows[0].size() == 1 && rows[0][0] && std::regex_match(*rows[0][0], finished);
}

void record_refresh_start(Database& dst, const std::string& job, const std::string& source_label) {
    if (!table_exists(dst, kRefreshTable))
        dst.exec("CREATE TABLE " + dst.quote_ident(kRefreshTable) + " (job VARCHAR(200) NOT NULL PRIMARY KEY, source VARCHAR(500) NOT NULL, " +
                 "started VARCHAR(40) NOT NULL, finished VARCHAR(40))");
    std::string table = dst.quote_ident(kRefreshTable);
    Transaction tx(dst);
    dst.exec("DELETE FROM " + table + " WHERE job = " + dst.quote_literal(job));
    dst.exec("INSERT INTO " + table + " (job, source, started, finished) VALUES (" + dst.quote_literal(job) + ", " +
             dst.quote_literal(source_label) + ", " + dst.quote_literal(utc_timestamp("%Y-%m-%d %H:%M:%S UTC")) + ", NULL)");
    tx.commit();
}

void record_refresh_end(Database& dst, const std::string& job) {
    dst.exec("UPDATE " + dst.quote_ident(kRefreshTable) + " SET finished = " + dst.quote_literal(utc_timestamp("%Y-%m-%d %H:%M:%S UTC")) +
             " WHERE job = " + dst.quote_literal(job));
}

std::string staging_identity(Database& src, const Catalog& src_catalog, Database& dst, const Catalog& dst_catalog) {
    const std::string own = identity_of(dst, dst_catalog);
    if (is_mattermost_id(own) && own != identity_of(src, src_catalog)) return own;
    return new_mattermost_id();
}

}  // namespace mmmove
