// Parsing config.json: in time linear in its size, and refusing nesting no Mattermost config has before
// anything recurses into it (a 100,000-level file would otherwise overflow the stack).
#include <string_view>
#include <unordered_map>

#include "config/config_merge.h"

namespace mmmove {

namespace {

// Mattermost's config is about five levels deep (plugin settings add a few); nothing real comes close.
constexpr size_t kMaxConfigDepth = 64;

// Builds the ordered document member by member. nlohmann's own builder inserts each key through
// ordered_map::operator[], which searches every earlier key: quadratic on a large plugin section. Here
// each open object keeps a hash index of its keys; a repeated key replaces the earlier value, as
// Mattermost's Go decoder does.
class ConfigBuilder {
public:
    OrderedJson root;
    bool too_deep = false;
    bool failed = false;
    size_t error_byte = 0;
    std::string error_text;

    bool null() { return put(nullptr); }
    bool boolean(bool v) { return put(v); }
    bool number_integer(OrderedJson::number_integer_t v) { return put(v); }
    bool number_unsigned(OrderedJson::number_unsigned_t v) { return put(v); }
    bool number_float(OrderedJson::number_float_t v, const std::string&) { return put(v); }
    bool string(std::string& v) { return put(std::move(v)); }
    bool binary(OrderedJson::binary_t&) { return false; }  // not produced by the JSON parser
    bool key(std::string& k) {
        key_ = std::move(k);
        return true;
    }
    bool start_object(std::size_t) { return open(OrderedJson::object()); }
    bool start_array(std::size_t) { return open(OrderedJson::array()); }
    bool end_object() { return close(); }
    bool end_array() { return close(); }
    bool parse_error(std::size_t byte, const std::string&, const nlohmann::detail::exception& e) {
        failed = true;
        error_byte = byte;
        error_text = e.what();
        return false;
    }

private:
    struct Open {
        OrderedJson* value;
        std::unordered_map<std::string, size_t> keys;  // objects only: key → member position
    };
    std::vector<Open> open_;
    std::string key_;

    // Values are only ever added to the innermost open container, so pointers to the open ones stay valid.
    OrderedJson* add(OrderedJson&& v) {
        if (open_.empty()) {
            root = std::move(v);
            return &root;
        }
        Open& top = open_.back();
        if (top.value->is_array()) {
            auto& items = top.value->get_ref<OrderedJson::array_t&>();
            items.push_back(std::move(v));
            return &items.back();
        }
        auto& members = static_cast<OrderedJson::object_t::Container&>(top.value->get_ref<OrderedJson::object_t&>());
        auto [at, inserted] = top.keys.emplace(key_, members.size());
        if (!inserted) {
            members[at->second].second = std::move(v);
            return &members[at->second].second;
        }
        members.emplace_back(std::move(key_), std::move(v));
        return &members.back().second;
    }
    bool put(OrderedJson v) {
        add(std::move(v));
        return true;
    }
    bool open(OrderedJson container) {
        if (open_.size() >= kMaxConfigDepth) {
            too_deep = true;
            return false;
        }
        open_.push_back({add(std::move(container)), {}});
        return true;
    }
    bool close() {
        open_.pop_back();
        return true;
    }
};

std::string line_and_column(const std::string& text, size_t byte) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i + 1 < byte && i < text.size(); ++i) {
        if (text[i] == '\n') line++, col = 1;
        else col++;
    }
    return "line " + std::to_string(line) + ", column " + std::to_string(col);
}

// Where nesting first goes past the limit (only called to explain a refusal).
size_t first_too_deep_byte(const std::string& text) {
    size_t depth = 0;
    bool in_string = false, escaped = false;
    for (size_t i = 0; i < text.size(); ++i) {
        char c = text[i];
        if (in_string) {
            if (escaped) escaped = false;
            else if (c == '\\') escaped = true;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{' || c == '[') {
            if (++depth > kMaxConfigDepth) return i + 1;
        } else if ((c == '}' || c == ']') && depth > 0) {
            --depth;
        }
    }
    return text.size();
}

}  // namespace

OrderedJson parse_config_json(const std::string& text, const std::string& origin) {
    ConfigBuilder builder;
    bool ok = OrderedJson::sax_parse(text, &builder);
    if (builder.too_deep)
        throw Error(ExitCode::bad_input, origin + " nests settings more than " + std::to_string(kMaxConfigDepth) + " levels deep (at " +
                                             line_and_column(text, first_too_deep_byte(text)) +
                                             "); a Mattermost configuration is a few levels deep. Check that this is the right file; nothing was written.");
    if (!ok || builder.failed)
        throw Error(ExitCode::bad_input, origin + " is not valid JSON: error at " + line_and_column(text, builder.error_byte) + " (" +
                                             builder.error_text + "). Fix it; nothing was written.");
    return std::move(builder.root);
}

}  // namespace mmmove
