// mmmove: move Mattermost data directly from one SQL database to another.
#include <cstring>
#include <iostream>

#include "cli/commands.h"
#include "core/error.h"
#include "core/printable.h"

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

// Blanks, in place, the password a DSN carries: the user:password@ part of either form (the password
// runs to the last '@', as both parsers read it) and any password= or sslpassword= parameter. Text that
// only looks like a DSN is blanked too: that changes what `ps` shows, never what mmmove uses.
void blank_dsn_password(char* value) {
    if (char* at = std::strrchr(value, '@')) {
        char* scheme = std::strstr(value, "://");
        char* user_start = scheme && scheme < at ? scheme + 3 : value;
        char* colon = static_cast<char*>(std::memchr(user_start, ':', at - user_start));
        if (colon)
            for (char* p = colon + 1; p < at; ++p) *p = '*';
    }
    for (const char* key : {"password=", "sslpassword="}) {
        for (char* p = value; (p = std::strstr(p, key)) != nullptr;) {
            bool is_parameter = p > value && (p[-1] == '?' || p[-1] == '&');
            p += std::strlen(key);
            if (is_parameter)
                for (; *p && *p != '&'; ++p) *p = '*';
        }
    }
}

// DSNs can carry passwords, and every option that takes one (--from, --to, --db, in any subcommand,
// as "--db DSN" or "--db=DSN") must not show it in `ps`: the password in every argument is blanked
// once CLI11 has copied the arguments. The parsed copies are what mmmove uses from here on.
void hide_passwords_from_ps(int argc, char** argv) {
    for (int i = 1; i < argc; ++i) {
        char* value = argv[i];
        if (value[0] == '-')
            if (char* eq = std::strchr(value, '=')) value = eq + 1;
        blank_dsn_password(value);
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
    mmmove::cli::add_verify(app, action);
    mmmove::cli::add_sync(app, action);
    mmmove::cli::add_refresh_views(app, action);
    mmmove::cli::add_merge(app, action);
    mmmove::cli::add_run(app, action);
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
        // Messages quote names and words read from the servers: escapes in them are shown, not obeyed.
        std::cerr << "mmmove: " << mmmove::printable_lines(e.what()) << "\n";
        return static_cast<int>(e.code());
    } catch (const std::exception& e) {
        std::cerr << "mmmove: internal error: " << mmmove::printable_lines(e.what()) << "\nPlease report this as a bug in mmmove.\n";
        return static_cast<int>(mmmove::ExitCode::internal);
    }
}
