#pragma once
// Where a job's secrets come from: the job file names an environment variable or a file (the database
// passwords, the anonymisation key, the test password), never the secret itself.
#include <string>

namespace mmmove {

// The secret held by the environment variable `env` (when not "") or else by the file `file`, with its
// trailing line break(s) removed. `what` names it in errors ("the anonymisation key (anonymise.key_env)").
// Throws Error(ExitCode::bad_input) when neither is given, the variable is unset or empty, the file is
// missing, not a regular file, readable or writable by other users (as password files are refused), or
// holds nothing. Messages name the variable or file, never the value.
std::string read_secret(const std::string& env, const std::string& file, const std::string& what);

}  // namespace mmmove
