#include "pipeline/issue_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/safe_file.h"

namespace mmmove {

ChunkIssues::~ChunkIssues() {
    if (spill_) std::fclose(spill_);
}

void ChunkIssues::add(const std::string& table, const std::string& key, const std::string& column, const std::string& problem,
                      const std::string& action, const std::string& detail) {
    nlohmann::json j = {{"table", table}, {"key", key}, {"column", column}, {"problem", problem}, {"action", action}};
    if (!detail.empty()) j["detail"] = detail;
    Entry e{table + "." + column + ": " + problem + ", " + action, j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace)};
    bytes_ += e.summary.size() + e.line.size();
    entries_.push_back(std::move(e));
    ++count_;
    if (bytes_ >= kSpillBytes) spill();
}

// Entries go to the temporary file as "summary\tline\n": neither holds a tab or a newline (the JSON
// line escapes them, and the summary is built from names and mmmove's own words).
void ChunkIssues::spill() {
    if (!spill_ && !(spill_ = std::tmpfile()))
        throw Error(ExitCode::internal, std::string("mmmove could not create a temporary file for its report: ") + std::strerror(errno) +
                                            ". Make room in /tmp.");
    for (const auto& e : entries_) std::fprintf(spill_, "%s\t%s\n", e.summary.c_str(), e.line.c_str());
    if (std::ferror(spill_)) throw Error(ExitCode::internal, "mmmove could not write its report's temporary file (is /tmp full?).");
    entries_.clear();
    bytes_ = 0;
}

void ChunkIssues::clear() {
    entries_.clear();
    bytes_ = 0;
    count_ = 0;
    if (spill_) std::fclose(spill_), spill_ = nullptr;
}

void ChunkIssues::save(Database& conn, const std::string& table, size_t chunk) {
    if (count_ == 0) return;
    std::string head = std::string("INSERT INTO ") + kTable + " (table_name, chunk, seq, summary, line) VALUES ";
    std::string stmt;
    uint64_t seq = 0;
    each([&](const std::string& summary, const std::string& line) {
        stmt += (stmt.empty() ? head : ",") + std::string("(") + conn.quote_literal(lower(table)) + "," + std::to_string(chunk) +
                "," + std::to_string(seq++) + "," + conn.quote_literal(summary) + "," + conn.quote_literal(line) + ")";
        if (stmt.size() > (1u << 20)) conn.exec(stmt), stmt.clear();
    });
    if (!stmt.empty()) conn.exec(stmt);
    clear();
}

void ChunkIssues::each(const std::function<void(const std::string& summary, const std::string& line)>& insert) {
    if (spill_) {
        std::rewind(spill_);
        std::string buf;
        for (int c; (c = std::fgetc(spill_)) != EOF;) {
            if (c != '\n') {
                buf.push_back(static_cast<char>(c));
                continue;
            }
            auto tab = buf.find('\t');
            insert(buf.substr(0, tab), buf.substr(tab + 1));
            buf.clear();
        }
    }
    for (const auto& e : entries_) insert(e.summary, e.line);
}

namespace {

// The issue rows are read back from the destination: each must have the form add() writes.
[[noreturn]] void altered_issues() {
    throw Error(ExitCode::destination, std::string("The copy's list of changed values (table ") + ChunkIssues::kTable +
                                           " on the destination) holds a row mmmove did not write; mmmove will not use it. "
                                           "Start the copy again with --truncate instead of --resume.");
}

// "table.column: problem, action": names and mmmove's own words, printable ASCII.
const std::string& checked_summary(const std::optional<std::string>& v) {
    if (!v || v->empty() || v->size() > 1000 ||
        !std::all_of(v->begin(), v->end(), [](char c) { return c >= 0x20 && c < 0x7f; }))
        altered_issues();
    return *v;
}

// One JSON object of text members (table, key, column, problem, action, detail), written back as
// mmmove writes it: a row of the destination's never adds a line or a member to the report.
std::string checked_line(std::string_view text) {
    static const std::set<std::string> members = {"table", "key", "column", "problem", "action", "detail"};
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() < 5) altered_issues();
    for (const auto& [k, v] : j.items())
        if (!members.count(k) || !v.is_string()) altered_issues();
    for (const char* k : {"table", "key", "column", "problem", "action"})
        if (!j.contains(k)) altered_issues();
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

}  // namespace

ReportSummary summarize_issues(Database& dest) {
    ReportSummary s;
    for (const auto& r : dest.query(std::string("SELECT summary, COUNT(*) FROM ") + ChunkIssues::kTable + " GROUP BY summary")) {
        uint64_t n = std::stoull(r[1].value_or("0"));
        s.counts[checked_summary(r[0])] += n;
        s.total += n;
    }
    return s;
}

void check_report_path(const std::string& path) {
    std::filesystem::path dir = std::filesystem::path(path).parent_path();
    if (dir.empty()) dir = ".";
    if (::access(dir.c_str(), W_OK) != 0)
        throw Error(ExitCode::bad_input, "mmmove cannot write its report " + path + " (the folder " + dir.string() +
                                             " is not writable); pass --report with a writable path.");
}

void write_report(Database& dest, const std::string& path) {
    std::filesystem::path target(path);
    std::string dir = target.parent_path().empty() ? "." : target.parent_path().string();
    std::string name = target.filename().string();
    FileHandle folder = open_folder(dir);
    // A new, randomly named file created exclusively beside the report: never an existing file or a link.
    NewFile temp = create_unique_file(folder.get(), dir, ".mmmove-report-", 0600);
    try {
        auto reader = dest.read_table(ChunkIssues::kTable, {"line"});
        FieldRow row;
        std::string buf;
        while (reader->next(row)) {
            if (row[0].null) altered_issues();
            buf.append(checked_line(row[0].view())).push_back('\n');
            if (buf.size() > (1u << 20)) write_all(temp.fd.get(), buf, path), buf.clear();
        }
        write_all(temp.fd.get(), buf, path);
        if (::fsync(temp.fd.get()) != 0 || ::renameat(folder.get(), temp.name.c_str(), folder.get(), name.c_str()) != 0)
            throw Error(ExitCode::bad_input, "mmmove could not write its report " + path + ": " + std::strerror(errno) +
                                                 ". Free some space or pass another --report, then run the same command with --resume.");
    } catch (...) {
        ::unlinkat(folder.get(), temp.name.c_str(), 0);
        throw;
    }
}

}  // namespace mmmove
