#include "sample/table_fill.h"

#include <algorithm>

namespace mmmove {

TableFill::TableFill(Database& db, const Catalog& cat, const std::string& name, SampleResult& result)
    : db_(db), result_(result) {
    table_ = cat.find(name);
    if (!table_) return;  // this schema level has no such table
    for (size_t i = 0; i < table_->columns.size(); ++i) index_[lower(table_->columns[i].name)] = i;
    std::vector<std::string> cols;
    std::vector<ColumnKind> kinds;
    for (const auto& c : table_->columns) cols.push_back(c.name), kinds.push_back(c.kind);
    values_.resize(cols.size());
    set_.resize(cols.size());
    tx_.emplace(db_);
    writer_ = db_.write_table(table_->name, cols, kinds);
    ++result_.tables;
}

TableFill& TableFill::set(const std::string& column, std::string value) {
    auto it = index_.find(lower(column));
    if (it != index_.end()) values_[it->second] = std::move(value), set_[it->second] = true;
    return *this;
}

TableFill& TableFill::flag(const std::string& column, bool value) {
    return set(column, db_.engine() == Engine::postgres ? (value ? "t" : "f") : (value ? "1" : "0"));
}

void TableFill::emit() {
    if (!table_) return;
    FieldRow row(values_.size());
    for (size_t i = 0; i < values_.size(); ++i) {
        const Column& c = table_->columns[i];
        if (!set_[i] && c.nullable && !c.has_default) continue;  // stays NULL
        if (!set_[i]) values_[i] = zero(c);
        row[i] = Field::of(values_[i]);
    }
    writer_->write(row);
    ++result_.rows;
    std::fill(set_.begin(), set_.end(), false);
}

void TableFill::finish() {
    if (!table_) return;
    writer_->finish();
    tx_->commit();
}

std::string TableFill::zero(const Column& c) const {
    bool pg = db_.engine() == Engine::postgres;
    switch (c.kind) {
        case ColumnKind::integer:
        case ColumnKind::floating: return "0";
        case ColumnKind::boolean: return pg ? "f" : "0";
        case ColumnKind::json: return "{}";
        case ColumnKind::binary: return pg ? "\\x" : "";
        case ColumnKind::text_array: return pg ? "{}" : "[]";
        case ColumnKind::enumeration: {
            auto open = c.type.find('\'');  // MySQL enum('a','b'): the first value
            if (!pg && open != std::string::npos) return c.type.substr(open + 1, c.type.find('\'', open + 1) - open - 1);
            return "";
        }
        default: return "";
    }
}

}  // namespace mmmove
