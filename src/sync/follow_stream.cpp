// Reading test_decoding's text (see follow_stream.h). Its form, as PostgreSQL 15 prints it:
//   table <schema>.<table>: <INSERT|UPDATE|DELETE|TRUNCATE>: <tuple> | (no-tuple-data) | <flags>
//   UPDATE may print " old-key:" <tuple> " new-tuple:" <tuple> when the key changed;
//   a tuple is " <name>[<type>]:<value>" per column; names as quote_identifier() prints them; values
//   null, unchanged-toast-datum, bare numbers and booleans, or a '…' literal with ' doubled.
#include "sync/follow_stream.h"

#include <algorithm>

#include "verify/table_compare.h"

namespace mmmove::sync_detail {
namespace {

struct Cursor {
    const std::string& s;
    size_t at = 0;
    bool starts(std::string_view w) const { return s.compare(at, w.size(), w) == 0; }
    bool take(std::string_view w) {
        if (!starts(w)) return false;
        at += w.size();
        return true;
    }
    bool done() const { return at >= s.size(); }
};

// An identifier as quote_identifier() prints it: "…" with " doubled, or bare: [a-z_][a-z0-9_]* (every
// other name is quoted), followed by one of `stops`. Anything else is not an identifier: the line is
// not one mmmove can read (a bare run up to the stop would take "a, public.b" for one name).
std::optional<std::string> identifier(Cursor& c, std::string_view stops) {
    std::string out;
    if (c.take("\"")) {
        for (;;) {
            if (c.done()) return std::nullopt;
            char ch = c.s[c.at++];
            if (ch != '"') { out += ch; continue; }
            if (c.take("\"")) { out += '"'; continue; }
            return out;
        }
    }
    auto bare = [](char ch, bool first) { return (ch >= 'a' && ch <= 'z') || ch == '_' || (!first && ch >= '0' && ch <= '9'); };
    while (!c.done() && bare(c.s[c.at], out.empty())) out += c.s[c.at++];
    if (out.empty() || c.done() || stops.find(c.s[c.at]) == std::string_view::npos) return std::nullopt;
    return out;
}

// A '…' literal with ' doubled, the cursor on its opening quote.
std::optional<std::string> literal(Cursor& c) {
    std::string out;
    if (!c.take("'")) return std::nullopt;
    for (;;) {
        if (c.done()) return std::nullopt;
        char ch = c.s[c.at++];
        if (ch != '\'') { out += ch; continue; }
        if (c.take("'")) { out += '\''; continue; }
        return out;
    }
}

// Columns until the end or " new-tuple:" (left for the caller).
std::optional<std::vector<DecodedColumn>> tuple(Cursor& c) {
    std::vector<DecodedColumn> cols;
    while (!c.done() && !c.starts(" new-tuple:")) {
        if (!c.take(" ")) return std::nullopt;
        DecodedColumn col;
        auto name = identifier(c, "[");
        if (!name || !c.take("[")) return std::nullopt;
        col.name = *name;
        // The type as format_type_be() prints it: a name in "…" may itself hold "]:".
        size_t end = c.at;
        for (bool quoted = false; end + 1 < c.s.size(); ++end) {
            if (c.s[end] == '"') quoted = !quoted;
            else if (!quoted && c.s[end] == ']' && c.s[end + 1] == ':') break;
        }
        if (end + 1 >= c.s.size()) return std::nullopt;
        col.type = c.s.substr(c.at, end - c.at);
        c.at = end + 2;
        if (c.starts("'") || c.starts("B'")) {
            c.take("B");
            auto v = literal(c);
            if (!v) return std::nullopt;
            col.value = std::move(*v);
            col.quoted = true;
        } else {
            size_t stop = c.s.find(' ', c.at);
            if (stop == std::string::npos) stop = c.s.size();
            col.value = c.s.substr(c.at, stop - c.at);
            c.at = stop;
        }
        cols.push_back(std::move(col));
    }
    return cols;
}

// Key columns of these types are printed as the servers spell them, and mmmove names them as literals.
bool key_type(const DecodedColumn& c) {
    if (c.type == "character varying" || c.type == "text") return c.quoted;
    if (c.type == "bigint" || c.type == "integer" || c.type == "smallint")
        return !c.quoted && !c.value.empty() &&
               c.value.find_first_not_of("-0123456789") == std::string::npos;
    return false;
}

}  // namespace

std::optional<DecodedChange> parse_decoded_change(const std::string& line) {
    Cursor c{line};
    DecodedChange d;
    if (!c.take("table ")) return std::nullopt;
    // One qualified name; a TRUNCATE of several tables prints them all, separated by ", ".
    do {
        auto schema = identifier(c, ".");
        if (!schema || !c.take(".")) return std::nullopt;
        auto table = identifier(c, ":,");
        if (!table) return std::nullopt;
        if (d.table.empty()) d.schema = *schema, d.table = *table;
        else d.also.emplace_back(*schema, *table);
    } while (c.take(", "));
    if (!c.take(": ")) return std::nullopt;
    for (const char* action : {"INSERT", "UPDATE", "DELETE", "TRUNCATE"})
        if (c.take(std::string(action) + ":")) d.action = action;
    if (d.action.empty() || (!d.also.empty() && d.action != "TRUNCATE")) return std::nullopt;
    if (d.action == "TRUNCATE" || c.starts(" (no-tuple-data)")) return d;  // no key: tuples stay empty
    if (d.action == "UPDATE" && c.take(" old-key:")) {
        auto old = tuple(c);
        if (!old || !c.take(" new-tuple:")) return d.tuples.clear(), d;
        d.tuples.push_back(std::move(*old));
    }
    auto row = tuple(c);
    if (!row || !c.done()) {
        d.tuples.clear();
        return d;
    }
    d.tuples.push_back(std::move(*row));
    return d;
}

std::optional<std::vector<std::string>> change_keys(const DecodedChange& change, const std::vector<std::string>& key_columns) {
    if (change.tuples.empty() || key_columns.empty()) return std::nullopt;
    std::vector<std::string> keys;
    for (const auto& t : change.tuples) {
        std::vector<const DecodedColumn*> values;
        for (const auto& name : key_columns) {
            const DecodedColumn* found = nullptr;
            for (const auto& col : t) {
                if (col.name != name) continue;
                if (found) return std::nullopt;  // a name twice: the line was not read as printed
                found = &col;
            }
            if (!found || !key_type(*found)) return std::nullopt;
            values.push_back(found);
        }
        FieldRow row;
        for (const auto* v : values) row.push_back(Field::of(v->value));
        keys.push_back(verify_detail::TableComparer::key_of(row));
    }
    return keys;
}

namespace {

void scan_table(TableHints& t, std::string why) {
    if (t.scan) return;
    t.scan = true;
    t.why = std::move(why);
    std::set<std::string>().swap(t.keys);
}

// One change line of a transaction the previous pass did not see.
void take_change(StreamHints& out, const std::string& data, const std::string& schema,
                 const std::map<std::string, std::vector<std::string>>& key_columns, size_t max_keys) {
    auto change = parse_decoded_change(data);
    if (!change) {
        out.unusable = true;
        out.why = "a change line mmmove cannot read";
        return;
    }
    if (change->action == "TRUNCATE") {
        change->also.emplace_back(change->schema, change->table);
        for (const auto& [s, table] : change->also)
            if (s == schema && key_columns.count(table)) scan_table(out.tables[table], "truncated");
        return;
    }
    if (change->schema != schema) return;
    auto columns = key_columns.find(change->table);
    if (columns == key_columns.end()) return;  // a table this sync does not bring over
    TableHints& t = out.tables[change->table];
    if (t.scan) return;
    auto keys = change_keys(*change, columns->second);
    if (!keys) return scan_table(t, change->action == "TRUNCATE" ? "truncated" : "a change without a key mmmove can name");
    for (auto& k : *keys) t.keys.insert(std::move(k));
    if (t.keys.size() > max_keys) scan_table(t, "more than " + std::to_string(max_keys) + " keys changed");
}

uint32_t xid_of(const std::optional<std::string>& text) {
    const std::string v = text.value_or("");
    if (v.empty() || v.size() > 10 || v.find_first_not_of("0123456789") != std::string::npos) return 0;
    const unsigned long long x = std::stoull(v);
    return x > 0xFFFFFFFFull ? 0 : static_cast<uint32_t>(x);
}

}  // namespace

std::map<std::string, std::string> tables_stream_cannot_tell(Database& conn, const std::string& schema,
                                                             const std::map<std::string, std::vector<std::string>>& key_columns) {
    struct Facts {
        std::string kind, identity;
        bool children = false;
        std::set<std::string> identity_columns;  // the primary key's (identity d) or the identity index's (i)
    };
    std::map<std::string, Facts> facts;
    // One row per identity column (or one with a NULL column when there is none).
    const auto rows = conn.query(
        "SELECT c.relname::text, c.relkind::text, c.relreplident::text, "
        "EXISTS (SELECT 1 FROM pg_inherits i WHERE i.inhparent = c.oid)::text, a.attname::text "
        "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
        "LEFT JOIN pg_index x ON x.indrelid = c.oid AND ((c.relreplident = 'd' AND x.indisprimary) OR "
        "(c.relreplident = 'i' AND x.indisreplident)) "
        "LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = ANY (x.indkey) AND a.attnum > 0 "
        "WHERE n.nspname = " + conn.quote_literal(schema) + " AND c.relkind IN ('r', 'p', 'v', 'm', 'f')");
    for (const auto& r : rows) {
        if (r.size() != 5 || !r[0]) continue;
        Facts& f = facts[*r[0]];
        f.kind = r[1].value_or(""), f.identity = r[2].value_or(""), f.children = r[3].value_or("") == "true";
        if (r[4]) f.identity_columns.insert(*r[4]);
    }
    std::map<std::string, std::string> out;
    for (const auto& [table, keys] : key_columns) {
        auto it = facts.find(table);
        if (it == facts.end()) {
            out[table] = "not found by that name in the source's catalog";
            continue;
        }
        const Facts& f = it->second;
        if (f.kind != "r") out[table] = "not a plain table";
        else if (f.children) out[table] = "it has inheriting or partition tables, whose changes the stream names apart";
        else if (f.identity == "f") continue;
        else if (f.identity == "n") out[table] = "its replica identity is NOTHING: the stream prints no old key";
        else if (!std::all_of(keys.begin(), keys.end(), [&](const std::string& k) { return f.identity_columns.count(k) > 0; }))
            out[table] = "its replica identity does not cover mmmove's key: the stream may print no old key";
    }
    return out;
}

StreamHints read_follow_stream(Database& conn, const std::string& slot, const std::string& upto, const XidSnapshot& previous,
                               const XidSnapshot& current, const std::string& schema,
                               const std::map<std::string, std::vector<std::string>>& key_columns, size_t max_keys) {
    StreamHints out;
    if (!follow_slot_name(slot) || !lsn_form(upto)) return out.unusable = true, out.why = "not a slot mmmove follows", out;
    conn.begin();
    try {
        // Peeked, never consumed: the slot moves only once the pass is complete (advance_follow_slot).
        conn.exec("DECLARE mmmove_follow NO SCROLL CURSOR FOR SELECT lsn::text, xid::text, data FROM pg_logical_slot_peek_changes(" +
                  conn.quote_literal(slot) + ", " + conn.quote_literal(upto) +
                  "::pg_lsn, NULL, 'include-xids', '1', 'skip-empty-xacts', '1')");
        bool skip = false, held = false;  // held: a transaction `current` does not see came: advance no further
        for (;;) {
            auto rows = conn.query("FETCH 2000 FROM mmmove_follow");
            if (rows.empty()) break;
            for (const auto& r : rows) {
                if (r.size() != 3 || !r[2]) continue;
                const std::string& data = *r[2];
                const uint32_t xid = xid_of(r[1]);
                ++out.lines;
                if (data.rfind("BEGIN", 0) == 0) {
                    ++out.transactions;
                    skip = xid != 0 && previous.sees(xid);  // its rows are in the destination already
                } else if (data.rfind("COMMIT", 0) == 0) {
                    if (held || xid == 0 || !current.sees(xid)) held = true;
                    else if (lsn_form(r[0].value_or(""))) out.advance_to = *r[0];
                } else if (data.rfind("table ", 0) == 0 && !skip && !out.unusable) {
                    take_change(out, data, schema, key_columns, max_keys);
                }
            }
        }
        // No transaction up to `upto` that `current` does not see: the slot may move on to `upto` itself,
        // past the WAL of other databases and of transactions without changes here, which the next
        // pass would otherwise decode again (and the slot keep). A transaction committing after `upto`
        // has its commit record after it, so it stays in the slot, whenever it began.
        if (!held) out.advance_to = upto;
        conn.exec("CLOSE mmmove_follow");
        conn.commit();
    } catch (...) {
        conn.rollback();
        throw;
    }
    return out;
}

}  // namespace mmmove::sync_detail
