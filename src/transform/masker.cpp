// The masks of single values: names, addresses, secrets, IP addresses, file names and URLs. Free text
// is in mask_text.cpp, JSON in mask_json.cpp. Each mask hashes in its own domain (keyed_hash.h).
#include <arpa/inet.h>

#include <cstdio>
#include <nlohmann/json.hpp>

#include "core/error.h"
#include "core/json_depth.h"
#include "transform/anonymise.h"
#include "transform/keyed_hash.h"

namespace mmmove {
namespace {

bool is_digit(char c) { return c >= '0' && c <= '9'; }
bool is_lower(char c) { return c >= 'a' && c <= 'z'; }
bool is_upper(char c) { return c >= 'A' && c <= 'Z'; }
bool is_alnum(char c) { return is_digit(c) || is_lower(c) || is_upper(c); }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }

// ASCII lower case only: Mattermost lower-cases usernames and addresses the same way for what it
// accepts, and a non-ASCII byte must hash as it is.
std::string ascii_lower(std::string_view v) {
    std::string out(v);
    for (char& c : out)
        if (is_upper(c)) c = static_cast<char>(c - 'A' + 'a');
    return out;
}

// Letters stay letters of the same case and digits digits, drawn from r; the rest stays. For the parts
// of a URL after its host: the shape (separators, lengths, which part is a number) is kept.
std::string same_classes(std::string_view v, MaskRandom& r) {
    std::string out;
    out.reserve(v.size());
    for (size_t i = 0; i < v.size(); ++i) {
        const char c = v[i];
        if (is_digit(c)) out += static_cast<char>('0' + r.below(10));
        else if (is_lower(c)) out += static_cast<char>('a' + r.below(26));
        else if (is_upper(c)) out += static_cast<char>('A' + r.below(26));
        else if (static_cast<unsigned char>(c) >= 0x80 && !is_continuation(c)) out += static_cast<char>('a' + r.below(26));
        else if (static_cast<unsigned char>(c) < 0x80) out += c;
    }
    return out;
}

// One URL: scheme://[user@]host[:port]/path?query#fragment. The host becomes a hash under
// example.invalid, the user part goes (it may hold a password), the port stays, the path keeps its
// shape, and query and fragment go (tokens and names live there). Without a scheme the whole value is
// masked like a path. A Mattermost path in it (/team/pl/<id>, /team/channels/name) takes the names'
// masks instead (Masker::app_path), so a permalink still names its (masked) team and channel.
std::string mask_one_url(const Masker& m, const KeyedHash& hash, std::string_view v) {
    const size_t sep = v.find("://");
    bool scheme_ok = sep != std::string_view::npos && sep > 0;
    for (size_t i = 0; scheme_ok && i < sep; ++i)
        scheme_ok = is_alnum(v[i]) || v[i] == '+' || v[i] == '.' || v[i] == '-';
    if (!scheme_ok) {
        MaskRandom r(hash("url-path", v));
        return same_classes(v, r);
    }
    std::string_view rest = v.substr(sep + 3);
    const size_t authority_end = std::min(rest.find_first_of("/?#"), rest.size());
    std::string_view authority = rest.substr(0, authority_end);
    if (size_t at = authority.rfind('@'); at != std::string_view::npos) authority.remove_prefix(at + 1);
    std::string_view host = authority, port;
    const size_t colon = authority.rfind(':');
    if (colon != std::string_view::npos && authority.find(']', colon) == std::string_view::npos &&
        authority.find_first_not_of("0123456789", colon + 1) == std::string_view::npos) {
        host = authority.substr(0, colon);
        port = authority.substr(colon);  // ":8065"
    }
    std::string_view path = rest.substr(authority_end);
    path = path.substr(0, std::min(path.find_first_of("?#"), path.size()));
    std::string out(v.substr(0, sep + 3));
    if (!host.empty()) out += base36(digest_word(hash("url-host", ascii_lower(host)))) + ".example.invalid";
    out += port;
    MaskRandom r(hash("url-path", path));
    for (size_t at = path.find('/'); at != std::string_view::npos; at = path.find('/', at + 1)) {
        std::string names;
        const size_t end = m.app_path(path, at, names);
        if (end == std::string_view::npos) continue;
        out += same_classes(path.substr(0, at), r) + names + same_classes(path.substr(end), r);
        return out;
    }
    out += same_classes(path, r);
    return out;
}

// A JSON list of URLs, as Mattermost stores OutgoingWebhooks.CallbackURLs and OAuthApps.CallbackUrls
// (model.StringArray): each string masked, the list kept. False when v is no such list.
bool mask_url_list(const Masker& m, const KeyedHash& hash, std::string_view v, std::string& out) {
    if (json_deeper_than(v)) return false;  // no list of URLs; each word is masked as one
    nlohmann::ordered_json list = nlohmann::ordered_json::parse(v, nullptr, false);
    if (list.is_discarded() || !list.is_array()) return false;
    for (auto& e : list)
        if (e.is_string() && !e.get_ref<const std::string&>().empty())
            e = mask_one_url(m, hash, e.get_ref<const std::string&>());
    out = list.dump(-1, ' ', false, nlohmann::ordered_json::error_handler_t::replace);
    return true;
}

std::string mask_one_ip(const Masker& m, const KeyedHash& hash, std::string_view v) {
    const std::string text(v);
    unsigned char bytes[16];
    if (inet_pton(AF_INET, text.c_str(), bytes) == 1) {
        // The three IPv4 documentation networks (RFC 5737); the parsed bytes are hashed, so every
        // spelling of one address maps alike.
        static const char* const nets[] = {"192.0.2.", "198.51.100.", "203.0.113."};
        const Digest d = hash("ipv4", {reinterpret_cast<const char*>(bytes), 4});
        return nets[d[0] % 3] + std::to_string(d[1]);
    }
    if (inet_pton(AF_INET6, text.c_str(), bytes) == 1) {  // 2001:db8::/32, the IPv6 documentation prefix (RFC 3849)
        const Digest d = hash("ipv6", {reinterpret_cast<const char*>(bytes), 16});
        std::string out = "2001:db8";
        char group[8];
        for (size_t i = 0; i < 6; ++i) {
            std::snprintf(group, sizeof group, ":%x", (d[2 * i] << 8) | d[2 * i + 1]);
            out += group;
        }
        return out;
    }
    return m.secret(v);
}

}  // namespace

