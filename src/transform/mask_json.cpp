// JSON text (Posts.Props, Users.NotifyProps, Preferences.Value…), deny by default: every string value
// is masked as free text unless the column's model keeps the member it stands in (json_keep in
// mappings/anonymise.yaml: ids, types, flags, settings, emoji names, times, colours), a username path
// leads to it (then it takes the username mask), or its form cannot carry text a person wrote
// (json_value_kept). Member names, member order, numbers, booleans and null always stay. A text is
// parsed only when it holds a string that may need a mask, and written again only when one changed.
//
// Mattermost keeps some JSON inside JSON strings (Users.Props customStatus is a string holding
// {"emoji", "text", "duration", "expires_at"}). Such a string is masked inside, and the paths go on
// into it (customStatus.emoji); the inner document stays JSON.
//
// Nothing here recurses without a bound: a document (or a JSON string inside one) nested deeper than
// kMaxJsonDepth, or strings of JSON inside one another more than kMaxInnerDocuments deep, is never
// parsed and never kept: a whole value becomes {} (or []), a string inside one is masked as free text.
#include <algorithm>

#include "catalog/references.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "core/ordered_json.h"
#include "transform/anonymise.h"

namespace mmmove {
namespace {

// Mattermost keeps JSON in a string of JSON one level deep (customStatus); more is no Mattermost value.
constexpr int kMaxInnerDocuments = 8;

enum class Inner { none, parsed, too_deep };

bool is_space(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }
bool is_hex(char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

// A Mattermost id (model.NewId): 26 characters of a-z and 0-9.
bool is_id(std::string_view v) {
    return v.size() == 26 && std::all_of(v.begin(), v.end(), [](char c) { return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'); });
}

// A CSS colour as themes and attachments write them: #rgb, #rgba, #rrggbb, #rrggbbaa, or rgb()/rgba()
// of numbers only. Nothing but hex digits or numbers: no word fits.
bool is_colour(std::string_view v) {
    if (!v.empty() && v[0] == '#')
        return (v.size() == 4 || v.size() == 5 || v.size() == 7 || v.size() == 9) && std::all_of(v.begin() + 1, v.end(), is_hex);
    for (std::string_view fn : {"rgb(", "rgba("})
        if (v.size() > fn.size() + 1 && v.substr(0, fn.size()) == fn && v.back() == ')')
            return std::all_of(v.begin() + static_cast<long>(fn.size()), v.end() - 1,
                               [](char c) { return (c >= '0' && c <= '9') || c == '.' || c == ',' || c == ' ' || c == '%'; });
    return false;
}

// A string that is one http(s) URL and nothing else: an icon, a link, an integration's endpoint.
bool is_url(std::string_view v) {
    auto starts = [v](std::string_view scheme) {
        if (v.size() <= scheme.size()) return false;
        for (size_t i = 0; i < scheme.size(); ++i)
            if ((v[i] | 0x20) != scheme[i]) return false;
        return true;
    };
    return (starts("http://") || starts("https://")) && std::none_of(v.begin(), v.end(), is_space);
}

// Ids joined by commas (Preferences teams_order): a whole value only.
bool is_id_list(std::string_view v) {
    while (true) {
        const size_t comma = v.find(',');
        if (!is_id(v.substr(0, comma))) return false;
        if (comma == std::string_view::npos) return true;
        v.remove_prefix(comma + 1);
    }
}

// Whether a string's text is itself a JSON object or array (parsed into `inner`), or would nest too
// deep to parse (`depth` documents already surround it).
Inner parse_inner(const std::string& s, OrderedJson& inner, int depth) {
    const size_t first = s.find_first_not_of(" \t\r\n");
    if (first == std::string::npos || (s[first] != '{' && s[first] != '[')) return Inner::none;
    if (depth >= kMaxInnerDocuments || json_deeper_than(s)) return Inner::too_deep;
    inner = OrderedJson::parse(s, nullptr, false);
    return !inner.is_discarded() && (inner.is_object() || inner.is_array()) ? Inner::parsed : Inner::none;
}

std::string dump(const OrderedJson& doc) { return doc.dump(-1, ' ', false, OrderedJson::error_handler_t::replace); }

// The fast path: true when `v`, an object or array, holds no string value that might need a mask (every
// one has a kept form, none escapes a character, none is a JSON string of its own) and names no member
// of a username path. Reads the bytes once and allocates nothing. Structure it cannot vouch for (a bare
// word, an unfinished or too deep document) gives false: the full parse decides.
bool nothing_to_mask(std::string_view v, const JsonMask& mask) {
    for (const std::string& needle : mask.username_needles)
        if (v.find(needle) != std::string_view::npos) return false;
    size_t depth = 0, i = 0;
    while (i < v.size()) {
        const char c = v[i];
        if (c == '{' || c == '[') {
            if (++depth > kMaxJsonDepth) return false;
            ++i;
        } else if (c == '}' || c == ']') {
            if (depth-- == 0) return false;
            ++i;
        } else if (c == ',' || c == ':' || is_space(c)) {
            ++i;
        } else if (c == '"') {
            const size_t end = v.find('"', i + 1);
            if (end == std::string_view::npos) return false;
            const std::string_view s = v.substr(i + 1, end - i - 1);
            if (s.find('\\') != std::string_view::npos) return false;  // an escaped quote or an inner document
            i = end + 1;
            size_t next = i;
            while (next < v.size() && is_space(v[next])) ++next;
            const bool member_name = next < v.size() && v[next] == ':';
            if (!member_name && !json_value_kept(s, mask)) return false;
        } else if ((c >= '0' && c <= '9') || c == '-') {
            while (i < v.size() && ((v[i] >= '0' && v[i] <= '9') || v[i] == '-' || v[i] == '+' || v[i] == '.' || v[i] == 'e' || v[i] == 'E')) ++i;
        } else {
            bool literal = false;
            for (std::string_view word : {"true", "false", "null"})
                if (v.substr(i, word.size()) == word) {
                    literal = true;
                    i += word.size();
                    break;
                }
            if (!literal) return false;
        }
    }
    return depth == 0;
}

// The nodes of JsonMask::tree the paths have reached at one node of a document, held inline: a walk
// visits every node, and most are reached by no path at all. More than kMaxReached at once takes
// paths that overlap beyond anything in the model; the ones past it are dropped, which can only mask
// more (a kept member is masked, a username member masked as free text), never keep more.
constexpr int kMaxReached = 8;
struct Reached {
    int n = 0;
    int nodes[kMaxReached];
    void add(int node) {
        if (n < kMaxReached) nodes[n++] = node;
    }
    const int* begin() const { return nodes; }
    const int* end() const { return nodes + n; }
};

class JsonWalker {
public:
    JsonWalker(const Masker& masker, const JsonMask& mask, TextMode mode) : m_(masker), mask_(mask), mode_(mode) {}

    // `at`: the nodes of mask.tree the paths have reached at `node` (none: no path leads here).
    bool walk(OrderedJson& node, const Reached& at) {
        bool username = false;
        for (int n : at) {
            if (mask_.tree[n].kept) return false;  // a kept member stays whole
            username = username || mask_.tree[n].username;
        }
        if (node.is_object()) {
            bool changed = false;
            for (auto it = node.begin(); it != node.end(); ++it) changed |= walk(it.value(), member(at, it.key()));
            return changed;
        }
        if (node.is_array()) {
            const Reached next = element(at);
            bool changed = false;
            for (auto& child : node) changed |= walk(child, next);
            return changed;
        }
        if (!node.is_string()) return false;  // numbers, booleans and null stay
        const std::string& s = node.get_ref<const std::string&>();
        if (username) {
            if (s.empty()) return false;
            node = m_.username(s);
            return true;
        }
        if (json_value_kept(s, mask_)) return false;
        OrderedJson inner;
        switch (parse_inner(s, inner, depth_)) {
            case Inner::parsed: {
                ++depth_;
                const bool changed = walk(inner, at);
                --depth_;
                if (changed) node = dump(inner);
                return changed;
            }
            case Inner::too_deep:
            case Inner::none: break;
        }
        return as_free_text(node);
    }

private:
    Reached member(const Reached& at, const std::string& name) const {
        Reached next;
        for (int n : at) {
            const JsonMask::Node& node = mask_.tree[n];
            for (const auto& [member_name, child] : node.members)
                if (member_name == name) next.add(child);
            if (node.any >= 0) next.add(node.any);
        }
        return next;
    }

    Reached element(const Reached& at) const {
        Reached next;
        for (int n : at)
            if (mask_.tree[n].each >= 0) next.add(mask_.tree[n].each);
        return next;
    }

    // A member that is a URL is masked as one whatever the job's `messages:` says: integrations keep
    // tokens in them (actions[].integration.url), and staging must not call production's services.
    bool as_free_text(OrderedJson& node) {
        if (is_url(node.get_ref<const std::string&>())) {
            node = m_.url(node.get_ref<const std::string&>());
            return true;
        }
        if (!m_.free_text_into(node.get_ref<const std::string&>(), mode_, scratch_)) return false;
        node = scratch_;
        return true;
    }

    const Masker& m_;
    const JsonMask& mask_;
    TextMode mode_;
    std::string scratch_;
    int depth_ = 0;
};

}  // namespace

bool json_value_kept(std::string_view v, const JsonMask& mask, bool whole) {
    if (v.empty() || v == "true" || v == "false" || is_id(v) || is_colour(v)) return true;
    if (whole && is_id_list(v)) return true;
    return std::binary_search(mask.keep_values.begin(), mask.keep_values.end(), v);
}

JsonMask JsonMask::of(const std::vector<std::string>& keep_paths, const std::vector<std::string>& username_paths,
                      std::vector<std::string> keep_values) {
    JsonMask m;
    auto add = [&m](const std::string& path, bool username) {
        std::vector<JsonStep> steps;
        try {
            steps = parse_json_path(path);
        } catch (const Error& e) {
            throw Error(ExitCode::bad_input,
                        std::string(e.what()) + " Write paths as mappings/anonymise.yaml does (attachments[].color).");
        }
        int at = 0;
        for (const JsonStep& step : steps) {
            if (step.kind == JsonStep::Kind::member_name) return;  // member names stay anyway
            int next = -1;
            if (step.kind == JsonStep::Kind::member) {
                for (const auto& [name, child] : m.tree[at].members)
                    if (name == step.name) next = child;
            } else {
                next = step.kind == JsonStep::Kind::any_member ? m.tree[at].any : m.tree[at].each;
            }
            if (next < 0) {
                next = static_cast<int>(m.tree.size());
                m.tree.emplace_back();
                if (step.kind == JsonStep::Kind::member) m.tree[at].members.emplace_back(step.name, next);
                else (step.kind == JsonStep::Kind::any_member ? m.tree[at].any : m.tree[at].each) = next;
            }
            at = next;
        }
        (username ? m.tree[at].username : m.tree[at].kept) = true;
        if (!username) return;
        auto named = std::find_if(steps.begin(), steps.end(), [](const JsonStep& s) { return s.kind == JsonStep::Kind::member; });
        if (named != steps.end()) m.username_needles.push_back("\"" + named->name + "\"");
        else m.username_needles.push_back("\"");  // no member to look for: every text with a string is parsed
    };
    for (const auto& p : keep_paths) add(p, false);
    for (const auto& p : username_paths) add(p, true);
    std::sort(keep_values.begin(), keep_values.end());
    m.keep_values = std::move(keep_values);
    return m;
}

bool Masker::json_text_into(std::string_view v, const JsonMask& mask, TextMode mode, std::string& out) const {
    const size_t first = v.find_first_not_of(" \t\r\n");
    if (first == std::string_view::npos) return false;  // empty or only white space: nothing to hide
    const bool document = v[first] == '{' || v[first] == '[';
    if (document ? nothing_to_mask(v.substr(first), mask) : json_value_kept(v, mask, true)) return false;
    // A document too deep to walk becomes an empty one: nothing of it survives, and a JSON column
    // still gets JSON.
    if (document && json_deeper_than(v)) {
        out = v[first] == '[' ? "[]" : "{}";
        return true;
    }
    OrderedJson doc = OrderedJson::parse(v, nullptr, false);
    // Not JSON (a Preferences setting, a broken document): masked whole as free text, so at least
    // nothing personal survives.
    if (doc.is_discarded()) return free_text_into(v, mode, out);
    Reached root;
    root.add(0);
    if (!JsonWalker(*this, mask, mode).walk(doc, root)) return false;
    out = dump(doc);
    return true;
}

std::string Masker::json_text(std::string_view v, const std::vector<std::string>& keep_paths, TextMode mode) const {
    std::string out;
    return json_text_into(v, JsonMask::of(keep_paths), mode, out) ? out : std::string(v);
}

}  // namespace mmmove
