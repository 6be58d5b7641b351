#pragma once
// `mmmove config merge`: the destination server gets the source's settings, except the settings that
// belong to the destination (its database, its listen address, and any --keep), which keep their
// values. Either side is a config.json file or Mattermost's database configuration store (the
// Configurations table used when the server runs with MM_CONFIG set to a DSN).
#include <optional>
#include <string>
#include <vector>

#include "core/ordered_json.h"
#include "db/data_source.h"

namespace mmmove {

// Where a configuration lives: a file path, or a database DSN (postgres://, postgresql://, mysql://).
struct ConfigLocation {
    bool in_database = false;
    std::string path;   // file
    DataSource dsn;     // database
    std::string describe() const;
};
ConfigLocation parse_config_location(const std::string& arg, Side side);

struct ConfigDocument {
    OrderedJson json;
    std::string indent = "    ";       // Mattermost writes four spaces
    bool trailing_newline = false;
};

// Parses JSON in time linear in its size. Malformed JSON is refused with its line and column, and so is
// nesting deeper than 64 levels (before anything recurses into it).
OrderedJson parse_config_json(const std::string& text, const std::string& origin);

// Reads and parses; malformed JSON is refused with its line and column.
ConfigDocument load_config(const ConfigLocation& where, Side side);
ConfigDocument parse_config_text(const std::string& text, const std::string& origin);

// The settings kept from the destination: mappings/config.yaml's list plus extra dotted paths.
std::vector<std::string> kept_settings(const std::vector<std::string>& extra);
OrderedJson merge_configs(const OrderedJson& source, const OrderedJson& dest, const std::vector<std::string>& keep);

struct ConfigChange {
    std::string path;
    std::string before, after;  // rendered JSON, "****" for secrets, "(absent)" when missing
};
std::vector<ConfigChange> diff_configs(const OrderedJson& before, const OrderedJson& after);
bool is_secret_setting(const std::string& path);

// Mattermost's own layout: indented JSON with <, > and & escaped as Go's encoder does.
std::string render_config(const OrderedJson& json, const ConfigDocument& layout);

// A problem with the merged config that would keep the server from starting, or nullopt.
std::optional<std::string> driver_mismatch(const OrderedJson& config);

// Writes the merged config back where the destination's came from. A file is backed up next to
// itself and replaced atomically; the database store gets a new active row (the old one stays,
// inactive). Returns what was done, for the admin.
std::string write_config(const ConfigLocation& where, const std::string& text);

}  // namespace mmmove
