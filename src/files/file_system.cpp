#include "files/file_system.h"

#include <dirent.h>
#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cerrno>

namespace mmmove {

namespace {

constexpr int kFolderFlags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC;

// Owner first: changing the owner clears set-user-ID bits that the mode then puts back.
bool apply_attributes(int fd, const Attributes& a, mode_t extra_mode) {
    if (a.keep_owner && ::fchown(fd, a.source.st_uid, a.source.st_gid) != 0) return false;
    return ::fchmod(fd, (a.source.st_mode & 07777) | extra_mode) == 0;
}

std::string random_suffix() {
    static constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_";
    unsigned char bytes[12];
    if (::getrandom(bytes, sizeof bytes, 0) != static_cast<ssize_t>(sizeof bytes)) return {};
    std::string s;
    for (unsigned char b : bytes) s += kAlphabet[b & 63];
    return s;
}

}  // namespace

int FileSystem::open_folder(int dir, const std::string& name) { return ::openat(dir, name.c_str(), kFolderFlags); }

int FileSystem::make_folder(int dir, const std::string& name, const Attributes& attributes) {
    if (::mkdirat(dir, name.c_str(), 0700) != 0) {
        // Someone else made it since mmmove looked: use it as it is, as any existing folder.
        return errno == EEXIST ? ::openat(dir, name.c_str(), kFolderFlags) : -1;
    }
    int fd = ::openat(dir, name.c_str(), kFolderFlags);
    // Without root the folder must stay writable by mmmove's own account, or its files cannot follow.
    if (fd >= 0 && !apply_attributes(fd, attributes, attributes.keep_owner ? 0 : S_IRWXU)) {
        int saved = errno;
        ::close(fd);
        errno = saved;
        return -1;
    }
    return fd;
}

bool FileSystem::list_folder(int dir, std::vector<FolderEntry>& entries) {
    int fd = ::openat(dir, ".", kFolderFlags);
    DIR* d = fd >= 0 ? ::fdopendir(fd) : nullptr;
    if (!d) {
        if (fd >= 0) ::close(fd);
        return false;
    }
    errno = 0;
    while (struct dirent* e = ::readdir(d)) {
        std::string name = e->d_name;
        if (name == "." || name == "..") continue;
        FolderEntry entry{name, DTTOIF(e->d_type), 0};
        struct stat st {};
        if (e->d_type == DT_UNKNOWN) {
            if (::fstatat(dir, e->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0) entry.type = st.st_mode & S_IFMT;
            else entry.type = 0, entry.error = errno;
        }
        entries.push_back(std::move(entry));
        errno = 0;
    }
    int error = errno;
    ::closedir(d);
    errno = error;
    return error == 0;
}

bool FileSystem::stat(int dir, const std::string& name, struct stat& st) {
    return ::fstatat(dir, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0;
}

// O_NONBLOCK: an entry swapped for a FIFO must not hang a worker; regular files ignore the flag.
int FileSystem::open_read(int dir, const std::string& name) {
    return ::openat(dir, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
}

int FileSystem::create_temporary(int dir, std::string& name) {
    for (int attempt = 0; attempt < 16; ++attempt) {
        std::string suffix = random_suffix();
        if (suffix.empty()) return -1;
        name = kTemporaryMarker + suffix;
        int fd = ::openat(dir, name.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd >= 0 || errno != EEXIST) return fd;
    }
    return -1;
}

ssize_t FileSystem::read(int fd, void* buf, size_t n) { return ::read(fd, buf, n); }
ssize_t FileSystem::write(int fd, const void* buf, size_t n) { return ::write(fd, buf, n); }

bool FileSystem::finish(int fd, const Attributes& attributes) {
    struct timespec times[2] = {attributes.source.st_mtim, attributes.source.st_mtim};
    bool ok = apply_attributes(fd, attributes, 0) && ::futimens(fd, times) == 0 && ::fsync(fd) == 0;
    int saved = errno;
    if (::close(fd) != 0 && ok) return false;
    errno = saved;
    return ok;
}

void FileSystem::close(int fd) { ::close(fd); }
bool FileSystem::rename(int dir, const std::string& from, const std::string& to) {
    return ::renameat(dir, from.c_str(), dir, to.c_str()) == 0;
}
bool FileSystem::remove(int dir, const std::string& name) { return ::unlinkat(dir, name.c_str(), 0) == 0; }

FileSystem& real_file_system() {
    static FileSystem fs;
    return fs;
}

}  // namespace mmmove
