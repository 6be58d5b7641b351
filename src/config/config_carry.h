#pragma once
// The config merge of an anonymised refresh, deny by default: a staging server takes from production
// only the settings mappings/config.yaml lists under `refresh_carry` (how the server behaves: team,
// password, privacy, display settings…). Every other setting — file store, search cluster, LDAP, SAML,
// SMTP, push server, support addresses, plugins, cluster, logging, anything a newer Mattermost adds —
// keeps the destination's value, or stays absent (Mattermost's default) where the destination has none.
#include <string>
#include <vector>

#include "core/ordered_json.h"

namespace mmmove {

// `refresh_carry` of mappings/config.yaml: dotted patterns. A pattern covers a setting and everything
// under it; a key `*` matches any one key, a key ending in `*` any key it begins (`Enable*`); keys
// compare case-insensitively, as Mattermost reads them.
const std::vector<std::string>& refresh_carried_patterns();
// `refresh_turn_off`: flags an anonymised refresh turns off whatever either side says (LDAP, SAML…).
const std::vector<std::string>& refresh_turned_off_settings();
// `refresh_search_flags`: search indexing flags turned off too, unless the job turns search on.
const std::vector<std::string>& refresh_search_flags();

bool carried_in_refresh(const std::vector<std::string>& keys, const std::vector<std::string>& patterns);

// The destination's config with the source's value of every carried setting. Never carried, whatever
// the patterns say: a setting in `keep` (dotted paths) or under it, a secret (is_secret_path), and a
// value holding a URL with credentials (scheme://user:password@ or scheme://token@).
OrderedJson merge_carried_only(const OrderedJson& source, const OrderedJson& dest, const std::vector<std::string>& patterns,
                               const std::vector<std::string>& keep);

}  // namespace mmmove
