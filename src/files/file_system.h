#pragma once
// The file operations `files sync` performs, behind a narrow interface so tests can inject faults
// (a write that fails half-way, as a full disk or a killed process would leave it).
//
// Every name is a single path component relative to an open folder descriptor, and no operation
// follows a symlink: folders are walked with openat(O_DIRECTORY|O_NOFOLLOW), files created with
// O_EXCL|O_NOFOLLOW and renamed with renameat inside one folder. A folder that someone swaps for a
// symlink while a sync runs can therefore never redirect a read or a write outside its root.
// Thread-safe: workers share one instance. Failures return -1 or false and leave errno set.
#include <sys/stat.h>
#include <sys/types.h>

#include <string>
#include <vector>

namespace mmmove {

struct FolderEntry {
    std::string name;
    mode_t type = 0;  // S_IFREG, S_IFDIR, S_IFLNK…; 0 when the entry could not be examined
    int error = 0;    // errno when it could not
};

// Who owns what mmmove writes: with keep_owner (mmmove runs as root) copies and new folders get the
// source's owner and group, as `rsync -a` does; otherwise they belong to the account running mmmove.
struct Attributes {
    const struct stat& source;
    bool keep_owner;
};

class FileSystem {
public:
    virtual ~FileSystem() = default;
    virtual int open_folder(int dir, const std::string& name);
    // Creates the folder (private until it has the source's owner and mode) and opens it.
    virtual int make_folder(int dir, const std::string& name, const Attributes& attributes);
    virtual bool list_folder(int dir, std::vector<FolderEntry>& entries);  // without "." and ".."
    virtual bool stat(int dir, const std::string& name, struct stat& st);
    virtual int open_read(int dir, const std::string& name);
    // A new file under a short unpredictable name (set in `name`), so any legal final name fits.
    virtual int create_temporary(int dir, std::string& name);
    virtual ssize_t read(int fd, void* buf, size_t n);
    virtual ssize_t write(int fd, const void* buf, size_t n);
    virtual bool finish(int fd, const Attributes& attributes);  // owner, mode, mtime, fsync, close
    virtual void close(int fd);
    virtual bool rename(int dir, const std::string& from, const std::string& to);
    virtual bool remove(int dir, const std::string& name);
};

FileSystem& real_file_system();

// Every temporary name starts with this; a file that holds it is never a final name.
constexpr const char* kTemporaryMarker = ".mmmove-tmp-";

}  // namespace mmmove
