// The JSON summary of a run: what a monitoring script reads after a night's refresh. It names tables,
// counts and times, never a value from the rows and never a password (sides are labels without them).
#include <nlohmann/json.hpp>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_text.h"
#include "core/safe_file.h"
#include "core/trusted_path.h"
#include "job/run_job.h"

namespace mmmove {

std::string job_summary_json(const JobResult& r) {
    nlohmann::ordered_json j;
    j["job"] = r.job;
    j["mode"] = r.mode;
    j["source"] = r.source;
    j["destination"] = r.destination;
    j["started"] = r.started;
    j["finished"] = r.finished;
    j["seconds"] = r.seconds;
    // "running" is written when the run has taken its lock: a run that dies (SIGKILL, a crash) leaves
    // that, never the previous run's "ok".
    j["status"] = r.running ? "running" : r.exit_code == 0 ? "ok" : "failed";
    j["exit_code"] = r.exit_code;
    j["ok"] = !r.running && r.exit_code == 0;
    if (!r.error.empty()) j["error"] = r.error;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : r.steps) j["steps"].push_back({{"step", s.name}, {"status", s.status}, {"seconds", s.seconds}, {"detail", s.detail}});
    j["rows"] = r.rows;
    if (r.mode == "refresh") j["incremental"] = r.incremental;
    j["tables"] = nlohmann::ordered_json::array();
    for (const auto& t : r.tables) j["tables"].push_back({{"table", t.table}, {"rows", t.rows}, {"seconds", t.seconds}});
    j["masked"] = nlohmann::ordered_json::object();
    for (const auto& [kind, n] : r.masked) j["masked"][kind] = n;
    j["dropped_rows"] = r.dropped_rows;
    j["files"] = {{"copied", r.files_copied}, {"bytes", r.file_bytes}};
    j["warnings"] = r.warnings;
    if (r.move) {
        auto& m = j["move"];
        m["copied"] = r.move->copied;
        m["passes"] = nlohmann::ordered_json::array();
        for (const auto& p : r.move->passes)
            m["passes"].push_back({{"pass", p.pass}, {"final", p.final}, {"seconds", p.seconds}, {"rows", p.rows}, {"files_seconds", p.files_seconds}});
        if (r.move->expected_downtime_seconds) m["expected_downtime_seconds"] = *r.move->expected_downtime_seconds;
        if (r.move->downtime_seconds) m["downtime_seconds"] = *r.move->downtime_seconds;
        if (r.move->final_moved) m["final_source_moved"] = nlohmann::ordered_json::parse(json_text(source_moved_json(*r.move->final_moved)));
    }
    if (r.source_moved) j["source_moved_on"] = nlohmann::ordered_json::parse(json_text(source_moved_json(*r.source_moved)));
    // Errors from the servers are masked where they are raised; the summary never holds invalid UTF-8.
    return json_text(j, 2);
}

namespace {

[[noreturn]] void refuse_summary(const std::string& path, const std::string& problem) {
    throw Error(ExitCode::bad_input, "The summary " + path + " " + problem +
                                         " mmmove replaces only a summary it wrote; remove what is there or set `summary:` in the job "
                                         "to another file.");
}

// What is at the summary's name must be mmmove's own earlier summary: a regular file of the running
// account with one link, holding a JSON object with a "job" member. A link, someone else's file or a
// file `summary:` names by mistake (/etc/passwd) is refused and left as it is. Returns its mode, or
// 0600 when nothing is there. The folder is private (checked before), so nothing changes it meanwhile.
mode_t check_previous_summary(int folder_fd, const std::string& name, const std::string& path) {
    struct stat st {};
    if (::fstatat(folder_fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno == ENOENT) return 0600;
        refuse_summary(path, std::string("cannot be examined: ") + std::strerror(errno) + ".");
    }
    if (S_ISLNK(st.st_mode)) refuse_summary(path, "is a symbolic link; mmmove never writes through a link.");
    if (!S_ISREG(st.st_mode) || st.st_uid != ::geteuid() || st.st_nlink != 1)
        refuse_summary(path, "is not a plain file of the account running mmmove (another account's file, a hard link or a special file).");
    FileHandle fd(::openat(folder_fd, name.c_str(), O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC));
    std::string text(static_cast<size_t>(std::min<off_t>(st.st_size, 1 << 20)), '\0');
    ssize_t n = fd ? ::pread(fd.get(), text.data(), text.size(), 0) : -1;
    auto j = nlohmann::json::parse(text.substr(0, n > 0 ? static_cast<size_t>(n) : 0), nullptr, false);
    if (!j.is_object() || !j.contains("job")) refuse_summary(path, "holds something else than an mmmove summary; it is left as it is.");
    return st.st_mode & 0644;
}

}  // namespace

void write_job_summary(const JobResult& result, const std::string& path) {
    std::filesystem::path target(path);
    std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
    // Another account able to write the folder could swap the summary between the check and the rename.
    require_private_folder(dir, "folder of the summary " + path + ",");
    FileHandle folder = open_folder(dir, ExitCode::bad_input);
    std::string name = target.filename().string();
    FileAttributes attrs;
    attrs.mode = check_previous_summary(folder.get(), name, path);
    replace_file_atomically(folder.get(), dir, name, job_summary_json(result) + "\n", attrs);
}

void write_running_summary(const JobResult& so_far, const std::string& path) {
    JobResult running = so_far;
    running.running = true;
    write_job_summary(running, path);
}

}  // namespace mmmove
