// mmmove sync: bring a destination mmmove filled up to the source's current state.
#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "cli/commands.h"
#include "core/json_text.h"
#include "core/workers.h"
#include "db/destination_lock.h"
#include "pipeline/follow_start.h"
#include "sync/final_pass.h"
#include "sync/sync.h"

namespace mmmove::cli {

void add_sync(CLI::App& app, Action& action) {
    static SideArgs sides;
    static CatchUpOptions options;
    static std::vector<std::string> skip;
    static ValuePolicyArgs values;
    static bool json = false;
    static bool stop = false;
    auto* cmd = app.add_subcommand("sync", "bring a destination mmmove filled up to the source's current state (inserts, updates, deletes)");
    add_side_flags(*cmd, sides, true, true);
    cmd->add_flag("--plan", options.plan_only, "compare and print what would change; write nothing");
    cmd->add_flag("--verify", options.verify, "then compare every row of the destination with the source, on the snapshot the sync read");
    cmd->add_flag("--full", options.full,
                  "compare every row of every table, not only the rows whose change columns (UpdateAt...) moved since the last copy or sync");
    cmd->add_flag("--final", options.final_pass,
                  "the cut-over's last pass, Mattermost stopped: then prove the source stood still while it ran (else exit code 11)");
    cmd->add_flag("--stop-following", stop,
                  "drop the replication slot a copy --follow created on the source (it keeps the source's WAL), and sync nothing");
    cmd->add_flag("--resume", options.resume, "finish a sync that was interrupted (a sync simply runs again: each chunk commits whole)");
    cmd->add_option("--skip-table", skip, "a source table to leave behind, as the copy left it (repeatable)");
    cmd->add_flag("--allow-other-sessions", options.check.allow_other_sessions,
                  "write although other sessions (a running Mattermost) use the destination database");
    cmd->add_flag("--skip-missing-tables", options.check.skip_missing_tables, "leave behind source tables the destination lacks");
    add_value_policy_flags(*cmd, values);
    cmd->add_option("--jobs", options.jobs, "parallel workers (default: number of cores)");
    cmd->add_option("--chunk-rows", options.chunk_rows, "rows per chunk of a large table")->capture_default_str();
    cmd->add_flag("--json", json, "print the summary as JSON on stdout (for scripts); progress stays on stderr");
    cmd->add_flag("--quiet", options.quiet, "print only the summary");
    cmd->callback([&action] {
        action = [] {
            for (const auto& s : skip) options.check.skip_tables.insert(lower(s));
            options.policy = convert_policy_named(values.overlong, values.invalid_json, values.refused);
            options.progress = Progress::style_for(options.quiet, isatty(STDERR_FILENO));
            if (options.final_pass && options.plan_only)
                throw Error(ExitCode::bad_input, "--final writes and then proves the source stood still; --plan writes nothing. Use one of them.");
            // Both sides at once (each connection is a few round trips of authentication); an error of
            // the source's is told first, as when they connected one after the other.
            const DataSource from = resolve_data_source(sides.from, Side::source, sides.from_password_file);
            const DataSource to = resolve_data_source(sides.to, Side::destination, sides.to_password_file);
            std::unique_ptr<Database> src, dst;
            std::exception_ptr failed[2];
            for_each_item(2, 2, [&](unsigned, size_t i) {
                try {
                    if (i == 0) src = Database::connect(from, Side::source);
                    else dst = Database::connect(to, Side::destination);
                } catch (...) {
                    failed[i] = std::current_exception();
                }
            });
            for (const auto& e : failed)
                if (e) std::rethrow_exception(e);
            if (stop) {
                DestinationLock lock(*dst);
                const std::string slot = stop_following(*src, *dst, std::cerr, true);
                if (json) std::cout << nlohmann::json({{"dropped_slot", slot}}).dump(2) << "\n";
                return 0;
            }
            CatchUpResult result = run_sync(*src, *dst, options, std::cerr);
            if (json) {
                auto j = nlohmann::json::parse(sync_summary_json(result));
                if (options.final_pass) j["final"] = final_pass_json(result);
                std::cout << json_text(j, 2) << "\n";
            } else {
                print_sync_summary(result, std::cout);
            }
            if (result.verify && !json) print_verify(*result.verify, std::cout, false);
            if (options.final_pass && !json) print_final_pass(result, std::cout);
            if (options.final_pass && !source_stood_still(result)) {
                if (json) std::cerr << final_pass_failure(result) << "\n";
                return static_cast<int>(ExitCode::source_moving);
            }
            return !result.verify || result.verify->equal() ? 0 : static_cast<int>(ExitCode::differs);
        };
    });
}

}  // namespace mmmove::cli
