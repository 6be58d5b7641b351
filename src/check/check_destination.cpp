// What the destination's rows are. A copy needs a destination without Mattermost data; a destination
// that a Mattermost server has only been started against once (the way Mattermost documents preparing
// one) holds a few rows of its own: bot accounts, their preferences, property groups. Those are
// recognised and replaced by the copy; anything more (a person's account, a team, a post) blocks.
#include <string>
#include <vector>

#include "check/check_steps.h"

namespace mmmove::check_steps {
namespace {

std::string count_of(uint64_t n, const std::string& one, const std::string& many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
}

uint64_t count(Database& db, const std::string& sql) { return std::stoull(db.query(sql).at(0).at(0).value_or("0")); }

// Rows of `table` whose user (column UserId, or Id for Users itself) has no Bots row.
uint64_t rows_of_people(CheckReport& r, Database& dest, const Table& table, const std::string& user_column) {
    const Table* bots = r.dest.catalog.find("bots");
    if (!bots) return count(dest, "SELECT COUNT(*) FROM " + dest.quote_ident(table.name));
    // Column names unquoted: each engine matches them case-insensitively (UserId, userid).
    return count(dest, "SELECT COUNT(*) FROM " + dest.quote_ident(table.name) + " t WHERE NOT EXISTS (SELECT 1 FROM " +
                           dest.quote_ident(bots->name) + " b WHERE b.UserId = t." + user_column + ")");
}

struct FirstStartVerdict {
    std::vector<std::string> replaced;  // "Users (2 bots)", "Bots (2)"
    std::vector<std::string> beyond;    // what a first start does not write: "Teams (1 row)"
};

FirstStartVerdict classify_rows(CheckReport& r, Database& dest) {
    FirstStartVerdict v;
    for (const auto& [name, rows] : r.dest_rows) {
        const Table& table = *r.dest.catalog.find(name);
        if (!written_by_first_start(name)) {
            v.beyond.push_back(name + " (" + count_of(rows, "row", "rows") + ")");
        } else if (lower(name) == "users") {
            uint64_t people = rows_of_people(r, dest, table, "Id");
            if (people) v.beyond.push_back(name + " (" + count_of(people, "user that is not a bot", "users that are not bots") + ")");
            else v.replaced.push_back(name + " (" + count_of(rows, "bot", "bots") + ")");
        } else if (table.find_column("userid") && lower(name) != "bots") {
            uint64_t people = rows_of_people(r, dest, table, "UserId");
            if (people) v.beyond.push_back(name + " (" + count_of(people, "row of a user", "rows of users") + " that are not bots)");
            else v.replaced.push_back(name + " (" + std::to_string(rows) + ")");
        } else {
            v.replaced.push_back(name + " (" + std::to_string(rows) + ")");
        }
    }
    return v;
}

std::string join(const std::vector<std::string>& parts) {
    std::string s;
    for (size_t i = 0; i < parts.size() && i < 10; ++i) s += (i ? ", " : "") + parts[i];
    if (parts.size() > 10) s += ", and " + std::to_string(parts.size() - 10) + " more tables";
    return s;
}

}  // namespace

void check_destination_rows(CheckReport& r, Database& dest, const CheckOptions& o) {
    // A sync (resuming, counting nothing) judges no rows here: its record says they are its own. A
    // query per table is a fixed cost of every pass, for a list nothing reads.
    if (o.resume && !o.count_dest_rows) return;
    for (const auto& t : r.dest.catalog.tables) {
        if (table_role(t.name) != TableRole::content) continue;
        if (dest.query("SELECT 1 FROM " + dest.quote_ident(t.name) + " LIMIT 1").empty()) continue;
        r.dest_rows.emplace_back(t.name, o.count_dest_rows ? count(dest, "SELECT COUNT(*) FROM " + dest.quote_ident(t.name)) : 0);
    }
    if (r.dest_rows.empty() || o.resume || o.merge) return;
    FirstStartVerdict v = classify_rows(r, dest);
    if (v.beyond.empty()) {
        r.fresh_destination = true;
        r.first_start_rows = join(v.replaced);
        info(r, "The destination holds only rows a first Mattermost start writes: " + r.first_start_rows +
                    ". The copy replaces them with the source's rows.");
        return;
    }
    std::vector<std::string> all;
    for (const auto& [name, rows] : r.dest_rows) all.push_back(name + " (" + count_of(rows, "row", "rows") + ")");
    if (o.truncate) {
        warn(r, "The destination holds data that --truncate will delete before the copy: " + join(all) + ".");
        return;
    }
    block(r, ExitCode::destination,
          "The destination already holds Mattermost data: " + join(all) + ". More than a first Mattermost start "
          "writes: " + join(v.beyond) + ". A copy needs a destination without data (is it the wrong database, or has "
          "it been used?). Point --to at an empty database with the same schema, or pass --truncate to delete the "
          "destination's data first.");
}

}  // namespace mmmove::check_steps
