#pragma once
// The values a copy changed on purpose, read from its report (`--expect-changes REPORT.jsonl`): a NUL
// byte removed, invalid UTF-8 replaced, an over-long text cut, invalid JSON or a refused value
// repaired, a row left out. verify compares such a value with what the copy made of it, and expects a
// row the copy left out to be absent; without the report each of them is a difference.
#include <cstdint>
#include <string>
#include <unordered_map>
#include <vector>

namespace mmmove {

class ExpectedChanges {
public:
    struct Row {
        bool left_out = false;
        std::vector<std::string> columns;  // lower-case names of the changed columns
    };
    // Reads a copy's report. A file that is not one (not a regular file, a line that is not a report
    // line) is refused with Error(bad_input) naming the file and the line.
    static ExpectedChanges load(const std::string& path);
    // Adds one report line (JSON); false when it is not a report line.
    bool add_line(const std::string& line);

    // `table` in lower case; `key` as the report spells it ("Id=…", secret keys masked).
    const Row* find(const std::string& table, const std::string& key) const;
    bool has_table(const std::string& table) const { return tables_.count(table) > 0; }
    uint64_t size() const { return lines_; }

private:
    std::unordered_map<std::string, std::unordered_map<std::string, Row>> tables_;
    uint64_t lines_ = 0;
};

}  // namespace mmmove
