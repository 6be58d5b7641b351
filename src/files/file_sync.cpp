#include "files/file_sync.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <memory>
#include <unordered_set>

#include "core/error.h"
#include "core/workers.h"
#include "files/file_copy.h"
#include "files/printable_path.h"

namespace mmmove {
namespace fs = std::filesystem;

namespace {

struct Task {
    std::shared_ptr<FolderPair> pair;
    std::string name, dest_name;
};

// Thrown into the walk when the workers have stopped (one of them failed): the walk ends there, and
// the worker's error is what sync_files reports.
struct WorkersStopped {};

// A bounded queue: the walk never runs more than this many files ahead of the workers, which also
// bounds the folders held open for them (two descriptors each). close() lets the workers finish what
// is queued; abort() (a worker failed) makes them and the walk stop at once.
class TaskQueue {
public:
    static constexpr size_t kCapacity = 256;
    void push(Task t) {
        std::unique_lock lock(m_);
        room_.wait(lock, [&] { return q_.size() < kCapacity || aborted_; });
        if (aborted_) throw WorkersStopped{};
        q_.push_back(std::move(t));
        ready_.notify_one();
    }
    bool pop(Task& t) {
        std::unique_lock lock(m_);
        ready_.wait(lock, [&] { return !q_.empty() || closed_ || aborted_; });
        if (q_.empty() || aborted_) return false;
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
    void abort() {
        std::lock_guard lock(m_);
        aborted_ = true;
        ready_.notify_all();
        room_.notify_all();
    }

private:
    std::mutex m_;
    std::condition_variable ready_, room_;
    std::deque<Task> q_;
    bool closed_ = false, aborted_ = false;
};

bool is_temporary(const std::string& name) { return name.find(kTemporaryMarker) != std::string::npos; }

// A name that openat and mkdirat take as one entry of the folder they are given.
bool single_component(const std::string& name) {
    return !name.empty() && name != "." && name != ".." && name.find('/') == std::string::npos &&
           name.find('\0') == std::string::npos && !is_temporary(name);
}

std::string why(const std::string& what, int error) { return what + ": " + std::strerror(error); }

// Walks the source folder by folder, with both sides open as descriptors: queues each file for the
// workers, opens or creates its destination folder, removes leftover temporary files and, with
// --delete, what the source lacks. Single-threaded; the workers copy.
class FolderWalk {
public:
    FolderWalk(const SyncOptions& o, FileSystem& f, SyncTally& t, TaskQueue& q, bool keep_owner, std::ostream& log)
        : o_(o), fs_(f), tally_(t), queue_(q), keep_owner_(keep_owner), log_(log),
          source_root_(fs::weakly_canonical(o.from).string() + "/") {}

    void visit(const std::shared_ptr<FolderPair>& pair) {
        std::vector<FolderEntry> source, dest;
        if (!fs_.list_folder(pair->src, source)) return source_unreadable(pair->rel, errno);
        bool dest_listed = pair->dst < 0 || fs_.list_folder(pair->dst, dest);
        if (!dest_listed) tally_.fail(why(shown(pair->rel) + ": cannot read the destination folder", errno));
        std::vector<std::string> folders;
        std::unordered_set<std::string> kept;  // the destination's names of the source's files and folders
        for (const auto& e : source) {
            if (is_temporary(e.name)) continue;
            if (S_ISREG(e.type)) {
                if (auto dest_name = destination_name(*pair, e.name, kept)) queue_.push(Task{pair, e.name, *dest_name});
            } else if (S_ISDIR(e.type)) {
                folders.push_back(e.name);
                kept.insert(e.name);
            } else {
                kept.insert(e.name);  // a symlink or an entry that could not be read: its destination copy stays
            }
            if (S_ISLNK(e.type)) refuse_symlink(*pair, e.name);
            else if (e.type == 0) tally_.fail(why(shown_file(o_, *pair, e.name) + ": cannot read the source", e.error));
            report_progress();
        }
        clean_destination(*pair, kept, dest, dest_listed);
        for (const auto& name : folders) {
            auto sub = open_pair(*pair, name);
            if (sub) visit(sub);
        }
    }

private:
    // The file's name in the destination (o.file_name), recorded in `kept`; nothing when the name is
    // not one path component or another file of the folder already took it (a failure).
    std::optional<std::string> destination_name(const FolderPair& pair, const std::string& name, std::unordered_set<std::string>& kept) {
        std::string dest_name = o_.file_name ? o_.file_name(pair.child(name)) : name;
        if (!single_component(dest_name)) {
            tally_.fail(printable_path(pair.child(name)) + ": its destination name is not one path component (not copied)");
            return std::nullopt;
        }
        if (!kept.insert(dest_name).second) {
            tally_.fail(shown_file(o_, pair, name) + ": another file of its folder has the same destination name (not copied)");
            return std::nullopt;
        }
        return dest_name;
    }

