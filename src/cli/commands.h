#pragma once
// One function per subcommand: each adds its flags to the CLI11 app and returns the code to run.
#include <CLI/CLI.hpp>
#include <functional>
#include <string>

namespace mmmove::cli {

using Action = std::function<int()>;

// Flags that name the two sides of a move.
struct SideArgs {
    std::string from, to, from_password_file, to_password_file;
};
void add_side_flags(CLI::App& cmd, SideArgs& args, bool need_from, bool need_to);

// Flags that say what to do with a value the destination refuses (copy and sync write the same way).
struct ValuePolicyArgs {
    std::string overlong = "stop", invalid_json = "stop", refused = "stop";
};
void add_value_policy_flags(CLI::App& cmd, ValuePolicyArgs& args);

void add_check(CLI::App& app, Action& action);
void add_copy(CLI::App& app, Action& action);
void add_schema(CLI::App& app, Action& action);
void add_sample(CLI::App& app, Action& action);
void add_config(CLI::App& app, Action& action);
void add_files(CLI::App& app, Action& action);
void add_verify(CLI::App& app, Action& action);
void add_sync(CLI::App& app, Action& action);
void add_merge(CLI::App& app, Action& action);
void add_run(CLI::App& app, Action& action);
void add_refresh_views(CLI::App& app, Action& action);

}  // namespace mmmove::cli
