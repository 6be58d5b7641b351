#pragma once
// Mattermost's system emoji (mappings/system_emoji.yaml, compiled in): the names Mattermost itself
// draws, which carry nothing a person wrote. Every other emoji name is a custom emoji's or text of a
// row, and an anonymised copy masks it.
#include <string_view>

namespace mmmove {

// True when `name` is a system emoji's name, exactly as Mattermost spells it: a listed name, or a
// listed name followed by one or two skin tones ("+1_medium_skin_tone", as the SystemEmojis map
// names its variants). Thread-safe: the list is read once, on first use.
bool is_system_emoji(std::string_view name);

}  // namespace mmmove
