#include "job/secrets_source.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>

#include "core/error.h"
#include "core/safe_file.h"

namespace mmmove {
namespace {

[[noreturn]] void refuse(const std::string& what, const std::string& problem) {
    throw Error(ExitCode::bad_input, "Cannot read " + what + ": " + problem);
}

// The rule mmmove applies to password files: nobody but the owner may change it, and nobody but the
// owner (or, for a file root owns, its group) may read it.
void check_private(const std::string& path, const std::string& what) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) refuse(what, "the file " + path + " does not exist or cannot be opened; check the path.");
    if (!S_ISREG(st.st_mode)) return;  // read_input_file refuses it, with its own words
    mode_t forbidden = st.st_uid == 0 ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
    if ((st.st_mode & forbidden) == 0) return;
    char mode[8];
    std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
    refuse(what, "the file " + path + " can be read or changed by other users (mode " + mode +
                     "); make it private with: chmod 600 " + path + " — then run mmmove again.");
}

std::string without_line_breaks(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
    return s;
}

}  // namespace

std::string read_secret(const std::string& env, const std::string& file, const std::string& what) {
    if (!env.empty()) {
        const char* set = std::getenv(env.c_str());
        std::string value = without_line_breaks(set ? set : "");
        if (value.empty())
            refuse(what, "the environment variable " + env + " is not set (or is empty). Export " + env +
                             "=… before running mmmove (a systemd job reads it from /etc/mmmove/JOB.env).");
        return value;
    }
    if (file.empty()) refuse(what, "the job names neither a variable nor a file holding it.");
    check_private(file, what);
    std::string value = without_line_breaks(read_input_file(file, "file holding " + what, 64 << 10));
    if (value.empty()) refuse(what, "the file " + file + " is empty; write the secret on its first line.");
    return value;
}

}  // namespace mmmove
