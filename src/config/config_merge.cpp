#include "config/config_merge.h"

#include <openssl/sha.h>
#include <yaml-cpp/yaml.h>

#include <chrono>
#include <string_view>
#include <unordered_map>
#include <random>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "config/config_file.h"
#include "config/config_secrets.h"
#include "db/database.h"
#include "db/transaction.h"

namespace mmmove {

namespace {

struct MergeRules {
    std::vector<std::string> keep;
};

const MergeRules& rules() {
    static const MergeRules r = [] {
        MergeRules out;
        YAML::Node n = load_embedded_yaml("config.yaml");
        for (const auto& k : n["keep"]) out.keep.push_back(k.as<std::string>());
        return out;
    }();
    return r;
}

std::string new_id() {
    static const char* alphabet = "ybndrfg8ejkmcpqxot1uwisza345h769";
    std::random_device rd;
    std::string id;
    for (int i = 0; i < 26; ++i) id += alphabet[rd() % 32];
    return id;
}

std::string sha256_hex(const std::string& text) {
    unsigned char sum[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), sum);
    static const char* hex = "0123456789abcdef";
    std::string out;
    for (unsigned char c : sum) out += hex[c >> 4], out += hex[c & 15];
    return out;
}

// Linear in the size of both configs: each object's source keys are indexed once, and members are
// appended (every key of `dst` is new in `out`, and so is every key only `src` has).
void merge_into(OrderedJson& out, const OrderedJson& src, const OrderedJson& dst, const std::vector<std::string>& keep,
                const std::string& prefix) {
    auto kept = [&](const std::string& path) { return std::find(keep.begin(), keep.end(), path) != keep.end(); };
    std::unordered_map<std::string_view, const OrderedJson*> in_src;
    in_src.reserve(src.size());
    for (auto it = src.begin(); it != src.end(); ++it) in_src.emplace(it.key(), &it.value());
    for (auto it = dst.begin(); it != dst.end(); ++it) {
        std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        const OrderedJson* s = nullptr;
        if (auto found = in_src.find(it.key()); found != in_src.end()) {
            s = found->second;
            in_src.erase(found);  // what stays in the index afterwards is what only the source has
        }
        if (kept(path) || !s) {
            append_member(out, it.key(), it.value());
        } else if (it.value().is_object() && s->is_object()) {
            append_member(out, it.key(), OrderedJson::object());
            merge_into(out.get_ref<OrderedJson::object_t&>().back().second, *s, it.value(), keep, path);
        } else {
            append_member(out, it.key(), *s);
        }
    }
    for (auto it = src.begin(); it != src.end(); ++it) {
        std::string path = prefix.empty() ? it.key() : prefix + "." + it.key();
        if (in_src.count(it.key()) && !kept(path)) append_member(out, it.key(), it.value());
    }
}

struct Leaf {
    std::string path;
    bool secret;
    const OrderedJson* value;
};

// Every leaf setting (a value that is not a non-empty object), with whether it is a secret. The keys
// are carried one by one, not split from the dotted path, because plugin IDs contain dots.
void flatten(const OrderedJson& j, std::vector<std::string>& keys, const std::string& prefix, std::vector<Leaf>& out) {
    if (j.is_object() && !j.empty()) {
        for (auto it = j.begin(); it != j.end(); ++it) {
            keys.push_back(it.key());
            flatten(it.value(), keys, prefix.empty() ? it.key() : prefix + "." + it.key(), out);
            keys.pop_back();
        }
        return;
    }
    out.push_back({prefix, is_secret_path(keys), &j});
}

std::vector<Leaf> leaves_of(const OrderedJson& j) {
    std::vector<std::string> keys;
    std::vector<Leaf> out;
    flatten(j, keys, "", out);
    return out;
}

}  // namespace

std::string ConfigLocation::describe() const {
    return in_database ? "the database configuration store at " + dsn.masked() : path;
}

ConfigLocation parse_config_location(const std::string& arg, Side side) {
    ConfigLocation loc;
    if (arg.rfind("postgres://", 0) == 0 || arg.rfind("postgresql://", 0) == 0 || arg.rfind("mysql://", 0) == 0) {
        loc.in_database = true;
        loc.dsn = resolve_data_source(arg, side);
    } else {
        loc.path = arg;
    }
    return loc;
}

ConfigDocument parse_config_text(const std::string& text, const std::string& origin) {
    ConfigDocument doc;
    doc.json = parse_config_json(text, origin);
    if (!doc.json.is_object())
        throw Error(ExitCode::bad_input, origin + " is not a Mattermost configuration (a JSON object). Nothing was written.");
    auto nl = text.find('\n');
    if (nl != std::string::npos) {
        size_t spaces = 0;
        while (nl + 1 + spaces < text.size() && (text[nl + 1 + spaces] == ' ' || text[nl + 1 + spaces] == '\t')) ++spaces;
        if (spaces) doc.indent = text.substr(nl + 1, spaces);
    }
    doc.trailing_newline = !text.empty() && text.back() == '\n';
    return doc;
}

ConfigDocument load_config(const ConfigLocation& where, Side side) {
    if (!where.in_database) {
        ConfigFile file = open_config_file(where.path, side);
        return parse_config_text(read_config_file(file), std::string("The ") + side_name(side) + " config file " + file.where());
    }
    auto db = Database::connect(where.dsn, side);
    Catalog cat = read_catalog(*db);
    const Table* t = cat.find("configurations");
    if (!t)
        throw Error(side_exit_code(side), std::string("The ") + side_name(side) + " database " + where.dsn.label() +
                                              " has no Configurations table: it is not a Mattermost configuration store (MM_CONFIG).");
    auto rows = db->query("SELECT value FROM " + db->quote_ident(t->name) + " WHERE active");
    if (rows.empty() || !rows[0][0])
        throw Error(side_exit_code(side), std::string("The ") + side_name(side) + " configuration store " + where.dsn.label() +
                                              " has no active configuration.");
    return parse_config_text(*rows[0][0], std::string("The active configuration in ") + where.describe());
}

