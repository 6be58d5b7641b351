// mmmove verify: prove that the destination holds what the source holds.
#include <unistd.h>

#include <iostream>

#include "catalog/catalog.h"
#include "cli/commands.h"
#include "verify/verify.h"

namespace mmmove::cli {

void add_verify(CLI::App& app, Action& action) {
    static SideArgs sides;
    static VerifyOptions options;
    static std::vector<std::string> tables, skip;
    static bool json = false, quiet = false;
    auto* cmd = app.add_subcommand("verify", "compare every row of the source with the destination (reads both, writes neither)");
    add_side_flags(*cmd, sides, true, true);
    cmd->add_option("--tables", tables, "compare only these tables (repeatable, or comma-separated)")->delimiter(',');
    cmd->add_option("--skip-table", skip, "a table to leave out, as copy --skip-table left it behind (repeatable)");
    cmd->add_option("--expect-changes", options.expect_changes,
                    "the copy's report (JSON lines): the values it changed on purpose are compared with what the copy made of them");
    cmd->add_option("--jobs", options.jobs, "parallel workers on each side (default: number of cores)");
    cmd->add_option("--chunk-rows", options.chunk_rows, "rows per chunk of a large table")->capture_default_str();
    cmd->add_option("--examples", options.examples, "differing rows listed per table")->capture_default_str();
    cmd->add_flag("--json", json, "print the result as JSON on stdout (for scripts); progress stays on stderr");
    cmd->add_flag("--quiet", quiet, "no progress");
    cmd->callback([&action] {
        action = [] {
            for (const auto& t : tables) options.tables.insert(lower(t));
            for (const auto& t : skip) options.skip_tables.insert(lower(t));
            options.progress = Progress::style_for(quiet, isatty(STDERR_FILENO));
            auto src = Database::connect(resolve_data_source(sides.from, Side::source, sides.from_password_file), Side::source);
            auto dst = Database::connect(resolve_data_source(sides.to, Side::destination, sides.to_password_file), Side::destination);
            VerifyResult result = run_verify(*src, *dst, options, std::cerr);
            if (json)
                std::cout << verify_json(result) << "\n";
            else
                print_verify(result, std::cout);
            return result.equal() ? 0 : static_cast<int>(ExitCode::differs);
        };
    });
}

}  // namespace mmmove::cli
