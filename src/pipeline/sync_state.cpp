#include "pipeline/sync_state.h"

#include <algorithm>
#include <nlohmann/json.hpp>
#include <regex>

#include "core/error.h"
#include "core/json_depth.h"
#include "pipeline/record_table.h"

namespace mmmove {
namespace {

constexpr size_t kMaxKeyDigestsBytes = 1 << 20;

bool printable_ascii(const std::string& v, size_t max) {
    return v.size() <= max && std::all_of(v.begin(), v.end(), [](char c) { return c >= 0x20 && c < 0x7f; });
}

bool mattermost_id(const std::string& v) {
    return !v.empty() && v.size() <= 64 && std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

[[noreturn]] void refuse(const std::string& what) {
    throw Error(ExitCode::destination, std::string("The destination's record of what mmmove copied into it (table ") + kSyncStateTable +
                                           ") holds " + what + ", which mmmove does not write. Fill the destination again with "
                                           "mmmove copy --truncate before syncing it.");
}

// A fingerprint as stored: 64 lower-case hex digits, or "" (none).
bool fingerprint_form(const std::string& v) {
    return v.empty() || (v.size() == 64 && std::all_of(v.begin(), v.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); }));
}

// A horizon as stored: "" or SYSTEM_ID/TIMELINE:XMIN in decimal (sync/seen_rows.h checks it again).
bool horizon_form(const std::string& v) {
    static const std::regex form(R"(\d{1,20}/\d{1,10}:\d{1,20})");
    return v.empty() || std::regex_match(v, form);
}

// Key digests as stored: printable ASCII of a bounded size (sync/key_ledger.h checks the form); a
// value otherwise is not refused but read as "" (none): the next sync then compares both sides.
bool digests_form(const std::string& v) { return printable_ascii(v, kMaxKeyDigestsBytes); }

// The snapshot moment as stored: decimal digits of a positive number of ms, or "" for unknown.
std::string snapshot_text(const std::optional<int64_t>& ms) { return ms && *ms > 0 ? std::to_string(*ms) : ""; }

// Table names left behind, as stored: a JSON array of strings (any name a catalog may hold is data).
std::string left_behind_text(const std::vector<std::string>& tables) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto& t : tables) list.push_back(t);
    return list.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

// The stored list back: an array of at most 10,000 names of 1 to 256 bytes without control characters
// (PostgreSQL's names are 63 bytes, MySQL's 64 characters), or the record is refused.
std::vector<std::string> left_behind_of(const std::string& text) {
    if (text.size() > 4'000'000 || json_deeper_than(text, 1)) refuse("a list of tables left behind");
    auto list = nlohmann::json::parse(text, nullptr, false);
    if (list.is_discarded() || !list.is_array() || list.size() > 10'000) refuse("a list of tables left behind");
    std::vector<std::string> tables;
    for (const auto& t : list) {
        if (!t.is_string()) refuse("a list of tables left behind");
        const std::string& name = t.get_ref<const std::string&>();
        if (name.empty() || name.size() > 256 || std::any_of(name.begin(), name.end(), [](char c) { return c >= 0 && c < 0x20; }))
            refuse("a list of tables left behind");
        tables.push_back(name);
    }
    return tables;
}

// The record table's column names, lower case, in no particular order.
std::vector<std::string> record_columns(Database& dst) {
    const bool pg = dst.engine() == Engine::postgres;
    std::vector<std::string> names;
    for (const auto& r : dst.query(std::string("SELECT column_name FROM information_schema.columns WHERE table_schema = ") +
                                   (pg ? "current_schema()" : "DATABASE()") + " AND table_name = " + dst.quote_literal(kSyncStateTable)))
        names.push_back(lower(r[0].value_or("")));
    return names;
}

// The record table under `name`, created empty with the current columns.
void create_record_table(Database& dst, const std::string& name) {
    dst.exec("CREATE TABLE " + name +
             " (id integer NOT NULL PRIMARY KEY, source varchar(400) NOT NULL, diagnostic_id varchar(64) NOT NULL, "
             "command varchar(16) NOT NULL, finished varchar(32) NOT NULL, transformed integer NOT NULL, snapshot_ms varchar(20) NOT NULL, "
             "left_behind text NOT NULL, fingerprint varchar(64) NOT NULL, horizon varchar(64) NOT NULL, key_digests text NOT NULL)");
}

void insert_record(Database& dst, const std::string& table, const SyncState& s) {
    // What goes in has the form read_sync_state accepts: a label with other characters is shown as "?".
    std::string source = printable_ascii(s.source, 300) ? s.source : "?";
    dst.exec("INSERT INTO " + table +
             " (id, source, diagnostic_id, command, finished, transformed, snapshot_ms, left_behind, fingerprint, horizon, key_digests) VALUES (1, " +
             dst.quote_literal(source) + ", " +
             dst.quote_literal(mattermost_id(s.diagnostic_id) ? s.diagnostic_id : "") + ", " + dst.quote_literal(s.command) + ", " +
             dst.quote_literal(s.finished) + ", " + (s.transformed ? "1" : "0") + ", " + dst.quote_literal(snapshot_text(s.snapshot_ms)) + ", " +
             dst.quote_literal(left_behind_text(s.left_behind)) + ", " +
             dst.quote_literal(s.transformed && fingerprint_form(s.fingerprint) ? s.fingerprint : "") + ", " +
             dst.quote_literal(horizon_form(s.horizon) ? s.horizon : "") + ", " +
             dst.quote_literal(digests_form(s.key_digests) ? s.key_digests : "") + ")");
}

}  // namespace