std::vector<std::string> kept_settings(const std::vector<std::string>& extra) {
    std::vector<std::string> keep = rules().keep;
    for (const auto& k : extra)
        if (std::find(keep.begin(), keep.end(), k) == keep.end()) keep.push_back(k);
    return keep;
}

OrderedJson merge_configs(const OrderedJson& source, const OrderedJson& dest, const std::vector<std::string>& keep) {
    OrderedJson out = OrderedJson::object();
    out.get_ref<OrderedJson::object_t&>().reserve(dest.size() + source.size());
    merge_into(out, source, dest, keep, "");
    return out;
}

bool is_secret_setting(const std::string& path) {
    std::vector<std::string> keys;
    for (size_t start = 0, dot; start <= path.size(); start = dot + 1) {
        dot = path.find('.', start);
        if (dot == std::string::npos) dot = path.size();
        keys.push_back(path.substr(start, dot - start));
    }
    return is_secret_path(keys);
}

std::vector<ConfigChange> diff_configs(const OrderedJson& before, const OrderedJson& after) {
    std::vector<Leaf> a = leaves_of(before), b = leaves_of(after);
    std::unordered_map<std::string_view, const Leaf*> old;
    old.reserve(a.size());
    for (const auto& leaf : a) old.emplace(leaf.path, &leaf);
    std::vector<ConfigChange> changes;
    for (const auto& leaf : b) {
        auto it = old.find(leaf.path);
        const Leaf* was = it == old.end() ? nullptr : it->second;
        if (it != old.end()) old.erase(it);
        if (was && *was->value == *leaf.value) continue;
        changes.push_back({leaf.path, was ? show_setting(was->secret, *was->value) : "(absent)", show_setting(leaf.secret, *leaf.value)});
    }
    for (const auto& leaf : a)  // settings only `before` has, in its order
        if (old.count(leaf.path)) changes.push_back({leaf.path, show_setting(leaf.secret, *leaf.value), "(absent)"});
    return changes;
}

std::string render_config(const OrderedJson& json, const ConfigDocument& layout) {
    std::string out = json.dump(static_cast<int>(layout.indent.size()), layout.indent.empty() ? ' ' : layout.indent[0],
                                false, nlohmann::json::error_handler_t::strict);
    // Go's encoding/json (which Mattermost writes with) escapes these; they only occur inside strings.
    std::string escaped;
    escaped.reserve(out.size());
    for (char c : out) {
        if (c == '<') escaped += "\\u003c";
        else if (c == '>') escaped += "\\u003e";
        else if (c == '&') escaped += "\\u0026";
        else escaped += c;
    }
    if (layout.trailing_newline) escaped += '\n';
    return escaped;
}

std::optional<std::string> driver_mismatch(const OrderedJson& config) {
    auto sql = config.find("SqlSettings");
    if (sql == config.end() || !sql->is_object()) return std::nullopt;
    std::string driver = sql->value("DriverName", "");
    std::string dsn = sql->value("DataSource", "");
    if (driver.empty() || dsn.empty()) return std::nullopt;
    Engine engine;
    try {
        engine = parse_data_source(dsn, Side::destination).engine;
    } catch (const Error&) {
        return "SqlSettings.DataSource is not a DSN mmmove can read, so it cannot confirm it matches DriverName \"" + driver + "\".";
    }
    Engine expected = driver == "mysql" ? Engine::mysql : Engine::postgres;
    if (driver != "mysql" && driver != "postgres")
        return "SqlSettings.DriverName is \"" + driver + "\"; Mattermost accepts \"postgres\" (and \"mysql\" up to v10).";
    if (engine != expected)
        return "SqlSettings.DriverName is \"" + driver + "\" but SqlSettings.DataSource is a " + engine_name(engine) +
               " DSN: the server would not start. Set DriverName to \"" + (engine == Engine::postgres ? "postgres" : "mysql") +
               "\" in the destination's config (after a MySQL to PostgreSQL move, both must name PostgreSQL).";
    return std::nullopt;
}

std::string write_config(const ConfigLocation& where, const std::string& text) {
    if (where.in_database) {
        auto db = Database::connect(where.dsn, Side::destination);
        Catalog cat = read_catalog(*db);
        const Table* t = cat.find("configurations");
        if (!t) throw Error(ExitCode::destination, "The destination configuration store lost its Configurations table.");
        std::string table = db->quote_ident(t->name);
        int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
        std::string id = new_id();
        Transaction tx(*db);
        db->exec("UPDATE " + table + " SET active = NULL WHERE active");
        if (t->find_column("sha"))
            db->exec("INSERT INTO " + table + " (id, value, createat, active, sha) VALUES (" + db->quote_literal(id) + ", " +
                     db->quote_literal(text) + ", " + std::to_string(now) + ", TRUE, " + db->quote_literal(sha256_hex(text)) + ")");
        else
            db->exec("INSERT INTO " + table + " (id, value, createat, active) VALUES (" + db->quote_literal(id) + ", " +
                     db->quote_literal(text) + ", " + std::to_string(now) + ", TRUE)");
        tx.commit();
        return "Wrote the merged configuration to " + where.describe() + " as active row " + id +
               " (the previous row stays in Configurations, inactive).";
    }
    ConfigFile file = open_config_file(where.path, Side::destination);
    std::string backup = replace_config_file(file, text);
    return "Wrote the merged configuration to " + file.where() + " (the previous file is " + backup + ").";
}

}  // namespace mmmove
