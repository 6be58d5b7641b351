#include "core/printable.h"

#include <cstdint>
#include <cstdio>

namespace mmmove {

namespace {

// The length of the valid UTF-8 sequence at s[i] and its code point; 0 when it is not valid
// (stray continuation byte, cut short, overlong, surrogate, past U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i, uint32_t& cp) {
    auto b = static_cast<unsigned char>(s[i]);
    size_t n = b >= 0xf0 ? 4 : b >= 0xe0 ? 3 : b >= 0xc0 ? 2 : 0;
    if (n == 0 || b > 0xf4 || i + n > s.size()) return 0;
    cp = b & (0x7f >> n);
    for (size_t k = 1; k < n; ++k) {
        auto c = static_cast<unsigned char>(s[i + k]);
        if ((c & 0xc0) != 0x80) return 0;
        cp = (cp << 6) | (c & 0x3f);
    }
    static constexpr uint32_t kMin[] = {0, 0, 0x80, 0x800, 0x10000};
    if (cp < kMin[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff)) return 0;
    return n;
}

bool moves_text(uint32_t cp) {
    return (cp >= 0x80 && cp <= 0x9f) || cp == 0x200e || cp == 0x200f || cp == 0x2028 || cp == 0x2029 ||
           (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069);
}

void append_escape(std::string& out, const char* format, unsigned value) {
    char buf[16];
    std::snprintf(buf, sizeof buf, format, value);
    out += buf;
}

// One pass over the text; `lines` keeps '\n' as it is and a backslash single.
std::string escaped(std::string_view text, bool lines) {
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size();) {
        auto b = static_cast<unsigned char>(text[i]);
        if ((b >= 0x20 && b < 0x7f) || (lines && b == '\n')) {
            if (b == '\\' && !lines) out += '\\';
            out += text[i++];
            continue;
        }
        if (b == '\n' || b == '\t' || b == '\r') {
            out += b == '\n' ? "\\n" : b == '\t' ? "\\t" : "\\r";
            ++i;
            continue;
        }
        uint32_t cp = 0;
        size_t n = b >= 0x80 ? utf8_sequence(text, i, cp) : 0;
        if (n == 0) {
            append_escape(out, "\\x%02x", b);
            ++i;
        } else if (moves_text(cp)) {
            append_escape(out, "\\u%04x", cp);
            i += n;
        } else {
            out.append(text.substr(i, n));
            i += n;
        }
    }
    return out;
}

}  // namespace

std::string printable(std::string_view text) { return escaped(text, false); }

std::string printable_lines(std::string_view text) { return escaped(text, true); }

}  // namespace mmmove
