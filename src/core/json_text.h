#pragma once
// JSON text of a summary or report that holds names read from servers. A hostile or misconfigured
// server can return any bytes for a table or column name; nlohmann's dump() throws on bytes that are
// not UTF-8, which would lose the whole summary. Here they become U+FFFD: the summary is written, and
// the name is still recognisable.
#include <nlohmann/json.hpp>
#include <string>

namespace mmmove {

template <class Json>
std::string json_text(const Json& j, int indent = -1) {
    return j.dump(indent, ' ', false, Json::error_handler_t::replace);
}

}  // namespace mmmove
