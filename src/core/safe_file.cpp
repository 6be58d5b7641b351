#include "core/safe_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <random>

namespace mmmove {

std::string read_input_file(const std::string& path, const std::string& what, size_t max_bytes) {
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) throw Error(ExitCode::bad_input, "Cannot open the " + what + " " + path + ": " + std::strerror(errno) + ". Check the path.");
    FileHandle file(fd);
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        throw Error(ExitCode::bad_input, "The " + what + " " + path + " is not a regular file. Give the path of a file.");
    if (static_cast<uint64_t>(st.st_size) > max_bytes)
        throw Error(ExitCode::bad_input, "The " + what + " " + path + " is larger than " + std::to_string(max_bytes) + " bytes; is it the right file?");
    std::string text;
    char buf[65536];
    for (ssize_t n; (n = ::read(fd, buf, sizeof buf)) != 0;) {
        if (n < 0) {
            if (errno == EINTR) continue;
            throw Error(ExitCode::bad_input, "Cannot read the " + what + " " + path + ": " + std::strerror(errno));
        }
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_bytes) throw Error(ExitCode::bad_input, "The " + what + " " + path + " grew while it was read.");
    }
    return text;
}

namespace {

// What the admin can do about a folder that refuses a new file.
std::string folder_advice(int err, const std::string& folder) {
    if (err == EACCES || err == EPERM)
        return "mmmove's account may not create files in " + folder +
               ": run mmmove as root or as the account that owns that folder, or give it write permission there.";
    if (err == EROFS) return folder + " is on a read-only file system: remount it read-write, or write somewhere else.";
    if (err == ENOSPC || err == EDQUOT) return "the disk holding " + folder + " is full (or the quota is used up): free some space.";
    return std::string("the system says: ") + std::strerror(err) + ".";
}

std::string parent_of(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

std::string random_suffix() {
    static const char alphabet[] = "abcdefghijklmnopqrstuvwxyz0123456789";
    std::random_device rd;  // unpredictable: another account must not guess the next name
    std::string s;
    for (int i = 0; i < 12; ++i) s += alphabet[rd() % 36];
    return s;
}

constexpr int kExclusive = O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC;

}  // namespace

FileHandle::~FileHandle() {
    if (fd_ >= 0) ::close(fd_);
}

FileHandle& FileHandle::operator=(FileHandle&& other) noexcept {
    if (this != &other) {
        if (fd_ >= 0) ::close(fd_);
        fd_ = other.release();
    }
    return *this;
}

int FileHandle::release() {
    int fd = fd_;
    fd_ = -1;
    return fd;
}

int create_new_file(const std::string& path, mode_t mode, ExitCode code) {
    int fd = ::open(path.c_str(), kExclusive, mode);
    if (fd >= 0) return fd;
    int err = errno;
    struct stat st {};
    if (err == EEXIST && ::lstat(path.c_str(), &st) == 0 && S_ISLNK(st.st_mode))
        throw Error(code, path + " is a symlink; mmmove never writes through a link. Remove it or choose another path.");
    if (err == EEXIST)
        throw Error(code, path + " already exists; mmmove never overwrites a file it did not create. Remove it or choose another path.");
    throw Error(code, "mmmove cannot create " + path + ": " + folder_advice(err, parent_of(path)));
}

FileHandle open_folder(const std::string& path, ExitCode code) {
    int fd = ::open(path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) {
        int err = errno;
        throw Error(code, "mmmove cannot open the folder " + path + " (" + std::strerror(err) + "); check that it exists and that mmmove's account may enter it.");
    }
    return FileHandle(fd);
}

FileHandle open_folder_without_links(const std::string& canonical_path, ExitCode code) {
    if (canonical_path.empty() || canonical_path[0] != '/')
        throw Error(ExitCode::internal, "open_folder_without_links needs an absolute path, not " + canonical_path);
    FileHandle dir(::open("/", O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    size_t pos = 1;
    while (dir && pos < canonical_path.size()) {
        size_t end = canonical_path.find('/', pos);
        if (end == std::string::npos) end = canonical_path.size();
        std::string part = canonical_path.substr(pos, end - pos);
        pos = end + 1;
        if (part.empty() || part == ".") continue;
        int fd = ::openat(dir.get(), part.c_str(), O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0) {
            int err = errno;
            if (err == ELOOP || err == ENOTDIR)
                throw Error(code, "The folder " + canonical_path.substr(0, end) +
                                      " was replaced by a symlink or a file while mmmove was working; nothing was written. Check who changes it, then run mmmove again.");
            throw Error(code, "mmmove cannot open the folder " + canonical_path.substr(0, end) + " (" + std::strerror(err) +
                                  "); check that it exists and that mmmove's account may enter it.");
        }
        dir = FileHandle(fd);
    }
    if (!dir) throw Error(code, "mmmove cannot open the root folder (" + std::string(std::strerror(errno)) + ").");
    return dir;
}

NewFile create_unique_file(int folder_fd, const std::string& folder, const std::string& prefix, mode_t mode, ExitCode code) {
    for (int attempt = 0; attempt < 100; ++attempt) {
        std::string name = prefix + random_suffix();
        int fd = ::openat(folder_fd, name.c_str(), kExclusive, mode);
        if (fd >= 0) return {FileHandle(fd), name};
        if (errno != EEXIST) {
            int err = errno;
            throw Error(code, "mmmove cannot create a file in " + folder + ": " + folder_advice(err, folder));
        }
    }
    throw Error(code, "mmmove found 100 random names in " + folder + " already taken (by files or links named " + prefix +
                          "…); something is planting them. Remove them and run mmmove again.");
}

void write_all(int fd, std::string_view data, const std::string& path, ExitCode code) {
    size_t done = 0;
    while (done < data.size()) {
        ssize_t n = ::write(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR) continue;
        if (n <= 0) {
            int err = n < 0 ? errno : ENOSPC;
            throw Error(code, "Writing " + path + " failed: " + folder_advice(err, parent_of(path)));
        }
        done += static_cast<size_t>(n);
    }
}

void replace_file_atomically(int folder_fd, const std::string& folder, const std::string& name, std::string_view contents,
                             const FileAttributes& attrs, ExitCode code) {
    // Created 0600 so nobody can read the contents before they have their final owner and mode.
    NewFile tmp = create_unique_file(folder_fd, folder, name + ".mmmove-tmp-", 0600, code);
    std::string shown = folder + "/" + tmp.name;
    try {
        write_all(tmp.fd.get(), contents, shown, code);
        if (attrs.uid != static_cast<uid_t>(-1) || attrs.gid != static_cast<gid_t>(-1)) {
            // Only root may give a file away; any other account keeps its own file, which it can still read.
            if (::fchown(tmp.fd.get(), attrs.uid, attrs.gid) != 0 && errno != EPERM)
                throw Error(code, "mmmove cannot set the owner of " + shown + ": " + std::strerror(errno) + ".");
        }
        if (::fchmod(tmp.fd.get(), attrs.mode & 07777) != 0 || ::fsync(tmp.fd.get()) != 0)
            throw Error(code, "Writing " + shown + " failed: " + folder_advice(errno, folder));
        if (::renameat(folder_fd, tmp.name.c_str(), folder_fd, name.c_str()) != 0)
            throw Error(code, "mmmove cannot replace " + folder + "/" + name + ": " + folder_advice(errno, folder));
    } catch (...) {
        ::unlinkat(folder_fd, tmp.name.c_str(), 0);
        throw;
    }
    ::fsync(folder_fd);  // the rename itself survives a crash
}

}  // namespace mmmove
