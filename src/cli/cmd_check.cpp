// mmmove check: read both sides and say whether a copy can run, and what blocks it.
#include <iostream>

#include "check/check.h"
#include "cli/commands.h"

namespace mmmove::cli {

void add_check(CLI::App& app, Action& action) {
    static SideArgs sides;
    static CheckOptions options;
    static std::vector<std::string> skip;
    auto* cmd = app.add_subcommand("check", "compare source and destination and report what would block a copy");
    add_side_flags(*cmd, sides, true, true);
    cmd->add_flag("--truncate", options.truncate, "a destination holding data will be emptied by the copy");
    cmd->add_flag("--create-schema", options.create_schema, "an empty destination will get the source's schema");
    cmd->add_option("--skip-table", skip, "a source table to leave behind (repeatable)");
    cmd->add_flag("--skip-missing-tables", options.skip_missing_tables, "leave behind source tables the destination lacks");
    cmd->callback([&action] {
        action = [] {
            for (const auto& s : skip) options.skip_tables.insert(lower(s));
            auto src = Database::connect(resolve_data_source(sides.from, Side::source, sides.from_password_file), Side::source);
            auto dst = Database::connect(resolve_data_source(sides.to, Side::destination, sides.to_password_file), Side::destination);
            CheckReport report = run_check(*src, *dst, options);
            print_check(report, std::cout);
            return static_cast<int>(report.exit_code());
        };
    });
}

}  // namespace mmmove::cli
