#pragma once
// A job file (`mmmove run JOB.yaml`): what an unattended run does, as YAML. The examples in config/
// show every key; the rules, in short:
//
// - Every value may be written ${NAME} (or contain it, "postgres://mm@${DB_HOST}/mattermost") to take
//   it from the environment, so one file serves several hosts; it is replaced before the value is read
//   as a number, a true/false or a choice. An unset or empty variable is an error naming it. `$${`
//   writes a literal `${`; nothing else is special, and a value taken from a variable is not expanded
//   again. Keys are never expanded.
// - Passwords and the anonymisation key never sit in the file: it names the environment variable
//   (`*_env`) or the file (`*_file`) that holds them, one of the two. A DSN written in the file may not
//   carry a password; one taken from ${NAME} may (the variable's file is as private as a password file).
// - Unknown keys, repeated keys, wrong types, missing required keys and bad values are refused with the
//   file, the line and the key ("config/refresh-test.yaml:12: copy.jobs: expected a whole number, got
//   \"two\""). Booleans are true/false (yes/no also read).
// - Relative paths (report, summary, lock, merge_rules, config, data) are relative to the directory
//   mmmove runs in (the systemd unit runs in /var/lib/mmmove), not to the job file's.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmmove {

// One side of the job: its database and, for the config and files steps, its config.json and data
// directory.
struct JobSide {
    std::string database;       // a DSN (password left out) or a config.json path (required)
    std::string password_env;   // the variable holding the database password, or ""
    std::string password_file;  // the file holding it, or "" (at most one of the two)
    std::string config;         // config.json path or configuration DSN; set to `database` when that is a .json path
    std::string data;           // the data directory (FileSettings.Directory), or ""
};

// The steps a job may run. They always run in this order, however the file lists them. In mode merge
// the step `copy` is the merge (there is no separate `merge` step).
enum class JobStep { check, copy, anonymise, verify, config, files };
const char* job_step_name(JobStep step);

// A column a job treats differently from mappings/anonymise.yaml: another kind, or `keep` (left alone).
struct AnonymiseOverride {
    std::string table, column;
    std::string kind;                // username email person_name person_detail free_text secret ip_address
                                     // json_text file_name url password cleared, or keep
    std::vector<std::string> keep_paths;  // json_text only: members kept besides the model's
};

struct JobAnonymise {
    std::string key_env, key_file;                  // the HMAC key: exactly one when the job anonymises
    std::string passwords = "disable";              // disable | test-password
    std::string test_password_env, test_password_file;  // passwords: test-password (exactly one)
    std::string messages = "scramble";              // scramble | replace | keep (mentions are masked in each)
    std::vector<AnonymiseOverride> columns;
    std::vector<std::string> drop_rows;             // more tables whose rows are not copied at all
    std::vector<std::string> keep_rows;             // tables the model drops that this job copies (masked)
    std::vector<std::string> keep_tables;           // tables whose unclassified columns this job copies as they are
};

struct JobCopy {
    unsigned jobs = 0;            // 0 = number of cores (at most 1024)
    uint64_t chunk_rows = 200000; // at least 1000
    bool create_schema = false;   // an empty destination gets the source's schema from mmmove's model (not in merge)
    bool allow_other_sessions = false;  // write although other sessions use the destination database
    bool lower_case_tables = false;  // with create_schema on MySQL: Bitnami's lower-case table names
    std::vector<std::string> skip_tables;
    std::string on_overlong = "stop";       // stop | truncate
    std::string on_invalid_json = "stop";   // stop | repair
    std::string on_refused_value = "stop";  // stop | repair | skip-row
    // mode refresh: when the destination holds a complete earlier refresh by this job under the same
    // anonymisation key and rules, bring it up to date by a sync through the stage (only what changed
    // is written) instead of emptying it; else (and with --full) a full refresh. job/incremental.h.
    bool incremental = false;
};

struct JobConfig {
    std::vector<std::string> keep;        // more settings kept from the destination (dotted paths)
    bool email = false;                   // leave outgoing email as the source has it (default: off)
    bool push = false;                    // push notifications (default: off)
    bool outgoing_webhooks = false;       // outgoing webhooks (default: off)
    bool keep_site_url = true;            // the destination keeps its own ServiceSettings.SiteURL
    bool search = false;                  // anonymised: leave the destination's search indexing on
};

