#pragma once
// The generator's row writer: one table of sample data, written through the destination's own bulk
// loader inside one transaction per table (the table's rows commit together).
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"
#include "db/transaction.h"
#include "sample/generator.h"

namespace mmmove {

// Writes rows of one table: values are given per column name (any case); columns left unset get NULL,
// or the type's zero value when the column is NOT NULL without a default. A table this schema level
// lacks is skipped: set() and emit() do nothing.
class TableFill {
public:
    TableFill(Database& db, const Catalog& cat, const std::string& name, SampleResult& result);
    TableFill& set(const std::string& column, std::string value);
    TableFill& set(const std::string& column, int64_t value) { return set(column, std::to_string(value)); }
    TableFill& flag(const std::string& column, bool value);
    void emit();
    void finish();

private:
    std::string zero(const Column& c) const;
    Database& db_;
    SampleResult& result_;
    const Table* table_ = nullptr;
    std::map<std::string, size_t> index_;
    std::vector<std::string> values_;
    std::vector<bool> set_;
    std::optional<Transaction> tx_;  // one per table: the table's rows commit together
    std::unique_ptr<RowWriter> writer_;
};

}  // namespace mmmove