Masker::Masker(const std::string& key) {
    if (key.size() < 16)
        throw Error(ExitCode::bad_input, "The anonymisation key is " + std::to_string(key.size()) +
                                             " bytes long; it needs at least 16 (32 random bytes are best), or the masks "
                                             "could be undone by trying keys.");
    hash_ = std::make_shared<const KeyedHash>(key);
}

// "user-" and 13 base-36 characters (64 bits): a valid Mattermost username (a leading letter, then
// a-z 0-9 and '-', 18 characters), and none of the names Mattermost reserves (all, channel, here...).
std::string Masker::username(std::string_view v) const {
    if (v.empty()) return {};
    return "user-" + base36(digest_word((*hash_)("username", ascii_lower(v))));
}

std::string Masker::email(std::string_view v) const {
    if (v.empty()) return {};
    return base36(digest_word((*hash_)("email", ascii_lower(v)))) + "@example.invalid";
}

// Two to four syllables, capitalised: "Tobaren". Names need not stay unique; they must read as names.
std::string Masker::person_name(std::string_view v) const {
    if (v.empty()) return {};
    static constexpr char consonants[] = "bdfghklmnprstvz", vowels[] = "aeiou";
    MaskRandom r((*hash_)("person_name", v));
    std::string out;
    const unsigned syllables = 2 + r.below(3);
    for (unsigned i = 0; i < syllables; ++i) {
        out += consonants[r.below(sizeof consonants - 1)];
        out += vowels[r.below(sizeof vowels - 1)];
    }
    if (r.below(2)) out += consonants[r.below(sizeof consonants - 1)];
    out[0] = static_cast<char>(out[0] - 'a' + 'A');
    return out;
}

std::string Masker::person_detail(std::string_view v) const {
    if (v.empty()) return {};
    return "detail-" + base36(digest_word((*hash_)("person_detail", v)));
}

