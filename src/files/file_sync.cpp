#include "files/file_sync.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml-cpp/yaml.h>

#include <atomic>
#include <cstring>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "core/error.h"

namespace mmmove {
namespace fs = std::filesystem;

namespace {

constexpr const char* kTempMarker = ".mmmove-tmp-";
constexpr size_t kMaxListed = 200;  // per list in the result; the counts cover everything

struct Task {
    fs::path rel;
};

// A bounded queue: the walk never runs more than this many files ahead of the workers.
class TaskQueue {
public:
    void push(Task t) {
        std::unique_lock lock(m_);
        room_.wait(lock, [&] { return q_.size() < 4096; });
        q_.push_back(std::move(t));
        ready_.notify_one();
    }
    bool pop(Task& t) {
        std::unique_lock lock(m_);
        ready_.wait(lock, [&] { return !q_.empty() || closed_; });
        if (q_.empty()) return false;
        t = std::move(q_.front());
        q_.pop_front();
        room_.notify_one();
        return true;
    }
    void close() {
        std::lock_guard lock(m_);
        closed_ = true;
        ready_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable ready_, room_;
    std::deque<Task> q_;
    bool closed_ = false;
};

struct Shared {
    std::mutex m;
    SyncResult result;
    std::atomic<uint64_t> copied{0}, unchanged{0}, bytes{0};
    void refuse(const std::string& what) {
        std::lock_guard lock(m);
        if (result.refused.size() < kMaxListed) result.refused.push_back(what);
    }
    void fail(const std::string& what) {
        std::lock_guard lock(m);
        result.failed.push_back(what);
    }
};

bool is_temp(const fs::path& p) { return p.filename().string().find(kTempMarker) != std::string::npos; }

// Walks dest/rel's parent folders: creates the missing ones, refuses any that is a symlink or a file.
std::optional<std::string> prepare_parents(const fs::path& root, const fs::path& rel, bool create) {
    fs::path cur = root;
    for (const auto& part : rel.parent_path()) {
        cur /= part;
        std::error_code ec;
        auto st = fs::symlink_status(cur, ec);
        if (fs::is_symlink(st)) return "the destination folder " + cur.string() + " is a symlink (not followed)";
        if (!fs::exists(st)) {
            if (!create) continue;
            if (!fs::create_directory(cur, ec) && ec) return "cannot create " + cur.string() + ": " + ec.message();
        } else if (!fs::is_directory(st)) {
            return cur.string() + " is not a folder";
        }
    }
    return std::nullopt;
}

bool same_content(FileSystem& fsys, const fs::path& a, const fs::path& b) {
    int fa = fsys.open_read(a), fb = fsys.open_read(b);
    bool same = fa >= 0 && fb >= 0;
    static thread_local std::vector<char> ba(1 << 20), bb(1 << 20);
    while (same) {
        ssize_t na = fsys.read(fa, ba.data(), ba.size());
        ssize_t nb = na > 0 ? fsys.read(fb, bb.data(), static_cast<size_t>(na)) : fsys.read(fb, bb.data(), 1);
        if (na != nb || na < 0) same = false;
        else if (na == 0) break;
        else same = std::memcmp(ba.data(), bb.data(), static_cast<size_t>(na)) == 0;
    }
    if (fa >= 0) fsys.close(fa);
    if (fb >= 0) fsys.close(fb);
    return same;
}

// Copies one file through a temporary name; the final name only ever holds a complete copy.
void copy_one(const SyncOptions& o, FileSystem& fsys, Shared& shared, const fs::path& rel) {
    fs::path src = o.from / rel, dst = o.to / rel;
    struct stat s {};
    if (::lstat(src.c_str(), &s) != 0) return shared.fail(rel.string() + ": vanished from the source during the sync");
    struct stat d {};
    bool exists = ::lstat(dst.c_str(), &d) == 0;
    if (exists && S_ISLNK(d.st_mode)) return shared.refuse(rel.string() + ": the destination is a symlink (not written through)");
    if (exists && S_ISREG(d.st_mode) && d.st_size == s.st_size) {
        bool same = o.checksum ? same_content(fsys, src, dst)
                               : d.st_mtim.tv_sec == s.st_mtim.tv_sec && d.st_mtim.tv_nsec == s.st_mtim.tv_nsec;
        if (same) {
            ++shared.unchanged;
            return;
        }
    }
    if (auto why = prepare_parents(o.to, rel, !o.dry_run)) return shared.refuse(rel.string() + ": " + *why);
    if (o.dry_run) {
        ++shared.copied;
        shared.bytes += static_cast<uint64_t>(s.st_size);
        return;
    }
    static std::atomic<uint64_t> counter{0};
    fs::path tmp = dst.parent_path() / ("." + dst.filename().string() + kTempMarker + std::to_string(getpid()) + "-" +
                                        std::to_string(counter++));
    int in = fsys.open_read(src);
    if (in < 0) return shared.fail(rel.string() + ": cannot read the source: " + std::strerror(errno));
    struct stat before {};
    ::fstat(in, &before);
    int out = fsys.create_exclusive(tmp, 0600);
    if (out < 0) {
        fsys.close(in);
        return shared.fail(rel.string() + ": cannot write in " + dst.parent_path().string() + ": " + std::strerror(errno));
    }
    static thread_local std::vector<char> buf(1 << 20);
    uint64_t copied = 0;
    std::string error;
    try {
        for (;;) {
            ssize_t n = fsys.read(in, buf.data(), buf.size());
            if (n < 0) throw std::runtime_error(std::string("read failed: ") + std::strerror(errno));
            if (n == 0) break;
            for (ssize_t done = 0; done < n;) {
                ssize_t w = fsys.write(out, buf.data() + done, static_cast<size_t>(n - done));
                if (w <= 0) throw std::runtime_error(std::string("write failed: ") + std::strerror(errno));
                done += w;
            }
            copied += static_cast<uint64_t>(n);
        }
        struct stat after {};
        ::fstat(in, &after);
        if (copied != static_cast<uint64_t>(before.st_size) || after.st_size != before.st_size ||
            after.st_mtim.tv_sec != before.st_mtim.tv_sec || after.st_mtim.tv_nsec != before.st_mtim.tv_nsec)
            throw std::runtime_error("the source changed while it was copied; run the sync again");
    } catch (const std::exception& e) {
        error = e.what();
    }
    fsys.close(in);
    if (error.empty() && !fsys.finish(out, before.st_mode & 07777, before.st_mtim)) error = "could not flush the copy to disk";
    else if (!error.empty()) fsys.close(out);
    if (error.empty() && !fsys.rename(tmp, dst)) error = std::string("could not move the copy into place: ") + std::strerror(errno);
    if (!error.empty()) {
        fsys.remove(tmp);
        return shared.fail(rel.string() + ": " + error + " (the destination file is unchanged)");
    }
    ++shared.copied;
    shared.bytes += copied;
}

// Removes temporary files an interrupted run left behind (they never carry a final name).
void remove_stale_temps(const fs::path& root, FileSystem& fsys) {
    std::error_code ec;
    if (!fs::exists(root, ec)) return;
    for (auto it = fs::recursive_directory_iterator(root, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec) && !it->is_symlink(ec) && is_temp(it->path())) fsys.remove(it->path());
}

}  // namespace

std::optional<std::string> unsafe_relative_path(const std::string& path) {
    if (path.empty()) return "is empty";
    if (path.find('\0') != std::string::npos) return "holds a NUL byte";
    if (path[0] == '/' || path[0] == '\\') return "is absolute";
    for (const auto& part : fs::path(path))
        if (part == "..") return "climbs out of its folder with \"..\"";
    return std::nullopt;
}

SyncResult sync_files(const SyncOptions& o, FileSystem& fsys, std::ostream& log) {
    std::error_code ec;
    if (!fs::is_directory(o.from, ec))
        throw Error(ExitCode::bad_input, "The source data directory " + o.from.string() + " does not exist or is not a folder.");
    if (!fs::exists(o.to, ec) && !o.dry_run) fs::create_directories(o.to, ec);
    if (!o.dry_run && !fs::is_directory(o.to, ec))
        throw Error(ExitCode::bad_input, "The destination data directory " + o.to.string() + " is not a folder.");
    fs::path from_root = fs::canonical(o.from);
    if (!o.dry_run) remove_stale_temps(o.to, fsys);

    Shared shared;
    TaskQueue queue;
    unsigned jobs = o.jobs ? o.jobs : std::max(1u, std::thread::hardware_concurrency());
    std::vector<std::thread> workers;
    for (unsigned i = 0; i < jobs; ++i)
        workers.emplace_back([&] {
            Task t;
            while (queue.pop(t)) copy_one(o, fsys, shared, t.rel);
        });
    auto last = std::chrono::steady_clock::now();
    for (auto it = fs::recursive_directory_iterator(o.from, fs::directory_options::skip_permission_denied, ec);
         it != fs::recursive_directory_iterator(); it.increment(ec)) {
        fs::path rel = it->path().lexically_relative(o.from);  // never resolves symlinks
        if (it->is_symlink(ec)) {
            fs::path target = fs::weakly_canonical(it->path(), ec);
            auto t = target.string(), root = from_root.string() + "/";
            shared.refuse(rel.string() + (t.rfind(root, 0) == 0 ? ": a symlink (not followed)"
                                                                 : ": a symlink that reaches outside the source directory (refused)"));
            if (it->is_directory(ec)) it.disable_recursion_pending();
            continue;
        }
        if (!it->is_regular_file(ec) || is_temp(it->path())) continue;
        if (auto why = unsafe_relative_path(rel.string())) {
            shared.refuse(rel.string() + ": " + *why);
            continue;
        }
        queue.push(Task{rel});
        if (!o.quiet && std::chrono::steady_clock::now() - last > std::chrono::seconds(2)) {
            last = std::chrono::steady_clock::now();
            log << "  files: " << shared.copied << " copied, " << shared.unchanged << " unchanged, "
                << shared.bytes / (1024 * 1024) << " MiB\n";
        }
    }
    queue.close();
    for (auto& w : workers) w.join();

    SyncResult r = std::move(shared.result);
    r.copied = shared.copied;
    r.unchanged = shared.unchanged;
    r.bytes = shared.bytes;
    if (o.remove_extra && fs::exists(o.to, ec)) {
        std::vector<fs::path> extra;
        for (auto it = fs::recursive_directory_iterator(o.to, fs::directory_options::skip_permission_denied, ec);
             it != fs::recursive_directory_iterator(); it.increment(ec)) {
            if (it->is_symlink(ec) || !it->is_regular_file(ec)) continue;
            fs::path rel = it->path().lexically_relative(o.to);
            struct stat s {};
            if (::lstat((o.from / rel).c_str(), &s) != 0) extra.push_back(it->path());
        }
        for (const auto& p : extra) {
            if (!o.dry_run) fsys.remove(p);
            ++r.deleted;
        }
    }
    return r;
}

ReferenceReport check_references(Database& db, const fs::path& from, const fs::path& to) {
    ReferenceReport rep;
    Catalog cat = read_catalog(db);
    YAML::Node rules = load_embedded_yaml("files.yaml")["references"];
    auto note = [&](std::vector<std::string>& list, const std::string& s) {
        if (list.size() < kMaxListed) list.push_back(s);
    };
    auto check = [&](const std::string& origin, const std::string& path) {
        if (path.empty()) return;
        ++rep.referenced;
        if (auto why = unsafe_relative_path(path)) {
            ++rep.refused_count;
            return note(rep.refused, origin + ": " + path + " " + *why + " (refused)");
        }
        struct stat s {};
        if (::lstat((from / path).c_str(), &s) != 0) ++rep.missing_source_count, note(rep.missing_in_source, origin + ": " + path);
        if (::lstat((to / path).c_str(), &s) != 0) ++rep.missing_dest_count, note(rep.missing_in_dest, origin + ": " + path);
    };
    for (const auto& rule : rules) {
        const Table* t = cat.find(rule["table"].as<std::string>());
        if (!t) continue;
        std::vector<std::string> cols;
        auto want = [&](const std::string& c) {
            const Column* col = t->find_column(c);
            if (!col) return -1;
            for (size_t i = 0; i < cols.size(); ++i)
                if (cols[i] == col->name) return static_cast<int>(i);
            cols.push_back(col->name);
            return static_cast<int>(cols.size() - 1);
        };
        int id = want("Id");
        std::vector<int> path_cols;
        for (const auto& c : rule["path_columns"]) path_cols.push_back(want(c.as<std::string>()));
        int live = rule["live_when"] ? want(rule["live_when"]["column"].as<std::string>()) : -1;
        std::string live_value = rule["live_when"] ? rule["live_when"]["value"].as<std::string>() : "";
        int positive = rule["when_positive"] ? want(rule["when_positive"].as<std::string>()) : -1;
        std::string tmpl = rule["template"] ? rule["template"].as<std::string>() : "";
        auto reader = db.read_table(t->name, cols);
        FieldRow row;
        while (reader->next(row)) {
            if (live >= 0 && (row[live].null || row[live].view() != live_value)) continue;
            if (positive >= 0 && (row[positive].null || std::atoll(std::string(row[positive].view()).c_str()) <= 0)) continue;
            std::string origin = t->name + " " + (id >= 0 && !row[id].null ? std::string(row[id].view()) : "?");
            for (int c : path_cols)
                if (c >= 0 && !row[c].null) check(origin, std::string(row[c].view()));
            if (!tmpl.empty() && id >= 0 && !row[id].null) {
                std::string p = tmpl;
                p.replace(p.find("{Id}"), 4, std::string(row[id].view()));
                check(origin, p);
            }
        }
    }
    return rep;
}

}  // namespace mmmove
