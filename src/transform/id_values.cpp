#include "transform/id_values.h"

#include <openssl/evp.h>

#include <algorithm>
#include <nlohmann/json.hpp>

#include "core/error.h"

namespace mmmove {
namespace {

using Paths = std::vector<const std::vector<JsonStep>*>;

// How far one path has come: the value at hand matched the path's first `step` steps.
struct Cursor {
    size_t path, step;
};

// A string a path ends at: its token in the text, quotes included.
struct Found {
    size_t begin, end;
};

// Walks JSON text once and notes every string a path ends at. Why not parse and dump with nlohmann:
// a dump is not the text Mattermost stored. PostgreSQL's jsonb prints `{"a": 1}` with spaces, Go
// writes `<` as \u003c, numbers have many spellings (1.50, 1e2) and a repeated key would collapse; a
// merge must change the ids and nothing else, so the rewrite splices new strings into the original
// text. The walk keeps its own stack (no recursion: a document may nest a million arrays deep) and
// only needs to tell the structure apart; whether the text is valid JSON is nlohmann's call.
class PathScanner {
public:
    PathScanner(std::string_view text, const Paths& paths) : text_(text), paths_(paths) {}
    // False when the text is not one JSON document as far as the walk can tell.
    bool scan(std::vector<Found>& found);

private:
    enum class Expect { value, key, after_value };
    struct Frame {
        bool object;
        size_t cursors;  // where this container's cursors start in cursors_
    };
    bool read_value(std::vector<Found>& found, Expect& expect);
    bool read_key(std::vector<Found>& found, Expect& expect);
    bool after_value(Expect& expect);
    void open(bool object);
    void close();
    void skip_space();
    bool string_token();  // at '"': moves past the closing quote
    bool scalar_token();  // a number, true, false or null
    void step_into_member(std::string_view key_token);
    void step_into_element();
    bool path_ends_here() const;
    bool path_ends_at_key() const;

