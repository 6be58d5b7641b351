// Fitting a mask to its destination column. Masks can be longer than what they replace (a 4-letter
// username becomes 18 characters, an address 29, an @mention in a display name 19), and a refresh
// must not fail, nor lose a row, because of its own masks. Each kind falls back to a shorter form
// that is still of its kind; only free text and plain values are cut.
#include <nlohmann/json.hpp>

#include "transform/anonymise.h"
#include "transform/convert.h"
#include "transform/keyed_hash.h"

namespace mmmove {
namespace {

// The longest prefix of v that fits, cut at a character boundary.
std::string prefix(std::string_view v, const ColumnRoom& room) { return std::string(utf8_prefix(v, room.chars, room.bytes)); }

// The first of `forms` that fits, else the prefix of the last.
std::string first_fitting(std::initializer_list<std::string> forms, const ColumnRoom& room) {
    for (const std::string& f : forms)
        if (room.fits(f)) return f;
    return prefix(*(forms.end() - 1), room);
}

// An ASCII mask of `head`, as much of `hash` as room leaves, and `tail` (nothing of hash: the prefix).
std::string shortened(std::string_view head, const std::string& hash, std::string_view tail, const ColumnRoom& room) {
    const std::string whole = std::string(head) + hash + std::string(tail);
    if (room.fits(whole)) return whole;
    size_t limit = room.chars ? room.chars : whole.size();
    if (room.bytes) limit = std::min(limit, room.bytes);
    const size_t fixed = head.size() + tail.size();
    if (limit <= fixed) return prefix(whole, room);
    return std::string(head) + hash.substr(0, limit - fixed) + std::string(tail);
}

}  // namespace

bool ColumnRoom::fits(std::string_view v) const {
    if ((!bytes || v.size() <= bytes) && (!chars || v.size() <= chars)) return true;  // no character is under a byte
    return (!bytes || v.size() <= bytes) && (!chars || utf8_length(v) <= chars);
}

void Masker::fit(AnonKind kind, std::string_view original, const ColumnRoom& room, std::string& mask) const {
    if (room.fits(mask)) return;
    const KeyedHash& h = *hash_;
    switch (kind) {
        // The same 64 bits as the long forms ("user-" + 13, 13 + "@example.invalid"), so a value keeps
        // one hash in every column. Mattermost's username columns hold 64 characters: @mentions (always
        // the long form) only disagree with a username column narrowed below 18.
        case AnonKind::username: mask = shortened("u", username(original).substr(5), "", room); return;
        case AnonKind::email: mask = shortened("", email(original).substr(0, 13), "@x.invalid", room); return;
        case AnonKind::url: {
            const size_t first = mask.find_first_not_of(" \t\r\n");
            if (first != std::string::npos && mask[first] == '[') {
                mask = first_fitting({"[]"}, room);
                return;
            }
            mask = first_fitting({"https://" + base36(digest_word(h("url-placeholder", original))) + ".invalid", "https://x.invalid"}, room);
            return;
        }
        case AnonKind::json_text: {
            const nlohmann::json doc = nlohmann::json::parse(mask, nullptr, false);
            if (!doc.is_discarded() && (doc.is_object() || doc.is_array())) {
                mask = first_fitting({doc.is_object() ? "{}" : "[]"}, room);
                return;
            }
            mask = prefix(mask, room);  // not JSON (masked as free text): cut as free text is
            return;
        }
        default: mask = prefix(mask, room); return;
    }
}

}  // namespace mmmove
