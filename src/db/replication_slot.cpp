#include "db/replication_slot.h"

#include <algorithm>
#include <random>
#include <regex>

#include "core/error.h"

namespace mmmove {

bool follow_slot_name(const std::string& name) {
    static const std::regex form(R"(mmmove_[a-z0-9_]{1,56})");
    return std::regex_match(name, form);
}

std::string new_follow_slot_name() {
    static const char digits[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;
    std::uniform_int_distribution<int> pick(0, 35);
    std::string name = "mmmove_";
    for (int i = 0; i < 12; ++i) name += digits[pick(rd)];
    return name;
}

bool lsn_form(const std::string& lsn) {
    static const std::regex form(R"([0-9A-F]{1,8}/[0-9A-F]{1,8})");
    return std::regex_match(lsn, form);
}

uint64_t lsn_value(const std::string& lsn) {
    const size_t slash = lsn.find('/');
    return (std::stoull(lsn.substr(0, slash), nullptr, 16) << 32) | std::stoull(lsn.substr(slash + 1), nullptr, 16);
}

std::optional<XidSnapshot> XidSnapshot::parse(const std::string& text) {
    static const std::regex form(R"(([1-9]\d{0,18}):([1-9]\d{0,18}):((?:[1-9]\d{0,18})(?:,[1-9]\d{0,18})*)?)");
    std::smatch m;
    if (text.size() > 21'000'000 || !std::regex_match(text, m, form)) return std::nullopt;
    XidSnapshot s;
    try {
        s.xmin = std::stoull(m[1].str());
        s.xmax = std::stoull(m[2].str());
        const std::string list = m[3].str();
        for (size_t from = 0; from < list.size();) {
            size_t comma = list.find(',', from);
            if (comma == std::string::npos) comma = list.size();
            s.xip.push_back(std::stoull(list.substr(from, comma - from)));
            from = comma + 1;
        }
    } catch (const std::exception&) {
        return std::nullopt;
    }
    if (s.xmin > s.xmax || s.xip.size() > 1'000'000) return std::nullopt;
    std::sort(s.xip.begin(), s.xip.end());
    for (uint64_t x : s.xip)
        if (x < s.xmin || x >= s.xmax) return std::nullopt;
    return s;
}

std::string XidSnapshot::text() const {
    std::string out = std::to_string(xmin) + ":" + std::to_string(xmax) + ":";
    for (size_t i = 0; i < xip.size(); ++i) out += (i ? "," : "") + std::to_string(xip[i]);
    return out;
}

bool XidSnapshot::sees(uint32_t xid) const {
    constexpr uint64_t wrap = uint64_t(1) << 32, half = uint64_t(1) << 31;
    uint64_t full = (xmax & ~(wrap - 1)) | xid;
    if (full > xmax + half && full >= wrap) full -= wrap;
    else if (full + half < xmax) full += wrap;
    if (full < xmin) return true;
    if (full >= xmax) return false;
    return !std::binary_search(xip.begin(), xip.end(), full);
}

std::string create_follow_slot(Database& conn, const std::string& name) {
    if (!follow_slot_name(name)) throw Error(ExitCode::bad_input, "not a slot name mmmove makes");
    // Creating waits for the transactions running on the cluster; one that never ends must not hold the copy.
    conn.exec("SET statement_timeout = '120s'");
    auto level = conn.query("SHOW wal_level");
    if (level.empty() || level[0][0].value_or("") != "logical")
        throw Error(ExitCode::source, "its wal_level is " + (level.empty() ? std::string("unknown") : level[0][0].value_or("?")) +
                                          ", not logical (set wal_level = logical and restart PostgreSQL)");
    conn.query("SELECT 1 FROM pg_create_logical_replication_slot(" + conn.quote_literal(name) + ", 'test_decoding')");
    conn.exec("SET statement_timeout = 0");
    return follow_slot_state(conn, name).confirmed_lsn;
}

SlotState follow_slot_state(Database& conn, const std::string& name) {
    SlotState s;
    if (!follow_slot_name(name)) return {"", "its name is not one mmmove makes"};
    auto rows = conn.query("SELECT plugin, slot_type, (database = current_database())::text, coalesce(wal_status, ''), "
                           "coalesce(confirmed_flush_lsn::text, '') FROM pg_replication_slots WHERE slot_name = " +
                           conn.quote_literal(name));
    if (rows.empty()) return {"", "the slot " + name + " no longer exists on the source"};
    auto at = [&](size_t i) { return rows[0][i].value_or(""); };
    if (at(1) != "logical" || at(0) != "test_decoding") return {"", "the slot " + name + " is not a test_decoding logical slot"};
    if (at(2) != "true") return {"", "the slot " + name + " belongs to another database"};
    if (at(3) == "lost") return {"", "the slot " + name + " was invalidated (it fell behind max_slot_wal_keep_size)"};
    if (!lsn_form(at(4))) return {"", "the slot " + name + " has no confirmed position"};
    s.confirmed_lsn = at(4);
    return s;
}

std::string follow_slot_position(Database& conn, const std::string& name) {
    if (!follow_slot_name(name)) return "";
    auto rows = conn.query("SELECT coalesce(confirmed_flush_lsn::text, '') FROM pg_replication_slots WHERE slot_name = " +
                           conn.quote_literal(name) + " AND database = current_database()");
    const std::string lsn = rows.empty() ? "" : rows[0][0].value_or("");
    return lsn_form(lsn) ? lsn : "";
}

std::vector<std::string> follow_slots_here(Database& conn) {
    std::vector<std::string> names;
    for (const auto& r : conn.query("SELECT slot_name FROM pg_replication_slots WHERE slot_type = 'logical' AND "
                                    "database = current_database() ORDER BY slot_name"))
        if (follow_slot_name(r[0].value_or(""))) names.push_back(*r[0]);
    return names;
}

bool drop_follow_slot(Database& conn, const std::string& name) {
    if (!follow_slot_name(name)) return false;
    auto rows = conn.query("SELECT 1 FROM pg_replication_slots WHERE slot_name = " + conn.quote_literal(name));
    if (rows.empty()) return false;
    conn.query("SELECT pg_drop_replication_slot(" + conn.quote_literal(name) + ")");
    return true;
}

XidSnapshot current_xid_snapshot(Database& db) {
    auto rows = db.query("SELECT pg_current_snapshot()::text");
    auto s = rows.empty() ? std::nullopt : XidSnapshot::parse(rows[0][0].value_or(""));
    if (!s) throw Error(ExitCode::source, "PostgreSQL gave a snapshot mmmove cannot read");
    return *s;
}

std::string flushed_lsn_now(Database& conn) {
    conn.exec("SET synchronous_commit = on");
    conn.begin();
    std::string lsn;
    try {
        // A transaction that wrote no WAL commits asynchronously even under synchronous_commit = on;
        // an empty transactional decoding message (WAL only, no data) makes its commit flush.
        conn.query("SELECT pg_logical_emit_message(true, 'mmmove', '')");
        lsn = conn.query("SELECT pg_current_wal_insert_lsn()::text").at(0).at(0).value_or("");
        conn.commit();
    } catch (...) {
        conn.rollback();
        throw;
    }
    if (!lsn_form(lsn)) throw Error(ExitCode::source, "PostgreSQL gave a WAL position mmmove cannot read");
    return lsn;
}

std::string advance_follow_slot(Database& conn, const std::string& name, const std::string& lsn) {
    if (!follow_slot_name(name) || !lsn_form(lsn)) throw Error(ExitCode::bad_input, "not a slot or position mmmove makes");
    const std::string slot = conn.quote_literal(name), to = conn.quote_literal(lsn) + "::pg_lsn";
    conn.query("SELECT pg_replication_slot_advance(" + slot + ", " + to + ") FROM pg_replication_slots WHERE slot_name = " + slot +
               " AND confirmed_flush_lsn < " + to);
    return follow_slot_state(conn, name).confirmed_lsn;
}

std::string drop_slot_sql(const std::string& name) { return "SELECT pg_drop_replication_slot('" + name + "')"; }

}  // namespace mmmove