struct JobFiles {
    bool checksum = false;
    bool remove_extra = true;  // a refresh: files the source no longer has leave the destination (never in merge
                               // mode; in move mode only when the job sets it, as files sync's --delete)
    // An anonymised refresh writes placeholders (files/placeholder.h) at the masked names; true copies
    // the contents as they are (still at the masked names). Refused without the anonymise step.
    bool keep_contents = false;
};

// mode move: a live server's move. Copy (unless the destination already holds mmmove's record), sync
// (and the files step's files) until a pass changes at most until_changed_rows rows (at most max_passes
// passes), run `stop`, the final sync (which proves the source stood still), verify, the files once
// more, the config step, run `start`. Commands are argv lists run without a shell; the program is an
// absolute path held to the job file's own trust rule. A move's config step leaves email, push and
// outgoing webhooks as the source has them unless the job says otherwise.
struct JobMove {
    uint64_t until_changed_rows = 1000;
    unsigned max_passes = 5;
    std::vector<std::string> stop, start;  // argv; empty = none
    // How long stop (and start) may run: past it, mmmove kills the command's process group and fails
    // the run there (a stop that hangs must not hold the move, nor let it go on, forever).
    unsigned stop_timeout_seconds = 600, start_timeout_seconds = 600;
    // The passes read only the changed keys (sync/follow.h): from a PostgreSQL source through a
    // replication slot the copy creates and the final pass's success drops; from MariaDB, its binlog.
    bool follow = false;
};

struct Job {
    std::string file;     // where it was read from, for messages
    std::string name;     // `job:` (required; letters, digits, - _ .); names the lock and the summary
    std::string mode = "refresh";  // refresh (replace the destination's data) | copy (into an empty one) | merge | move
    JobSide source, destination;
    // In the order they run, check first (added when the file leaves it out). When the file has no
    // `steps`: refresh = check copy anonymise verify, copy, merge and move = check copy verify; then config
    // when both sides have a config (not in merge) and files when both have a data directory.
    std::vector<JobStep> steps;
    JobCopy copy;
    JobAnonymise anonymise;
    JobConfig config;
    JobFiles files;
    JobMove move;
    std::string merge_rules;       // merge mode: a rules file like mappings/merge.yaml, or ""
    std::string lock;              // lock file path; "" = default_lock_path(name) (run_lock.h)
    std::string summary;           // JSON summary path, or ""
    std::string report = "mmmove-report.jsonl";
    bool force = false;            // allow a destination that looks like the source (same SiteURL or database)

    bool has(JobStep step) const;
};

// Rules across keys, checked by parse_job:
// - every job has the step copy (in merge mode: the merge);
// - anonymise needs anonymise.key_env or key_file; passwords: test-password needs test_password_env or
//   test_password_file; an `anonymise:` section without the anonymise step is refused (the copy would
//   carry real data while the file reads as if it did not), as are `config:` and `files:` sections
//   without their steps, and merge_rules outside mode merge;
// - config needs both sides' config (or databases given as .json paths); files needs both sides' data;
// - mode move refuses anonymise;
// - mode merge refuses anonymise, config (the destination is a live instance whose settings stay its
//   own), copy.create_schema, copy.lower_case_tables and files.remove_extra (its files step is the
//   merge's file join: nothing replaced, nothing deleted); lower_case_tables needs create_schema.

// Reads and checks a job file. load_job first refuses a job file, or a merge_rules file it names, that
// an account other than root and the running one could change (core/trusted_path.h), as cron and sudo
// refuse such files: the job decides which files root reads as secrets and writes. parse_job reads text;
// `env` looks up ${NAME} (the process environment in production, a map in tests; null = the process
// environment). Both throw Error(ExitCode::bad_input) naming the file (and the line and key).
Job load_job(const std::string& path);
Job parse_job(const std::string& text, const std::string& origin, const std::map<std::string, std::string>* env = nullptr);

}  // namespace mmmove
