// Free text (messages, headers, descriptions): one left-to-right scan over the bytes.
//
// Scrambled, every word (a run of letters, digits and non-ASCII characters) becomes a pseudo-word of
// the same length in characters: consonants and vowels in turn, capitals where the word had them,
// digits where it had digits. White space, line breaks and ASCII punctuation stay, so Markdown keeps
// its shape. Which word comes from a fast generator seeded by ONE HMAC of the whole text: a million
// posts cost a million HMACs and a pass over their bytes, nothing per word.
//
// What other rows or the reader rely on is treated apart, with the webapp's rules for recognising it
// (see text_refs.h), and takes the mask of what it names, so it still names the same (masked) row:
// @mention the username mask, ~channel the channel_name one, :emoji: the emoji_name one unless it is a
// system emoji (mappings/system_emoji.yaml; :smile: stays), the team and channel of a Mattermost path
// (/team/pl/id, /team/channels/name; inside a link too) theirs, and an e-mail address the email mask.
// An http(s) link takes the url mask. @here, @channel, @all and @everyone stay. A #hashtag
// (model.ParseHashtags' rule) takes a mask of the tag alone, as Posts.Hashtags does. Kept as it is
// (messages: keep), a text changes only in these names and addresses; a link keeps all but its names.
//
// Replaced (messages: replace), nothing of the words' lengths or the text's shape is left: the text
// becomes its @mentions (masked) and ~channels, each followed by a space, then filler words on one
// line whose count of characters is the text's own rounded up to a multiple of replaced_text_bucket.
// The filler's word lengths come from the keyed generator, its words from the same bounded
// vocabulary as scrambled words (see pseudo_word).
#include <algorithm>

#include "catalog/system_emoji.h"
#include "transform/anonymise.h"
#include "transform/keyed_hash.h"

namespace mmmove {
namespace {

constexpr size_t npos = std::string_view::npos;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
bool is_word(char c) { return is_alnum(c) || c == '_'; }  // JavaScript's \w, as the webapp's rules use it
bool is_name_char(char c) { return is_word(c) || c == '.' || c == '-'; }
bool is_emoji_char(char c) { return is_word(c) || c == '+' || c == '-'; }
bool is_non_ascii(char c) { return static_cast<unsigned char>(c) >= 0x80; }
bool is_word_byte(char c) { return is_alnum(c) || is_non_ascii(c); }  // what a scrambled word is made of
bool is_continuation(char c) { return (static_cast<unsigned char>(c) & 0xC0) == 0x80; }
bool is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }
bool ends_link(char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v' || c == '<' || c == '>' ||
           c == '"' || c == '`';
}

bool same_ignoring_case(std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (size_t i = 0; i < a.size(); ++i)
        if ((a[i] | 0x20) != (b[i] | 0x20)) return false;
    return true;
}

// Mentions that notify a whole channel rather than name anyone.
bool special_mention(std::string_view name) {
    for (std::string_view s : {"here", "channel", "all", "everyone"})
        if (same_ignoring_case(name, s)) return true;
    return false;
}

bool starts_link(std::string_view s, size_t i) {
    for (std::string_view scheme : {"http://", "https://"})
        if (same_ignoring_case(s.substr(i, scheme.size()), scheme)) return true;
    return false;
}

class TextMasker {
public:
    TextMasker(const Masker& masker, std::string_view text, TextMode mode, std::string& out)
        : m_(masker), s_(text), out_(out),
          rng_(mode != TextMode::keep ? masker.hash()("free_text", text) : Digest{}), mode_(mode),
          addresses_(text.find('@') != npos) {}
    void run();

private:
    bool word_starts_at(size_t i, bool underscore_word) const;
    size_t mention(size_t i);
    size_t channel(size_t i);
    size_t emoji(size_t i);
    size_t hashtag(size_t i);
    size_t path(size_t i);
    size_t link(size_t i);
    size_t email(size_t i);
    size_t word(size_t i);
    void pseudo_word(std::string_view word);
    void filler(size_t chars);
    bool replacing() const { return mode_ == TextMode::replace; }