    static std::string shown(const std::string& rel) { return rel.empty() ? "." : printable_path(rel); }

    // The source's content there is unknown: a failure, and --delete removes nothing under it.
    void source_unreadable(const std::string& rel, int error) {
        tally_.fail(shown(rel) + ": cannot read the source folder (" + std::strerror(error) +
                    "); its copies in the destination are kept");
    }

    void refuse_symlink(const FolderPair& pair, const std::string& name) {
        std::error_code ec;
        std::string target = fs::weakly_canonical(o_.from / pair.child(name), ec).string();
        bool inside = !ec && target.rfind(source_root_, 0) == 0;
        tally_.refuse(shown_file(o_, pair, name) + (inside ? ": a symlink (not followed)"
                                                           : ": a symlink that reaches outside the source directory (refused)"));
    }

    // The folder's pair, or null when the source folder cannot be read (reported; nothing under it
    // is deleted from the destination, since the source's content is unknown).
    std::shared_ptr<FolderPair> open_pair(const FolderPair& parent, const std::string& source_name) {
        std::string name = source_name;
        if (o_.folder_name)
            if (auto renamed = o_.folder_name(parent.child(source_name))) {
                if (renamed->empty()) return nullptr;  // the destination's own folder wins
                // The new name comes from a database (the merge's ID map): one component, or nothing.
                if (!single_component(*renamed)) {
                    tally_.fail(printable_path(parent.child(source_name)) + ": its new folder name \"" + printable_path(*renamed) +
                                "\" is not one path component (not copied)");
                    return nullptr;
                }
                name = *renamed;
            }
        auto pair = std::make_shared<FolderPair>(fs_, parent.child(name));
        pair->src = fs_.open_folder(parent.src, source_name);
        struct stat st {};
        if (pair->src < 0 || ::fstat(pair->src, &st) != 0) {
            source_unreadable(pair->rel, errno);
            return nullptr;
        }
        if (parent.dst < 0) {
            pair->dst_problem = parent.dst_problem;
            pair->dst_refused = parent.dst_refused;
            return pair;
        }
        pair->dst = fs_.open_folder(parent.dst, name);
        if (pair->dst < 0 && errno == ENOENT && !o_.dry_run) pair->dst = fs_.make_folder(parent.dst, name, Attributes{st, keep_owner_});
        if (pair->dst < 0 && !(errno == ENOENT && o_.dry_run)) note_destination_problem(*pair, parent, name);
        return pair;
    }

    void note_destination_problem(FolderPair& pair, const FolderPair& parent, const std::string& name) {
        int error = errno;
        struct stat st {};
        std::string folder = "the destination folder " + printable_path((o_.to / pair.rel).string());
        if (fs_.stat(parent.dst, name, st) && S_ISLNK(st.st_mode)) {
            pair.dst_problem = folder + " is a symlink (not followed)";
            pair.dst_refused = true;
        } else if (error == ENOTDIR) {
            pair.dst_problem = printable_path((o_.to / pair.rel).string()) + " is not a folder";
            pair.dst_refused = true;
        } else {
            pair.dst_problem = why("cannot create or open " + folder, error);
        }
    }

    // Leftover temporary files go; with --delete, so do files the source lacks (`kept` holds the
    // destination names of the source's files and folders), but only where both listings are complete.
    void clean_destination(const FolderPair& pair, const std::unordered_set<std::string>& in_source, const std::vector<FolderEntry>& dest,
                           bool dest_listed) {
        for (const auto& e : dest) {
            bool temporary = is_temporary(e.name);
            if (temporary && S_ISREG(e.type) && !o_.dry_run) fs_.remove(pair.dst, e.name);
            if (temporary || !o_.remove_extra || !dest_listed || in_source.count(e.name)) continue;
            if (S_ISREG(e.type)) remove_file(pair.dst, e.name);
            else if (S_ISDIR(e.type)) remove_files_under(pair.dst, e.name, pair.child(e.name));
        }
    }

