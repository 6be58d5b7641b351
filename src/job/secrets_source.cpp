#include "job/secrets_source.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>

#include "core/error.h"
#include "core/safe_file.h"

namespace mmmove {
namespace {

[[noreturn]] void refuse(const std::string& what, const std::string& problem) {
    throw Error(ExitCode::bad_input, "Cannot read " + what + ": " + problem);
}

constexpr size_t max_secret_bytes = 64 << 10;

std::string mode_text(mode_t mode) {
    char text[8];
    std::snprintf(text, sizeof text, "%04o", static_cast<unsigned>(mode & 07777));
    return text;
}

// The file's identity, checked on the open descriptor (what is read is what was checked): a regular
// file (a FIFO would hang the run, /dev/zero fill the memory), of mmmove's account or root (another
// account could swap the secret for one of its choosing), that nobody else may change or read (a file
// root owns may be read by its group: 0640, how secrets are shared with a service account).
void check_secret_file(int fd, const std::string& path, const std::string& what) {
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))
        refuse(what, path + " is not a regular file (a FIFO, a device, a socket or a folder); write the secret into a file.");
    if (st.st_uid != 0 && st.st_uid != ::geteuid())
        refuse(what, "the file " + path + " belongs to uid " + std::to_string(st.st_uid) +
                         ", not to the account running mmmove or root, so that account could change it; chown root " + path +
                         " (or to the account running mmmove) — then run mmmove again.");
    mode_t forbidden = st.st_uid == 0 ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
    if ((st.st_mode & forbidden) != 0)
        refuse(what, "the file " + path + " can be read or changed by other users (mode " + mode_text(st.st_mode) +
                         "); make it private with: chmod 600 " + path + " — then run mmmove again.");
    if (static_cast<uint64_t>(st.st_size) > max_secret_bytes)
        refuse(what, "the file " + path + " is larger than 64 KiB; is it the right file?");
}

std::string read_secret_file(const std::string& path, const std::string& what) {
    // Not even opened when it is no regular file: opening a device can have effects of its own.
    struct stat st {};
    if (::lstat(path.c_str(), &st) != 0) refuse(what, "the file " + path + " does not exist or cannot be opened; check the path.");
    if (S_ISLNK(st.st_mode)) refuse(what, "the file " + path + " is a symbolic link; name the file itself.");
    if (!S_ISREG(st.st_mode)) refuse(what, path + " is not a regular file (a FIFO, a device, a socket or a folder); write the secret into a file.");
    FileHandle fd(::open(path.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC));
    if (!fd)
        refuse(what, "the file " + path + (errno == ELOOP ? " is a symbolic link; name the file itself." : " cannot be opened: " + std::string(std::strerror(errno)) + "."));
    check_secret_file(fd.get(), path, what);
    std::string text;
    char buf[4096];
    for (ssize_t n; (n = ::read(fd.get(), buf, sizeof buf)) != 0;) {
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) refuse(what, "the file " + path + " cannot be read: " + std::strerror(errno) + ".");
        text.append(buf, static_cast<size_t>(n));
        if (text.size() > max_secret_bytes) refuse(what, "the file " + path + " grew past 64 KiB while it was read.");
    }
    return text;
}

std::string without_line_breaks(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

std::string read_secret(const std::string& env, const std::string& file, const std::string& what) {
    if (!env.empty()) {
        const char* set = std::getenv(env.c_str());
        std::string value = without_line_breaks(set ? set : "");
        if (value.empty())
            refuse(what, "the environment variable " + env + " is not set (or is empty). Export " + env +
                             "=… before running mmmove (a systemd job reads it from /etc/mmmove/JOB.env).");
        return value;
    }
    if (file.empty()) refuse(what, "the job names neither a variable nor a file holding it.");
    std::string value = without_line_breaks(read_secret_file(file, what));
    if (value.empty()) refuse(what, "the file " + file + " is empty; write the secret on its first line.");
    return value;
}

}  // namespace mmmove
