// mmmove schema dump|create: write the model of a live database, or create a modelled schema.
#include <iostream>

#include "catalog/schema_model.h"
#include "cli/commands.h"

namespace mmmove::cli {

void add_schema(CLI::App& app, Action& action) {
    auto* schema = app.add_subcommand("schema", "mmmove's model of the Mattermost schema");
    schema->require_subcommand(1);

    static SideArgs dump_args;
    auto* dump = schema->add_subcommand("dump", "print the schema model (YAML) of a live Mattermost database");
    add_side_flags(*dump, dump_args, true, false);
    dump->callback([&action] {
        action = [] {
            auto db = Database::connect(resolve_data_source(dump_args.from, Side::source, dump_args.from_password_file), Side::source);
            std::cout << "# mmmove schema model: Mattermost tables, keys and indexes as the engine reports them,\n"
                         "# read by `mmmove schema dump` from a database built by Mattermost's own migrations.\n"
                      << model_to_yaml(dump_model(*db));
            return 0;
        };
    });

    static SideArgs create_args;
    static int level = 0;
    static bool lower_case = false;
    auto* create = schema->add_subcommand("create", "create a Mattermost schema of a modelled level on an empty database");
    add_side_flags(*create, create_args, false, true);
    create->add_option("--level", level, "migration level: 124 (v9.11), 141 (v10.x), 159 (newest, PostgreSQL only)")->required();
    create->add_flag("--lower-case", lower_case, "MySQL: lower-case table names, as Bitnami's servers store them");
    create->callback([&action] {
        action = [] {
            DataSource ds = resolve_data_source(create_args.to, Side::destination, create_args.to_password_file);
            const SchemaModel* model = find_model(ds.engine, level);
            if (!model)
                throw Error(ExitCode::bad_input, "mmmove has no " + std::string(engine_name(ds.engine)) + " schema model for level " +
                                                     std::to_string(level) + "; known levels: 124, 141 (both engines), 159 (PostgreSQL).");
            auto db = Database::connect(ds, Side::destination);
            Catalog cat = read_catalog(*db);
            if (!cat.tables.empty())
                throw Error(ExitCode::destination, "The destination database " + ds.label() + " already has " +
                                                       std::to_string(cat.tables.size()) + " tables; create the schema on an empty database.");
            create_schema(*db, *model, lower_case);
            std::cout << "Created the Mattermost schema at migration " << level << " (" << model->tables.size()
                      << " tables) on " << ds.label() << ".\n";
            return 0;
        };
    });
}

}  // namespace mmmove::cli
