#include "merge/same_instance.h"

#include "db/database_identity.h"

namespace mmmove {
namespace {

// The tables whose ids are sampled: Mattermost's NewId makes them at random, so two instances that
// were never one share none of them, and a copy shares them all.
constexpr const char* kSampledTables[] = {"Users", "Posts"};
constexpr int kSample = 200;
// More than this share of the sample on both sides is a copy (a single id in common, as the merge's
// collision handling expects now and then, is not).
constexpr double kCloneShare = 0.1;

struct Shared {
    std::string table;
    size_t sampled = 0, shared = 0;
};

Shared shared_ids(Database& src, Database& dst, const CheckReport& check, const char* name) {
    Shared s{name};
    const Table* st = check.source.catalog.find(name);
    const Table* dt = check.dest.catalog.find(name);
    if (!st || !dt) return s;
    if (st->primary_key.size() != 1 || dt->primary_key.size() != 1) return s;
    const std::string sid = src.quote_ident(st->primary_key[0]), did = dst.quote_ident(dt->primary_key[0]);
    std::string list;
    for (const auto& r : src.query("SELECT " + sid + " FROM " + src.quote_ident(st->name) + " ORDER BY " + sid + " LIMIT " + std::to_string(kSample))) {
        if (!r[0]) continue;
        list += (list.empty() ? "" : ", ") + dst.quote_literal(*r[0]);
        ++s.sampled;
    }
    if (list.empty()) return s;
    auto n = dst.query("SELECT COUNT(*) FROM " + dst.quote_ident(dt->name) + " WHERE " + did + " IN (" + list + ")");
    s.shared = std::stoull(n.at(0).at(0).value_or("0"));
    return s;
}

const char* kWhatToDo =
    " A merge would add every row the two share a second time (posts, reactions, files, webhooks); nothing was written.";

}  // namespace

std::string diagnostic_id(Database& db, const Catalog& catalog) {
    const Table* systems = catalog.find("systems");
    if (!systems) return "";
    auto r = db.query("SELECT Value FROM " + db.quote_ident(systems->name) + " WHERE Name = 'DiagnosticId'");
    return r.empty() ? "" : r[0][0].value_or("");
}

void check_distinct_instances(Database& src, Database& dst, CheckReport& check, bool resumed) {
    auto block = [&](const std::string& text) { check.findings.push_back({Finding::Severity::blocking, ExitCode::destination, text}); };
    if (same_database(src, dst))
        return block("The destination " + dst.data_source().label() + " is the source's database (the servers say so, whatever the "
                     "DSNs): an instance cannot be merged into itself." + kWhatToDo + " Check --to.");
    const std::string from = diagnostic_id(src, check.source.catalog), to = diagnostic_id(dst, check.dest.catalog);
    if (!from.empty() && from == to)
        return block("The destination has the source's DiagnosticId (" + from + "): it is a copy of the same Mattermost instance." +
                     kWhatToDo + " To bring a copy up to date, copy or refresh it (mmmove copy --truncate, or a refresh job); "
                     "merge only instances that were never copied from one another.");
    if (resumed) return;
    for (const char* table : kSampledTables) {
        Shared s = shared_ids(src, dst, check, table);
        if (s.sampled == 0 || static_cast<double>(s.shared) <= kCloneShare * static_cast<double>(s.sampled)) continue;
        return block(std::to_string(s.shared) + " of " + std::to_string(s.sampled) + " sampled source " + s.table +
                     " ids are already in the destination: it is a copy of the source (its DiagnosticId changed), or holds "
                     "rows of it from an earlier copy or merge." + kWhatToDo +
                     " To bring a copy up to date, copy or refresh it (mmmove copy --truncate, or a refresh job).");
    }
}

}  // namespace mmmove
