#pragma once
// Reading and replacing a config.json in a folder the Mattermost account owns, while mmmove runs as root.
//
// A config.json that is a symlink is followed, as Mattermost itself does when it saves its settings:
// the file the link points to is backed up and replaced, and the link stays. The link is followed only
// when it belongs to root or to the owner of the file it points to, so the account that owns the config
// folder cannot point mmmove at a file it could not read or write itself. The file's folder is opened
// once, without following links, and everything after that works from it.
#include <sys/stat.h>

#include <string>

#include "core/safe_file.h"
#include "db/data_source.h"

namespace mmmove {

struct ConfigFile {
    std::string shown;    // the path the admin passed
    std::string folder;   // the real file's folder, links resolved
    std::string name;     // the real file's name in that folder
    FileHandle dir;       // `folder`, opened without following links
    struct stat st {};    // the real file when it was resolved
    bool via_link = false;
    std::string where() const;  // for messages: the path, and the target when it is a link
};

// Resolves `path` (following a symlinked config.json under the rule above). Refuses, with exit code
// 2, a missing file, something other than a regular file, and a link that may not be followed.
ConfigFile open_config_file(const std::string& path, Side side);

// The file's bytes, read through `dir` without following links; refused when the file was swapped.
std::string read_config_file(const ConfigFile& file);

// Backs up the current file as `<name>.mmmove-backup-<time>-<random>` (owner and mode kept) and
// replaces it atomically with `text` (owner and mode kept). A folder that refuses the files gives exit
// code 4 with the folder named. Returns the backup's path.
std::string replace_config_file(const ConfigFile& file, const std::string& text);

}  // namespace mmmove
