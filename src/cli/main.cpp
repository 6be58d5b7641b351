// mmmove: move Mattermost data directly from one SQL database to another.
#include <algorithm>
#include <cstring>
#include <string>
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

void add_value_policy_flags(CLI::App& cmd, ValuePolicyArgs& args) {
    cmd.add_option("--on-overlong", args.overlong, "a text longer than the destination column: stop (default) or truncate")
        ->check(CLI::IsMember({"stop", "truncate"}));
    cmd.add_option("--on-invalid-json", args.invalid_json, "JSON that PostgreSQL refuses: stop (default) or repair (write {})")
        ->check(CLI::IsMember({"stop", "repair"}));
    cmd.add_option("--on-refused-value", args.refused,
                   "a value the destination's schema refuses (NULL into NOT NULL, out-of-range integer, duplicate key…): "
                   "stop (default), repair (zero value / nearest value, else leave the row out) or skip-row")
        ->check(CLI::IsMember({"stop", "repair", "skip-row"}));
}

}  // namespace mmmove::cli

namespace {

// What a password shows as: "***", whatever its length (a shorter one as that many stars).
std::string stars(size_t length) { return std::string(std::min<size_t>(length, 3), '*'); }

// The argument with the password a DSN carries masked: the user:password@ part of either form (the
// password runs to the last '@', as both parsers read it) and any password= or sslpassword= parameter.
// Text that only looks like a DSN is masked too: that changes what `ps` shows, never what mmmove uses.
std::string mask_dsn_password(std::string value) {
    if (const size_t at = value.rfind('@'); at != std::string::npos) {
        const size_t scheme = value.find("://");
        const size_t user_start = scheme != std::string::npos && scheme < at ? scheme + 3 : 0;
        const size_t colon = value.find(':', user_start);
        if (colon < at) value.replace(colon + 1, at - colon - 1, stars(at - colon - 1));
    }
    for (const std::string key : {"password=", "sslpassword="}) {
        for (size_t p = 0; (p = value.find(key, p)) != std::string::npos;) {
            const bool is_parameter = p > 0 && (value[p - 1] == '?' || value[p - 1] == '&');
            p += key.size();
            if (!is_parameter) continue;
            const size_t stop = std::min(value.find('&', p), value.size());
            value.replace(p, stop - p, stars(stop - p));
        }
    }
    return value;
}

// DSNs can carry passwords, and every option that takes one (--from, --to, --db, in any subcommand,
// as "--db DSN" or "--db=DSN") must not show it in `ps`, nor its length: once CLI11 has copied the
// arguments (the parsed copies are what mmmove uses from here on), the block the arguments lie in
// back to back, which /proc/<pid>/cmdline shows, is written again with every password masked and
// the bytes it no longer needs zeroed.
void hide_passwords_from_ps(int argc, char** argv) {
    std::string block;
    for (int i = 0; i < argc; ++i) {
        if (i > 0 && argv[i] != argv[i - 1] + std::strlen(argv[i - 1]) + 1) return;  // not one block: left as it is
        std::string arg = argv[i];
        const size_t eq = arg.find('=');
        if (i == 0) block += arg;
        else if (arg[0] == '-' && eq != std::string::npos) block += arg.substr(0, eq + 1) + mask_dsn_password(arg.substr(eq + 1));
        else block += mask_dsn_password(arg);
        block.push_back('\0');
    }
    char* const begin = argv[0];
    const size_t size = static_cast<size_t>(argv[argc - 1] + std::strlen(argv[argc - 1]) + 1 - begin);
    if (block.size() > size) return;  // masking never lengthens an argument; this only guards the copy
    std::memcpy(begin, block.data(), block.size());
    std::memset(begin + block.size(), 0, size - block.size());
    for (int i = 0, offset = 0; i < argc; offset += static_cast<int>(std::strlen(begin + offset)) + 1, ++i) argv[i] = begin + offset;
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
