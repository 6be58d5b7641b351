#pragma once
// Copy progress. On a terminal: a live line per active table (rows, rows/s, ETA) under an overall
// bar, redrawn every second. In a pipe or under cron: a plain log line every 10 seconds. Nothing with
// --quiet. Counters are atomic: workers add rows, one reporter thread prints.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <ostream>
#include <string>
#include <thread>
#include <vector>

namespace mmmove {

class Progress {
public:
    enum class Style { terminal, log, quiet };
    Progress(std::ostream& out, Style style) : out_(out), style_(style) {}
    ~Progress() { stop(); }
    size_t add_table(const std::string& name, uint64_t estimated_rows);
    void add_rows(size_t table, uint64_t rows) { tables_[table]->rows += rows; }
    // Rows counted by a load the destination then rolled back (see ChunkProgress).
    void take_back(size_t table, uint64_t rows) { tables_[table]->rows -= rows; }
    uint64_t rows(size_t table) const { return tables_[table]->rows; }
    void set_active(size_t table, int delta) { tables_[table]->active += delta; }
    void start();
    void stop();
    static Style style_for(bool quiet, bool is_terminal);

private:
    struct TableState {
        std::string name;
        uint64_t estimate;
        std::atomic<uint64_t> rows{0};
        std::atomic<int> active{0};
        uint64_t last_rows = 0;
    };
    void report(bool final);
    std::ostream& out_;
    Style style_;
    std::vector<std::unique_ptr<TableState>> tables_;
    std::thread thread_;
    std::mutex m_;
    std::condition_variable cv_;
    bool stopping_ = false;
    size_t drawn_lines_ = 0;
    std::chrono::steady_clock::time_point start_, last_;
};

// The rows one attempt at loading a chunk has counted. The count shows rows as they stream, before
// the chunk commits; an attempt that is rolled back (a lost lock conflict, refused rows loaded again
// carefully) takes its rows back with rewind(), so the line only ever adds up rows that stay.
class ChunkProgress {
public:
    ChunkProgress(Progress& progress, size_t table) : progress_(progress), table_(table) {}
    void add(uint64_t rows) {
        progress_.add_rows(table_, rows);
        counted_ += rows;
    }
    void rewind() {
        progress_.take_back(table_, counted_);
        counted_ = 0;
    }

private:
    Progress& progress_;
    size_t table_;
    uint64_t counted_ = 0;
};

}  // namespace mmmove
