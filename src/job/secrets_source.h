#pragma once
// Where a job's secrets come from: the job file names an environment variable or a file (the database
// passwords, the anonymisation key, the test password), never the secret itself.
#include <string>

namespace mmmove {

// The secret held by the environment variable `env` (when not "") or else by the file `file`, with its
// trailing line break(s) removed. `what` names it in errors ("the anonymisation key (anonymise.key_env)").
// Throws Error(ExitCode::bad_input) when neither is given, the variable is unset or empty, the file is
// missing, a symbolic link, not a regular file (FIFO, device, socket, folder: never read), owned by an
// account other than the running one and root, readable or writable by other users (a root-owned file
// may be read by its group, 0640), larger than 64 KiB, or holds nothing. The file is opened with
// O_NOFOLLOW|O_NONBLOCK and checked on the open descriptor. Messages name the variable or file, never
// the value. Every secret file a job names (password_file, key_file, test_password_file) is read here.
std::string read_secret(const std::string& env, const std::string& file, const std::string& what);

}  // namespace mmmove
