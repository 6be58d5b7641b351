#include "verify/canonical.h"

#include <charconv>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "core/json_depth.h"
#include "transform/convert.h"

namespace mmmove {

Canon canon_for(ColumnKind source, const std::string& source_type, Engine from, ColumnKind dest, const std::string& dest_type, Engine to) {
    // jsonb stores objects with its keys sorted; other JSON columns keep the text as written, so the
    // same object may be spelled with its keys in another order.
    bool keeps_spelling = source == ColumnKind::json && !(from == Engine::postgres && lower(source_type) == "jsonb");
    if (from == to && source == dest && lower(source_type) == lower(dest_type) && !keeps_spelling) return Canon::raw;
    auto either = [&](ColumnKind k) { return source == k || dest == k; };
    if (either(ColumnKind::text_array)) return Canon::array;
    if (either(ColumnKind::json)) return Canon::json;
    if (either(ColumnKind::boolean)) return Canon::boolean;
    if (either(ColumnKind::binary)) return Canon::binary;
    if (either(ColumnKind::floating)) return Canon::floating;
    return Canon::text;
}

std::string canonical_json(std::string_view text) {
    // Dumping recurses per level: text nested deeper than any Mattermost JSON is compared as written.
    if (json_deeper_than(text)) return std::string(text);
    auto j = nlohmann::json::parse(text, nullptr, false);
    if (j.is_discarded()) return std::string(text);
    return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

Canon destination_canon(ColumnKind dest) {
    switch (dest) {
        case ColumnKind::json: return Canon::json;
        case ColumnKind::boolean: return Canon::boolean;
        case ColumnKind::binary: return Canon::binary;
        case ColumnKind::text_array: return Canon::array;
        case ColumnKind::floating: return Canon::floating;
        default: return Canon::text;
    }
}

std::string_view canonical_value(std::string_view v, Canon canon, Engine engine, std::string& scratch) {
    switch (canon) {
        case Canon::raw:
        case Canon::text: return v;
        case Canon::boolean: return v == "0" || v == "f" || v == "false" ? "false" : "true";
        case Canon::binary:
            if (engine == Engine::postgres && pg_hex_to_bytes(v, scratch)) return scratch;
            return v;
        case Canon::array:
            // PostgreSQL's text arrays ({a,"b c"}) read as the JSON array MySQL keeps.
            if (engine == Engine::postgres) {
                std::string json;
                if (!pg_array_to_json_array(v, json)) return v;
                scratch = canonical_json(json);
                return scratch;
            }
            scratch = canonical_json(v);
            return scratch;
        case Canon::json:
            scratch = canonical_json(v);
            return scratch;
        case Canon::floating: {
            std::string s(v);
            char* end = nullptr;
            double d = std::strtod(s.c_str(), &end);
            if (end == s.c_str() || *end) return v;
            char buf[64];
            auto r = std::to_chars(buf, buf + sizeof buf, d);
            scratch.assign(buf, r.ptr);
            return scratch;
        }
    }
    return v;
}

}  // namespace mmmove
