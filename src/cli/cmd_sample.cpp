// mmmove sample: fill an empty Mattermost database with realistic (and hostile) sample data.
#include <chrono>
#include <iostream>

#include "catalog/schema_model.h"
#include "cli/commands.h"
#include "sample/generator.h"

namespace mmmove::cli {

void add_sample(CLI::App& app, Action& action) {
    static SideArgs sides;
    static SampleOptions options;
    static int create_level = 0;
    static bool lower_case = false, tame = false;
    auto* cmd = app.add_subcommand("sample", "fill an empty Mattermost database with sample data (demo, tests, benchmarks)");
    add_side_flags(*cmd, sides, false, true);
    cmd->add_option("--posts", options.posts, "number of posts; users, channels, reactions… scale with it")->capture_default_str();
    cmd->add_option("--seed", options.seed, "seed: the same seed and scale give the same data")->capture_default_str();
    cmd->add_option("--create-schema", create_level, "first create the Mattermost schema at this level (124, 141, 159)");
    cmd->add_flag("--lower-case", lower_case, "with --create-schema on MySQL: Bitnami's lower-case table names");
    cmd->add_option("--files", options.files_dir, "also write the files the rows reference into this data directory");
    cmd->add_flag("--no-hostile", tame, "leave out the hostile values (NUL bytes, 64 KiB messages, emoji…)");
    cmd->callback([&action] {
        action = [] {
            options.hostile = !tame;
            DataSource ds = resolve_data_source(sides.to, Side::destination, sides.to_password_file);
            auto db = Database::connect(ds, Side::destination);
            if (create_level) {
                const SchemaModel* model = find_model(ds.engine, create_level);
                if (!model) throw Error(ExitCode::bad_input, "mmmove has no " + std::string(engine_name(ds.engine)) +
                                                                 " schema model for level " + std::to_string(create_level) + ".");
                create_schema(*db, *model, lower_case);
            }
            auto start = std::chrono::steady_clock::now();
            SampleResult r = generate_sample(*db, options, std::cerr);
            double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
            std::cout << "Generated " << r.rows << " rows in " << r.tables << " tables (" << options.posts << " posts) on "
                      << ds.label() << " in " << s << " s.\n";
            return 0;
        };
    });
}

}  // namespace mmmove::cli
