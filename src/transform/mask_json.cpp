// JSON text (Posts.Props, Users.Props, RecentSearches.Query…): the string values under the listed
// paths are masked as free text, the members that hold usernames as usernames, and everything else
// (member order, numbers, flags, ids) is kept. A text is parsed only when it may hold a listed
// member, and written again only when a value changed.
//
// Mattermost keeps some JSON inside JSON strings (Users.Props customStatus is a string holding
// {"emoji", "text", "duration", "expires_at"}). A path goes on into such a string
// (customStatus.text); where a path ends on one, every string inside is masked; either way the inner
// document stays JSON.
//
// Nothing here recurses without a bound: a document (or a JSON string inside one) nested deeper than
// kMaxJsonDepth, or strings of JSON inside one another more than kMaxInnerDocuments deep, is never
// parsed and never kept: a whole value becomes {} (or []), a string inside one is masked as free text.
#include <algorithm>

#include "catalog/references.h"
#include "config/ordered_json.h"
#include "core/error.h"
#include "core/json_depth.h"
#include "transform/anonymise.h"

namespace mmmove {
namespace {

using Steps = std::vector<JsonStep>;

// Mattermost keeps JSON in a string of JSON one level deep (customStatus); more is no Mattermost value.
constexpr int kMaxInnerDocuments = 8;

enum class Inner { none, parsed, too_deep };

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

class JsonWalker {
public:
    JsonWalker(const Masker& masker, TextMode mode) : m_(masker), mode_(mode) {}

    bool apply(OrderedJson& doc, const JsonMask& mask) {
        bool changed = false;
        for (const Steps& p : mask.usernames) changed |= walk(doc, p, 0, true);
        if (mask.text.empty()) return every_string(doc) || changed;
        for (const Steps& p : mask.text) changed |= walk(doc, p, 0, false);
        return changed;
    }

private:
    // Follows `steps` from step i; at the end masks what it found (usernames, or every string).
    bool walk(OrderedJson& node, const Steps& steps, size_t i, bool usernames) {
        if (i == steps.size()) return usernames ? username(node) : every_string(node);
        if (node.is_string()) return inside(node, [&](OrderedJson& inner) { return walk(inner, steps, i, usernames); });
        const JsonStep& step = steps[i];
        bool changed = false;
        if (step.kind == JsonStep::Kind::member && node.is_object()) {
            auto it = node.find(step.name);
            if (it != node.end()) changed = walk(*it, steps, i + 1, usernames);
        } else if ((step.kind == JsonStep::Kind::any_member && node.is_object()) ||
                   (step.kind == JsonStep::Kind::each_element && node.is_array())) {
            for (auto& child : node) changed |= walk(child, steps, i + 1, usernames);
        }
        return changed;
    }

    bool every_string(OrderedJson& node) {
        if (node.is_object() || node.is_array()) {
            bool changed = false;
            for (auto& child : node) changed |= every_string(child);
            return changed;
        }
        if (!node.is_string() || std::find(usernames_.begin(), usernames_.end(), &node) != usernames_.end()) return false;
        bool json = false;
        const bool changed = inside(node, [&](OrderedJson& inner) { return every_string(inner); }, &json);
        if (json) return changed;
        return as_free_text(node);
    }

    bool as_free_text(OrderedJson& node) {
        if (!m_.free_text_into(node.get_ref<const std::string&>(), mode_, scratch_)) return false;
        node = scratch_;
        return true;
    }

    bool username(OrderedJson& node) {
        if (!node.is_string() || node.get_ref<const std::string&>().empty()) return false;
        node = m_.username(node.get_ref<const std::string&>());
        // The text pass must not mask it again. Only nodes of the outer document are remembered: an
        // inner document is gone (and its addresses free for reuse) once written back.
        if (depth_ == 0) usernames_.push_back(&node);
        return true;
    }

    // A string holding JSON (*json set): `f` masks the parsed document, written back if it changed.
    // One too deep to parse is masked whole as free text, wherever a path meets it.
    template <class F>
    bool inside(OrderedJson& node, F f, bool* json = nullptr) {
        OrderedJson inner;
        const Inner kind = parse_inner(node.get_ref<const std::string&>(), inner, depth_);
        if (kind == Inner::none) return false;
        if (json) *json = true;
        if (kind == Inner::too_deep) return as_free_text(node);
        ++depth_;
        const bool changed = f(inner);
        --depth_;
        if (changed) node = dump(inner);
        return changed;
    }

    const Masker& m_;
    TextMode mode_;
    std::string scratch_;
    std::vector<const OrderedJson*> usernames_;  // masked as usernames: a handful, a list beats a set
    int depth_ = 0;
};

}  // namespace

JsonMask JsonMask::of(const std::vector<std::string>& text_paths, const std::vector<std::string>& username_paths) {
    JsonMask m;
    auto add = [&m](const std::string& path, std::vector<Steps>& into) {
        Steps steps;
        try {
            steps = parse_json_path(path);
        } catch (const Error& e) {
            throw Error(ExitCode::bad_input,
                        std::string(e.what()) + " Write paths as mappings/anonymise.yaml does (attachments[].text).");
        }
        auto named = std::find_if(steps.begin(), steps.end(),
                                  [](const JsonStep& s) { return s.kind == JsonStep::Kind::member; });
        if (named == steps.end()) m.parse_always = true;
        else m.needles.push_back("\"" + named->name + "\"");
        into.push_back(std::move(steps));
    };
    for (const auto& p : text_paths) add(p, m.text);
    for (const auto& p : username_paths) add(p, m.usernames);
    if (text_paths.empty()) m.parse_always = true;
    return m;
}

bool Masker::json_text_into(std::string_view v, const JsonMask& mask, TextMode mode, std::string& out) const {
    if (v.empty()) return false;
    auto named_in_v = [v](const std::string& needle) { return v.find(needle) != std::string_view::npos; };
    if (!mask.parse_always && std::none_of(mask.needles.begin(), mask.needles.end(), named_in_v)) return false;
    // A document too deep to walk becomes an empty one: nothing of it survives, and a JSON column
    // still gets JSON. Text that is not JSON is masked whole, so at least nothing personal survives.
    if (json_deeper_than(v)) {
        const size_t first = v.find_first_not_of(" \t\r\n");
        out = first != std::string_view::npos && v[first] == '[' ? "[]" : "{}";
        return true;
    }
    OrderedJson doc = OrderedJson::parse(v, nullptr, false);
    if (doc.is_discarded()) return free_text_into(v, mode, out);  // not JSON: at least nothing personal survives
    if (!JsonWalker(*this, mode).apply(doc, mask)) return false;
    out = dump(doc);
    return true;
}

std::string Masker::json_text(std::string_view v, const std::vector<std::string>& paths, TextMode mode) const {
    std::string out;
    return json_text_into(v, JsonMask::of(paths), mode, out) ? out : std::string(v);
}

}  // namespace mmmove
