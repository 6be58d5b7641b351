#pragma once
// Where the edge conversion reports a value it changed or a row it left out: the table, the row's key,
// the column, what was wrong and what was done. The copy's sink (pipeline/issue_log.h, ChunkIssues)
// stores them with the chunk's rows; declaring the interface here keeps transform/ from depending on
// the pipeline above it.
#include <string>

namespace mmmove {

class IssueSink {
public:
    // `detail` (the server's words about a refused row) goes into the report line, not the summary.
    virtual void add(const std::string& table, const std::string& key, const std::string& column, const std::string& problem,
                     const std::string& action, const std::string& detail) = 0;

protected:
    ~IssueSink() = default;  // never owned through the interface
};

}  // namespace mmmove
