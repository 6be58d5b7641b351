#pragma once
// config.json as nlohmann's ordered JSON: key order is kept, as Mattermost writes it.
#include <nlohmann/json.hpp>
#include <string>
#include <utility>

namespace mmmove {

using OrderedJson = nlohmann::ordered_json;

// Adds `key` to `object` in O(1). The caller guarantees the key is not there yet: ordered_json's own
// operator[] and emplace search every key first, which makes building a large object quadratic.
inline void append_member(OrderedJson& object, std::string key, OrderedJson value) {
    auto& members = object.get_ref<OrderedJson::object_t&>();
    static_cast<OrderedJson::object_t::Container&>(members).emplace_back(std::move(key), std::move(value));
}

}  // namespace mmmove