// Letters and digits go through a keyed permutation over the value's narrowest alphabet; other
// characters (the '-' of a UUID, the '$' of a hash, '=' padding) stay where they are. A non-ASCII
// character counts as one letter of the alphabet (so the mask keeps the length in characters).
std::string Masker::secret(std::string_view v) const {
    if (v.empty()) return {};
    std::string alnum;
    for (char c : v)
        if (is_alnum(c)) alnum += c;
    const Alphabet& a = alnum.empty() ? narrowest_alphabet("z") : narrowest_alphabet(alnum);
    const unsigned radix = static_cast<unsigned>(a.chars.size());
    std::vector<uint8_t> digits;
    for (size_t i = 0; i < v.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (is_alnum(v[i])) digits.push_back(static_cast<uint8_t>(a.chars.find(v[i])));
        else if (c >= 0x80 && !is_continuation(v[i])) digits.push_back(static_cast<uint8_t>(c % radix));
    }
    if (digits.empty()) return std::string(v);  // nothing but punctuation: nothing to hide
    permute_digits(*hash_, std::string(a.name) + ":" + std::to_string(digits.size()), digits, radix);
    std::string out;
    out.reserve(v.size());
    size_t next = 0;
    for (size_t i = 0; i < v.size(); ++i) {
        const unsigned char c = static_cast<unsigned char>(v[i]);
        if (is_alnum(v[i]) || (c >= 0x80 && !is_continuation(v[i]))) out += a.chars[digits[next++]];
        else if (c < 0x80) out += v[i];
    }
    return out;
}

// Audits keep the client's address, or several comma-separated (a proxy's X-Forwarded-For): each is
// masked, the separators stay. Whatever is no address is masked as a secret.
std::string Masker::ip_address(std::string_view v) const {
    std::string out;
    size_t start = 0;
    while (start <= v.size()) {
        size_t end = std::min(v.find(',', start), v.size());
        std::string_view part = v.substr(start, end - start);
        size_t b = 0, e = part.size();
        while (b < e && is_space(part[b])) ++b;
        while (e > b && is_space(part[e - 1])) --e;
        out.append(part.substr(0, b));
        if (e > b) out += mask_one_ip(*this, *hash_, part.substr(b, e - b));
        out.append(part.substr(e));
        if (end == v.size()) break;
        out += ',';
        start = end + 1;
    }
    return out;
}

// The name after the last '/' is masked (UploadSessions.Path and FileInfo's paths hold folders of
// ids and the date before it); an extension of up to 16 letters and digits stays, since Mattermost
// picks previews and icons by it. Only the stem (the name before its extension) is hashed, and a
// stem ending in "_thumb" or "_preview" keeps that ending, its rest hashed: Mattermost names an
// upload's thumbnail and preview "<stem>_thumb.<ext>" and "<stem>_preview.<ext>", so FileInfo.Name,
// Path, ThumbnailPath and PreviewPath, and the files sync (which masks names on disk by this same
// function), stay in agreement. Within one upload's folder the three names stay distinct.
std::string Masker::file_name(std::string_view v) const {
    if (v.empty()) return {};
    const size_t slash = v.rfind('/');
    const std::string_view folder = slash == std::string_view::npos ? std::string_view() : v.substr(0, slash + 1);
    const std::string_view name = v.substr(folder.size());
    if (name.empty()) return std::string(v);
    std::string_view ext;
    const size_t dot = name.rfind('.');
    if (dot != std::string_view::npos && dot > 0 && name.size() - dot - 1 >= 1 && name.size() - dot - 1 <= 16) {
        ext = name.substr(dot);
        for (char c : ext.substr(1))
            if (!is_alnum(c)) ext = {};
    }
    std::string_view stem = name.substr(0, name.size() - ext.size()), derived;
    for (std::string_view ending : {std::string_view("_thumb"), std::string_view("_preview")})
        if (stem.size() > ending.size() && stem.substr(stem.size() - ending.size()) == ending) derived = ending;
    stem.remove_suffix(derived.size());
    return std::string(folder) + "file-" + base36(digest_word((*hash_)("file_name", stem))) + std::string(derived) + std::string(ext);
}

// One URL, a JSON list of them, or several separated by white space (each masked, the separators kept).
std::string Masker::url(std::string_view v) const {
    if (v.empty()) return {};
    size_t first = 0;
    while (first < v.size() && is_space(v[first])) ++first;
    std::string out;
    if (first < v.size() && v[first] == '[' && mask_url_list(*this, *hash_, v, out)) return out;
    size_t i = 0;
    while (i < v.size()) {
        size_t j = i;
        while (j < v.size() && is_space(v[j]) == is_space(v[i])) ++j;
        if (is_space(v[i])) out.append(v.substr(i, j - i));
        else out += mask_one_url(*this, *hash_, v.substr(i, j - i));
        i = j;
    }
    return out;
}

std::string Masker::token(std::string_view word) const {
    size_t chars = 0;
    for (char c : word) chars += is_continuation(c) ? 0 : 1;
    MaskRandom r((*hash_)("token", word));
    std::string out;
    for (size_t i = 0; i < chars; ++i) out += "abcdefghijklmnopqrstuvwxyz0123456789"[r.below(36)];
    return out;
}

}  // namespace mmmove
