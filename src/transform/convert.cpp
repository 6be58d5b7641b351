#include "transform/convert.h"

#include <nlohmann/json.hpp>

#include <cmath>

#include "catalog/secrets.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/printable.h"
#include "core/replace.h"

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

size_t mysql_text_bytes(const std::string& type) {
    if (type == "text") return 65535;
    if (type == "tinytext") return 255;
    if (type == "mediumtext") return 16777215;
    return 0;
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
    if (json_deeper_than(json)) return false;  // an element would be dumped recursively; ids are flat
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

ConvertPolicy convert_policy_named(const std::string& overlong, const std::string& invalid_json, const std::string& refused) {
    ConvertPolicy p;
    p.overlong = overlong == "truncate" ? OverlongPolicy::truncate : OverlongPolicy::stop;
    p.invalid_json = invalid_json == "repair" ? InvalidJsonPolicy::repair : InvalidJsonPolicy::stop;
    p.refused = refused == "repair" ? RefusedPolicy::repair : refused == "skip-row" ? RefusedPolicy::skip_row : RefusedPolicy::stop;
    return p;
}

const char* refused_policy_flag(RefusedPolicy p) {
    switch (p) {
        case RefusedPolicy::stop: return "stop";
        case RefusedPolicy::repair: return "repair";
        case RefusedPolicy::skip_row: return "skip-row";
    }
    return "?";
}

bool integer_range(const std::string& type, long double& min, long double& max) {
    std::string t = lower(type);
    auto starts = [&](const char* p) { return t.rfind(p, 0) == 0; };
    int bits = starts("bigint") ? 64 : starts("mediumint") ? 24 : starts("smallint") ? 16 : starts("tinyint") ? 8
             : starts("integer") || starts("int") ? 32 : 0;
    if (bits == 0) return false;
    bool is_unsigned = t.find("unsigned") != std::string::npos;
    long double span = std::pow(2.0L, bits);
    min = is_unsigned ? 0 : -span / 2;
    max = (is_unsigned ? span : span / 2) - 1;
    return true;
}

RowConverter::RowConverter(const Table& source, const Table& dest, Engine from, Engine to, ConvertPolicy policy,
                           IssueSink& log)
    : source_(source), policy_(policy), log_(log), to_(to) {
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
            plan.max_bytes = static_cast<int64_t>(mysql_text_bytes(dc->type));
        }
        bool source_fits = sc.max_chars > 0 && dc->max_chars >= sc.max_chars && plan.max_bytes == 0;
        if ((dc->max_chars > 0 || plan.max_bytes > 0) && !source_fits && from != to) plan.ops |= check_length;
        // The two engines' schemas differ at the same level (e.g. PropertyValues' timestamps are NULL-able
        // on MySQL only), and a hand-altered column may be narrower: check only where they differ.
        if (sc.nullable && !dc->nullable) plan.ops |= check_not_null;
        long double smin = 0, smax = 0;
        if (dc->kind == ColumnKind::integer && integer_range(dc->type, plan.min, plan.max) &&
            (sc.kind != ColumnKind::integer || !integer_range(sc.type, smin, smax) || smin < plan.min || smax > plan.max))
            plan.ops |= check_range;
        if (plan.ops) identity_ = false;
        secret_.push_back(is_secret_column(source.name, sc.name));
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
        std::string shown = row[i].null ? "NULL" : secret_[i] ? masked_secret(row[i].view()) : repair_utf8(strip_nul(row[i].view()));
        key += source_columns_[i] + "=" + shown;
    }
    return key.empty() ? "(no primary key)" : key;
}

void RowConverter::set(FieldRow& row, size_t i, std::string value) {
    plans_[i].scratch = std::move(value);
    row[i] = Field::of(plans_[i].scratch);
}

void RowConverter::problem(const FieldRow& row, size_t i, const std::string& what, const std::string& action) {
    log_.add(source_.name, key_of(row), source_columns_[i], what, action, "");
}

std::string RowConverter::where(const FieldRow& row, size_t i) const {
    return "Table " + source_.name + " (" + key_of(row) + ") column " + source_columns_[i];
}

std::string RowConverter::zero_value(const Column& dest) const {
    switch (dest.kind) {
        case ColumnKind::integer:
        case ColumnKind::floating: return "0";
        case ColumnKind::boolean: return to_ == Engine::postgres ? "f" : "0";
        case ColumnKind::json: return "{}";
        case ColumnKind::text_array: return to_ == Engine::postgres ? "{}" : "[]";
        case ColumnKind::binary: return to_ == Engine::postgres ? "\\x" : "";
        default: return "";
    }
}

