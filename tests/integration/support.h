#pragma once
// What the integration tests share: the throwaway servers started by scripts/servers (a missing
// server fails the test, it is never skipped), scratch databases that drop themselves, running the
// mmmove binary, and reading a whole database into an engine-neutral form to compare content.
#include <sys/types.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../common/test_paths.h"
#include "db/database.h"

namespace mmmove::test {

struct Servers {
    int pg_port = 0, my_port = 0;
    std::string password;
};
// Reads MMMOVE_PG_PORT, MMMOVE_MY_PORT and MMMOVE_PASSWORD_FILE; fails the test when they are missing.
const Servers& servers();

// A database created for one test on one engine, dropped when the test ends.
class ScratchDb {
public:
    explicit ScratchDb(Engine engine, const std::string& tag = "t");
    ~ScratchDb();
    ScratchDb(const ScratchDb&) = delete;
    ScratchDb& operator=(const ScratchDb&) = delete;
    Engine engine() const { return engine_; }
    const std::string& name() const { return name_; }
    DataSource data_source() const;       // with the password
    std::string dsn() const;              // without the password (it comes from the environment)
    std::unique_ptr<Database> connect(Side side = Side::destination) const;

private:
    Engine engine_;
    std::string name_;
};

// Creates the Mattermost schema at `level` (lower-case table names on MySQL if asked) and fills it with
// `posts` posts of sample data.
void fill_sample(const ScratchDb& db, uint64_t posts, int level = 141, bool lower_case = false, uint64_t seed = 1,
                 bool hostile = true);

// A path in /tmp for the copy's report of a test using `db`, with no report left there by an earlier run.
std::string report_path(const ScratchDb& db);

struct CliRun {
    int exit_code = -1;
    std::string output;  // stdout and stderr together
};
// Runs the mmmove binary with these arguments (shell-quoted here); both passwords come from the environment.
CliRun run_mmmove(const std::vector<std::string>& args);
// The same, as the unprivileged account `nobody` (uid and gid 65534, no supplementary groups), as an
// admin who forgot sudo would run it.
CliRun run_mmmove_as_nobody(const std::vector<std::string>& args);

// Every row of every copied table, as engine-neutral text, sorted: booleans as true/false, binary as
// hex, JSON re-serialised, arrays as JSON, NUL bytes removed where the destination is PostgreSQL.
using Content = std::map<std::string, std::vector<std::string>>;  // lower-case table → sorted rows
Content read_content(Database& db, bool strip_nul_bytes);

// Starts the mmmove binary with `args` in a child process, its stdout and stderr going to `output`.
pid_t spawn_mmmove(const std::vector<std::string>& args, const std::string& output);
// Starts mmmove with `args` (output to a file), waits until it has committed `chunks` chunks into
// `dst` (its checkpoint table mmmove_copy_chunks), and kills it with SIGKILL.
void kill_mid_run(const std::vector<std::string>& args, const ScratchDb& dst, uint64_t chunks);
// Waits (at most 120 s) until the mmmove process `pid`, still running, has committed `n` chunks into `dst`.
void wait_for_chunks(Database& dst, pid_t pid, uint64_t n);
// The chunks a running or killed copy or merge has committed into `dst` (0 before its checkpoint exists).
uint64_t committed_chunks(Database& dst);

// The first column of the first row of `sql` ("" without a row, "NULL" for NULL).
std::string query_one(Database& db, const std::string& sql);
// The first column of the first row of `sql`, "" without a row or for NULL.
std::string query_text(Database& db, const std::string& sql);
// PostgreSQL: the row counts a doubled merge shows first, as "posts/reactions/fileinfo/users/channels".
std::string merge_counts(Database& db);

}  // namespace mmmove::test
