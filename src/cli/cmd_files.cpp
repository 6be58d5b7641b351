// mmmove files sync: make the new server's data directory hold the old one's files.
#include <unistd.h>

#include <iostream>

#include "cli/commands.h"
#include "files/file_sync.h"

namespace mmmove::cli {

namespace {
void print_list(const char* title, uint64_t count, const std::vector<std::string>& items) {
    if (!count) return;
    std::cout << "  " << title << ": " << count << "\n";
    for (const auto& i : items) std::cout << "    " << i << "\n";
    if (count > items.size()) std::cout << "    … and " << count - items.size() << " more\n";
}
}  // namespace

void add_files(CLI::App& app, Action& action) {
    auto* files = app.add_subcommand("files", "the Mattermost data directory (FileSettings.Directory)");
    files->require_subcommand(1);
    static SyncOptions options;
    static std::string from, to, db, db_password_file;
    auto* sync = files->add_subcommand("sync", "copy new and changed files into the destination data directory");
    sync->add_option("--from", from, "the source data directory (./data of the old server)")->required();
    sync->add_option("--to", to, "the destination data directory")->required();
    sync->add_option("--db", db, "a Mattermost DataSource (or config.json) whose rows' file references are checked on both sides");
    sync->add_option("--db-password-file", db_password_file, "file holding the --db password");
    sync->add_flag("--checksum", options.checksum, "compare file content, not size and modification time");
    sync->add_flag("--delete", options.remove_extra, "delete destination files the source does not have");
    sync->add_flag("--dry-run", options.dry_run, "say what would be copied and deleted; change nothing");
    sync->add_option("--jobs", options.jobs, "parallel copies (default: number of cores)");
    sync->add_flag("--quiet", options.quiet, "no progress lines");
    sync->callback([&action] {
        action = [] {
            options.from = from;
            options.to = to;
            SyncResult r = sync_files(options, real_file_system(), std::cerr);
            std::cout << (options.dry_run ? "Would copy " : "Copied ") << r.copied << " files (" << r.bytes / 1024 << " KiB), "
                      << r.unchanged << " unchanged" << (options.remove_extra ? ", " + std::to_string(r.deleted) + " deleted" : "")
                      << ".\n";
            std::cout << (::geteuid() == 0 ? "Copies and new folders keep the owner and group of their source (mmmove runs as root).\n"
                                           : "Copies and new folders belong to the account running mmmove; run it as root to keep "
                                             "the owner and group of the source.\n");
            print_list("refused", r.refused.size(), r.refused);
            print_list("failed", r.failed.size(), r.failed);
            int code = r.failed.empty() ? 0 : static_cast<int>(ExitCode::destination);
            if (!db.empty()) {
                auto conn = Database::connect(resolve_data_source(db, Side::destination, db_password_file), Side::destination);
                ReferenceReport refs = check_references(*conn, options.from, options.to);
                std::cout << "The database references " << refs.referenced << " files.\n";
                print_list("missing in the source directory", refs.missing_source_count, refs.missing_in_source);
                print_list("missing in the destination directory", refs.missing_dest_count, refs.missing_in_dest);
                print_list("refused paths in the database", refs.refused_count, refs.refused);
                if (refs.missing_dest_count || refs.refused_count) code = static_cast<int>(ExitCode::mismatch);
            }
            if (!r.refused.empty() && code == 0) code = static_cast<int>(ExitCode::data);
            return code;
        };
    });
}

}  // namespace mmmove::cli
