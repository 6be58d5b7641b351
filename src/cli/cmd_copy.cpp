// mmmove copy: move a whole Mattermost database into an empty one.
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "copy/copy.h"

namespace mmmove::cli {

void add_copy(CLI::App& app, Action& action) {
    static SideArgs sides;
    static CopyOptions options;
    static std::vector<std::string> skip;
    static ValuePolicyArgs values;
    auto* cmd = app.add_subcommand("copy", "copy every Mattermost table from the source into an empty destination");
    add_side_flags(*cmd, sides, true, true);
    cmd->add_flag("--truncate", options.check.truncate, "delete the destination's data before copying");
    cmd->add_flag("--create-schema", options.check.create_schema,
                  "on an empty destination, create the source's Mattermost schema from mmmove's model");
    cmd->add_flag("--lower-case-tables", options.lower_case_tables,
                  "with --create-schema on MySQL: lower-case table names, as Bitnami's servers use");
    cmd->add_option("--skip-table", skip, "a source table to leave behind (repeatable)");
    cmd->add_flag("--allow-other-sessions", options.check.allow_other_sessions,
                  "write although other sessions (a running Mattermost) use the destination database");
    cmd->add_flag("--skip-missing-tables", options.check.skip_missing_tables, "leave behind source tables the destination lacks");
    add_value_policy_flags(*cmd, values);
    cmd->add_option("--report", options.report_path, "where every changed value is listed (JSON lines)")->capture_default_str();
    cmd->add_flag("--quiet", options.quiet, "print only the summary");
    static bool json = false, no_defer = false;
    cmd->add_flag("--json", json, "print the summary as JSON on stdout (for scripts); progress stays on stderr");
    cmd->add_option("--jobs", options.jobs, "parallel workers (default: number of cores)");
    cmd->add_option("--chunk-rows", options.chunk_rows, "rows per chunk of a large table")->capture_default_str();
    cmd->add_flag("--resume", options.resume, "finish a copy that was interrupted (killed, lost connection, server restart)");
    cmd->add_flag("--verify", options.verify,
                  "then compare every row of the destination with the source, on the snapshot the copy read (as mmmove verify)");
    cmd->add_flag("--follow", options.follow,
                  "PostgreSQL source: create a logical replication slot before the snapshot, so later syncs read only the "
                  "keys that changed (needs wal_level=logical and REPLICATION; drop it with sync --stop-following); MariaDB "
                  "source: record the snapshot's binlog position and read the row binlog from there (needs binlog_format=ROW "
                  "and REPLICATION SLAVE)");
    cmd->add_flag("--no-defer-indexes", no_defer, "keep secondary indexes during the load instead of rebuilding them after");
    cmd->callback([&action] {
        action = [] {
            for (const auto& s : skip) options.check.skip_tables.insert(lower(s));
            options.policy = convert_policy_named(values.overlong, values.invalid_json, values.refused);
            auto src = Database::connect(resolve_data_source(sides.from, Side::source, sides.from_password_file), Side::source);
            auto dst = Database::connect(resolve_data_source(sides.to, Side::destination, sides.to_password_file), Side::destination);
            options.defer_indexes = !no_defer;
            options.progress = Progress::style_for(options.quiet, isatty(STDERR_FILENO));
            CopyResult result = run_copy(*src, *dst, options, std::cerr);
            if (json)
                std::cout << copy_summary_json(result) << "\n";
            else
                print_copy_summary(result, std::cout);
            if (result.verify && !json) print_verify(*result.verify, std::cout, false);
            if (!result.counts_match()) return static_cast<int>(ExitCode::mismatch);
            return !result.verify || result.verify->equal() ? 0 : static_cast<int>(ExitCode::differs);
        };
    });
}

}  // namespace mmmove::cli
