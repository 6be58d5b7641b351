// mmmove merge: one live Mattermost instance into another, ids remapped.
#include <unistd.h>

#include <iostream>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "merge/merge.h"

namespace mmmove::cli {

void add_merge(CLI::App& app, Action& action) {
    static SideArgs sides;
    static MergeOptions options;
    static std::string rules;
    static std::vector<std::string> skip;
    static bool json = false, no_direct_messages = false;
    auto* cmd = app.add_subcommand("merge", "merge the source instance into the destination's data: users, teams and channels "
                                            "both have become one, every id reference follows");
    add_side_flags(*cmd, sides, true, true);
    cmd->add_flag("--plan", options.plan_only, "print every match, conflict and per-table count, and write nothing");
    cmd->add_option("--rules", rules, "a YAML file of conflict policies and renames (the defaults: mappings/merge.yaml)");
    cmd->add_option("--team", options.scope.teams, "merge only this team of the source (its name; repeatable): its channels, "
                                                   "members, and the DMs and group messages among its members");
    cmd->add_option("--channel", options.scope.channels, "merge only this channel of the source, TEAM/CHANNEL (repeatable)");
    cmd->add_flag("--no-direct-messages", no_direct_messages, "with --team/--channel: leave the DMs and group messages behind");
    cmd->add_option("--skip-table", skip, "a source table to leave behind (repeatable)");
    cmd->add_option("--examples", options.examples, "matches printed in the plan")->capture_default_str();
    cmd->add_option("--jobs", options.jobs, "parallel workers (default: number of cores)");
    cmd->add_option("--chunk-rows", options.chunk_rows, "rows per chunk of a large table")->capture_default_str();
    cmd->add_option("--files-from", options.files_from, "the source's data directory: its files join the destination's (needs --files-to)");
    cmd->add_option("--files-to", options.files_to, "the destination's data directory (never a file replaced)");
    cmd->add_flag("--verify", options.verify, "then compare every merged row with the source's, through the ID map (exit 7 on a difference)");
    cmd->add_flag("--allow-other-sessions", options.check.allow_other_sessions,
                  "write although other sessions (a running Mattermost) use the destination database");
    cmd->add_flag("--resume", options.resume, "finish a merge that was interrupted, with the plan it saved");
    cmd->add_flag("--quiet", options.quiet, "print only the plan's conflicts and the summary");
    cmd->add_flag("--json", json, "print the plan and the result as JSON on stdout (for scripts)");
    cmd->callback([&action] {
        action = [] {
            if (options.files_from.empty() != options.files_to.empty())
                throw Error(ExitCode::bad_input, "--files-from and --files-to go together: give both data directories, or neither.");
            if (no_direct_messages && options.scope.empty())
                throw Error(ExitCode::bad_input, "--no-direct-messages goes with --team or --channel; a full merge moves every DM.");
            options.scope.direct_messages = !no_direct_messages;
            if (!rules.empty()) options.rules = MergeRules::load(rules);
            for (const auto& s : skip) options.check.skip_tables.insert(lower(s));
            options.progress = Progress::style_for(options.quiet, isatty(STDERR_FILENO));
            auto src = Database::connect(resolve_data_source(sides.from, Side::source, sides.from_password_file), Side::source);
            auto dst = Database::connect(resolve_data_source(sides.to, Side::destination, sides.to_password_file), Side::destination);
            std::ostream& log = json ? std::cerr : std::cout;
            MergeResult result = run_merge(*src, *dst, options, log);
            if (json)
                std::cout << merge_summary_json(result) << "\n";
            else
                print_merge_summary(result, std::cout);
            if (result.plan.blocked()) return static_cast<int>(ExitCode::conflict);
            return result.verify && !result.verify->equal() ? static_cast<int>(ExitCode::differs) : 0;
        };
    });
}

}  // namespace mmmove::cli
