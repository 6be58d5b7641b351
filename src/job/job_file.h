#pragma once
// A job file (`mmmove run JOB.yaml`): what an unattended run does, as YAML. Every value may be written
// ${NAME} (or contain it) to take it from the environment, so one file serves several hosts; an unset
// variable is an error naming it. Passwords and the anonymisation key never sit in the file: it names
// the environment variable or the file that holds them.
//
// Unknown keys, wrong types, missing required keys and bad values are refused with the file, the line
// and the key ("config/refresh-test.yaml:12: copy.jobs: expected a whole number, got \"two\"").
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace mmmove {

// One side of the job: its database and, for the config and files steps, its config.json and data
// directory.
struct JobSide {
    std::string database;       // a DSN (password left out) or a config.json path
    std::string password_env;   // the variable holding the database password, or ""
    std::string password_file;  // the file holding it, or ""
    std::string config;         // config.json path or configuration DSN; "" = `database` when that is a config.json
    std::string data;           // the data directory (FileSettings.Directory), or ""
};

enum class JobStep { check, copy, anonymise, verify, config, files };
const char* job_step_name(JobStep step);

// A column a job treats differently from mappings/anonymise.yaml: another kind, or `keep` (left alone).
struct AnonymiseOverride {
    std::string table, column;
    std::string kind;                // an AnonKind name, or "keep"
    std::vector<std::string> paths;  // json_text only
};

struct JobAnonymise {
    std::string key_env, key_file;                  // the HMAC key (required when the job anonymises)
    std::string passwords = "disable";              // disable | test-password
    std::string test_password_env, test_password_file;  // passwords: test-password
    std::string messages = "scramble";              // scramble | keep (mentions are masked either way)
    std::vector<AnonymiseOverride> columns;
    std::vector<std::string> drop_rows;             // more tables whose rows are not copied at all
    std::vector<std::string> keep_rows;             // tables the model drops that this job copies (masked)
};

struct JobCopy {
    unsigned jobs = 0;            // 0 = number of cores
    uint64_t chunk_rows = 200000;
    bool create_schema = false;   // an empty destination gets the source's schema from mmmove's model
    bool lower_case_tables = false;
    std::vector<std::string> skip_tables;
    std::string on_overlong = "stop", on_invalid_json = "stop", on_refused_value = "stop";
};

struct JobConfig {
    std::vector<std::string> keep;        // more settings kept from the destination (dotted paths)
    bool email = false;                   // leave outgoing email as the source has it (default: off)
    bool push = false;                    // push notifications (default: off)
    bool outgoing_webhooks = false;       // outgoing webhooks (default: off)
    bool keep_site_url = true;            // the destination keeps its own ServiceSettings.SiteURL
};

struct JobFiles {
    bool checksum = false;
    bool remove_extra = true;  // a refresh: files the source no longer has leave the destination
};

struct Job {
    std::string file;     // where it was read from, for messages
    std::string name;     // `job:`; names the lock and the summary
    std::string mode = "refresh";  // refresh (replace the destination's data) | copy (into an empty one) | merge
    JobSide source, destination;
    std::vector<JobStep> steps;    // in the order they run (always check first)
    JobCopy copy;
    JobAnonymise anonymise;
    JobConfig config;
    JobFiles files;
    std::string merge_rules;       // merge mode: a rules file like mappings/merge.yaml, or ""
    std::string lock;              // lock file path; "" = /run/lock/mmmove-<name>.lock, else /tmp/…
    std::string summary;           // JSON summary path, or ""
    std::string report = "mmmove-report.jsonl";
    bool force = false;            // allow a destination that looks like the source (same SiteURL or database)

    bool has(JobStep step) const;
};

// Reads and checks a job file; `env` looks up ${NAME} (the process environment in production, a map
// in tests; null = the process environment). Throws Error(ExitCode::bad_input) naming the file, line and key.
Job load_job(const std::string& path);
Job parse_job(const std::string& text, const std::string& origin, const std::map<std::string, std::string>* env = nullptr);

}  // namespace mmmove