    std::string_view text_;
    const Paths& paths_;
    size_t pos_ = 0;
    std::vector<Frame> frames_;
    std::vector<Cursor> cursors_;  // every open container's cursors, outermost first
    std::vector<Cursor> next_;     // the cursors of the value about to be read
};

// The string a JSON string token stands for; false when its escapes do not decode.
bool decode_string(std::string_view token, std::string& value) {
    if (token.find('\\') == std::string_view::npos) {
        value.assign(token.substr(1, token.size() - 2));
        return true;
    }
    try {
        value = nlohmann::json::parse(token).get<std::string>();
        return true;
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

bool valid_json_text(std::string_view text) {
    try {
        return nlohmann::json::accept(text);
    } catch (const nlohmann::json::exception&) {
        return false;
    }
}

// The id `value` becomes, or nullptr when it stays (an empty value is no id).
const std::string* new_id(const IdLookup& lookup, std::string_view value) {
    if (value.empty()) return nullptr;
    const std::string* to = lookup(value);
    return to && *to != value ? to : nullptr;
}

bool PathScanner::scan(std::vector<Found>& found) {
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") pos_ = 3;  // a byte order mark, which nlohmann accepts
    for (size_t p = 0; p < paths_.size(); ++p) next_.push_back({p, 0});
    Expect expect = Expect::value;
    for (;;) {
        skip_space();
        if (expect == Expect::after_value && frames_.empty()) return pos_ == text_.size();
        if (pos_ >= text_.size()) return false;
        bool ok = expect == Expect::value ? read_value(found, expect)
                  : expect == Expect::key ? read_key(found, expect)
                                          : after_value(expect);
        if (!ok) return false;
    }
}

// A value: a string a path ends at is noted, a container is entered.
bool PathScanner::read_value(std::vector<Found>& found, Expect& expect) {
    char c = text_[pos_];
    if (c == '{' || c == '[') {
        open(c == '{');
        skip_space();
        if (pos_ < text_.size() && text_[pos_] == (c == '{' ? '}' : ']')) {
            ++pos_;
            close();
            expect = Expect::after_value;
        } else if (c == '{') {
            expect = Expect::key;
        } else {
            step_into_element();
        }
        return true;
    }
    expect = Expect::after_value;
    if (c != '"') return scalar_token();
    size_t begin = pos_;
    if (!string_token()) return false;
    if (path_ends_here()) found.push_back({begin, pos_});
    return true;
}

// A member's name and its colon; the member's value comes next. A name a path ends at ({key}) is noted.
bool PathScanner::read_key(std::vector<Found>& found, Expect& expect) {
    if (text_[pos_] != '"') return false;
    size_t begin = pos_;
    if (!string_token()) return false;
    if (path_ends_at_key()) found.push_back({begin, pos_});
    std::string_view token = text_.substr(begin, pos_ - begin);
    skip_space();
    if (pos_ >= text_.size() || text_[pos_] != ':') return false;
    ++pos_;
    step_into_member(token);
    expect = Expect::value;
    return true;
}

// After a value: a comma leads to the next member or element, a bracket closes the container.
bool PathScanner::after_value(Expect& expect) {
    char c = text_[pos_++];
    bool object = frames_.back().object;
    if (c == ',') {
        if (object) {
            expect = Expect::key;
        } else {
            step_into_element();
            expect = Expect::value;
        }
        return true;
    }
    if (c != (object ? '}' : ']')) return false;
    close();
    return true;
}

void PathScanner::open(bool object) {
    ++pos_;
    frames_.push_back({object, cursors_.size()});
    cursors_.insert(cursors_.end(), next_.begin(), next_.end());
}

void PathScanner::close() {
    cursors_.resize(frames_.back().cursors);
    frames_.pop_back();
}

void PathScanner::skip_space() {
    while (pos_ < text_.size() && (text_[pos_] == ' ' || text_[pos_] == '\t' || text_[pos_] == '\n' || text_[pos_] == '\r'))
        ++pos_;
}

bool PathScanner::string_token() {
    ++pos_;
    while (pos_ < text_.size()) {
        char c = text_[pos_++];
        if (c == '"') return true;
        if (c == '\\') {
            if (pos_ >= text_.size()) return false;
            ++pos_;  // the escaped character; \uXXXX's digits are ordinary characters to the walk
        } else if (static_cast<unsigned char>(c) < 0x20) {
            return false;
        }
    }
    return false;
}

bool PathScanner::scalar_token() {
    size_t start = pos_;
    while (pos_ < text_.size()) {
        char c = text_[pos_];
        bool part = (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '+' || c == '-' || c == '.';
        if (!part) break;
        ++pos_;
    }
    return pos_ > start;
}

// The cursors of a member's value: paths whose next step is this key, or any member.
void PathScanner::step_into_member(std::string_view key_token) {
    next_.clear();
    std::string key;
    int decoded = -1;  // not yet tried; decoding is needed only when a path names a member here
    for (size_t i = frames_.back().cursors; i < cursors_.size(); ++i) {
        const auto& steps = *paths_[cursors_[i].path];
        size_t s = cursors_[i].step;
        if (s >= steps.size()) continue;
        if (steps[s].kind == JsonStep::Kind::member) {
            if (decoded < 0) decoded = decode_string(key_token, key) ? 1 : 0;
            if (decoded == 1 && key == steps[s].name) next_.push_back({cursors_[i].path, s + 1});
        } else if (steps[s].kind == JsonStep::Kind::any_member) {
            next_.push_back({cursors_[i].path, s + 1});
        }
    }
}

void PathScanner::step_into_element() {
    next_.clear();
    for (size_t i = frames_.back().cursors; i < cursors_.size(); ++i) {
        const auto& steps = *paths_[cursors_[i].path];
        size_t s = cursors_[i].step;
        if (s < steps.size() && steps[s].kind == JsonStep::Kind::each_element) next_.push_back({cursors_[i].path, s + 1});
    }
}

bool PathScanner::path_ends_here() const {
    return std::any_of(next_.begin(), next_.end(), [&](const Cursor& c) { return c.step == paths_[c.path]->size(); });
}

// The object at hand is where a path's last step, {key}, applies: its member names are the values.
bool PathScanner::path_ends_at_key() const {
    for (size_t i = frames_.back().cursors; i < cursors_.size(); ++i) {
        const auto& steps = *paths_[cursors_[i].path];
        if (cursors_[i].step + 1 == steps.size() && steps.back().kind == JsonStep::Kind::member_name) return true;
    }
    return false;
}

}  // namespace

bool remap_json_ids(std::string_view json, const std::vector<JsonStep>& steps, const IdLookup& lookup, std::string& out) {
    return remap_json_ids(json, Paths{&steps}, lookup, out);
}

bool remap_json_ids(std::string_view json, const Paths& paths, const IdLookup& lookup, std::string& out) {
    std::vector<Found> found;
    if (!PathScanner(json, paths).scan(found) || found.empty()) return false;
    std::string result, value;
    size_t copied = 0;
    bool changed = false;
    for (const Found& f : found) {
        if (!decode_string(json.substr(f.begin, f.end - f.begin), value)) continue;
        const std::string* to = new_id(lookup, value);
        if (!to) continue;
        result.append(json.substr(copied, f.begin - copied));
        result += nlohmann::json(*to).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        copied = f.end;
        changed = true;
    }
    // Validity is checked only when something is to change: most values hold no id that moves.
    if (!changed || !valid_json_text(json)) return false;
    result.append(json.substr(copied));
    out = std::move(result);
    return true;
}

std::string dm_channel_name(std::string_view user_a, std::string_view user_b) {
    if (user_a > user_b) std::swap(user_a, user_b);
    std::string name(user_a);
    name += "__";
    name += user_b;
    return name;
}

std::string gm_channel_name(std::vector<std::string> user_ids) {
    std::sort(user_ids.begin(), user_ids.end());  // bytewise, as Go's sort.Strings
    std::string joined;
    for (const auto& id : user_ids) joined += id;
    unsigned char digest[EVP_MAX_MD_SIZE];
    unsigned int length = 0;
    if (EVP_Digest(joined.data(), joined.size(), digest, &length, EVP_sha1(), nullptr) != 1)
        throw Error(ExitCode::internal, "OpenSSL could not compute a SHA-1 digest for a group channel name.");
    static const char* hex = "0123456789abcdef";
    std::string name;
    for (unsigned int i = 0; i < length; ++i) {
        name += hex[digest[i] >> 4];
        name += hex[digest[i] & 15];
    }
    return name;
}

bool remap_joined_ids(std::string_view value, std::string_view separator, const IdLookup& lookup, std::string& out) {
    if (separator.empty()) {
        const std::string* to = new_id(lookup, value);
        if (to) out = *to;
        return to != nullptr;
    }
    std::string result;
    bool changed = false;
    for (size_t start = 0;;) {
        size_t end = value.find(separator, start);
        std::string_view part = value.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start);
        const std::string* to = new_id(lookup, part);
        result += to ? std::string_view(*to) : part;
        changed = changed || to;
        if (end == std::string_view::npos) break;
        result += separator;
        start = end + separator.size();
    }
    if (changed) out = std::move(result);
    return changed;
}

}  // namespace mmmove
