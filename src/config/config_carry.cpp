#include "config/config_carry.h"

#include <yaml-cpp/yaml.h>

#include <algorithm>

#include "catalog/embedded_schema.h"
#include "config/config_secrets.h"
#include "core/error.h"

namespace mmmove {

namespace {

std::string lower_ascii(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

std::vector<std::string> split_path(const std::string& dotted) {
    std::vector<std::string> keys;
    for (size_t start = 0, dot; start <= dotted.size(); start = dot + 1) {
        dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        keys.push_back(dotted.substr(start, dot - start));
    }
    return keys;
}

std::vector<std::string> list_of(const char* section) {
    YAML::Node n = load_embedded_yaml("config.yaml")[section];
    if (!n || !n.IsSequence())
        throw Error(ExitCode::internal, std::string("mappings/config.yaml has no list '") + section + "'. This is a bug in mmmove's built-in data.");
    std::vector<std::string> out;
    for (const auto& item : n) out.push_back(item.as<std::string>());
    return out;
}

bool key_matches(const std::string& pattern, const std::string& key) {
    if (pattern == "*") return true;
    const std::string p = lower_ascii(pattern), k = lower_ascii(key);
    if (!p.empty() && p.back() == '*') return k.compare(0, p.size() - 1, p, 0, p.size() - 1) == 0;
    return p == k;
}

// True when `keys` is `prefix` or lies under it.
bool under(const std::vector<std::string>& keys, const std::vector<std::string>& prefix) {
    if (prefix.size() > keys.size()) return false;
    for (size_t i = 0; i < prefix.size(); ++i)
        if (!key_matches(prefix[i], keys[i])) return false;
    return true;
}

// scheme://user:password@host or scheme://token@host anywhere in a string, at any depth.
bool holds_url_credentials(const OrderedJson& v) {
    if (v.is_string()) {
        const std::string& s = v.get_ref<const std::string&>();
        for (size_t at = s.find("://"); at != std::string::npos; at = s.find("://", at + 3)) {
            const size_t end = s.find_first_of("/?# \t\r\n\"", at + 3);
            const size_t host = s.find('@', at + 3);
            if (host != std::string::npos && (end == std::string::npos || host < end)) return true;
        }
        return false;
    }
    if (v.is_structured())
        for (const auto& item : v) if (holds_url_credentials(item)) return true;
    return false;
}

struct Carry {
    const std::vector<std::string>& patterns;
    std::vector<std::vector<std::string>> keep;
    OrderedJson& out;
};

// Every leaf of `src` (a value that is not a non-empty object) that is carried replaces the
// destination's. A destination that holds a non-object where the source has an object keeps it.
void carry_leaves(const OrderedJson& src, std::vector<std::string>& keys, Carry& c) {
    if (src.is_object() && !src.empty()) {
        for (auto it = src.begin(); it != src.end(); ++it) {
            keys.push_back(it.key());
            carry_leaves(it.value(), keys, c);
            keys.pop_back();
        }
        return;
    }
    // A flag or a number is no secret, whatever its key says (PasswordSettings.MinimumLength).
    const bool secret = !src.is_boolean() && !src.is_number() && is_secret_path(keys);
    if (keys.empty() || !carried_in_refresh(keys, c.patterns) || secret || holds_url_credentials(src)) return;
    for (const auto& k : c.keep)
        if (under(keys, k)) return;
    OrderedJson* at = &c.out;
    for (size_t i = 0; i + 1 < keys.size(); ++i) {
        if (!at->is_object()) return;
        auto found = at->find(keys[i]);
        if (found == at->end()) {
            append_member(*at, keys[i], OrderedJson::object());
            at = &at->get_ref<OrderedJson::object_t&>().back().second;
        } else {
            at = &found.value();
        }
    }
    if (!at->is_object()) return;
    (*at)[keys.back()] = src;
}

}  // namespace

const std::vector<std::string>& refresh_carried_patterns() {
    static const std::vector<std::string> patterns = list_of("refresh_carry");
    return patterns;
}

const std::vector<std::string>& refresh_turned_off_settings() {
    static const std::vector<std::string> settings = list_of("refresh_turn_off");
    return settings;
}

const std::vector<std::string>& refresh_search_flags() {
    static const std::vector<std::string> settings = list_of("refresh_search_flags");
    return settings;
}

bool carried_in_refresh(const std::vector<std::string>& keys, const std::vector<std::string>& patterns) {
    for (const auto& p : patterns)
        if (under(keys, split_path(p))) return true;
    return false;
}

OrderedJson merge_carried_only(const OrderedJson& source, const OrderedJson& dest, const std::vector<std::string>& patterns,
                               const std::vector<std::string>& keep) {
    OrderedJson out = dest;
    Carry c{patterns, {}, out};
    for (const auto& k : keep) c.keep.push_back(split_path(k));
    std::vector<std::string> keys;
    carry_leaves(source, keys, c);
    return out;
}

}  // namespace mmmove
