#pragma once
// `mmmove files sync`: make a destination data directory hold the source's files. New and changed
// files (size and mtime, or content with --checksum) are copied by N workers, each to a short
// temporary name that is renamed into place only once complete, with the source's mtime and
// permissions (and, as root, its owner and group): an interrupted sync never leaves a truncated file.
// Both trees are walked through folder descriptors without following symlinks, so nothing is read
// from outside the source or written outside the destination, even when folders are swapped for
// symlinks during the sync. A source folder that cannot be read is a failure, and --delete keeps
// its copies. Every path in the result is printable (see printable_path.h). With a database, every
// file the rows reference (FileInfo paths, profile pictures, custom emoji, team icons) is checked
// on both sides.
#include <cstdint>
#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "db/database.h"
#include "files/file_system.h"

namespace mmmove {

struct SyncOptions {
    std::filesystem::path from, to;
    bool checksum = false;     // compare content, not size and mtime
    bool remove_extra = false; // --delete: remove destination files the source lacks
    bool dry_run = false;
    unsigned jobs = 0;         // 0 = number of cores
    bool quiet = false;
    // A merge: a destination file is never replaced (the destination's differs: it is kept and
    // counted), and source folders may land under another name. `folder_name(rel)` gets a source
    // folder's path from the root ("users/<id>") and returns nothing to keep the name, a new name for
    // the folder, or "" to leave the folder out (the destination's own copy of it wins).
    bool keep_existing = false;
    std::function<std::optional<std::string>(const std::string& rel)> folder_name;
    // An anonymised refresh: `file_name(rel)` gets a source file's path from the root and returns its
    // name in the destination (one path component; the folders stay), and with `placeholders` each
    // file is written as its placeholder (files/placeholder.h), never with the source's bytes. A
    // placeholder is unchanged when the destination holds exactly its bytes with the source's mtime.
    std::function<std::string(const std::string& rel)> file_name;
    bool placeholders = false;
};

struct SyncResult {
    uint64_t copied = 0, unchanged = 0, deleted = 0, bytes = 0;
    uint64_t kept = 0;  // keep_existing: destination files that differ from the source's, left as they are
    std::vector<std::string> refused;  // hostile paths and symlinks, with the reason
    std::vector<std::string> failed;   // files and folders that could not be copied or read, with the reason
};

SyncResult sync_files(const SyncOptions& options, FileSystem& fs, std::ostream& log);

// A relative path from the database or the disk that stays inside its root: not absolute, no "..",
// no NUL. The reason when it is not.
std::optional<std::string> unsafe_relative_path(const std::string& path);

struct ReferenceReport {
    uint64_t referenced = 0, missing_source_count = 0, missing_dest_count = 0, refused_count = 0;  // all of them
    // The first few of each, for the admin (the counts above cover every one).
    std::vector<std::string> missing_in_source, missing_in_dest, refused;
};
// Every file the database's rows name, checked under both roots.
ReferenceReport check_references(Database& db, const std::filesystem::path& from, const std::filesystem::path& to);
// The top-level folders of the data directory named by a row's id, from the templates of
// mappings/files.yaml ("users/{Id}/profile.png": users/<id> belongs to the Users row <id>):
// folder → lower-case table. A merge moves such a folder with its row's id.
std::map<std::string, std::string> id_folders();

}  // namespace mmmove
