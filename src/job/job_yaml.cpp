#include "job/job_yaml.h"

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <vector>

#include "core/error.h"

namespace mmmove {
namespace {

int mark_line(const YAML::Node& n, int fallback) {
    int line = n.Mark().line;
    return line >= 0 ? line + 1 : fallback;
}

std::string describe(const YAML::Node& n) {
    if (!n || n.IsNull()) return "nothing";
    if (n.IsSequence()) return "a list";
    if (n.IsMap()) return "a mapping";
    return "text";
}

std::string joined(std::initializer_list<const char*> words) {
    std::string out;
    for (const char* w : words) out += (out.empty() ? "" : ", ") + std::string(w);
    return out;
}

// Edits (insert, delete, replace) from a to b: "did you mean" for keys one or two typos away.
size_t edit_distance(const std::string& a, const std::string& b) {
    std::vector<size_t> row(b.size() + 1);
    for (size_t j = 0; j <= b.size(); ++j) row[j] = j;
    for (size_t i = 1; i <= a.size(); ++i) {
        size_t diagonal = row[0];
        row[0] = i;
        for (size_t j = 1; j <= b.size(); ++j) {
            size_t above = row[j];
            row[j] = std::min({row[j] + 1, row[j - 1] + 1, diagonal + (a[i - 1] == b[j - 1] ? 0 : 1)});
            diagonal = above;
        }
    }
    return row[b.size()];
}

std::string closest(const std::string& key, std::initializer_list<const char*> allowed) {
    std::string best;
    size_t best_distance = 3;
    for (const char* a : allowed) {
        size_t d = edit_distance(key, a);
        if (d < best_distance && d * 2 < std::string(a).size()) best = a, best_distance = d;
    }
    return best;
}

// A value fit to print in a message: one taken from a variable is shown only when it cannot be a
// secret (a DSN from ${MMMOVE_SOURCE} may carry a password).
std::string shown(const JobValue& v, const std::string& value) {
    bool harmless = value.size() <= 40 && std::all_of(value.begin(), value.end(), [](char c) {
        return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.' || c == ' ';
    });
    if (!JobReader::uses_variable(v)) return "\"" + value + "\"";
    return harmless ? "\"" + value + "\" (from " + v.node.Scalar() + ")" : "the value of " + v.node.Scalar();
}

}  // namespace

bool is_variable_name(const std::string& name) {
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0]))) return false;
    return std::all_of(name.begin(), name.end(), [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_'; });
}

void JobReader::fail(int line, const std::string& key, const std::string& problem) const {
    std::string where = origin_ + ":" + std::to_string(line) + ": ";
    throw Error(ExitCode::bad_input, where + (key.empty() ? "" : key + ": ") + problem);
}

JobFields JobReader::fields(const JobValue& v, std::initializer_list<const char*> allowed,
                            const std::map<std::string, std::string>& hints) const {
    JobFields out;
    if (!v.node || v.node.IsNull()) return out;  // `copy:` with nothing under it: all defaults
    if (!v.node.IsMap()) fail(v, "expected a mapping (keys indented under it), got " + describe(v.node));
    for (const auto& kv : v.node) {
        int line = mark_line(kv.first, v.line);
        if (!kv.first.IsScalar()) fail(line, v.key, "a key must be plain text, got " + describe(kv.first));
        const std::string name = kv.first.Scalar();
        const std::string key = v.key.empty() ? name : v.key + "." + name;
        if (std::find_if(allowed.begin(), allowed.end(), [&](const char* a) { return name == a; }) == allowed.end()) {
            if (auto hint = hints.find(name); hint != hints.end()) fail(line, key, hint->second);
            std::string guess = closest(name, allowed);
            fail(line, key, "unknown key" + (guess.empty() ? "." : "; did you mean " + guess + "?") + " " +
                                (v.key.empty() ? "A job file" : v.key) + " takes: " + joined(allowed) + ".");
        }
        if (auto seen = out.find(name); seen != out.end())
            fail(line, key, "is given twice (first on line " + std::to_string(seen->second.line) + "); keep one.");
        out[name] = JobValue{kv.second, key, line};
        lines_[key] = line;
    }
    return out;
}

std::vector<JobValue> JobReader::items(const JobValue& v) const {
    std::vector<JobValue> out;
    if (!v.node || v.node.IsNull()) return out;
    if (!v.node.IsSequence())
        fail(v, "expected a list ([a, b], or one \"- a\" line per item), got " + describe(v.node));
    for (size_t i = 0; i < v.node.size(); ++i) {
        const YAML::Node item = v.node[i];
        out.push_back(JobValue{item, v.key + "[" + std::to_string(i + 1) + "]", mark_line(item, v.line)});
    }
    return out;
}

std::string JobReader::text(const JobValue& v) const {
    if (!v.node || v.node.IsNull()) fail(v, "has no value; write one, or remove the key.");
    if (!v.node.IsScalar()) fail(v, "expected a single value, got " + describe(v.node));
    std::string value = expand(v);
    if (value.empty()) fail(v, "is empty; write a value, or remove the key.");
    return value;
}

uint64_t JobReader::number(const JobValue& v, uint64_t min, uint64_t max) const {
    std::string s = text(v);
    if (s.size() > 19 || s.find_first_not_of("0123456789") != std::string::npos)
        fail(v, "expected a whole number, got " + shown(v, s));
    uint64_t n = std::stoull(s);
    if (n < min || n > max)
        fail(v, "must be between " + std::to_string(min) + " and " + std::to_string(max) + ", got " + shown(v, s));
    return n;
}

bool JobReader::boolean(const JobValue& v) const {
    std::string s = text(v);
    std::string l = s;
    std::transform(l.begin(), l.end(), l.begin(), [](unsigned char c) { return std::tolower(c); });
    if (l == "true" || l == "yes") return true;
    if (l == "false" || l == "no") return false;
    fail(v, "expected true or false, got " + shown(v, s));
}

std::string JobReader::choice(const JobValue& v, std::initializer_list<const char*> allowed) const {
    std::string s = text(v);
    for (const char* a : allowed)
        if (s == a) return s;
    fail(v, "expected one of " + joined(allowed) + "; got " + shown(v, s));
}

std::vector<std::string> JobReader::texts(const JobValue& v) const {
    std::vector<std::string> out;
    for (const JobValue& item : items(v)) out.push_back(text(item));
    return out;
}

bool JobReader::uses_variable(const JobValue& v) {
    if (!v.node || !v.node.IsScalar()) return false;
    const std::string& raw = v.node.Scalar();
    for (size_t i = 0; i + 1 < raw.size(); ++i) {
        if (raw.compare(i, 3, "$${") == 0) ++i;  // skips the escaped ${ as a whole
        else if (raw.compare(i, 2, "${") == 0) return true;
    }
    return false;
}

int JobReader::line_of(const std::string& key) const {
    auto it = lines_.find(key);
    return it == lines_.end() ? 0 : it->second;
}

// One pass, left to right: a value taken from a variable is pasted as it is, never expanded again
// (a password or DSN holding "${" stays intact).
std::string JobReader::expand(const JobValue& v) const {
    const std::string& raw = v.node.Scalar();
    std::string out;
    for (size_t i = 0; i < raw.size(); ++i) {
        if (raw.compare(i, 3, "$${") == 0) {
            out += "${";
            i += 2;
        } else if (raw.compare(i, 2, "${") == 0) {
            size_t end = raw.find('}', i + 2);
            if (end == std::string::npos)
                fail(v, "has \"${\" without a closing \"}\"; write ${NAME}, or $${ for a literal ${.");
            std::string name = raw.substr(i + 2, end - i - 2);
            if (!is_variable_name(name))
                fail(v, "\"${" + name + "}\" is not a variable name (letters, digits and _, not starting with a digit); "
                        "write $${ for a literal ${.");
            out += lookup(name, v);
            i = end;
        } else {
            out += raw[i];
        }
    }
    return out;
}

std::string JobReader::lookup(const std::string& name, const JobValue& v) const {
    const char* value = nullptr;
    if (env_) {
        auto it = env_->find(name);
        if (it != env_->end()) value = it->second.c_str();
    } else {
        value = std::getenv(name.c_str());
    }
    if (!value || !*value)
        fail(v, "the environment variable " + name + " is not set (or is empty). Export " + name +
                    "=… before running mmmove (a systemd job reads it from /etc/mmmove/JOB.env), or write the value here.");
    return value;
}

}  // namespace mmmove
