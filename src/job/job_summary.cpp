// The JSON summary of a run: what a monitoring script reads after a night's refresh. It names tables,
// counts and times, never a value from the rows and never a password (sides are labels without them).
#include <nlohmann/json.hpp>

#include <filesystem>

#include "core/safe_file.h"
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
    j["exit_code"] = r.exit_code;
    j["ok"] = r.exit_code == 0;
    if (!r.error.empty()) j["error"] = r.error;
    j["steps"] = nlohmann::ordered_json::array();
    for (const auto& s : r.steps) j["steps"].push_back({{"step", s.name}, {"status", s.status}, {"seconds", s.seconds}, {"detail", s.detail}});
    j["rows"] = r.rows;
    j["tables"] = nlohmann::ordered_json::array();
    for (const auto& t : r.tables) j["tables"].push_back({{"table", t.table}, {"rows", t.rows}, {"seconds", t.seconds}});
    j["masked"] = nlohmann::ordered_json::object();
    for (const auto& [kind, n] : r.masked) j["masked"][kind] = n;
    j["dropped_rows"] = r.dropped_rows;
    j["files"] = {{"copied", r.files_copied}, {"bytes", r.file_bytes}};
    j["warnings"] = r.warnings;
    // Errors from the servers are masked where they are raised; the summary never holds invalid UTF-8.
    return j.dump(2, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
}

void write_job_summary(const JobResult& result, const std::string& path) {
    std::filesystem::path target(path);
    std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
    FileHandle folder = open_folder(dir, ExitCode::bad_input);
    replace_file_atomically(folder.get(), dir, target.filename().string(), job_summary_json(result) + "\n", FileAttributes{});
}

}  // namespace mmmove
