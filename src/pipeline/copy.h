#pragma once
// `mmmove copy`: the whole-database move. Reads the source inside one read-only snapshot transaction,
// streams each table into the destination (PostgreSQL COPY / batched INSERT), converting at the edge,
// then compares row counts. Content tables commit one by one; the tables a fresh server fills
// (Systems, Roles…) are replaced in one final transaction. If anything fails after loading began, the
// loaded tables are emptied again so the destination is left as it was found.
#include <ostream>
#include <string>
#include <vector>

#include "pipeline/check.h"
#include "pipeline/convert.h"

namespace mmmove {

struct CopyOptions {
    CheckOptions check;
    bool lower_case_tables = false;  // --create-schema on MySQL: Bitnami's lower-case names
    ConvertPolicy policy;
    std::string report_path = "mmmove-report.jsonl";
    bool quiet = false;
};

struct TableCopy {
    std::string source_table, dest_table;
    uint64_t rows_read = 0, rows_in_dest = 0;
    double seconds = 0;
    bool raw = false;  // moved as untouched COPY lines
};

struct CopyResult {
    CheckReport check;
    std::vector<TableCopy> tables;
    uint64_t issues = 0;
    std::map<std::string, uint64_t> issue_counts;
    std::string report_path;
    double seconds = 0;
    bool counts_match() const;
};

CopyResult run_copy(Database& source, Database& dest, const CopyOptions& options, std::ostream& log);
void print_copy_summary(const CopyResult& result, std::ostream& out);

}  // namespace mmmove
