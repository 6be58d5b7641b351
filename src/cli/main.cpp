// mmmove: move Mattermost data directly from one SQL database to another.
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"

namespace mmmove::cli {

void add_side_flags(CLI::App& cmd, SideArgs& args, bool need_from, bool need_to) {
    if (need_from) {
        cmd.add_option("--from", args.from, "source: a Mattermost DataSource (postgres://… or user:pass@tcp(host:port)/db) "
                                            "or the path of its config.json")->required();
        cmd.add_option("--from-password-file", args.from_password_file, "file holding the source password");
    }
    if (need_to) {
        cmd.add_option("--to", args.to, "destination: a DataSource or the path of its config.json")->required();
        cmd.add_option("--to-password-file", args.to_password_file, "file holding the destination password");
    }
}

}  // namespace mmmove::cli

namespace {

// DSNs can carry passwords: blank the password part of every --from/--to value in argv so that `ps`
// shows only "****". The parsed copies are what mmmove uses from here on.
void hide_passwords_from_ps(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        char* a = argv[i];
        char* eq = std::strchr(a, '=');
        bool dsn_flag = std::strncmp(a, "--from", 6) == 0 || std::strncmp(a, "--to", 4) == 0;
        char* value = nullptr;
        if (dsn_flag && eq && std::strstr(a, "password-file") == nullptr) value = eq + 1;
        else if ((std::strcmp(a, "--from") == 0 || std::strcmp(a, "--to") == 0) && i + 1 < argc) value = argv[i + 1];
        if (!value) continue;
        char* at = std::strrchr(value, '@');
        if (!at) continue;
        char* scheme = std::strstr(value, "://");
        char* user_start = scheme && scheme < at ? scheme + 3 : value;
        char* colon = static_cast<char*>(std::memchr(user_start, ':', at - user_start));
        if (!colon) continue;
        for (char* p = colon + 1; p < at; ++p) *p = '*';
    }
}

}  // namespace

int main(int argc, char** argv) {
    CLI::App app{"mmmove: move Mattermost data directly from one SQL database to another "
                 "(PostgreSQL, MySQL, MariaDB; Bitnami's lower-case tables included)."};
    app.require_subcommand(1);
    app.set_version_flag("--version", "mmmove 0.1.0");
    mmmove::cli::Action action;
    mmmove::cli::add_check(app, action);
    mmmove::cli::add_copy(app, action);
    mmmove::cli::add_schema(app, action);
    mmmove::cli::add_sample(app, action);
    mmmove::cli::add_config(app, action);
    mmmove::cli::add_files(app, action);
    try {
        app.parse(argc, argv);
    } catch (const CLI::ParseError& e) {
        int code = app.exit(e);
        return code == 0 ? 0 : static_cast<int>(mmmove::ExitCode::bad_input);
    }
    hide_passwords_from_ps(argc, argv);
    try {
        return action();
    } catch (const mmmove::Error& e) {
        std::cerr << "mmmove: " << e.what() << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "mmmove: internal error: " << e.what() << "\nPlease report this as a bug in mmmove.\n";
        return static_cast<int>(mmmove::ExitCode::internal);
    }
}
