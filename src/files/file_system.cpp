#include "files/file_system.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace mmmove {

int FileSystem::open_read(const std::filesystem::path& p) { return ::open(p.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC); }
int FileSystem::create_exclusive(const std::filesystem::path& p, mode_t mode) {
    return ::open(p.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, mode);
}
ssize_t FileSystem::read(int fd, void* buf, size_t n) { return ::read(fd, buf, n); }
ssize_t FileSystem::write(int fd, const void* buf, size_t n) { return ::write(fd, buf, n); }
bool FileSystem::finish(int fd, mode_t mode, const struct timespec& mtime) {
    struct timespec times[2] = {mtime, mtime};
    bool ok = ::fsync(fd) == 0 && ::fchmod(fd, mode) == 0 && ::futimens(fd, times) == 0;
    return ::close(fd) == 0 && ok;
}
void FileSystem::close(int fd) { ::close(fd); }
bool FileSystem::rename(const std::filesystem::path& from, const std::filesystem::path& to) {
    return ::rename(from.c_str(), to.c_str()) == 0;
}
void FileSystem::remove(const std::filesystem::path& p) { ::unlink(p.c_str()); }

FileSystem& real_file_system() {
    static FileSystem fs;
    return fs;
}

}  // namespace mmmove
