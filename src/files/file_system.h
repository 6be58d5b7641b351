#pragma once
// The file operations `files sync` performs, behind a narrow interface so tests can inject faults
// (a write that fails half-way, as a full disk or a killed process would leave it).
#include <sys/types.h>

#include <filesystem>
#include <string>

namespace mmmove {

class FileSystem {
public:
    virtual ~FileSystem() = default;
    virtual int open_read(const std::filesystem::path& p);                 // -1 on failure
    virtual int create_exclusive(const std::filesystem::path& p, mode_t mode);
    virtual ssize_t read(int fd, void* buf, size_t n);
    virtual ssize_t write(int fd, const void* buf, size_t n);
    virtual bool finish(int fd, mode_t mode, const struct timespec& mtime);  // fsync, chmod, times, close
    virtual void close(int fd);
    virtual bool rename(const std::filesystem::path& from, const std::filesystem::path& to);
    virtual void remove(const std::filesystem::path& p);
};

FileSystem& real_file_system();

}  // namespace mmmove
