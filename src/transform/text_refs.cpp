// Rewriting renamed users, channels, custom emoji, teams and post ids inside message text (see
// text_refs.h for the rules). One left-to-right scan over the bytes; the text is copied to the output
// only from the first replacement on, so a message without references costs a few memchr calls.
#include "transform/text_refs.h"

namespace mmmove {

bool TextRenames::empty() const {
    return users.empty() && channels.empty() && emoji.empty() && teams.empty() && posts.empty();
}

namespace {

constexpr size_t npos = std::string_view::npos;

bool is_alnum(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'); }
// A "word" character as the webapp's rules mean it (JavaScript's \w): ASCII only, so a mention right
// after a non-ASCII letter still counts, as the webapp renders it.
bool is_word(char c) { return is_alnum(c) || c == '_'; }
bool is_name_char(char c) { return is_word(c) || c == '.' || c == '-'; }  // @user and ~channel tokens
bool is_emoji_char(char c) { return is_word(c) || c == '+' || c == '-'; }
bool is_team_char(char c) { return is_word(c) || c == '-'; }
constexpr size_t post_id_length = 26;  // Mattermost ids: 26 base-32 characters

size_t run_length(std::string_view s, size_t i, char c) {
    size_t j = i;
    while (j < s.size() && s[j] == c) ++j;
    return j - i;
}

size_t line_end(std::string_view s, size_t i) {
    size_t e = s.find('\n', i);
    return e == npos ? s.size() : e;
}

// From j to the end of the line there is only white space.
bool rest_blank(std::string_view s, size_t j) {
    while (j < s.size() && (s[j] == ' ' || s[j] == '\t' || s[j] == '\r')) ++j;
    return j == s.size() || s[j] == '\n';
}

// Markdown's fence at the line starting at i: up to three spaces, then three or more ` or ~ (a
// backtick fence's info string has no backtick). Its length and mark, or 0 when the line is no fence.
size_t fence_at(std::string_view s, size_t i, char& mark) {
    size_t j = i;
    while (j < s.size() && j - i < 3 && s[j] == ' ') ++j;
    if (j >= s.size() || (s[j] != '`' && s[j] != '~')) return 0;
    size_t n = run_length(s, j, s[j]);
    if (n < 3) return 0;
    if (s[j] == '`' && s.substr(j + n, line_end(s, j) - j - n).find('`') != npos) return 0;
    mark = s[j];
    return n;
}

// Just past the fenced code block opened at line i by n marks: after its closing fence line (the
// same mark, at least as many, nothing else on the line), or the end of the text when it is not closed.
size_t fenced_block_end(std::string_view s, size_t i, char mark, size_t n) {
    size_t eol = line_end(s, i);
    while (eol < s.size()) {
        size_t j = eol + 1;
        while (j < s.size() && j - (eol + 1) < 3 && s[j] == ' ') ++j;
        size_t m = run_length(s, j, mark);
        if (m >= n && rest_blank(s, j + m)) {
            size_t close = line_end(s, j);
            return close == s.size() ? close : close + 1;
        }
        eol = line_end(s, eol + 1);
    }
    return s.size();
}

// Just past the inline code span opened by n backticks at i: it closes at the next run of exactly n
// backticks in the same paragraph (a blank line or a fence ends the paragraph); npos when none does.
// After a failed search no run of that length is left in the paragraph, so each length is searched
// for at most once per paragraph.
size_t code_span_end(std::string_view s, size_t i, size_t n) {
    size_t j = i + n;
    while (j < s.size()) {
        if (s[j] == '`') {
            size_t m = run_length(s, j, '`');
            if (m == n) return j + m;
            j += m;
        } else if (s[j] == '\n') {
            ++j;
            char mark = 0;
            if (rest_blank(s, j) || fence_at(s, j, mark)) return npos;
        } else {
            ++j;
        }
    }
    return npos;
}

// Whether text can hold a reference the renames touch at all: the quick test for most messages.
bool may_refer(std::string_view s, const TextRenames& r) {
    return (!r.users.empty() && s.find('@') != npos) || (!r.channels.empty() && s.find('~') != npos) ||
           (!r.emoji.empty() && s.find(':') != npos) ||
           ((!r.teams.empty() || !r.posts.empty()) && s.find("/pl/") != npos);
}

using NameMap = std::unordered_map<std::string, std::string>;

class Rewriter {
public:
    Rewriter(std::string_view text, const TextRenames& renames) : s_(text), r_(renames) {}
    bool run(std::string& out);

private:
    size_t name_ref(size_t i, const NameMap& names, bool underscore_word);
    size_t emoji(size_t i);
    size_t permalink(size_t i);
    bool word_starts_at(size_t i, bool underscore_word) const;
    const std::string* find(const NameMap& names, std::string_view key, bool lower);
    void replace(size_t from, size_t to, const std::string& with);

    std::string_view s_;
    const TextRenames& r_;
    std::string out_;
    std::string key_;  // reused for lookups
    size_t copied_ = 0;  // s_ before this is in out_ already
    bool changed_ = false;
};

bool Rewriter::run(std::string& out) {
    const size_t n = s_.size();
    bool line_start = true;
    size_t i = 0;
    while (i < n) {
        char mark = 0;
        size_t fence = line_start ? fence_at(s_, i, mark) : 0;
        if (fence) {  // a fenced code block is left as it is
            i = fenced_block_end(s_, i, mark, fence);
            continue;
        }
        const char c = s_[i];
        line_start = c == '\n';
        if (c == '`') {  // inline code is left as it is; an unclosed run of backticks is plain text
            size_t run = run_length(s_, i, '`');
            size_t end = code_span_end(s_, i, run);
            i = end == npos ? i + run : end;
        } else if (c == '\\') {  // \` is a plain backtick, \\ a plain backslash
            i += (i + 1 < n && (s_[i + 1] == '`' || s_[i + 1] == '\\')) ? 2 : 1;
        } else if (c == '@' && !r_.users.empty()) {
            i = name_ref(i, r_.users, true);
        } else if (c == '~' && !r_.channels.empty()) {
            i = name_ref(i, r_.channels, false);
        } else if (c == ':' && !r_.emoji.empty()) {
            i = emoji(i);
        } else if (c == '/' && (!r_.teams.empty() || !r_.posts.empty())) {
            i = permalink(i);
        } else {
            ++i;
        }
    }
    if (!changed_) return false;
    out_.append(s_.substr(copied_));
    out = std::move(out_);
    return true;
}

// The sigil at i is not glued to a word before it. With underscore_word, a run of _ that itself
// starts a word may come between (the webapp links the mention in _@alice_, Markdown's italics).
bool Rewriter::word_starts_at(size_t i, bool underscore_word) const {
    size_t j = i;
    if (underscore_word)
        while (j > 0 && s_[j - 1] == '_') --j;
    return j == 0 || !is_word(s_[j - 1]);
}

// @user or ~channel at i. The whole token is looked up first; when it is unknown, trailing . - _
// are taken as punctuation one at a time ("ask @alice." or "~town-square_"). Returns where the scan
// goes on: after the whole token, replaced or not, so @alicex never becomes a rename of @alice.
size_t Rewriter::name_ref(size_t i, const NameMap& names, bool underscore_word) {
    if (!word_starts_at(i, underscore_word)) return i + 1;
    const size_t start = i + 1;
    size_t end = start;
    while (end < s_.size() && is_name_char(s_[end])) ++end;
    for (size_t len = end - start; len > 0; --len) {
        if (const std::string* to = find(names, s_.substr(start, len), true)) {
            replace(start, start + len, *to);
            break;
        }
        char last = s_[start + len - 1];
        if (last != '.' && last != '-' && last != '_') break;
    }
    return end == start ? start : end;
}

// :name: at i, neither colon glued to a word character; only exact custom emoji names are renamed.
size_t Rewriter::emoji(size_t i) {
    if (i > 0 && is_word(s_[i - 1])) return i + 1;
    const size_t start = i + 1;
    size_t end = start;
    while (end < s_.size() && is_emoji_char(s_[end])) ++end;
    if (end == start || end >= s_.size() || s_[end] != ':') return i + 1;
    if (end + 1 < s_.size() && is_word(s_[end + 1])) return i + 1;
    if (const std::string* to = find(r_.emoji, s_.substr(start, end - start), false)) replace(start, end, *to);
    return end + 1;
}

// /<team>/pl/<post id> at i, the slash before the team name: a permalink, whatever host comes before.
size_t Rewriter::permalink(size_t i) {
    const size_t team = i + 1;
    size_t team_end = team;
    while (team_end < s_.size() && is_team_char(s_[team_end])) ++team_end;
    if (team_end == team || s_.substr(team_end, 4) != "/pl/") return i + 1;
    const size_t id = team_end + 4;
    size_t id_end = id;
    while (id_end < s_.size() && is_alnum(s_[id_end])) ++id_end;
    if (id_end - id != post_id_length) return i + 1;
    if (const std::string* to = find(r_.teams, s_.substr(team, team_end - team), true)) replace(team, team_end, *to);
    if (const std::string* to = find(r_.posts, s_.substr(id, post_id_length), false)) replace(id, id_end, *to);
    return id_end;
}

const std::string* Rewriter::find(const NameMap& names, std::string_view key, bool lower) {
    if (names.empty()) return nullptr;
    key_.assign(key);
    if (lower)
        for (char& c : key_)
            if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    auto it = names.find(key_);
    return it == names.end() ? nullptr : &it->second;
}

// Replaces s_[from, to) by with; replacements come in text order.
void Rewriter::replace(size_t from, size_t to, const std::string& with) {
    if (s_.substr(from, to - from) == with) return;
    out_.append(s_.substr(copied_, from - copied_));
    out_.append(with);
    copied_ = to;
    changed_ = true;
}

}  // namespace

bool rewrite_text_references(std::string_view text, const TextRenames& renames, std::string& out) {
    if (!may_refer(text, renames)) return false;
    return Rewriter(text, renames).run(out);
}

}  // namespace mmmove
