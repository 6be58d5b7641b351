#include "config/config_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <vector>

#include "core/clock.h"

namespace mmmove {
namespace fs = std::filesystem;

namespace {

// Follows `p` while it is a symlink; returns the first non-link path, its lstat, and the links' owners.
fs::path follow_links(fs::path p, const std::string& what, struct stat& st, std::vector<uid_t>& link_owners) {
    for (int hops = 0;; ++hops) {
        if (::lstat(p.c_str(), &st) != 0) {
            int err = errno;
            if (err == ENOENT && hops == 0) throw Error(ExitCode::bad_input, what + " does not exist; pass the path of Mattermost's config.json.");
            if (err == ENOENT)
                throw Error(ExitCode::bad_input, what + " is a symlink to " + p.string() + ", which does not exist; fix the link or pass the real file.");
            throw Error(ExitCode::bad_input, "mmmove cannot read " + p.string() + " (" + std::strerror(err) +
                                                 "); run it as root or as the account that owns the config folder.");
        }
        if (!S_ISLNK(st.st_mode)) return p;
        if (hops == 16) throw Error(ExitCode::bad_input, what + " is a chain of more than 16 symlinks; point it at the real file.");
        link_owners.push_back(st.st_uid);
        std::error_code ec;
        fs::path target = fs::read_symlink(p, ec);
        if (ec) throw Error(ExitCode::bad_input, "mmmove cannot read the symlink " + p.string() + " (" + ec.message() + ").");
        p = target.is_absolute() ? target : p.parent_path() / target;
    }
}

bool same_file(const struct stat& a, const struct stat& b) { return a.st_dev == b.st_dev && a.st_ino == b.st_ino; }

std::string read_all(int fd, const std::string& path) {
    std::string out;
    char buf[1 << 16];
    for (;;) {
        ssize_t n = ::read(fd, buf, sizeof buf);
        if (n < 0 && errno == EINTR) continue;
        if (n < 0) throw Error(ExitCode::bad_input, "Reading " + path + " failed (" + std::strerror(errno) + ").");
        if (n == 0) return out;
        out.append(buf, static_cast<size_t>(n));
    }
}

}  // namespace

std::string ConfigFile::where() const {
    std::string real = folder + "/" + name;
    return via_link ? real + " (the file the symlink " + shown + " points to)" : shown;
}

ConfigFile open_config_file(const std::string& path, Side side) {
    const std::string what = std::string("The ") + side_name(side) + " config file " + path;
    ConfigFile file;
    file.shown = path;
    std::vector<uid_t> link_owners;
    fs::path real = follow_links(fs::absolute(path), what, file.st, link_owners);
    file.via_link = !link_owners.empty();
    if (!S_ISREG(file.st.st_mode))
        throw Error(ExitCode::bad_input, what + (file.via_link ? " points to " + real.string() + ", which" : "") +
                                             " is not a regular file; pass the path of Mattermost's config.json.");
    for (uid_t owner : link_owners)
        if (owner != 0 && owner != file.st.st_uid)
            throw Error(ExitCode::bad_input, what + " is a symlink to " + real.string() + ", a file the link's owner (uid " + std::to_string(owner) +
                                                 ") does not own. mmmove follows a config.json link only when root or the file's own owner "
                                                 "made it; check who made the link, then replace it with the file or pass the file's path.");
    char* canonical = ::realpath(real.c_str(), nullptr);
    if (!canonical) throw Error(ExitCode::bad_input, "mmmove cannot resolve " + real.string() + " (" + std::strerror(errno) + ").");
    fs::path resolved(canonical);
    std::free(canonical);
    file.folder = resolved.parent_path().string();
    file.name = resolved.filename().string();
    file.dir = open_folder_without_links(file.folder);
    struct stat now {};
    if (::fstatat(file.dir.get(), file.name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || !same_file(now, file.st))
        throw Error(ExitCode::bad_input, what + " changed while mmmove was opening it; check who is changing it, then run mmmove again.");
    return file;
}

std::string read_config_file(const ConfigFile& file) {
    FileHandle fd(::openat(file.dir.get(), file.name.c_str(), O_RDONLY | O_NOFOLLOW | O_CLOEXEC));
    struct stat st {};
    if (!fd || ::fstat(fd.get(), &st) != 0 || !same_file(st, file.st))
        throw Error(ExitCode::bad_input, file.where() + " was replaced while mmmove was reading it; run mmmove again.");
    return read_all(fd.get(), file.where());
}

std::string replace_config_file(const ConfigFile& file, const std::string& text) {
    // What is replaced is what is there now, with its current owner and mode.
    struct stat now {};
    if (::fstatat(file.dir.get(), file.name.c_str(), &now, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(now.st_mode))
        throw Error(ExitCode::destination, file.where() + " was removed or replaced since mmmove read it; nothing was written. Run mmmove again.");
    ConfigFile current{file.shown, file.folder, file.name, FileHandle(::dup(file.dir.get())), now, file.via_link};
    std::string before = read_config_file(current);
    FileAttributes attrs{now.st_uid, now.st_gid, static_cast<mode_t>(now.st_mode & 07777)};
    std::string backup;
    try {
        NewFile b = create_unique_file(file.dir.get(), file.folder, file.name + ".mmmove-backup-" + utc_timestamp("%Y%m%dT%H%M%SZ") + "-",
                                       0600, ExitCode::destination);
        backup = file.folder + "/" + b.name;
        write_all(b.fd.get(), before, backup, ExitCode::destination);
        if (::fchown(b.fd.get(), attrs.uid, attrs.gid) != 0) { /* not root: the backup stays mmmove's account's */ }
        ::fchmod(b.fd.get(), attrs.mode);
        ::fsync(b.fd.get());
        replace_file_atomically(file.dir.get(), file.folder, file.name, text, attrs, ExitCode::destination);
    } catch (const Error& e) {
        throw Error(e.code(), std::string(e.what()) + " " + file.where() + " is unchanged.");
    }
    return backup;
}

}  // namespace mmmove
