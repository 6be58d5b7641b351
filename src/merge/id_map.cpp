#include "merge/id_map.h"

#include <openssl/rand.h>

#include "catalog/catalog.h"
#include "core/error.h"
#include "files/printable_path.h"

namespace mmmove {

void IdMap::match(const std::string& table, const std::string& source, const std::string& dest) {
    TableIds& t = tables_[lower(table)];
    if (source != dest) t.to[source] = dest;
    t.matched.insert(source);
}

void IdMap::renumber(const std::string& table, const std::string& source, const std::string& dest) {
    tables_[lower(table)].to[source] = dest;
}

const std::string* IdMap::find(const std::string& table, std::string_view source) const {
    auto t = tables_.find(table);
    if (t == tables_.end()) return nullptr;
    auto it = t->second.to.find(source);
    return it == t->second.to.end() ? nullptr : &it->second;
}

bool IdMap::matched(const std::string& table, std::string_view source) const {
    auto t = tables_.find(table);
    return t != tables_.end() && t->second.matched.find(source) != t->second.matched.end();
}

const StringMap* IdMap::changes(const std::string& table) const {
    auto t = tables_.find(table);
    return t == tables_.end() || t->second.to.empty() ? nullptr : &t->second.to;
}

const StringSet* IdMap::matches(const std::string& table) const {
    auto t = tables_.find(table);
    return t == tables_.end() || t->second.matched.empty() ? nullptr : &t->second.matched;
}

size_t IdMap::size() const {
    size_t n = 0;
    for (const auto& [name, t] : tables_) n += t.matched.size() + t.to.size();
    return n;
}

void IdMap::save(Database& dst) const {
    dst.exec(std::string("CREATE TABLE ") + kTable + " (table_name varchar(64) NOT NULL, source_id varchar(128) NOT NULL, "
             "dest_id varchar(128) NOT NULL, matched smallint NOT NULL, PRIMARY KEY (table_name, source_id))");
    ValuesInsert insert(dst, std::string("INSERT INTO ") + kTable + " (table_name, source_id, dest_id, matched)");
    auto add = [&](const std::string& table, const std::string& source, const std::string& dest, bool matched) {
        insert.add("(" + dst.quote_literal(table) + ", " + dst.quote_literal(source) + ", " + dst.quote_literal(dest) + ", " +
                   (matched ? "1" : "0") + ")");
    };
    for (const auto& [table, ids] : tables_) {
        for (const auto& source : ids.matched) {
            auto it = ids.to.find(source);
            add(table, source, it == ids.to.end() ? source : it->second, true);
        }
        for (const auto& [source, dest] : ids.to)
            if (!ids.matched.count(source)) add(table, source, dest, false);
    }
    insert.finish();
}

namespace {

bool printable_key(std::string_view s, size_t max_chars) {
    if (s.empty() || s.size() > max_chars) return false;
    for (unsigned char c : s)
        if (c < 0x20 || c == 0x7f || c == '/' || c == '\\') return false;
    return true;
}

// What is wrong with one row of the map, or "" when it has the form mmmove writes.
std::string row_problem(const IdForms& forms, const std::optional<std::string>& table, const std::optional<std::string>& source,
                        const std::optional<std::string>& dest, const std::optional<std::string>& matched) {
    if (!table || !source || !dest || !matched) return "a row with an empty column";
    auto form = forms.find(*table);
    if (form == forms.end()) return "a row for table \"" + printable_path(table->substr(0, 64)) + "\", which this merge does not map";
    const std::string where = "a " + *table + " row";
    if (*matched != "0" && *matched != "1") return where + " whose matched flag is \"" + printable_path(matched->substr(0, 16)) + "\"";
    const IdForm& f = form->second;
    if (f.mattermost_id ? !is_mattermost_id(*source) : !printable_key(*source, f.max_chars))
        return where + " whose source_id \"" + printable_path(source->substr(0, 64)) + "\" is not " +
               (f.mattermost_id ? "a Mattermost id" : "a key of that table");
    if (!is_mattermost_id(*dest))
        return where + " whose dest_id \"" + printable_path(dest->substr(0, 64)) + "\" is not a Mattermost id";
    return "";
}

}  // namespace

IdMap IdMap::load(Database& dst, const IdForms& forms) {
    IdMap map;
    for (const auto& r : dst.query(std::string("SELECT table_name, source_id, dest_id, matched FROM ") + kTable)) {
        std::string problem = row_problem(forms, r[0], r[1], r[2], r[3]);
        if (!problem.empty())
            throw Error(ExitCode::destination, std::string("The ID map of the interrupted merge (table ") + kTable +
                                                   " on the destination) holds a value mmmove does not write: " + problem +
                                                   " (a Mattermost id is 26 characters of a-z and 0-9). The resume is refused and "
                                                   "nothing was written. Start the merge again on a destination restored from its "
                                                   "backup.");
        if (*r[3] == "1")
            map.match(*r[0], *r[1], *r[2]);
        else
            map.renumber(*r[0], *r[1], *r[2]);
    }
    return map;
}

void IdMap::drop(Database& dst) { dst.exec(std::string("DROP TABLE IF EXISTS ") + kTable); }

bool is_mattermost_id(std::string_view s) {
    if (s.size() != 26) return false;
    for (char c : s)
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
    return true;
}

std::string new_mattermost_id() {
    static const char kAlphabet[] = "ybndrfg8ejkmcpqxot1uwisza345h769";
    unsigned char bytes[16];
    if (RAND_bytes(bytes, sizeof bytes) != 1) throw Error(ExitCode::internal, "The system's random generator failed.");
    std::string id;
    unsigned buffer = 0, bits = 0;
    for (unsigned char b : bytes) {
        buffer = (buffer << 8) | b;
        bits += 8;
        while (bits >= 5) {
            id += kAlphabet[(buffer >> (bits - 5)) & 31];
            bits -= 5;
        }
    }
    if (bits) id += kAlphabet[(buffer << (5 - bits)) & 31];
    return id;  // 128 bits: 26 characters, as Mattermost's NewId
}

}  // namespace mmmove