    void remove_file(int dir, const std::string& name) {
        if (!o_.dry_run) fs_.remove(dir, name);
        ++tally_.deleted;
    }

    // A destination folder the source does not have: its files go, its folders and symlinks stay.
    void remove_files_under(int parent, const std::string& name, const std::string& rel) {
        int dir = fs_.open_folder(parent, name);
        std::vector<FolderEntry> entries;
        if (dir < 0 || !fs_.list_folder(dir, entries)) {
            tally_.fail(why(printable_path(rel) + ": cannot read the destination folder to delete what the source lacks", errno));
            if (dir >= 0) fs_.close(dir);
            return;
        }
        for (const auto& e : entries) {
            if (S_ISREG(e.type)) remove_file(dir, e.name);
            else if (S_ISDIR(e.type)) remove_files_under(dir, e.name, rel + "/" + e.name);
        }
        fs_.close(dir);
    }

    void report_progress() {
        if (o_.quiet || std::chrono::steady_clock::now() - last_progress_ < std::chrono::seconds(2)) return;
        last_progress_ = std::chrono::steady_clock::now();
        log_ << "  files: " << tally_.copied << " copied, " << tally_.unchanged << " unchanged, "
                  << tally_.bytes / (1024 * 1024) << " MiB\n";
    }

    const SyncOptions& o_;
    FileSystem& fs_;
    SyncTally& tally_;
    TaskQueue& queue_;
    bool keep_owner_;
    std::ostream& log_;
    std::string source_root_;
    std::chrono::steady_clock::time_point last_progress_ = std::chrono::steady_clock::now();
};

// Opens both roots: the admin named them, so they may be symlinks; nothing below them may be.
std::shared_ptr<FolderPair> open_roots(const SyncOptions& o, FileSystem& fsys, bool keep_owner) {
    auto root = std::make_shared<FolderPair>(fsys, "");
    root->src = ::open(o.from.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    struct stat st {};
    if (root->src < 0 || ::fstat(root->src, &st) != 0)
        throw Error(ExitCode::bad_input, "The source data directory " + printable_path(o.from.string()) + " cannot be read (" +
                                             std::strerror(errno) + "); give the path of the old server's data folder.");
    std::error_code ec;
    bool missing = !fs::exists(fs::symlink_status(o.to, ec));
    if (missing && o.dry_run) return root;
    if (missing) {
        fs::create_directories(o.to.parent_path(), ec);
        root->dst = fsys.make_folder(AT_FDCWD, o.to.string(), Attributes{st, keep_owner});
    } else {
        root->dst = ::open(o.to.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    if (root->dst < 0)
        throw Error(ExitCode::bad_input, "The destination data directory " + printable_path(o.to.string()) +
                                             " is not a folder mmmove can open (" + std::strerror(errno) +
                                             "); give the path of the new server's data folder.");
    return root;
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
    const bool keep_owner = ::geteuid() == 0;
    auto root = open_roots(o, fsys, keep_owner);
    SyncTally tally;
    {
        TaskQueue queue;
        // The workers copy what the walk queues; the pool joins them however the walk ends.
        WorkerPool workers(
            worker_count(o.jobs),
            [&](unsigned, const StopFlag&) {
                Task t;
                while (queue.pop(t)) {
                    copy_file(o, keep_owner, tally, *t.pair, t.name, t.dest_name);
                    t = Task{};  // release the folders as soon as their last file is done
                }
            },
            [&] { queue.abort(); });
        FolderWalk walk(o, fsys, tally, queue, keep_owner, log);
        try {
            walk.visit(root);
        } catch (const WorkersStopped&) {  // a worker failed: join() rethrows its error
        }
        root.reset();
        queue.close();
        workers.join();
    }
    SyncResult r = std::move(tally.result);
    r.copied = tally.copied;
    r.unchanged = tally.unchanged;
    r.kept = tally.kept;
    r.bytes = tally.bytes;
    r.deleted = tally.deleted;
    return r;
}

}  // namespace mmmove