bool RowConverter::fit_null(FieldRow& row, size_t i) {
    const Column& d = *plans_[i].dest;
    const std::string problem_text = "NULL, but the destination's column is NOT NULL";
    bool no_zero = d.kind == ColumnKind::enumeration;  // no member is "nothing"
    if (policy_.refused == RefusedPolicy::stop)
        throw Error(ExitCode::data, where(row, i) + " is NULL, but the destination's " + d.type + " column is NOT NULL (the two "
                                    "Mattermost schemas differ here). Pass --on-refused-value=repair to write the column's zero "
                                    "value instead, or --on-refused-value=skip-row to leave such rows out; each is listed in the report.");
    if (policy_.refused == RefusedPolicy::skip_row || no_zero) {
        problem(row, i, problem_text, "row skipped");
        ++skipped_;
        return false;
    }
    std::string zero = zero_value(d);
    problem(row, i, problem_text, zero.empty() ? "replaced with an empty value" : "replaced with " + zero);
    set(row, i, std::move(zero));
    return true;
}

bool RowConverter::fit_range(FieldRow& row, size_t i) {
    const ColumnPlan& p = plans_[i];
    std::string text(row[i].view());
    char* end = nullptr;
    long double v = std::strtold(text.c_str(), &end);
    if (end == text.c_str() || (v >= p.min && v <= p.max)) return true;
    const std::string problem_text = "outside the range of " + p.dest->type;
    if (policy_.refused == RefusedPolicy::stop)
        throw Error(ExitCode::data, where(row, i) + " holds " + text + ", which the destination's " + p.dest->type + " column cannot "
                                    "hold. Pass --on-refused-value=repair to write the nearest value it holds, or "
                                    "--on-refused-value=skip-row to leave such rows out; each is listed in the report.");
    if (policy_.refused == RefusedPolicy::skip_row) {
        problem(row, i, problem_text, "row skipped");
        ++skipped_;
        return false;
    }
    char nearest[64];
    std::snprintf(nearest, sizeof nearest, "%.0Lf", v < p.min ? p.min : p.max);
    problem(row, i, problem_text, std::string("replaced with ") + nearest);
    set(row, i, nearest);
    return true;
}

bool RowConverter::refused_by_destination(const FieldRow& row, const std::string& reason) {
    // The server's words may quote the row: every secret in them is masked in one pass over the raw
    // text (see core/replace.h), and only then is the text made printable.
    std::vector<Replacement> secrets;
    for (size_t i = 0; i < row.size() && i < secret_.size(); ++i) {
        if (!secret_[i] || row[i].null || row[i].size == 0) continue;
        std::string secret(row[i].view());
        std::string mask = masked_secret(secret);
        secrets.emplace_back(std::move(secret), std::move(mask));
    }
    std::string masked = replace_all_once(reason, secrets);
    for (char& c : masked)
        if (c == '\n' || c == '\r' || c == '\t') c = ' ';  // PostgreSQL's DETAIL lines join the one line
    std::string shown = printable(masked);
    if (policy_.refused == RefusedPolicy::stop)
        throw Error(ExitCode::data, "Table " + source_.name + " (" + key_of(row) + "): the destination refused this row: " + shown +
                                        ". Fix the row at the source, or pass --on-refused-value=skip-row to leave such rows "
                                        "out (each is listed in the report).");
    log_.add(source_.name, key_of(row), "", "refused by the destination", "row skipped", shown);
    ++skipped_;
    return true;
}

bool RowConverter::convert(FieldRow& row) {
    for (size_t i = 0; i < plans_.size(); ++i) {
        ColumnPlan& p = plans_[i];
        if (!p.ops) continue;
        if (row[i].null) {
            if ((p.ops & check_not_null) && !fit_null(row, i)) return false;
            continue;
        }
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
                throw Error(ExitCode::data, where(row, i) +
                                                " holds a bytea value mmmove cannot read; report this as a bug.");
            set(row, i, std::move(raw));
            continue;
        }
        if (p.ops & to_json_array) {
            std::string json;
            if (!pg_array_to_json_array(v, json))
                throw Error(ExitCode::data, where(row, i) +
                                                " holds an array mmmove cannot read; report this as a bug.");
            set(row, i, std::move(json));
            continue;
        }
        if (p.ops & check_range) {
            if (!fit_range(row, i)) return false;
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
                                where(row, i) +
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
                throw Error(ExitCode::data, where(row, i) +
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
                                where(row, i) + " holds " +
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
    return true;
}

}  // namespace mmmove
