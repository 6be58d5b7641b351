#include "core/trusted_path.h"

#include <limits.h>
#include <pwd.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <vector>

#include "core/error.h"

namespace mmmove {
namespace {

// What is being checked, for the messages: "the job file /etc/mmmove/nightly.yaml".
struct Asked {
    std::string what, path;
};

[[noreturn]] void refuse(const Asked& a, const std::string& problem) {
    throw Error(ExitCode::bad_input, "The " + a.what + " " + a.path + " is not safe to use: " + problem +
                                         " Only root and the account running mmmove may be able to change what mmmove obeys or "
                                         "keeps as its own; then run mmmove again.");
}

std::string account(uid_t uid) {
    struct passwd pw {}, *found = nullptr;
    char buf[1024];
    std::string id = "uid " + std::to_string(uid);
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &found) == 0 && found) return std::string(found->pw_name) + " (" + id + ")";
    return id;
}

// One component of the walk: its owner may be root or the running account only; it may be writable by
// its group or others only when it is a sticky folder in the middle of the path (`sticky_ok`).
void check_entry(const Asked& a, const std::string& p, const struct stat& st, bool sticky_ok) {
    if (st.st_uid != 0 && st.st_uid != geteuid())
        refuse(a, p + " belongs to " + account(st.st_uid) + ", who could change it. Give it to root (chown root " + p +
                      ") or move the file to a folder only root can change, such as /etc/mmmove.");
    if (S_ISLNK(st.st_mode)) return;  // a link's own bits mean nothing; its target is walked next
    if ((st.st_mode & (S_IWGRP | S_IWOTH)) == 0) return;
    if (S_ISDIR(st.st_mode) && sticky_ok && (st.st_mode & S_ISVTX)) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    refuse(a, p + " can be changed by other accounts (mode " + mode + "). Take their write permission away: chmod go-w " + p + ".");
}

std::string join(const std::string& dir, const std::string& name) { return dir == "/" ? "/" + name : dir + "/" + name; }

std::string parent(const std::string& p) {
    auto slash = p.rfind('/');
    return slash == 0 || slash == std::string::npos ? "/" : p.substr(0, slash);
}

std::vector<std::string> components(const std::string& path) {
    std::vector<std::string> out;
    size_t pos = 0;
    while (pos <= path.size()) {
        size_t end = path.find('/', pos);
        if (end == std::string::npos) end = path.size();
        std::string part = path.substr(pos, end - pos);
        if (!part.empty() && part != ".") out.push_back(part);
        pos = end + 1;
    }
    return out;
}

// Checks every component of the absolute `path`, from / down, and returns the path with its links
// resolved. A link is checked for its owner and its target walked in turn; `private_last`: the last
// component is a folder others may not write even with the sticky bit. Invariant: `resolved` is
// always a path without links whose every component has been checked.
std::string walk(const Asked& a, const std::string& path, bool private_last, int& links) {
    struct stat st {};
    if (::lstat("/", &st) != 0) refuse(a, std::string("/ cannot be examined: ") + std::strerror(errno) + ".");
    auto parts = components(path);
    check_entry(a, "/", st, !(private_last && parts.empty()));
    std::string resolved = "/";
    for (size_t i = 0; i < parts.size(); ++i) {
        bool last = i + 1 == parts.size();
        if (parts[i] == "..") {
            resolved = parent(resolved);
            continue;
        }
        std::string p = join(resolved, parts[i]);
        if (::lstat(p.c_str(), &st) != 0)
            refuse(a, p + " cannot be examined (" + std::strerror(errno) + "). Check the path.");
        check_entry(a, p, st, !(last && private_last));
        if (!S_ISLNK(st.st_mode)) {
            resolved = p;
            continue;
        }
        if (++links > 40) refuse(a, "it goes through more than 40 symbolic links (a loop?). Name the file itself.");
        char target[PATH_MAX];
        ssize_t n = ::readlink(p.c_str(), target, sizeof target - 1);
        if (n <= 0) refuse(a, "the link " + p + " cannot be read (" + std::strerror(errno) + ").");
        std::string to(target, static_cast<size_t>(n));
        resolved = walk(a, to[0] == '/' ? to : join(resolved, to), last && private_last, links);
    }
    return resolved;
}

std::string absolute(const std::string& path) {
    if (!path.empty() && path[0] == '/') return path;
    char cwd[PATH_MAX];
    if (!::getcwd(cwd, sizeof cwd)) throw Error(ExitCode::bad_input, "mmmove cannot tell which folder it runs in: " + std::string(std::strerror(errno)) + ".");
    return join(cwd, path);
}

}  // namespace

void require_trusted_file(const std::string& path, const std::string& what) {
    int links = 0;
    walk({what, path}, absolute(path), false, links);
}

void require_private_folder(const std::string& path, const std::string& what) {
    int links = 0;
    walk({what, path}, absolute(path), true, links);
}

}  // namespace mmmove
