#pragma once
// mmmove's one error type. Every failure an admin can meet carries an exit code that says which side
// failed, and a message written as a sentence that ends with what to do next. Messages never contain
// a password: DSNs are printed through DataSource::masked().
#include <stdexcept>
#include <string>

namespace mmmove {

// Exit codes, documented in the README. Stable: scripts and cron jobs test them.
enum class ExitCode : int {
    ok = 0,
    internal = 1,      // a bug in mmmove
    bad_input = 2,     // malformed flags, DSN, config.json, schema model
    source = 3,        // the source database (unreachable, wrong password, not Mattermost...)
    destination = 4,   // the destination database
    mismatch = 5,      // the two sides disagree (schema version, catalog) or a copy lost rows
    data = 6,          // a value that cannot be moved under the chosen policy
    differs = 7,       // verify: the destination does not hold what the source holds
    conflict = 8,      // merge: a conflict its rules give no policy for (nothing was written)
    lock_held = 9,     // run: another run of the same job holds its lock (nothing was done)
    unclassified = 10, // run, anonymised: the source holds a table or column no mask, keep or drop classifies
                       // (nothing was written)
    source_moving = 11, // sync --final (or a move job): the source was written to while the final sync ran
};

class Error : public std::runtime_error {
public:
    Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
    // A database's refusal: its SQLSTATE and its own words (masked), so callers can tell a refused row
    // from a failing server.
    Error(ExitCode code, const std::string& message, std::string sqlstate, std::string server_message)
        : std::runtime_error(message), code_(code), sqlstate_(std::move(sqlstate)), server_message_(std::move(server_message)) {}
    ExitCode code() const { return code_; }
    const std::string& sqlstate() const { return sqlstate_; }
    const std::string& server_message() const { return server_message_; }

private:
    ExitCode code_;
    std::string sqlstate_, server_message_;
};

}  // namespace mmmove
