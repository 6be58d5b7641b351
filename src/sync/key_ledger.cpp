#include "sync/key_ledger.h"

#include <nlohmann/json.hpp>
#include <regex>

#include "core/json_depth.h"

namespace mmmove::sync_detail {
namespace {

constexpr size_t kMaxTables = 10'000;

// An entry as text() writes it: "pg:ROWS:SUM" with SUM "" only for 0 rows, a signed decimal without
// leading zeros otherwise; "xx:ROWS:LOW:HIGH" with both halves decimal 64-bit sums.
std::optional<TableKeyDigest> entry_of(const std::string& text) {
    static const std::regex pg(R"(pg:(0|[1-9]\d{0,18}):(|0|-?[1-9]\d{0,37}))"), xx(R"(xx:(0|[1-9]\d{0,18}):((0|[1-9]\d{0,19}):(0|[1-9]\d{0,19})))");
    std::smatch m;
    TableKeyDigest d;
    if (std::regex_match(text, m, pg)) {
        d.form = "pg", d.rows = std::stoull(m[1]), d.sum = m[2];
        if ((d.rows == 0) != d.sum.empty()) return std::nullopt;
    } else if (std::regex_match(text, m, xx)) {
        d.form = "xx", d.rows = std::stoull(m[1]), d.sum = m[2];
        // Each half a 64-bit number: at most 18446744073709551615.
        for (const std::string& half : {m[3].str(), m[4].str()})
            if (half.size() == 20 && half > "18446744073709551615") return std::nullopt;
    } else {
        return std::nullopt;
    }
    return d;
}

std::string text_of(const TableKeyDigest& d) { return d.form + ":" + std::to_string(d.rows) + ":" + d.sum; }

}  // namespace

void KeyLedger::set(const std::string& table, TableKeyDigest digest) { tables_[table] = std::move(digest); }

const TableKeyDigest* KeyLedger::find(const std::string& table) const {
    auto it = tables_.find(table);
    return it == tables_.end() ? nullptr : &it->second;
}

std::string KeyLedger::text() const {
    if (tables_.empty()) return "";
    nlohmann::json j = nlohmann::json::object();
    for (const auto& [table, d] : tables_) j[table] = text_of(d);
    return j.dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);  // ASCII: the record's form
}

std::optional<KeyLedger> KeyLedger::parse(const std::string& text) {
    KeyLedger out;
    if (text.empty()) return out;
    if (json_deeper_than(text, 1)) return std::nullopt;
    const auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded() || !j.is_object() || j.size() > kMaxTables) return std::nullopt;
    for (const auto& [table, value] : j.items()) {
        if (table.empty() || table.size() > 256 || !value.is_string()) return std::nullopt;
        auto d = entry_of(value.get<std::string>());
        if (!d || text_of(*d) != value.get<std::string>()) return std::nullopt;
        out.tables_[table] = std::move(*d);
    }
    return out;
}

}  // namespace mmmove::sync_detail
