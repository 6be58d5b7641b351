// mmmove config merge: carry the old server's settings into the new server's configuration.
#include <iostream>

#include "cli/commands.h"
#include "config/config_merge.h"

namespace mmmove::cli {

void add_config(CLI::App& app, Action& action) {
    auto* config = app.add_subcommand("config", "Mattermost configuration (config.json or the database store)");
    config->require_subcommand(1);
    static std::string from, to;
    static std::vector<std::string> keep;
    static bool dry_run = false;
    auto* merge = config->add_subcommand("merge", "take the source's settings, keeping the destination's database and listen address");
    merge->add_option("--from", from, "the old server's config.json, or its configuration DSN (MM_CONFIG)")->required();
    merge->add_option("--to", to, "the new server's config.json, or its configuration DSN; written in place")->required();
    merge->add_option("--keep", keep, "another setting (dotted path, e.g. ServiceSettings.SiteURL) to keep from the destination");
    merge->add_flag("--dry-run", dry_run, "print the changes (secrets masked) and write nothing");
    merge->callback([&action] {
        action = [] {
            ConfigLocation src_loc = parse_config_location(from, Side::source);
            ConfigLocation dst_loc = parse_config_location(to, Side::destination);
            ConfigDocument src = load_config(src_loc, Side::source);
            ConfigDocument dst = load_config(dst_loc, Side::destination);
            std::vector<std::string> kept = kept_settings(keep);
            OrderedJson merged = merge_configs(src.json, dst.json, kept);
            auto changes = diff_configs(dst.json, merged);
            std::cout << (dry_run ? "Would change " : "Changing ") << changes.size() << " settings in " << dst_loc.describe()
                      << " (kept from the destination:";
            for (const auto& k : kept) std::cout << " " << k;
            std::cout << "):\n";
            for (const auto& c : changes) std::cout << "  " << c.path << ": " << c.before << " -> " << c.after << "\n";
            if (auto problem = driver_mismatch(merged)) {
                std::cerr << "mmmove: " << *problem << " Nothing was written.\n";
                return static_cast<int>(ExitCode::bad_input);
            }
            if (dry_run || changes.empty()) {
                if (changes.empty()) std::cout << "Nothing to change.\n";
                return 0;
            }
            std::cout << write_config(dst_loc, render_config(merged, dst)) << "\n";
            return 0;
        };
    });
}

}  // namespace mmmove::cli