// Replaced as pipeline/record_table.h says: a kill anywhere leaves the old record or the new one.
void record_sync_state(Database& dst, const SyncState& s) {
    replace_record_table(dst, kSyncStateTable, "sync-state",
                         {[&](const std::string& t) { create_record_table(dst, t); }, [&](const std::string& t) { insert_record(dst, t, s); }});
}

void forget_sync_state(Database& dst) { drop_record_table(dst, kSyncStateTable); }

void forget_key_digests(Database& dst) {
    if (!table_exists(dst, kSyncStateTable)) return;
    const std::vector<std::string> names = record_columns(dst);
    if (std::find(names.begin(), names.end(), "key_digests") == names.end()) return;  // an older record holds none
    dst.exec(std::string("UPDATE ") + kSyncStateTable + " SET key_digests = '' WHERE key_digests <> ''");
}

std::optional<SyncState> read_sync_state(Database& dst) {
    if (!table_exists(dst, kSyncStateTable)) return std::nullopt;
    // By name: a record an older mmmove wrote has no snapshot_ms column (then the moment is unknown) or
    // no left_behind column (then no table was left behind, as far as sync knows) or no fingerprint
    // column (then no anonymised refresh is synced into it) or no horizon column (then the next sync
    // compares every stamped row) or no key_digests column (then it compares both sides' keys).
    const std::vector<std::string> names = record_columns(dst);
    auto has = [&](const char* c) { return std::find(names.begin(), names.end(), c) != names.end(); };
    const bool with_moment = has("snapshot_ms"), with_left_behind = has("left_behind"), with_fingerprint = has("fingerprint"),
               with_horizon = has("horizon"), with_digests = has("key_digests");
    if (names.size() != 6u + with_moment + with_left_behind + with_fingerprint + with_horizon + with_digests || !has("id") || !has("source") || !has("diagnostic_id") ||
        !has("command") || !has("finished") || !has("transformed"))
        refuse("other columns");
    auto rows = dst.query(std::string("SELECT source, diagnostic_id, command, finished, transformed, ") +
                          (with_moment ? "snapshot_ms" : "''") + ", " + (with_left_behind ? "left_behind" : "'[]'") + ", " +
                          (with_fingerprint ? "fingerprint" : "''") + ", " + (with_horizon ? "horizon" : "''") + ", " +
                          (with_digests ? "key_digests" : "''") + " FROM " +
                          kSyncStateTable);
    if (rows.empty()) return std::nullopt;
    if (rows.size() > 1) refuse("more than one row");
    std::optional<std::string> moment = rows[0][5];  // NULL: unknown
    for (size_t i = 0; i < rows[0].size(); ++i)
        if (!rows[0][i] && i != 5) refuse("a NULL");
    const std::string left_behind = *rows[0][6];
    SyncState s;
    s.source = *rows[0][0];
    s.diagnostic_id = *rows[0][1];
    s.command = *rows[0][2];
    s.finished = *rows[0][3];
    const std::string& transformed = *rows[0][4];
    static const std::regex timestamp(R"(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC)");
    if (!printable_ascii(s.source, 300) || s.source.empty()) refuse("a source name");
    if (!s.diagnostic_id.empty() && !mattermost_id(s.diagnostic_id)) refuse("a DiagnosticId");
    if (s.command != "copy" && s.command != "refresh" && s.command != "sync") refuse("a command name");
    if (!std::regex_match(s.finished, timestamp)) refuse("a time");
    if (transformed != "0" && transformed != "1") refuse("a flag");
    s.transformed = transformed == "1";
    if (moment) {
        // Up to 15 digits, no leading zero: a Unix time in ms before the year 33000; "" is unknown.
        static const std::regex ms(R"([1-9]\d{0,14})");
        if (!moment->empty() && !std::regex_match(*moment, ms)) refuse("a snapshot time");
        if (!moment->empty()) s.snapshot_ms = std::stoll(*moment);
    }
    s.left_behind = left_behind_of(left_behind);
    const std::string& fingerprint = *rows[0][7];
    if (!fingerprint_form(fingerprint) || (!fingerprint.empty() && !s.transformed)) refuse("a fingerprint");
    s.fingerprint = fingerprint;
    if (!horizon_form(*rows[0][8])) refuse("a snapshot horizon");
    s.horizon = *rows[0][8];
    if (digests_form(*rows[0][9])) s.key_digests = *rows[0][9];
    return s;
}

std::string source_diagnostic_id(Database& db, const Catalog& catalog) {
    const Table* systems = catalog.find("systems");
    if (!systems) return "";
    const Column* name = systems->find_column("name");
    const Column* value = systems->find_column("value");
    if (!name || !value) return "";
    auto r = db.query("SELECT " + db.quote_ident(value->name) + " FROM " + db.quote_ident(systems->name) + " WHERE " +
                      db.quote_ident(name->name) + " = 'DiagnosticId'");
    std::string id = r.empty() ? "" : r[0][0].value_or("");
    return mattermost_id(id) ? id : "";
}

}  // namespace mmmove
