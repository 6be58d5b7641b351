#include "job/run_lock.h"

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "core/clock.h"
#include "core/error.h"
#include "core/trusted_path.h"

namespace mmmove {

namespace {

std::string read_holder(int fd) {
    char buf[512];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return "";
    std::string text(buf, static_cast<size_t>(n));
    for (auto& c : text)
        if (c == '\n') c = ',';
        else if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';  // the file is shown, never trusted
    while (!text.empty() && (text.back() == ',' || text.back() == ' ')) text.pop_back();
    return text;
}

std::string lock_folder(const std::string& path) {
    auto slash = path.rfind('/');
    if (slash == std::string::npos) return ".";
    return slash == 0 ? "/" : path.substr(0, slash);
}

// Empty (released) or written by acquire_file ("pid …"): anything else was not mmmove's lock, and
// emptying it would destroy someone's file that `lock:` named by mistake.
bool looks_like_lock(int fd) {
    char head[4] = {};
    ssize_t n = pread(fd, head, sizeof head, 0);
    return n == 0 || (n == 4 && std::memcmp(head, "pid ", 4) == 0);
}

}  // namespace

RunLock RunLock::acquire_file(const std::string& path, const std::string& job, std::string& note) {
    if (path.empty())
        throw Error(ExitCode::bad_input, "The job '" + job + "' has no folder for its lock file: neither $RUNTIME_DIRECTORY nor "
                                         "$XDG_RUNTIME_DIR is set and mmmove does not run as root. Set `lock:` in the job to a file "
                                         "in a folder only mmmove's account can write (e.g. its home or state folder).");
    std::string dir = lock_folder(path);
    if (dir == "/run/mmmove" && geteuid() == 0 && mkdir(dir.c_str(), 0700) != 0 && errno != EEXIST)
        throw Error(ExitCode::bad_input, "mmmove cannot create the folder " + dir + " for its lock files: " + std::strerror(errno) + ".");
    // Another account able to write the folder could plant a link or its own file at the lock's name.
    require_private_folder(dir, "folder of the lock file " + path + ",");
    FileHandle fd(open(path.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600));
    if (!fd)
        throw Error(ExitCode::bad_input, "The lock file " + path + " cannot be opened (" + std::strerror(errno) +
                                             (errno == ELOOP ? ": it is a symbolic link" : "") +
                                             "). Remove what is there, or set `lock:` in the job to a file in a folder only mmmove's "
                                             "account can write.");
    struct stat st {};
    if (fstat(fd.get(), &st) != 0 || !S_ISREG(st.st_mode) || st.st_uid != geteuid() || st.st_nlink != 1)
        throw Error(ExitCode::bad_input, "The lock file " + path +
                                             " is not a plain file of mmmove's own account (another account's file, a hard link or a "
                                             "special file). Remove it, or set `lock:` in the job to a file in a folder only mmmove's "
                                             "account can write.");
    if (!looks_like_lock(fd.get()))
        throw Error(ExitCode::bad_input, "The lock file " + path + " holds something else than an mmmove lock; it is left as it is. "
                                             "Check `lock:` in the job: it names the lock file, which mmmove empties and rewrites.");
    if (flock(fd.get(), LOCK_EX | LOCK_NB) != 0) {
        if (errno != EWOULDBLOCK)
            throw Error(ExitCode::bad_input, "The lock file " + path + " cannot be locked: " + std::strerror(errno) + ".");
        std::string holder = read_holder(fd.get());
        throw Error(ExitCode::lock_held, "Another run of the job '" + job + "' holds its lock (" + path +
                                             (holder.empty() ? "" : ": " + holder) +
                                             "). Nothing was done. Wait for it to finish; two runs never load into one destination at once.");
    }
    // The kernel released the lock of a run that died; what it wrote tells that a run ended badly.
    std::string previous = read_holder(fd.get());
    if (!previous.empty()) note = "found the lock file of a run that ended without releasing it (" + previous + "); taken over";
    std::string me = "pid " + std::to_string(getpid()) + "\nstarted " + utc_timestamp("%Y-%m-%d %H:%M:%S UTC") + "\njob " + job + "\n";
    if (ftruncate(fd.get(), 0) != 0 || pwrite(fd.get(), me.data(), me.size(), 0) != static_cast<ssize_t>(me.size()))
        throw Error(ExitCode::bad_input, "The lock file " + path + " cannot be written: " + std::strerror(errno) + ".");
    return RunLock(path, std::move(fd));
}

RunLock::~RunLock() {
    // The file stays (removing it would race with a run opening it); an empty file means "released".
    if (fd_) (void)!ftruncate(fd_.get(), 0);
}

std::string default_lock_path(const std::string& job) {
    // Never /run/lock or /tmp: every account may create files there, so a lock name there can be taken
    // (or planted as a link) by anybody.
    std::string dir;
    if (const char* rt = std::getenv("RUNTIME_DIRECTORY"); rt && *rt) dir = std::string(rt).substr(0, std::string(rt).find(':'));
    else if (geteuid() == 0) dir = "/run/mmmove";
    else if (const char* xdg = std::getenv("XDG_RUNTIME_DIR"); xdg && *xdg) dir = xdg;
    return dir.empty() ? "" : dir + "/mmmove-" + job + ".lock";
}

}  // namespace mmmove
