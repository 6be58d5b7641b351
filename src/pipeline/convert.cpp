#include "pipeline/convert.h"

#include <nlohmann/json.hpp>

#include "core/error.h"

namespace mmmove {

bool has_nul(std::string_view s) { return s.find('\0') != std::string_view::npos; }

std::string strip_nul(std::string_view s) {
    std::string out;
    out.reserve(s.size());
    for (char c : s)
        if (c != '\0') out.push_back(c);
    return out;
}

namespace {
// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is invalid (overlongs, surrogates
// and code points above U+10FFFF count as invalid, as PostgreSQL counts them).
size_t utf8_sequence(std::string_view s, size_t i) {
    auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
    unsigned char c = b(i);
    if (c < 0x80) return 1;
    size_t n = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
    if (n == 0 || c > 0xF4 || i + n > s.size()) return 0;
    for (size_t k = 1; k < n; ++k)
        if ((b(i + k) & 0xC0) != 0x80) return 0;
    if (n == 3 && c == 0xE0 && b(i + 1) < 0xA0) return 0;
    if (n == 3 && c == 0xED && b(i + 1) >= 0xA0) return 0;
    if (n == 4 && c == 0xF0 && b(i + 1) < 0x90) return 0;
    if (n == 4 && c == 0xF4 && b(i + 1) >= 0x90) return 0;
    return n;
}
}  // namespace

bool valid_utf8(std::string_view s) {
    for (size_t i = 0; i < s.size();) {
        if (static_cast<unsigned char>(s[i]) < 0x80) {
            ++i;
            continue;
        }
        size_t n = utf8_sequence(s, i);
        if (n == 0) return false;
        i += n;
    }
    return true;
}

std::string repair_utf8(std::string_view s) {
    std::string out;
    out.reserve(s.size() + 8);
    for (size_t i = 0; i < s.size();) {
        size_t n = utf8_sequence(s, i);
        if (n == 0) {
            out += "\xEF\xBF\xBD";
            ++i;
        } else {
            out.append(s.substr(i, n));
            i += n;
        }
    }
    return out;
}

size_t utf8_length(std::string_view s) {
    size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

std::string_view utf8_prefix(std::string_view s, size_t max_chars, size_t max_bytes) {
    size_t chars = 0, i = 0;
    while (i < s.size()) {
        size_t n = 1;
        while (i + n < s.size() && (static_cast<unsigned char>(s[i + n]) & 0xC0) == 0x80) ++n;
        if ((max_chars && chars + 1 > max_chars) || (max_bytes && i + n > max_bytes)) break;
        i += n;
        ++chars;
    }
    return s.substr(0, i);
}

bool strip_json_nul_escapes(std::string_view in, std::string& out) {
    out.clear();
    bool changed = false, in_string = false;
    for (size_t i = 0; i < in.size(); ++i) {
        char c = in[i];
        if (!in_string) {
            if (c == '"') in_string = true;
            out.push_back(c);
            continue;
        }
        if (c == '"') {
            in_string = false;
        } else if (c == '\\' && i + 1 < in.size()) {
            if (in.substr(i, 6) == "\\u0000") {
                changed = true;
                i += 5;
                continue;
            }
            out.push_back(c);
            out.push_back(in[++i]);
            continue;
        }
        out.push_back(c);
    }
    return changed;
}

bool valid_json(std::string_view s) { return nlohmann::json::accept(s); }

std::string bytes_to_pg_hex(std::string_view raw) {
    static const char* hex = "0123456789abcdef";
    std::string out = "\\x";
    out.reserve(2 + raw.size() * 2);
    for (char ch : raw) {
        auto c = static_cast<unsigned char>(ch);
        out.push_back(hex[c >> 4]);
        out.push_back(hex[c & 15]);
    }
    return out;
}

bool pg_hex_to_bytes(std::string_view hex, std::string& out) {
    if (hex.substr(0, 2) != "\\x" || hex.size() % 2) return false;
    out.clear();
    auto nib = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    for (size_t i = 2; i < hex.size(); i += 2) {
        if (!isxdigit(static_cast<unsigned char>(hex[i])) || !isxdigit(static_cast<unsigned char>(hex[i + 1]))) return false;
        out.push_back(static_cast<char>(nib(hex[i]) * 16 + nib(hex[i + 1])));
    }
    return true;
}

bool json_array_to_pg_array(std::string_view json, std::string& out) {
    auto j = nlohmann::json::parse(json, nullptr, false);
    if (j.is_discarded() || !j.is_array()) return false;
    out = "{";
    bool first = true;
    for (const auto& e : j) {
        if (!first) out += ',';
        first = false;
        if (e.is_null()) {
            out += "NULL";
            continue;
        }
        std::string v = e.is_string() ? e.get<std::string>() : e.dump();
        out += '"';
        for (char c : v) {
            if (c == '"' || c == '\\') out += '\\';
            out += c;
        }
        out += '"';
    }
    out += '}';
    return true;
}

bool pg_array_to_json_array(std::string_view pg, std::string& out) {
    if (pg.size() < 2 || pg.front() != '{' || pg.back() != '}') return false;
    nlohmann::json arr = nlohmann::json::array();
    std::string_view body = pg.substr(1, pg.size() - 2);
    size_t i = 0;
    while (i < body.size()) {
        std::string item;
        bool quoted = false;
        if (body[i] == '"') {
            quoted = true;
            for (++i; i < body.size() && body[i] != '"'; ++i) {
                if (body[i] == '\\' && i + 1 < body.size()) ++i;
                item += body[i];
            }
            ++i;  // closing quote
        } else {
            while (i < body.size() && body[i] != ',') item += body[i++];
        }
        if (!quoted && item == "NULL")
            arr.push_back(nullptr);
        else
            arr.push_back(item);
        if (i < body.size() && body[i] == ',') ++i;
    }
    out = arr.dump();
    return true;
}

void IssueLog::add(const std::string& table, const std::string& key, const std::string& column,
                   const std::string& problem, const std::string& action) {
    if (!out_.is_open()) {
        out_.open(path_, std::ios::out | std::ios::trunc);
        if (!out_) throw Error(ExitCode::bad_input, "mmmove cannot write its report file " + path_ + "; pass --report with a writable path.");
    }
    nlohmann::json line = {{"table", table}, {"key", key}, {"column", column}, {"problem", problem}, {"action", action}};
    out_ << line.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) << '\n';
    ++total_;
    ++counts_[table + "." + column + ": " + problem + ", " + action];
}

RowConverter::RowConverter(const Table& source, const Table& dest, Engine from, Engine to, ConvertPolicy policy,
                           IssueLog& log)
    : source_(source), policy_(policy), log_(log) {
    for (const auto& sc : source.columns) {
        const Column* dc = dest.find_column(sc.name);
        if (!dc) continue;  // the check has already refused tables whose columns are missing
        ColumnPlan plan;
        plan.dest = dc;
        if (to == Engine::postgres && from == Engine::mysql) {
            if (dc->kind == ColumnKind::boolean) plan.ops |= to_pg_bool;
            if (dc->kind == ColumnKind::binary) plan.ops |= to_pg_bytea;
            if (dc->kind == ColumnKind::text_array) plan.ops |= to_pg_array;
            if (dc->kind == ColumnKind::text || dc->kind == ColumnKind::enumeration || dc->kind == ColumnKind::json)
                plan.ops |= clean_text;
            if (dc->kind == ColumnKind::json) plan.ops |= check_json;
        } else if (to == Engine::mysql && from == Engine::postgres) {
            if (dc->kind == ColumnKind::boolean || sc.kind == ColumnKind::boolean) plan.ops |= to_my_bool;
            if (sc.kind == ColumnKind::binary) plan.ops |= to_my_binary;
            if (sc.kind == ColumnKind::text_array) plan.ops |= to_json_array;
        }
        if (dc->kind == ColumnKind::text && to == Engine::mysql) {
            if (dc->type == "text") plan.max_bytes = 65535;
            if (dc->type == "tinytext") plan.max_bytes = 255;
            if (dc->type == "mediumtext") plan.max_bytes = 16777215;
        }
        bool source_fits = sc.max_chars > 0 && dc->max_chars >= sc.max_chars && plan.max_bytes == 0;
        if ((dc->max_chars > 0 || plan.max_bytes > 0) && !source_fits && from != to) plan.ops |= check_length;
        if (plan.ops) identity_ = false;
        source_columns_.push_back(sc.name);
        dest_columns_.push_back(dc->name);
        dest_kinds_.push_back(dc->kind);
        plans_.push_back(std::move(plan));
    }
    for (const auto& k : source.primary_key)
        for (size_t i = 0; i < source_columns_.size(); ++i)
            if (source_columns_[i] == k) key_columns_.push_back(i);
}

std::string RowConverter::key_of(const FieldRow& row) const {
    std::string key;
    for (size_t i : key_columns_) {
        if (!key.empty()) key += ", ";
        key += source_columns_[i] + "=" + (row[i].null ? "NULL" : repair_utf8(strip_nul(row[i].view())));
    }
    return key.empty() ? "(no primary key)" : key;
}

void RowConverter::set(FieldRow& row, size_t i, std::string value) {
    plans_[i].scratch = std::move(value);
    row[i] = Field::of(plans_[i].scratch);
}

void RowConverter::problem(const FieldRow& row, size_t i, const std::string& what, const std::string& action) {
    log_.add(source_.name, key_of(row), source_columns_[i], what, action);
}

void RowConverter::convert(FieldRow& row) {
    for (size_t i = 0; i < plans_.size(); ++i) {
        ColumnPlan& p = plans_[i];
        if (!p.ops || row[i].null) continue;
        std::string_view v = row[i].view();
        if (p.ops & to_pg_bool) {
            set(row, i, v == "0" ? "f" : "t");
            continue;
        }
        if (p.ops & to_my_bool) {
            set(row, i, v == "t" || v == "true" || v == "1" ? "1" : "0");
            continue;
        }
        if (p.ops & to_pg_bytea) {
            set(row, i, bytes_to_pg_hex(v));
            continue;
        }
        if (p.ops & to_my_binary) {
            std::string raw;
            if (!pg_hex_to_bytes(v, raw))
                throw Error(ExitCode::data, "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i] +
                                                " holds a bytea value mmmove cannot read; report this as a bug.");
            set(row, i, std::move(raw));
            continue;
        }
        if (p.ops & to_json_array) {
            std::string json;
            if (!pg_array_to_json_array(v, json))
                throw Error(ExitCode::data, "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i] +
                                                " holds an array mmmove cannot read; report this as a bug.");
            set(row, i, std::move(json));
            continue;
        }
        std::string cleaned;
        bool changed = false;
        if (p.ops & clean_text) {
            if (has_nul(v)) {
                problem(row, i, "NUL byte (PostgreSQL cannot store it)", "removed");
                cleaned = strip_nul(v);
                changed = true;
                v = cleaned;
            }
            if (!valid_utf8(v)) {
                problem(row, i, "invalid UTF-8", "replaced with U+FFFD");
                cleaned = repair_utf8(v);
                changed = true;
                v = cleaned;
            }
        }
        if (p.ops & check_json) {
            std::string stripped;
            if (strip_json_nul_escapes(v, stripped)) {
                problem(row, i, "\\u0000 in JSON (jsonb cannot store it)", "removed");
                cleaned = std::move(stripped);
                changed = true;
                v = cleaned;
            }
            if (!valid_json(v)) {
                if (policy_.invalid_json == InvalidJsonPolicy::stop)
                    throw Error(ExitCode::data,
                                "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i] +
                                    " holds invalid JSON (" + std::to_string(v.size()) + " bytes) that PostgreSQL's jsonb refuses. "
                                    "Fix the row at the source, or pass --on-invalid-json=repair to write {} instead and list it in the report.");
                problem(row, i, "invalid JSON", "replaced with {}");
                cleaned = "{}";
                changed = true;
                v = cleaned;
            }
        }
        if (p.ops & to_pg_array) {
            std::string arr;
            if (!json_array_to_pg_array(v, arr))
                throw Error(ExitCode::data, "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i] +
                                                " should hold a JSON array of IDs but does not; fix the row at the source.");
            cleaned = std::move(arr);
            changed = true;
            v = cleaned;
        }
        if (p.ops & check_length) {
            size_t max_chars = static_cast<size_t>(p.dest->max_chars), max_bytes = static_cast<size_t>(p.max_bytes);
            bool too_long = (max_chars && utf8_length(v) > max_chars) || (max_bytes && v.size() > max_bytes);
            if (too_long) {
                std::string limit = max_chars ? std::to_string(max_chars) + " characters" : std::to_string(max_bytes) + " bytes";
                if (policy_.overlong == OverlongPolicy::stop)
                    throw Error(ExitCode::data,
                                "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i] + " holds " +
                                    std::to_string(utf8_length(v)) + " characters (" + std::to_string(v.size()) +
                                    " bytes), more than the destination's " + p.dest->type + " allows (" + limit +
                                    "). Shorten it at the source, or pass --on-overlong=truncate to cut it and list it in the report.");
                problem(row, i, "longer than " + p.dest->type + " (" + std::to_string(utf8_length(v)) + " characters)",
                        "truncated to " + limit);
                cleaned = std::string(utf8_prefix(v, max_chars, max_bytes));
                changed = true;
                v = cleaned;
            }
        }
        if (changed) set(row, i, std::string(v));
    }
}

}  // namespace mmmove
