#include "verify/expected_changes.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "core/error.h"
#include "files/printable_path.h"

namespace mmmove {

bool ExpectedChanges::add_line(const std::string& line) {
    auto j = nlohmann::json::parse(line, nullptr, false);
    if (!j.is_object()) return false;
    for (const char* field : {"table", "key", "column", "action"})
        if (!j.contains(field) || !j[field].is_string()) return false;
    Row& row = tables_[lower(j["table"].get<std::string>())][j["key"].get<std::string>()];
    if (j["action"].get<std::string>() == "row skipped")
        row.left_out = true;
    else {
        std::string column = lower(j["column"].get<std::string>());
        if (std::find(row.columns.begin(), row.columns.end(), column) == row.columns.end()) row.columns.push_back(column);
    }
    ++lines_;
    return true;
}

const ExpectedChanges::Row* ExpectedChanges::find(const std::string& table, const std::string& key) const {
    auto t = tables_.find(table);
    if (t == tables_.end()) return nullptr;
    auto r = t->second.find(key);
    return r == t->second.end() ? nullptr : &r->second;
}

ExpectedChanges ExpectedChanges::load(const std::string& path) {
    const std::string shown = printable_path(path);
    // Non-blocking open: a FIFO planted at the path must not hang the run; only a regular file is read.
    int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0)
        throw Error(ExitCode::bad_input, "Cannot open the copy report " + shown + " given to --expect-changes: " + std::strerror(errno) +
                                             ". Pass the report the copy wrote (--report, default mmmove-report.jsonl).");
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw Error(ExitCode::bad_input, "The copy report " + shown + " given to --expect-changes is not a regular file.");
    }
    FILE* f = ::fdopen(fd, "r");
    if (!f) {
        ::close(fd);
        throw Error(ExitCode::internal, "Cannot read the copy report " + shown + ": " + std::strerror(errno) + ".");
    }
    ExpectedChanges expected;
    std::string line;
    uint64_t number = 0;
    auto take = [&] {
        ++number;
        if (line.empty()) return;
        if (!expected.add_line(line)) {
            std::fclose(f);
            throw Error(ExitCode::bad_input, "Line " + std::to_string(number) + " of " + shown +
                                                 " is not a line of an mmmove copy report (a JSON object with table, key, "
                                                 "column and action). Pass the report the copy wrote, unedited.");
        }
        line.clear();
    };
    for (int c; (c = std::fgetc(f)) != EOF;) {
        if (c == '\n')
            take();
        else
            line.push_back(static_cast<char>(c));
    }
    if (!line.empty()) take();
    bool failed = std::ferror(f);
    std::fclose(f);
    if (failed) throw Error(ExitCode::bad_input, "Reading the copy report " + shown + " failed.");
    return expected;
}

}  // namespace mmmove
