// Which files the database's rows name (mappings/files.yaml), and whether each is on both sides.
#include <sys/stat.h>
#include <yaml-cpp/yaml.h>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "core/error.h"
#include "files/file_sync.h"
#include "files/printable_path.h"

namespace mmmove {
namespace fs = std::filesystem;

namespace {
constexpr size_t kMaxListed = 200;  // per list in the report; the counts cover everything
}  // namespace

std::map<std::string, std::string> id_folders() {
    std::map<std::string, std::string> folders;
    for (const auto& rule : load_embedded_yaml("files.yaml")["references"]) {
        if (!rule["template"]) continue;
        const std::string tmpl = rule["template"].as<std::string>(), table = lower(rule["table"].as<std::string>());
        const size_t slash = tmpl.find('/');
        if (slash == std::string::npos || slash == 0 || tmpl.compare(slash, 6, "/{Id}/") != 0) continue;  // not <folder>/{Id}/…
        const std::string folder = tmpl.substr(0, slash);
        auto [it, added] = folders.emplace(folder, table);
        if (!added && it->second != table)  // one folder, two id maps: mappings/files.yaml is wrong, not the user's data
            throw Error(ExitCode::internal, "mappings/files.yaml puts rows of " + it->second + " and " + table + " under the folder " + folder);
    }
    return folders;
}

ReferenceReport check_references(Database& db, const fs::path& from, const fs::path& to) {
    ReferenceReport rep;
    Catalog cat = read_catalog(db);
    YAML::Node rules = load_embedded_yaml("files.yaml")["references"];
    auto note = [&](std::vector<std::string>& list, const std::string& s) {
        if (list.size() < kMaxListed) list.push_back(printable_path(s));
    };
    auto check = [&](const std::string& origin, const std::string& path) {
        if (path.empty()) return;
        ++rep.referenced;
        if (auto why = unsafe_relative_path(path)) {
            ++rep.refused_count;
            return note(rep.refused, origin + ": " + path + " " + *why + " (refused)");
        }
        struct stat s {};
        if (::lstat((from / path).c_str(), &s) != 0) ++rep.missing_source_count, note(rep.missing_in_source, origin + ": " + path);
        if (::lstat((to / path).c_str(), &s) != 0) ++rep.missing_dest_count, note(rep.missing_in_dest, origin + ": " + path);
    };
    for (const auto& rule : rules) {
        const Table* t = cat.find(rule["table"].as<std::string>());
        if (!t) continue;
        std::vector<std::string> cols;
        auto want = [&](const std::string& c) {
            const Column* col = t->find_column(c);
            if (!col) return -1;
            for (size_t i = 0; i < cols.size(); ++i)
                if (cols[i] == col->name) return static_cast<int>(i);
            cols.push_back(col->name);
            return static_cast<int>(cols.size() - 1);
        };
        int id = want("Id");
        std::vector<int> path_cols;
        for (const auto& c : rule["path_columns"]) path_cols.push_back(want(c.as<std::string>()));
        int live = rule["live_when"] ? want(rule["live_when"]["column"].as<std::string>()) : -1;
        std::string live_value = rule["live_when"] ? rule["live_when"]["value"].as<std::string>() : "";
        int positive = rule["when_positive"] ? want(rule["when_positive"].as<std::string>()) : -1;
        std::string tmpl = rule["template"] ? rule["template"].as<std::string>() : "";
        auto reader = db.read_table(t->name, cols);
        FieldRow row;
        while (reader->next(row)) {
            if (live >= 0 && (row[live].null || row[live].view() != live_value)) continue;
            if (positive >= 0 && (row[positive].null || std::atoll(std::string(row[positive].view()).c_str()) <= 0)) continue;
            std::string origin = t->name + " " + (id >= 0 && !row[id].null ? std::string(row[id].view()) : "?");
            for (int c : path_cols)
                if (c >= 0 && !row[c].null) check(origin, std::string(row[c].view()));
            if (!tmpl.empty() && id >= 0 && !row[id].null) {
                std::string p = tmpl;
                p.replace(p.find("{Id}"), 4, std::string(row[id].view()));
                check(origin, p);
            }
        }
    }
    return rep;
}

}  // namespace mmmove
