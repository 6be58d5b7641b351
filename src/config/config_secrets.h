#pragma once
// Which config.json settings are secrets, and how a setting's value is shown to the admin without them.
// The rules are data, in mappings/config.yaml: `secret_settings` lists settings by path (a whole value,
// objects and arrays included, is hidden), and `secret_name_parts` masks any setting whose key, or any
// key above or inside it (plugin settings, arrays of objects), contains one of those words. On top of
// that, the `user:password@` of any URL or DSN inside any string is masked.
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

namespace mmmove {

// True when the setting at `keys` (from the top, e.g. {"SqlSettings", "ReplicaLagSettings"}) is secret.
bool is_secret_path(const std::vector<std::string>& keys);

// `text` with the password of every URL or DSN in it replaced by ****: scheme://user:****@host,
// scheme://****@host (a lone user name in a URL is often a token), and MySQL's user:****@tcp(host).
std::string mask_credentials_in_text(const std::string& text);

// A setting's value as JSON text for the admin: "****" for a `secret` setting that is set (an empty
// string, array or object, null, flags and numbers are shown as they are), else the value with every
// secret inside it masked.
std::string show_setting(bool secret, const nlohmann::ordered_json& value);

}  // namespace mmmove
