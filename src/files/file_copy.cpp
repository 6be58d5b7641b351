#include "files/file_copy.h"

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <vector>

#include "files/placeholder.h"
#include "files/printable_path.h"

namespace mmmove {

void SyncTally::refuse(const std::string& what) {
    std::lock_guard lock(m);
    if (result.refused.size() < kMaxRefused) result.refused.push_back(what);
}

void SyncTally::fail(const std::string& what) {
    std::lock_guard lock(m);
    result.failed.push_back(what);
}

std::string shown_file(const SyncOptions& o, const FolderPair& pair, const std::string& name) {
    return printable_path(pair.child(o.file_name ? o.file_name(pair.child(name)) : name));
}

namespace {

bool same_mtime(const struct stat& a, const struct stat& b) {
    return a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec;
}

bool same_content(FileSystem& fs, const FolderPair& pair, const std::string& name, const std::string& dest_name) {
    int fa = fs.open_read(pair.src, name), fb = fs.open_read(pair.dst, dest_name);
    bool same = fa >= 0 && fb >= 0;
    static thread_local std::vector<char> ba(1 << 20), bb(1 << 20);
    while (same) {
        ssize_t na = fs.read(fa, ba.data(), ba.size());
        ssize_t nb = na > 0 ? fs.read(fb, bb.data(), static_cast<size_t>(na)) : fs.read(fb, bb.data(), 1);
        if (na != nb || na < 0) same = false;
        else if (na == 0) break;
        else same = std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) == 0;
    }
    if (fa >= 0) fs.close(fa);
    if (fb >= 0) fs.close(fb);
    return same;
}

// Copies `in` (whose stat is `before`) into `out`; the bytes copied, or throws with the reason.
uint64_t copy_bytes(FileSystem& fs, int in, int out, const struct stat& before) {
    static thread_local std::vector<char> buf(1 << 20);
    uint64_t copied = 0;
    for (;;) {
        ssize_t n = fs.read(in, buf.data(), buf.size());
        if (n < 0) throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
        if (n == 0) break;
        for (ssize_t done = 0; done < n;) {
            ssize_t w = fs.write(out, buf.data() + done, static_cast<size_t>(n - done));
            if (w <= 0) throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
            done += w;
        }
        copied += static_cast<uint64_t>(n);
    }
    struct stat after {};
    if (::fstat(in, &after) != 0 || copied != static_cast<uint64_t>(before.st_size) || after.st_size != before.st_size ||
        !same_mtime(after, before))
        throw std::runtime_error("the source changed while it was copied; run the sync again");
    return copied;
}

// Writes the copy under a temporary name and renames it into place; the reason when it could not.
std::string write_copy(FileSystem& fs, bool keep_owner, const FolderPair& pair, const std::string& name, const std::string& dest_name,
                       uint64_t& copied) {
    int in = fs.open_read(pair.src, name);
    if (in < 0) return std::string("cannot read the source: ") + std::strerror(errno);
    struct stat before {};
    if (::fstat(in, &before) != 0 || !S_ISREG(before.st_mode)) {
        fs.close(in);
        return "the source is no longer a regular file";
    }
    std::string tmp;
    int out = fs.create_temporary(pair.dst, tmp);
    if (out < 0) {
        int error = errno;
        fs.close(in);
        return "cannot write in the destination folder " + printable_path(pair.rel.empty() ? "." : pair.rel) + ": " +
               std::strerror(error);
    }
    std::string error;
    try {
        copied = copy_bytes(fs, in, out, before);
    } catch (const std::exception& e) {
        error = e.what();
    }
    fs.close(in);
    if (!error.empty()) fs.close(out);
    else if (!fs.finish(out, Attributes{before, keep_owner}))
        error = std::string("could not give the copy its owner, mode and time or flush it to disk: ") + std::strerror(errno);
    if (error.empty() && !fs.rename(pair.dst, tmp, dest_name))
        error = std::string("could not move the copy into place: ") + std::strerror(errno);
    if (!error.empty()) fs.remove(pair.dst, tmp);
    return error.empty() ? error : error + " (the destination file is unchanged)";
}

// The placeholder of pair.rel/name (files/placeholder.h) in `bytes`, from the source's first bytes;
// `source` gets the stat of what was read. The reason when the source could not be read.
std::string placeholder_of(FileSystem& fs, const FolderPair& pair, const std::string& name, struct stat& source, std::string& bytes) {
    int in = fs.open_read(pair.src, name);
    if (in < 0) return std::string("cannot read the source: ") + std::strerror(errno);
    std::string head(kPlaceholderHead, '\0');
    size_t got = 0;
    ssize_t n = 0;
    while (got < head.size() && (n = fs.read(in, head.data() + got, head.size() - got)) > 0) got += static_cast<size_t>(n);
    const int error = errno;
    const bool ok = n >= 0 && ::fstat(in, &source) == 0 && S_ISREG(source.st_mode);
    fs.close(in);
    if (!ok) return std::string("cannot read the source: ") + std::strerror(error);
    head.resize(got);
    bytes = placeholder_bytes(plan_placeholder(head, static_cast<uint64_t>(source.st_size)));
    return {};
}

// Whether the destination file holds exactly `bytes`.
bool holds(FileSystem& fs, int dir, const std::string& name, const std::string& bytes) {
    int fd = fs.open_read(dir, name);
    if (fd < 0) return false;
    std::string content(bytes.size() + 1, '\0');
    size_t got = 0;
    ssize_t n = 0;
    while (got < content.size() && (n = fs.read(fd, content.data() + got, content.size() - got)) > 0) got += static_cast<size_t>(n);
    fs.close(fd);
    return n >= 0 && got == bytes.size() && content.compare(0, got, bytes) == 0;
}

// Writes `bytes` under a temporary name, with the source's owner, mode and mtime, and renames it into place.
std::string write_bytes(FileSystem& fs, bool keep_owner, const FolderPair& pair, const std::string& dest_name, const std::string& bytes,
                        const struct stat& source) {
    std::string tmp;
    int out = fs.create_temporary(pair.dst, tmp);
    if (out < 0)
        return "cannot write in the destination folder " + printable_path(pair.rel.empty() ? "." : pair.rel) + ": " + std::strerror(errno);
    std::string error;
    for (size_t done = 0; done < bytes.size() && error.empty();) {
        ssize_t w = fs.write(out, bytes.data() + done, bytes.size() - done);
        if (w <= 0) error = std::string("write failed: ") + std::strerror(errno);
        else done += static_cast<size_t>(w);
    }
    if (!error.empty()) fs.close(out);
    else if (!fs.finish(out, Attributes{source, keep_owner}))
        error = std::string("could not give the placeholder its owner, mode and time or flush it to disk: ") + std::strerror(errno);
    if (error.empty() && !fs.rename(pair.dst, tmp, dest_name))
        error = std::string("could not move the placeholder into place: ") + std::strerror(errno);
    if (!error.empty()) fs.remove(pair.dst, tmp);
    return error.empty() ? error : error + " (the destination file is unchanged)";
}

// An anonymised refresh's file: its placeholder, written unless the destination holds it already.
void write_placeholder(const SyncOptions& o, bool keep_owner, SyncTally& tally, const FolderPair& pair, const std::string& name,
                       const std::string& dest_name, bool exists, const struct stat& d) {
    const std::string rel = shown_file(o, pair, name);
    struct stat s {};
    std::string bytes;
    std::string error = placeholder_of(pair.fs, pair, name, s, bytes);
    if (!error.empty()) return tally.fail(rel + ": " + error);
    if (exists && S_ISREG(d.st_mode) && static_cast<uint64_t>(d.st_size) == bytes.size() && same_mtime(d, s) &&
        holds(pair.fs, pair.dst, dest_name, bytes)) {
        ++tally.unchanged;
        return;
    }
    if (!o.dry_run) error = write_bytes(pair.fs, keep_owner, pair, dest_name, bytes, s);
    if (!error.empty()) return tally.fail(rel + ": " + error);
    ++tally.copied;
    tally.bytes += bytes.size();
}

}  // namespace

