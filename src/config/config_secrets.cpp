#include "config/config_secrets.h"

#include <yaml-cpp/yaml.h>

#include <cctype>
#include <cstring>

#include "catalog/embedded_schema.h"
#include "core/ordered_json.h"

namespace mmmove {

namespace {

std::string ascii_lower(std::string s) {
    for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

struct SecretRules {
    std::vector<std::vector<std::string>> paths;  // lower-case keys; "*" matches any one key
    std::vector<std::string> name_parts;
};

const SecretRules& secret_rules() {
    static const SecretRules r = [] {
        SecretRules out;
        YAML::Node n = load_embedded_yaml("config.yaml");
        for (const auto& p : n["secret_settings"]) {
            std::vector<std::string> keys;
            std::string s = ascii_lower(p.as<std::string>());
            for (size_t start = 0, dot; start <= s.size(); start = dot + 1) {
                dot = s.find('.', start);
                if (dot == std::string::npos) dot = s.size();
                keys.push_back(s.substr(start, dot - start));
            }
            out.paths.push_back(keys);
        }
        for (const auto& k : n["secret_name_parts"]) out.name_parts.push_back(ascii_lower(k.as<std::string>()));
        return out;
    }();
    return r;
}

bool secret_name(const std::string& key) {
    std::string l = ascii_lower(key);
    for (const auto& part : secret_rules().name_parts)
        if (l.find(part) != std::string::npos) return true;
    return false;
}

// Mattermost reads config keys case-insensitively (Go's encoding/json), so the rules match that way.
bool listed_secret(const std::vector<std::string>& keys) {
    for (const auto& rule : secret_rules().paths) {
        if (rule.size() > keys.size()) continue;
        bool match = true;
        for (size_t i = 0; i < rule.size() && match; ++i) match = rule[i] == "*" || rule[i] == ascii_lower(keys[i]);
        if (match) return true;
    }
    return false;
}

bool set(const nlohmann::ordered_json& v) {
    if (v.is_null() || v.is_boolean() || v.is_number()) return false;  // no secret is a flag or a count
    return !(v.is_string() ? v.get_ref<const std::string&>().empty() : v.empty());
}

bool url_delimiter(char c) { return std::isspace(static_cast<unsigned char>(c)) || std::strchr("\"'<>()[]{},;/\\", c); }

// A copy of `v` with values under secret-looking keys replaced and credentials in strings masked.
nlohmann::ordered_json masked(const nlohmann::ordered_json& v) {
    if (v.is_string()) return mask_credentials_in_text(v.get_ref<const std::string&>());
    if (v.is_array()) {
        nlohmann::ordered_json out = nlohmann::ordered_json::array();
        for (const auto& item : v) out.push_back(masked(item));
        return out;
    }
    if (v.is_object()) {
        nlohmann::ordered_json out = nlohmann::ordered_json::object();
        for (auto it = v.begin(); it != v.end(); ++it)
            append_member(out, it.key(), secret_name(it.key()) && set(it.value()) ? OrderedJson("****") : masked(it.value()));
        return out;
    }
    return v;
}

}  // namespace

bool is_secret_path(const std::vector<std::string>& keys) {
    if (listed_secret(keys)) return true;
    for (const auto& k : keys)
        if (secret_name(k)) return true;
    return false;
}

std::string mask_credentials_in_text(const std::string& text) {
    std::string out;
    out.reserve(text.size());
    size_t i = 0;
    while (i < text.size()) {
        if (url_delimiter(text[i])) {
            out += text[i++];
            continue;
        }
        size_t end = i;
        while (end < text.size() && !url_delimiter(text[end])) ++end;
        std::string_view token(text.data() + i, end - i);
        size_t at = token.rfind('@');
        size_t colon = token.find(':');
        bool after_scheme = i >= 3 && text.compare(i - 3, 3, "://") == 0;
        if (at != std::string_view::npos && colon < at) {
            out.append(token.substr(0, colon + 1)).append("****").append(token.substr(at));  // user:****@host
        } else if (at != std::string_view::npos && after_scheme) {
            out.append("****").append(token.substr(at));  // scheme://****@host: the user part may be a token
        } else {
            out.append(token);
        }
        i = end;
    }
    return out;
}

std::string show_setting(bool secret, const nlohmann::ordered_json& value) {
    if (secret && set(value)) return "****";
    return masked(value).dump();
}

}  // namespace mmmove
