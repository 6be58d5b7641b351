// mmmove refresh-views: refresh a PostgreSQL destination's materialized views, e.g. the statistics views
// a final sync left as they stood, once Mattermost runs on the destination.
#include <chrono>
#include <iostream>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "core/printable.h"
#include "db/destination_lock.h"
#include "pipeline/index_rebuild.h"

namespace mmmove::cli {

void add_refresh_views(CLI::App& app, Action& action) {
    static SideArgs sides;
    static unsigned jobs = 0;
    static bool json = false, quiet = false;
    auto* cmd = app.add_subcommand("refresh-views",
                                   "refresh every materialized view of a PostgreSQL destination (the statistics views a final sync "
                                   "leaves as they stood; Mattermost may run meanwhile)");
    add_side_flags(*cmd, sides, false, true);
    cmd->add_option("--jobs", jobs, "views refreshed side by side (default: number of cores)");
    cmd->add_flag("--json", json, "print the result as JSON on stdout (for scripts)");
    cmd->add_flag("--quiet", quiet, "print only the summary");
    cmd->callback([&action] {
        action = [] {
            const DataSource to = resolve_data_source(sides.to, Side::destination, sides.to_password_file);
            auto dst = Database::connect(to, Side::destination);
            std::vector<std::string> views;
            if (dst->engine() == Engine::postgres) views = read_catalog(*dst).materialized_views;
            // One writer per destination: a sync or copy refreshes them itself at its end.
            DestinationLock lock(*dst);
            const auto start = std::chrono::steady_clock::now();
            refresh_views_apart(to, views, jobs, std::cerr, quiet);
            const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            if (json) {
                std::cout << nlohmann::json({{"destination", to.label()}, {"refreshed", views}, {"seconds", seconds}}).dump(2) << "\n";
            } else if (dst->engine() != Engine::postgres) {
                std::cout << "The destination (" << to.label() << ") is MySQL/MariaDB, which has no materialized views: nothing to refresh.\n";
            } else if (views.empty()) {
                std::cout << "The destination (" << to.label() << ") has no materialized views: nothing to refresh.\n";
            } else {
                std::string names;
                for (const auto& v : views) names += (names.empty() ? "" : ", ") + printable(v);
                std::cout << "Refreshed " << views.size() << " materialized views of " << to.label() << " in "
                          << static_cast<long long>(seconds * 1000) << " ms: " << names << "\n";
            }
            return 0;
        };
    });
}

}  // namespace mmmove::cli
