#include "catalog/system_emoji.h"

#include <set>
#include <string>

#include "catalog/embedded_schema.h"
#include "core/error.h"

namespace mmmove {
namespace {

const std::set<std::string, std::less<>>& system_emoji_names() {
    static const std::set<std::string, std::less<>> names = [] {
        const YAML::Node list = load_embedded_yaml("system_emoji.yaml")["names"];
        if (!list.IsSequence() || list.size() == 0)
            throw Error(ExitCode::internal, "The system emoji list (mappings/system_emoji.yaml) has no names: rebuild mmmove from a complete source tree.");
        std::set<std::string, std::less<>> out;
        for (const auto& n : list) out.insert(n.as<std::string>());
        return out;
    }();
    return names;
}

// The skin tones Mattermost's SystemEmojis map appends to a name (make_emojis.mjs), longest first so
// "_medium_light_skin_tone" is not taken for "_light_skin_tone".
constexpr std::string_view skin_tones[] = {"_medium_light_skin_tone", "_medium_dark_skin_tone", "_medium_skin_tone",
                                           "_light_skin_tone", "_dark_skin_tone"};

}  // namespace

bool is_system_emoji(std::string_view name) {
    const auto& names = system_emoji_names();
    for (int tones = 0; tones <= 2; ++tones) {  // two people may each have a tone
        if (names.count(name)) return true;
        std::string_view stem = name;
        for (std::string_view tone : skin_tones)
            if (name.size() > tone.size() && name.ends_with(tone)) {
                stem = name.substr(0, name.size() - tone.size());
                break;
            }
        if (stem.size() == name.size()) return false;
        name = stem;
    }
    return false;
}

}  // namespace mmmove