void copy_file(const SyncOptions& o, bool keep_owner, SyncTally& tally, const FolderPair& pair, const std::string& name,
               const std::string& dest_name) {
    FileSystem& fs = pair.fs;
    std::string rel = shown_file(o, pair, name);
    struct stat s {};
    if (!fs.stat(pair.src, name, s)) return tally.fail(rel + ": vanished from the source during the sync");
    if (!S_ISREG(s.st_mode)) return tally.refuse(rel + ": no longer a regular file in the source (not copied)");
    if (pair.dst < 0 && !pair.dst_problem.empty())
        return pair.dst_refused ? tally.refuse(rel + ": " + pair.dst_problem) : tally.fail(rel + ": " + pair.dst_problem);
    struct stat d {};
    bool exists = pair.dst >= 0 && fs.stat(pair.dst, dest_name, d);
    if (exists && S_ISLNK(d.st_mode)) return tally.refuse(rel + ": the destination is a symlink (not written through)");
    if (o.placeholders) return write_placeholder(o, keep_owner, tally, pair, name, dest_name, exists, d);
    if (exists && S_ISREG(d.st_mode) && d.st_size == s.st_size &&
        (o.checksum ? same_content(fs, pair, name, dest_name) : same_mtime(d, s))) {
        ++tally.unchanged;
        return;
    }
    if (exists && o.keep_existing) {
        ++tally.kept;
        return;
    }
    uint64_t copied = static_cast<uint64_t>(s.st_size);
    if (!o.dry_run) {
        std::string error = write_copy(fs, keep_owner, pair, name, dest_name, copied);
        if (!error.empty()) return tally.fail(rel + ": " + error);
    }
    ++tally.copied;
    tally.bytes += copied;
}

}  // namespace mmmove
