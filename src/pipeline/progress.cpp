#include "pipeline/progress.h"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <iomanip>
#include <sstream>

#include "core/printable.h"

namespace mmmove {

Progress::Style Progress::style_for(bool quiet, bool is_terminal) {
    return quiet ? Style::quiet : is_terminal ? Style::terminal : Style::log;
}

size_t Progress::add_table(const std::string& name, uint64_t estimated_rows) {
    auto t = std::make_unique<TableState>();
    t->name = printable(name);  // a catalog's name, printed among the progress line's own escapes
    t->estimate = estimated_rows;
    tables_.push_back(std::move(t));
    return tables_.size() - 1;
}

void Progress::start() {
    if (style_ == Style::quiet) return;
    start_ = last_ = std::chrono::steady_clock::now();
    // MMMOVE_PROGRESS_SECONDS overrides the interval (the tests use it to see lines on small copies).
    double seconds = style_ == Style::terminal ? 1 : 10;
    if (const char* env = std::getenv("MMMOVE_PROGRESS_SECONDS")) seconds = std::max(0.05, std::atof(env));
    thread_ = std::thread([this, seconds] {
        auto every = std::chrono::duration<double>(seconds);
        std::unique_lock lock(m_);
        while (!cv_.wait_for(lock, every, [this] { return stopping_; })) report(false);
    });
}

void Progress::stop() {
    if (!thread_.joinable()) return;
    {
        std::lock_guard lock(m_);
        stopping_ = true;
    }
    cv_.notify_all();
    thread_.join();
    if (style_ == Style::terminal) report(true);
}

namespace {
std::string eta(double seconds) {
    if (!std::isfinite(seconds) || seconds < 0) return "?";
    std::ostringstream s;
    int t = static_cast<int>(seconds);
    if (t >= 3600) s << t / 3600 << "h";
    if (t >= 60) s << (t % 3600) / 60 << "m";
    s << t % 60 << "s";
    return s.str();
}
}  // namespace

void Progress::report(bool final) {
    auto now = std::chrono::steady_clock::now();
    double elapsed = std::chrono::duration<double>(now - start_).count();
    double interval = std::max(1e-3, std::chrono::duration<double>(now - last_).count());
    last_ = now;
    uint64_t done = 0, total = 0;
    for (const auto& t : tables_) done += t->rows, total += std::max<uint64_t>(t->estimate, t->rows);
    double rate = elapsed > 0 ? double(done) / elapsed : 0;
    double fraction = total ? std::min(1.0, double(done) / double(total)) : 0;
    std::ostringstream s;
    if (style_ == Style::terminal) {
        if (drawn_lines_) s << "\033[" << drawn_lines_ << "A";
        size_t lines = 0;
        for (auto& t : tables_) {
            uint64_t rows = t->rows;
            if (t->active > 0 && !final) {
                double trate = double(rows - t->last_rows) / interval;
                double left = t->estimate > rows ? double(t->estimate - rows) / std::max(1.0, trate) : 0;
                s << "\r\033[K  " << std::left << std::setw(26) << t->name << std::right << std::setw(12) << rows << " rows "
                  << std::setw(10) << static_cast<uint64_t>(trate) << " rows/s  ETA " << eta(left) << "\n";
                ++lines;
            }
            t->last_rows = rows;
        }
        int width = 30, filled = static_cast<int>(fraction * width);
        s << "\r\033[K  [" << std::string(filled, '#') << std::string(width - filled, '.') << "] " << std::fixed
          << std::setprecision(0) << fraction * 100 << "%  " << done << " rows, " << static_cast<uint64_t>(rate)
          << " rows/s, ETA " << eta(rate > 0 && total > done ? double(total - done) / rate : 0) << "\n";
        ++lines;
        // Lines left over from a longer previous frame are cleared.
        for (size_t i = lines; i < drawn_lines_; ++i) s << "\r\033[K\n";
        drawn_lines_ = std::max(lines, drawn_lines_);
    } else {
        s << "progress: " << std::fixed << std::setprecision(0) << fraction * 100 << "% " << done << " of ~" << total
          << " rows, " << static_cast<uint64_t>(rate) << " rows/s, ETA " << eta(rate > 0 && total > done ? double(total - done) / rate : 0);
        std::string active;
        for (const auto& t : tables_)
            if (t->active > 0) active += (active.empty() ? "; copying " : ", ") + t->name;
        s << active << "\n";
    }
    out_ << s.str() << std::flush;
}

}  // namespace mmmove
