#pragma once
// Reading a job file's YAML: every value is fetched through a JobReader, which knows the file's name
// and where each value sits, so every refusal reads "FILE:LINE: dotted.key: what is wrong; the fix".
// It also expands ${NAME} in every value it reads (never in keys). Used by job_file.cpp only.
#include <yaml-cpp/yaml.h>

#include <cstdint>
#include <initializer_list>
#include <map>
#include <string>
#include <vector>

namespace mmmove {

// A value of the file with where it sits: `key` is dotted ("copy.jobs", "anonymise.columns[2].kind"),
// `line` is 1-based.
struct JobValue {
    YAML::Node node;
    std::string key;
    int line = 1;
};

// The entries of one mapping, by key.
using JobFields = std::map<std::string, JobValue>;

class JobReader {
public:
    using Env = std::map<std::string, std::string>;
    // `env` null: the process environment.
    JobReader(std::string origin, const Env* env) : origin_(std::move(origin)), env_(env) {}

    [[noreturn]] void fail(int line, const std::string& key, const std::string& problem) const;
    [[noreturn]] void fail(const JobValue& v, const std::string& problem) const { fail(v.line, v.key, problem); }

    // The entries of the mapping `v`, refusing anything else, a key that is not plain text, a repeated
    // key and a key not in `allowed`. `hints` explain some unknown keys better than a list can
    // (`password` → "passwords come from password_env or password_file").
    JobFields fields(const JobValue& v, std::initializer_list<const char*> allowed,
                     const std::map<std::string, std::string>& hints = {}) const;
    // The items of the list `v` (keys "v.key[1]", "v.key[2]"…).
    std::vector<JobValue> items(const JobValue& v) const;

    // Scalars, ${NAME} expanded first. Each refuses a list, a mapping and a missing value.
    std::string text(const JobValue& v) const;
    uint64_t number(const JobValue& v, uint64_t min, uint64_t max) const;
    bool boolean(const JobValue& v) const;
    std::string choice(const JobValue& v, std::initializer_list<const char*> allowed) const;
    std::vector<std::string> texts(const JobValue& v) const;  // a list of scalars

    // Whether the scalar `v` is written with ${…} (before expansion).
    static bool uses_variable(const JobValue& v);

    // Where each key read so far sits, for the rules across keys (0 when absent).
    int line_of(const std::string& key) const;

private:
    std::string expand(const JobValue& v) const;
    std::string lookup(const std::string& name, const JobValue& v) const;

    std::string origin_;
    const Env* env_;
    mutable std::map<std::string, int> lines_;
};

// [A-Za-z_][A-Za-z0-9_]*: what ${NAME} and the *_env keys accept.
bool is_variable_name(const std::string& name);

// Reads `f[key]` with `read` when the key is present.
template <typename Read>
void if_present(const JobFields& f, const char* key, Read read) {
    auto it = f.find(key);
    if (it != f.end()) read(it->second);
}

}  // namespace mmmove