    const Masker& m_;
    std::string_view s_;
    std::string& out_;
    MaskRandom rng_;
    TextMode mode_;
    bool addresses_;  // the text has an '@': only then can a word start an e-mail address
};

// A word of `length` lower-case letters, consonants and vowels in turn, spelled from (length,
// variant) alone: the vocabulary stays bounded (see pseudo_word).
void spell(size_t length, uint64_t variant, std::string& out) {
    static constexpr char consonants[] = "bcdfghjklmnprstvz", vowels[] = "aeiou";
    uint64_t state = (static_cast<uint64_t>(length) << 32) ^ variant ^ 0x5bd1e995ULL;
    auto draw = [&state](unsigned n) {  // splitmix64
        uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        return static_cast<unsigned>((z ^ (z >> 31)) % n);
    };
    bool vowel = draw(2);
    for (size_t i = 0; i < length; ++i, vowel = !vowel)
        out += vowel ? vowels[draw(sizeof vowels - 1)] : consonants[draw(sizeof consonants - 1)];
}

void TextMasker::run() {
    out_.clear();
    out_.reserve(s_.size() + s_.size() / 8);
    size_t i = 0;
    while (i < s_.size()) {
        const char c = s_[i];
        size_t end = npos;
        if (c == '@') end = mention(i);
        else if (c == '~') end = channel(i);
        else if (c == ':') end = emoji(i);
        else if (c == '#') end = hashtag(i);
        else if (c == '/') end = path(i);
        else if ((c == 'h' || c == 'H') && starts_link(s_, i)) end = link(i);
        if (end == npos && is_word_byte(c)) end = word(i);
        if (end == npos) {
            if (!replacing()) out_ += c;
            ++i;
        } else {
            i = end;
        }
    }
    if (replacing()) {
        size_t chars = 0;
        for (char c : s_) chars += !is_continuation(c);
        filler((chars + replaced_text_bucket - 1) / replaced_text_bucket * replaced_text_bucket);
    }
}

// `chars` characters of words 2 to 9 letters long, one space between them; the last word takes what
// is left (so it may be a single letter).
void TextMasker::filler(size_t chars) {
    size_t left = chars;
    while (left > 0) {
        if (left != chars) {
            out_ += ' ';
            --left;
            if (left == 0) break;
        }
        const size_t length = std::min<size_t>(left, 2 + rng_.below(8));
        spell(length, rng_.next() % 512, out_);
        left -= length;
    }
}

// The sigil at i is not glued to a word before it. With underscore_word a run of '_' that itself
// starts a word may come between (_@alice_ is Markdown's italics around a mention).
bool TextMasker::word_starts_at(size_t i, bool underscore_word) const {
    size_t j = i;
    if (underscore_word)
        while (j > 0 && s_[j - 1] == '_') --j;
    return j == 0 || !is_word(s_[j - 1]);
}

// @name: the name without trailing '.', '-' and '_' (the end of a sentence) takes the username mask,
// what was trailing stays after it. npos when the '@' starts no mention.
size_t TextMasker::mention(size_t i) {
    if (!word_starts_at(i, true)) return npos;
    size_t end = i + 1;
    while (end < s_.size() && is_name_char(s_[end])) ++end;
    size_t name_end = end;
    while (name_end > i + 1 && (s_[name_end - 1] == '.' || s_[name_end - 1] == '-' || s_[name_end - 1] == '_')) --name_end;
    if (name_end == i + 1) return npos;
    const std::string_view name = s_.substr(i + 1, name_end - i - 1);
    if (special_mention(name)) {
        out_.append(s_.substr(i, end - i));
    } else {
        out_ += '@';
        out_ += m_.username(name);
        out_.append(s_.substr(name_end, end - name_end));
    }
    if (replacing()) out_ += ' ';
    return end;
}

// ~channel: the name without trailing '.', '-' and '_' (the end of a sentence) takes the channel_name
// mask (town-square stays); what was trailing stays after it, unless replaced.
size_t TextMasker::channel(size_t i) {
    if (!word_starts_at(i, false)) return npos;
    size_t end = i + 1;
    while (end < s_.size() && is_name_char(s_[end])) ++end;
    size_t name_end = end;
    while (name_end > i + 1 && (s_[name_end - 1] == '.' || s_[name_end - 1] == '-' || s_[name_end - 1] == '_')) --name_end;
    if (name_end == i + 1) return npos;
    out_ += '~';
    out_ += m_.channel_name(s_.substr(i + 1, name_end - i - 1));
    if (replacing()) out_ += ' ';
    else out_.append(s_.substr(name_end, end - name_end));
    return end;
}

// :name: with neither colon glued to a word: a system emoji's name stays, any other name (a custom
// emoji, or a word a person put between colons) takes the emoji_name mask, as reactions do.
size_t TextMasker::emoji(size_t i) {
    if (i > 0 && is_word(s_[i - 1])) return npos;
    size_t end = i + 1;
    while (end < s_.size() && is_emoji_char(s_[end])) ++end;
    if (end == i + 1 || end >= s_.size() || s_[end] != ':') return npos;
    if (end + 1 < s_.size() && is_word(s_[end + 1])) return npos;
    if (replacing()) return end + 1;
    const std::string_view name = s_.substr(i + 1, end - i - 1);
    if (is_system_emoji(name)) out_.append(s_.substr(i, end + 1 - i));
    else out_ += ":" + m_.emoji_name(name) + ":";
    return end + 1;
}

// #tag as model.ParseHashtags finds it: in a white-space separated field whose other characters
// (before: '#'s or punctuation, after: punctuation) are no letters or digits, a letter, then letters,
// digits, '-', '_' and '.', ending in a letter or digit. Scrambled it takes Masker::hashtag (the mask
// Posts.Hashtags gets); kept it stays; replaced it goes with the words.
size_t TextMasker::hashtag(size_t i) {
    if (i + 1 < s_.size() && s_[i + 1] == '#') return npos;  // "##tag": the last '#' starts it
    for (size_t j = i; j > 0 && !is_space(s_[j - 1]); --j)
        if (is_word_byte(s_[j - 1])) return npos;
    const size_t body = i + 1;
    if (body >= s_.size() || !(is_non_ascii(s_[body]) || ((s_[body] | 0x20) >= 'a' && (s_[body] | 0x20) <= 'z'))) return npos;
    size_t end = body;
    while (end < s_.size() && (is_word_byte(s_[end]) || s_[end] == '-' || s_[end] == '_' || s_[end] == '.')) ++end;
    while (end > body && !is_word_byte(s_[end - 1])) --end;
    if (end - body < 2) return npos;
    for (size_t j = end; j < s_.size() && !is_space(s_[j]); ++j)
        if (is_word_byte(s_[j])) return npos;
    if (mode_ == TextMode::scramble) out_ += "#" + m_.hashtag(s_.substr(body, end - body));
    else if (mode_ == TextMode::keep) out_.append(s_.substr(i, end - i));
    return end;
}

// A Mattermost path without a host (/team/pl/<id>, /team/channels/name): its names masked, as in a
// link. Replaced, it goes with the words.
size_t TextMasker::path(size_t i) {
    if (i > 0 && (is_word_byte(s_[i - 1]) || s_[i - 1] == '/' || s_[i - 1] == '.')) return npos;
    std::string masked;
    const size_t end = m_.app_path(s_, i, masked);
    if (end != npos && !replacing()) out_ += masked;
    return end;
}

// An e-mail address (local part of letters, digits and . _ % + -, '@', a domain with a dot) takes the
// email mask, as Users.Email does; replaced, it goes with the words.
size_t TextMasker::email(size_t i) {
    size_t at = i;
    while (at < s_.size() && (is_alnum(s_[at]) || std::string_view("._%+-").find(s_[at]) != npos)) ++at;
    if (at >= s_.size() || s_[at] != '@' || at == i) return npos;
    size_t end = at + 1;
    while (end < s_.size() && (is_alnum(s_[end]) || s_[end] == '-' || s_[end] == '.')) ++end;
    while (end > at + 1 && (s_[end - 1] == '.' || s_[end - 1] == '-')) --end;  // a sentence's end
    const size_t dot = s_.substr(0, end).rfind('.');
    if (dot == npos || dot <= at + 1 || end - dot < 3) return npos;  // host.tld, the tld of 2 or more
    if (!replacing()) out_ += m_.email(s_.substr(i, end - i));
    return end;
}

// http(s)://… up to white space or a bracket of Markdown/HTML; punctuation that ends the sentence and
// a closing bracket the link did not open stay outside it, as linkifiers read them.
size_t TextMasker::link(size_t i) {
    if (i > 0 && is_word(s_[i - 1])) return npos;
    size_t end = i;
    while (end < s_.size() && !ends_link(s_[end])) ++end;
    for (bool trimmed = true; trimmed && end > i;) {
        const char last = s_[end - 1];
        const std::string_view url = s_.substr(i, end - i);
        const bool unbalanced = (last == ')' && url.find('(') == npos) || (last == ']' && url.find('[') == npos);
        trimmed = unbalanced || std::string_view(".,;:!?'*_").find(last) != npos;
        if (trimmed) --end;
    }
    const std::string_view url = s_.substr(i, end - i);
    if (mode_ == TextMode::scramble) {
        out_ += m_.url(url);
    } else if (mode_ == TextMode::keep) {  // only the names of a Mattermost path change
        size_t j = url.find("://");
        j = j == npos ? 0 : url.find('/', j + 3);
        for (size_t at = j; at != npos && at < url.size(); at = url.find('/', at + 1)) {
            std::string names;
            const size_t path_end = m_.app_path(url, at, names);
            if (path_end == npos) continue;
            out_.append(url.substr(0, at));
            out_ += names;
            out_.append(url.substr(path_end));
            return end;
        }
        out_.append(url);
    }
    return end;
}

// A word, or the e-mail address it starts (looked for only where the word ends in a character an
// address may go on with, in a text that has an '@').
size_t TextMasker::word(size_t i) {
    size_t end = i;
    while (end < s_.size() && is_word_byte(s_[end])) ++end;
    if (addresses_ && end < s_.size() && std::string_view("@._%+-").find(s_[end]) != npos && (i == 0 || !is_word_byte(s_[i - 1]))) {
        const size_t address = email(i);
        if (address != npos) return address;
    }
    if (mode_ == TextMode::scramble) pseudo_word(s_.substr(i, end - i));
    else if (mode_ == TextMode::keep) out_.append(s_.substr(i, end - i));
    return end;
}

// One character per character of the word (a UTF-8 sequence counts once), from a bounded vocabulary:
// the keyed generator picks one of kVariants words of that length, and the word's letters follow from
// (length, variant) alone. Random letters would make every scrambled word new, and PostgreSQL's
// full-text index on Posts.Message grows with the number of distinct words: a million posts of
// unbounded vocabulary took three times as long to index as the real text. Drawn again in the rare case
// it spells the word itself, so no original word of the text survives.
void TextMasker::pseudo_word(std::string_view word) {
    static constexpr char consonants[] = "bcdfghjklmnprstvz", vowels[] = "aeiou";
    constexpr uint64_t kVariants = 512;
    const size_t start = out_.size();
    size_t length = 0;
    for (char c : word) length += !is_continuation(c);
    for (int attempt = 0; attempt < 4; ++attempt) {
        out_.resize(start);
        uint64_t state = (static_cast<uint64_t>(length) << 32) ^ (rng_.next() % kVariants);
        auto draw = [&state](unsigned n) {  // splitmix64: the same (length, variant) spells the same word
            uint64_t z = (state += 0x9e3779b97f4a7c15ULL);
            z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
            z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
            return static_cast<unsigned>((z ^ (z >> 31)) % n);
        };
        bool vowel = draw(2);
        for (char c : word) {
            if (is_continuation(c)) continue;
            if (c >= '0' && c <= '9') {
                out_ += static_cast<char>('0' + draw(10));
                continue;
            }
            char l = vowel ? vowels[draw(sizeof vowels - 1)] : consonants[draw(sizeof consonants - 1)];
            vowel = !vowel;
            if (c >= 'A' && c <= 'Z') l = static_cast<char>(l - 'a' + 'A');
            out_ += l;
        }
        if (!same_ignoring_case(word, std::string_view(out_).substr(start))) return;
    }
}

}  // namespace

bool Masker::free_text_into(std::string_view v, TextMode mode, std::string& out) const {
    // Kept text changes only in names and addresses: none without one of these characters.
    if (v.empty() || (mode == TextMode::keep && v.find_first_of("@~:/") == npos)) return false;
    TextMasker(*this, v, mode, out).run();  // into out directly: the stage reuses its buffer
    return out != v;
}

std::string Masker::free_text(std::string_view v, TextMode mode) const {
    std::string out;
    return free_text_into(v, mode, out) ? out : std::string(v);
}

}  // namespace mmmove
