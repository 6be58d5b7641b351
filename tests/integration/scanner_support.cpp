#include "scanner_support.h"

#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "catalog/anonymise_model.h"
#include "catalog/catalog.h"

namespace mmmove::test {
namespace fs = std::filesystem;

namespace {

std::string hex_of(const std::string& s) {
    static const char* digits = "0123456789abcdef";
    std::string out;
    for (unsigned char c : s) out += digits[c >> 4], out += digits[c & 15];
    return out;
}

LiveColumn::Family family_of(const LiveColumn& c, Engine engine) {
    const std::string& t = c.data_type;
    using F = LiveColumn::Family;
    if (t == "json" || t == "jsonb") return F::json;
    if (t == "bytea" || t.find("blob") != std::string::npos || t == "binary" || t == "varbinary") return F::binary;
    if (t == "array") return F::array;
    if (t == "enum" || t == "set" || t == "user-defined") return F::enumeration;
    if (t == "boolean" || (engine == Engine::mysql && c.column_type == "tinyint(1)")) return F::boolean;
    if (t.find("int") != std::string::npos || t == "numeric" || t == "decimal" || t == "double" || t == "double precision" ||
        t == "real" || t == "float")
        return F::number;
    if (t.find("char") != std::string::npos || t.find("text") != std::string::npos) return F::text;
    return F::other;
}

// MariaDB keeps JSON in longtext with a json_valid() check: the check says which columns are JSON.
std::set<std::string> mariadb_json_columns(Database& db) {
    std::set<std::string> out;
    for (const auto& r : db.query("SELECT TABLE_NAME, CHECK_CLAUSE FROM information_schema.CHECK_CONSTRAINTS "
                                  "WHERE CONSTRAINT_SCHEMA = DATABASE()")) {
        const std::string clause = r[1].value_or("");
        const size_t open = clause.find("json_valid(`");
        if (open == std::string::npos) continue;
        const size_t start = open + 12, end = clause.find('`', start);
        out.insert(lower(r[0].value_or("") + "." + clause.substr(start, end - start)));
    }
    return out;
}

}  // namespace

std::vector<LiveColumn> live_columns(Database& db) {
    const bool pg = db.engine() == Engine::postgres;
    const std::string schema = pg ? "current_schema()" : "DATABASE()";
    const std::string sql =
        "SELECT c.table_name, c.column_name, LOWER(c.data_type), " +
        std::string(pg ? "c.udt_name, c.character_maximum_length, c.is_nullable, "
                         "CASE WHEN c.is_generated = 'ALWAYS' OR c.column_default LIKE 'nextval(%' THEN 1 ELSE 0 END "
                       : "c.column_type, c.character_maximum_length, c.is_nullable, "
                         "CASE WHEN c.extra LIKE '%auto_increment%' OR c.extra LIKE '%GENERATED%' THEN 1 ELSE 0 END ") +
        "FROM information_schema.columns c JOIN information_schema.tables t ON t.table_schema = c.table_schema "
        "AND t.table_name = c.table_name WHERE c.table_schema = " + schema +
        " AND t.table_type = 'BASE TABLE' ORDER BY c.table_name, c.ordinal_position";
    std::set<std::string> json_text = pg ? std::set<std::string>{} : mariadb_json_columns(db);
    std::vector<LiveColumn> out;
    for (const auto& r : db.query(sql)) {
        LiveColumn c;
        c.table = r[0].value_or("");
        c.column = r[1].value_or("");
        c.data_type = r[2].value_or("");
        c.column_type = lower(r[3].value_or(""));
        c.max_len = r[4] ? std::stoll(*r[4]) : 0;
        c.nullable = r[5].value_or("") == "YES";
        c.generated = r[6].value_or("0") == "1";
        c.family = family_of(c, db.engine());
        c.json = c.family == LiveColumn::Family::json || json_text.count(lower(c.table + "." + c.column));
        if (c.json) c.family = LiveColumn::Family::json;
        out.push_back(c);
    }
    // A text column whose values are JSON documents (Mattermost keeps many in plain text) gets one too.
    for (auto& c : out) {
        if (c.family != LiveColumn::Family::text) continue;
        const std::string col = db.quote_ident(c.column);
        auto rows = db.query("SELECT " + col + " FROM " + db.quote_ident(c.table) + " WHERE " + col + " IS NOT NULL AND " + col +
                             " <> '' " + "LIMIT 1");
        if (!rows.empty() && rows[0][0] && !rows[0][0]->empty() && (rows[0][0]->front() == '{' || rows[0][0]->front() == '['))
            c.json = true, c.family = LiveColumn::Family::json, c.column_type = rows[0][0]->front() == '[' ? "array" : c.column_type;
    }
    return out;
}

void Planter::set_destination(Database& staging) {
    for (const auto& c : live_columns(staging)) {
        // A list of ids on staging (PostgreSQL varchar[]) is a JSON list in MySQL's text.
        if (c.family == LiveColumn::Family::array) array_on_staging_.insert(lower(c.table + "." + c.column));
        if (c.family != LiveColumn::Family::enumeration) continue;
        std::string first = filler_for(staging, c);
        if (staging.engine() == Engine::postgres) first = "'" + staging.query(first.substr(0, first.rfind("::"))).at(0).at(0).value_or("") + "'";
        destination_enums_[lower(c.table + "." + c.column)] = first;
    }
}

std::string Planter::marker(const std::string& where, long long width) {
    char buf[32];
    const int n = next_++;
    if (width == 0 || width >= 10) std::snprintf(buf, sizeof buf, "MkQ%05dzX", n);
    else if (width >= 6) std::snprintf(buf, sizeof buf, "Q%05d", n);
    else return "";
    markers_.push_back({buf, where});
    return buf;
}

std::string Planter::json_document(const std::string& where, long long width, bool array) {
    auto m = [&](const std::string& member) { return marker(where + " " + member); };
    std::string doc;
    if (array) {
        doc = "[\"" + m("[]") + "\", {\"text\": \"" + m("[].text") + "\", \"mkr_member\": \"" + m("[].mkr_member") + "\"}]";
    } else {
        doc = "{\"mkr_unknown\": \"" + m("mkr_unknown") + "\", \"text\": \"" + m("text") +
              "\", \"attachments\": [{\"author_name\": \"" + m("attachments[].author_name") + "\", \"title\": \"" +
              m("attachments[].title") + "\", \"title_link\": \"https://" + m("attachments[].title_link") +
              ".example.com/a\", \"fields\": [{\"title\": \"" + m("attachments[].fields[].title") + "\", \"value\": \"" +
              m("attachments[].fields[].value") + "\"}], \"footer\": \"" + m("attachments[].footer") +
              "\", \"actions\": [{\"name\": \"" + m("attachments[].actions[].name") +
              "\", \"integration\": {\"url\": \"https://hooks.example.com/" + m("attachments[].actions[].integration.url") +
              "?token=x\", \"context\": {\"ticket\": \"" + m("attachments[].actions[].integration.context") + "\"}}}]}], " +
              "\"override_icon_url\": \"https://" + m("override_icon_url") + ".example.com/i.png\", \"embedded\": \"{\\\"note\\\": \\\"" +
              m("embedded (JSON in a string)") + "\\\"}\"}";
    }
    if (width && static_cast<long long>(doc.size()) > width) {
        // Too long for the column: forget those markers, plant a small document instead.
        while (!markers_.empty() && markers_.back().where.rfind(where + " ", 0) == 0) markers_.pop_back();
        const std::string one = marker(where + " mkr", width > 20 ? 0 : width);
        doc = array ? "[\"" + one + "\"]" : "{\"mkr\": \"" + one + "\"}";
        if (one.empty() || static_cast<long long>(doc.size()) > width) return "";
    }
    return doc;
}

// Why column `c` gets no marker, or "" when it gets one. Exempt are only the columns the model keeps
// by design as ids, times, counts, flags or types (its `keep` groups, by their reason), those the job
// keeps, and columns no marker fits.
std::string Planter::exemption(const LiveColumn& c) const {
    using F = LiveColumn::Family;
    if (c.generated) return "filled by the server";
    // The migration record is what check compares on both sides, and no copy carries it.
    if (lower(c.table) == "db_migrations") return "the migration record (never copied)";
    if (job_keeps_.count(lower(c.table + "." + c.column))) return "kept by the job (plugin ids)";
    for (const auto& k : anonymise_model().kept) {
        if (lower(k.table) != lower(c.table) || lower(k.column) != lower(c.column)) continue;
        for (const char* group : {"ids", "times", "counts", "flags", "types"})
            if (k.reason.rfind(group, 0) == 0) return std::string("model keep: ") + group;
    }
    if (c.family == F::enumeration) return "enum (the server accepts only its fixed values)";
    if (destination_enums_.count(lower(c.table + "." + c.column))) return "enum on staging (it accepts only its fixed values)";
    if (c.family != F::text && c.family != F::json && c.family != F::binary && c.family != F::array) return "not text";
    if (c.max_len && c.max_len < 6) return "narrow (< 6 characters)";
    return "";
}

std::string Planter::value_for(Database& db, const LiveColumn& c) {
    const std::string where = c.table + "." + c.column;
    switch (c.family) {
        case LiveColumn::Family::json: return db.quote_literal(json_document(where, c.max_len, c.column_type == "array"));
        case LiveColumn::Family::binary: {
            const std::string hex = hex_of(marker(where));
            return db.engine() == Engine::postgres ? "decode('" + hex + "', 'hex')" : "X'" + hex + "'";
        }
        case LiveColumn::Family::array: return "ARRAY[" + db.quote_literal(marker(where)) + "]";
        default: return db.quote_literal(marker(where, c.max_len));
    }
}

// A plain value for a column of an inserted row that gets no marker: a fresh id, 0, false, {}.
std::string Planter::filler_for(Database& db, const LiveColumn& c) {
    using F = LiveColumn::Family;
    switch (c.family) {
        case F::number: return "0";
        case F::boolean: return db.engine() == Engine::postgres ? "false" : "0";
        case F::json: return "'{}'";
        case F::array: return "'{}'";
        case F::binary: return "''";
        case F::enumeration: {
            if (db.engine() == Engine::postgres)  // the type's first label
                return "(SELECT enumlabel FROM pg_enum e JOIN pg_type t ON t.oid = e.enumtypid WHERE t.typname = " +
                       db.quote_literal(c.column_type) + " ORDER BY enumsortorder LIMIT 1)::" + db.quote_ident(c.column_type);
            const size_t q = c.column_type.find('\'');
            return q == std::string::npos ? "''" : "'" + c.column_type.substr(q + 1, c.column_type.find('\'', q + 1) - q - 1) + "'";
        }
        case F::text: {
            // One id for every inserted row: a row of RetentionPoliciesTeams then names the inserted
            // RetentionPolicies row, as staging's foreign keys require.
            const std::string id = "scannerrowidscannerrowid01";
            return db.quote_literal(c.max_len ? id.substr(0, static_cast<size_t>(std::min<long long>(26, c.max_len))) : id);
        }
        default: return "";
    }
}

void Planter::plant_database(Database& db) {
    std::vector<LiveColumn> all = live_columns(db);
    const bool pg = db.engine() == Engine::postgres;
    for (size_t i = 0; i < all.size();) {
        size_t end = i;
        while (end < all.size() && all[end].table == all[i].table) ++end;
        const std::string table = db.quote_ident(all[i].table);
        const bool empty = db.query("SELECT 1 FROM " + table + " LIMIT 1").empty();
        // Systems rows are the server's identity (their fate has its own test): a new row, never a changed one.
        const bool insert = empty || lower(all[i].table) == "systems";
        std::string sets, cols, vals;
        for (size_t k = i; k < end; ++k) {
            const LiveColumn& c = all[k];
            std::string why = exemption(c);
            std::string v;
            if (why.empty()) {
                v = value_for(db, c);
                if (v == "''" || v.empty()) why = "no marker fits";
                else ++planted_columns_;
            }
            if (!why.empty()) {
                if (c.family != LiveColumn::Family::number && c.family != LiveColumn::Family::boolean)
                    exempt_[c.table + "." + c.column] = why;
                if (!insert || c.generated) continue;
                auto on_staging = destination_enums_.find(lower(c.table + "." + c.column));
                v = on_staging != destination_enums_.end() ? on_staging->second : filler_for(db, c);
                if (array_on_staging_.count(lower(c.table + "." + c.column)) && db.engine() == Engine::mysql) v = "'[]'";
                if (v.empty()) continue;
            }
            sets += (sets.empty() ? "" : ", ") + db.quote_ident(c.column) + " = " + v;
            cols += (cols.empty() ? "" : ", ") + db.quote_ident(c.column);
            vals += (vals.empty() ? "" : ", ") + v;
        }
        if (insert && !cols.empty()) db.exec("INSERT INTO " + table + " (" + cols + ") VALUES (" + vals + ")");
        else if (!sets.empty())
            db.exec("UPDATE " + table + " SET " + sets +
                    (pg ? " WHERE ctid = (SELECT ctid FROM " + table + " LIMIT 1)" : " LIMIT 1"));
        i = end;
    }
}

std::string Planter::report() const {
    std::map<std::string, std::vector<std::string>> by_reason;
    for (const auto& [col, why] : exempt_) by_reason[why].push_back(col);
    std::ostringstream out;
    out << planted_columns_ << " columns planted (" << markers_.size() << " markers), " << exempt_.size() << " exempt:\n";
    for (const auto& [why, cols] : by_reason) {
        out << "  " << why << " (" << cols.size() << "):";
        for (const auto& c : cols) out << ' ' << c;
        out << '\n';
    }
    return out.str();
}

void find_markers(const std::vector<Marker>& markers, const std::string& text, const std::string& place,
                  std::vector<std::string>& hits) {
    for (const auto& m : markers)
        if (text.find(m.value) != std::string::npos || text.find(hex_of(m.value)) != std::string::npos)
            hits.push_back(m.value + " (" + m.where + ") in " + place);
}

std::map<std::string, std::string> dump_tables(Database& db) {
    std::map<std::string, std::string> out;
    std::set<std::string> tables;
    for (const auto& c : live_columns(db)) tables.insert(c.table);
    for (const auto& t : tables) {
        std::string& text = out[lower(t)];
        for (const auto& row : db.query("SELECT * FROM " + db.quote_ident(t)))
            for (const auto& f : row)
                if (f) text.append(*f).push_back('\n');
    }
    return out;
}

std::map<std::string, std::string> dump_files(const fs::path& dir) {
    std::map<std::string, std::string> out;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); !ec && it != fs::recursive_directory_iterator(); it.increment(ec)) {
        const std::string rel = fs::relative(it->path(), dir).string();
        std::string& text = out[rel];
        text = rel + "\n";
        if (it->is_regular_file(ec)) {
            std::ifstream in(it->path(), std::ios::binary);
            std::stringstream ss;
            ss << in.rdbuf();
            text += ss.str();
        }
    }
    return out;
}

}  // namespace mmmove::test
