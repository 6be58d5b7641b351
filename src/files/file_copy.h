#pragma once
// The pieces of `files sync` that the folder walk and the copy workers share.
#include <atomic>
#include <cstdint>
#include <mutex>
#include <string>

#include "files/file_sync.h"
#include "files/file_system.h"

namespace mmmove {

// A source folder and its destination counterpart, open as descriptors for as long as a file in
// them waits to be copied. dst is -1 when the destination folder is missing (dry run) or unusable,
// and then dst_problem says why (empty for a dry run).
struct FolderPair {
    FileSystem& fs;
    std::string rel;  // from the roots, "" for the roots themselves
    int src = -1, dst = -1;
    std::string dst_problem;
    bool dst_refused = false;  // the problem is a refusal (a symlink, a file) rather than a failure

    FolderPair(FileSystem& f, std::string r) : fs(f), rel(std::move(r)) {}
    FolderPair(const FolderPair&) = delete;
    FolderPair& operator=(const FolderPair&) = delete;
    ~FolderPair() {
        if (src >= 0) fs.close(src);
        if (dst >= 0) fs.close(dst);
    }
    std::string child(const std::string& name) const { return rel.empty() ? name : rel + "/" + name; }
};

// What the walk and the workers found. Messages hold printable paths only. Thread-safe.
struct SyncTally {
    static constexpr size_t kMaxRefused = 200;  // the list is for the admin; the walk goes on
    std::mutex m;
    SyncResult result;
    std::atomic<uint64_t> copied{0}, unchanged{0}, bytes{0}, deleted{0}, kept{0};
    void refuse(const std::string& what);
    void fail(const std::string& what);
};

// pair.rel/name as messages name it: printable, and with o.file_name at its destination name, so an
// anonymised refresh's warnings and summary hold no original file name.
std::string shown_file(const SyncOptions& o, const FolderPair& pair, const std::string& name);

// Copies pair.rel/name to dest_name in the destination folder (its placeholder with o.placeholders)
// unless the destination already holds the same file. The destination only ever holds the old file or
// the complete new one: the copy goes to a temporary name first.
void copy_file(const SyncOptions& o, bool keep_owner, SyncTally& tally, const FolderPair& pair, const std::string& name,
               const std::string& dest_name);

}  // namespace mmmove
