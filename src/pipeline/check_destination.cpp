// What the destination's rows are: a copy needs a destination without Mattermost data.
#include <string>
#include <vector>

#include "pipeline/check_steps.h"

namespace mmmove::check_steps {

void check_destination_rows(CheckReport& r, Database& dest, const CheckOptions& o) {
    for (const auto& t : r.dest.catalog.tables) {
        if (table_role(t.name) != TableRole::content) continue;
        if (dest.query("SELECT 1 FROM " + dest.quote_ident(t.name) + " LIMIT 1").empty()) continue;
        auto n = dest.query("SELECT COUNT(*) FROM " + dest.quote_ident(t.name));
        r.dest_rows.emplace_back(t.name, std::stoull(n.at(0).at(0).value_or("0")));
    }
    if (r.dest_rows.empty() || o.resume) return;
    std::string list;
    for (size_t i = 0; i < r.dest_rows.size() && i < 10; ++i)
        list += (i ? ", " : "") + r.dest_rows[i].first + " (" + std::to_string(r.dest_rows[i].second) + " rows)";
    if (r.dest_rows.size() > 10) list += ", and " + std::to_string(r.dest_rows.size() - 10) + " more tables";
    if (o.truncate) {
        warn(r, "The destination holds data that --truncate will delete before the copy: " + list + ".");
        return;
    }
    block(r, ExitCode::destination,
          "The destination already holds Mattermost data: " + list +
              ". A copy needs an empty destination (was a Mattermost server started against it, or is it the wrong "
              "database?). Point --to at an empty database with the same schema, or pass --truncate to delete the "
              "destination's data first.");
}

}  // namespace mmmove::check_steps
