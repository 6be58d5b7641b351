#include "pipeline/issue_log.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <nlohmann/json.hpp>

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
    auto insert = [&](const std::string& summary, const std::string& line) {
        stmt += (stmt.empty() ? head : ",") + std::string("(") + conn.quote_literal(lower(table)) + "," + std::to_string(chunk) +
                "," + std::to_string(seq++) + "," + conn.quote_literal(summary) + "," + conn.quote_literal(line) + ")";
        if (stmt.size() > (1u << 20)) conn.exec(stmt), stmt.clear();
    };
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
    if (!stmt.empty()) conn.exec(stmt);
    clear();
}

ReportSummary summarize_issues(Database& dest) {
    ReportSummary s;
    for (const auto& r : dest.query(std::string("SELECT summary, COUNT(*) FROM ") + ChunkIssues::kTable + " GROUP BY summary")) {
        uint64_t n = std::stoull(r[1].value_or("0"));
        s.counts[r[0].value_or("")] += n;
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
            buf.append(row[0].view()).push_back('\n');
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
