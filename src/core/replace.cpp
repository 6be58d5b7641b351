#include "core/replace.h"

#include <algorithm>

namespace mmmove {

std::string replace_all_once(std::string_view text, const std::vector<Replacement>& replacements) {
    std::vector<const Replacement*> longest_first;
    for (const auto& r : replacements)
        if (!r.first.empty()) longest_first.push_back(&r);
    std::stable_sort(longest_first.begin(), longest_first.end(),
                     [](const Replacement* a, const Replacement* b) { return a->first.size() > b->first.size(); });
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        const Replacement* hit = nullptr;
        for (const Replacement* r : longest_first)
            if (text.compare(i, r->first.size(), r->first) == 0) {
                hit = r;
                break;
            }
        if (hit) {
            out += hit->second;
            i += hit->first.size();
        } else {
            out += text[i++];
        }
    }
    return out;
}

}  // namespace mmmove
