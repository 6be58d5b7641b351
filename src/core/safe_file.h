#pragma once
// Creating and replacing files in folders that other accounts own. mmmove usually runs as root and
// writes into folders that belong to the Mattermost account (its config folder, its data folder), so
// that account can plant a symlink at any name mmmove would use. These functions never open an existing
// file for writing, never write through a symlink, and work from an open folder (the *at calls), so a
// folder swapped for a link half-way cannot redirect a write either.
//
// Every failure throws mmmove::Error with the exit code the caller chose and a sentence naming the file
// or folder and what to do. None of the functions keep state; they are safe to call from any thread.
#include <sys/types.h>

#include <string>
#include <string_view>

#include "core/error.h"

namespace mmmove {

// An open file descriptor, closed when it goes out of scope.
class FileHandle {
public:
    FileHandle() = default;
    explicit FileHandle(int fd) : fd_(fd) {}
    ~FileHandle();
    FileHandle(FileHandle&& other) noexcept : fd_(other.release()) {}
    FileHandle& operator=(FileHandle&& other) noexcept;
    FileHandle(const FileHandle&) = delete;
    FileHandle& operator=(const FileHandle&) = delete;
    int get() const { return fd_; }
    int release();
    explicit operator bool() const { return fd_ >= 0; }

private:
    int fd_ = -1;
};

// The whole of a small input file (a rules or job file): refused, naming `what` and the path, when it is
// missing, not a regular file (a FIFO must not hang the run) or larger than `max_bytes`.
std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes = 4 << 20);

// Creates `path` as a new, empty file open for writing, with permissions `mode` (less the umask):
// O_CREAT|O_EXCL|O_NOFOLLOW|O_CLOEXEC, so an existing file is never opened and a symlink at `path` is
// never followed. Throws Error(code) naming the path when anything (file, folder or link) is already
// there, or when the folder refuses the new file. The caller owns (and closes) the returned descriptor.
int create_new_file(const std::string& path, mode_t mode, ExitCode code = ExitCode::bad_input);

// Opens the folder `path` for the *at calls below (O_DIRECTORY|O_CLOEXEC; links in `path` are followed,
// as the admin named them).
FileHandle open_folder(const std::string& path, ExitCode code = ExitCode::bad_input);

// Opens the folder at the absolute `canonical_path` one component at a time, refusing any component that
// is a symlink: after realpath() has resolved the links once, this proves nothing was swapped since.
FileHandle open_folder_without_links(const std::string& canonical_path, ExitCode code = ExitCode::bad_input);

// A new file in `folder_fd` named `prefix` plus 12 random characters, created exclusively (as
// create_new_file does; a name already taken, by a file or a planted link, is skipped for another).
struct NewFile {
    FileHandle fd;
    std::string name;
};
NewFile create_unique_file(int folder_fd, const std::string& folder, const std::string& prefix, mode_t mode,
                           ExitCode code = ExitCode::bad_input);

// Writes all of `data` to `fd`; `path` names the file in the error.
void write_all(int fd, std::string_view data, const std::string& path, ExitCode code = ExitCode::bad_input);

// The owner and permission bits a replaced file gets (those of the file it replaces).
struct FileAttributes {
    uid_t uid = static_cast<uid_t>(-1);  // -1: leave as created (mmmove's own account)
    gid_t gid = static_cast<gid_t>(-1);
    mode_t mode = 0600;
};

// Replaces the file `name` in the folder `folder_fd` (whose path is `folder`, for messages) with
// `contents`, atomically: a temporary file `<name>.mmmove-tmp-<random>` is created exclusively in the
// same folder, written, given `attrs` (owner changes need root; without it the owner stays mmmove's
// account), fsynced and renamed over `name`; then the folder is fsynced. A reader sees the old file or
// the new one, never a part. On failure the temporary file is removed and `name` is unchanged.
void replace_file_atomically(int folder_fd, const std::string& folder, const std::string& name, std::string_view contents,
                             const FileAttributes& attrs, ExitCode code = ExitCode::bad_input);

}  // namespace mmmove
