#pragma once
// The copy's report: every value mmmove changed or refused, with its table, key and column.
//
// Each chunk collects its own issues (ChunkIssues, owned by one worker: no sharing, no lock) and
// stores them in the checkpoint's issue table inside the transaction that loads the chunk's rows. So
// the report always matches what is committed: a chunk rolled back and copied again by --resume lists
// its values once, and a copy killed after its rows were in still has them. The report file is written
// from that table when the copy completes, under a fresh name that is renamed into place.
#include <cstdint>
#include <cstdio>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "db/database.h"
#include "transform/issue_sink.h"

namespace mmmove {

class ChunkIssues : public IssueSink {
public:
    ChunkIssues() = default;
    ~ChunkIssues();
    ChunkIssues(const ChunkIssues&) = delete;
    ChunkIssues& operator=(const ChunkIssues&) = delete;

    // `detail` (the server's words about a refused row) goes into the report line, not the summary.
    void add(const std::string& table, const std::string& key, const std::string& column, const std::string& problem,
             const std::string& action, const std::string& detail = "") override;
    uint64_t size() const { return count_; }
    // Inserts the issues into the issue table on `conn`, inside the caller's transaction, and forgets them.
    void save(Database& conn, const std::string& table, size_t chunk);
    void clear();
    // Every issue in the order added, as its summary and its report line (JSON).
    void each(const std::function<void(const std::string& summary, const std::string& line)>& fn);

    static constexpr const char* kTable = "mmmove_copy_issues";

private:
    struct Entry {
        std::string summary, line;
    };
    void spill();
    std::vector<Entry> entries_;
    size_t bytes_ = 0;
    FILE* spill_ = nullptr;  // past kSpillBytes the issues wait in an unnamed temporary file: memory stays flat
    uint64_t count_ = 0;
    static constexpr size_t kSpillBytes = 4 << 20;
};

struct ReportSummary {
    uint64_t total = 0;
    std::map<std::string, uint64_t> counts;  // "table.column: problem, action" → n
};

// Counts what the issue table holds, per kind.
ReportSummary summarize_issues(Database& dest);
// Writes every stored issue as a JSON line to `path`: into a new file created exclusively beside it,
// then renamed over it, so a link planted at `path` is replaced, never followed.
void write_report(Database& dest, const std::string& path);
// Fails early (bad input) when the report's folder cannot take it.
void check_report_path(const std::string& path);

}  // namespace mmmove
