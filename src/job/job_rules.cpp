#include "job/job_rules.h"

#include <algorithm>
#include <cctype>

namespace mmmove {
namespace {

// The line of the first of `keys` the file has: a rule about a key the file leaves out points at the
// key that made it needed.
int where(const JobReader& r, std::initializer_list<const char*> keys) {
    for (const char* key : keys)
        if (int line = r.line_of(key)) return line;
    return 1;
}

void refuse(const JobReader& r, const char* key, std::initializer_list<const char*> near, const std::string& problem) {
    r.fail(where(r, near), key, problem);
}

// A section whose step does not run would be read and ignored; for anonymise that means real data
// where the file reads as if it were masked.
void check_sections(const JobReader& r, const Job& job) {
    if (r.line_of("anonymise") && !job.has(JobStep::anonymise))
        refuse(r, "anonymise", {"anonymise"},
               "the steps do not include anonymise, so this job would copy real data: add anonymise to steps, or remove "
               "this section.");
    if (r.line_of("config") && !job.has(JobStep::config))
        refuse(r, "config", {"config"}, "the steps do not include config: add config to steps, or remove this section.");
    if (r.line_of("files") && !job.has(JobStep::files))
        refuse(r, "files", {"files"}, "the steps do not include files: add files to steps, or remove this section.");
    if (!job.merge_rules.empty() && job.mode != "merge")
        refuse(r, "merge_rules", {"merge_rules"}, "only mode: merge reads merge rules; set it, or remove this key.");
}

void check_secret_sources(const JobReader& r, const JobAnonymise& a) {
    if (!a.key_env.empty() && !a.key_file.empty())
        refuse(r, "anonymise.key_file", {"anonymise.key_file"}, "give key_env or key_file, not both.");
    if (!a.test_password_env.empty() && !a.test_password_file.empty())
        refuse(r, "anonymise.test_password_file", {"anonymise.test_password_file"},
               "give test_password_env or test_password_file, not both.");
    if (a.passwords == "test-password") return;
    for (const char* key : {"anonymise.test_password_env", "anonymise.test_password_file"})
        if (r.line_of(key))
            r.fail(r.line_of(key), key, "is read only with passwords: test-password; set that, or remove this key.");
}

bool same_table(const std::string& a, const std::string& b) {
    return std::equal(a.begin(), a.end(), b.begin(), b.end(), [](char x, char y) {
        return std::tolower(static_cast<unsigned char>(x)) == std::tolower(static_cast<unsigned char>(y));
    });
}

void check_anonymise(const JobReader& r, const Job& job) {
    const JobAnonymise& a = job.anonymise;
    check_secret_sources(r, a);
    for (const std::string& kept : a.keep_rows)
        for (const std::string& dropped : a.drop_rows)
            if (same_table(kept, dropped))
                refuse(r, "anonymise.keep_rows", {"anonymise.keep_rows"},
                       kept + " is also in drop_rows; keep it in one of the two.");
    for (const std::string& kept : a.keep_tables)
        for (const std::string& dropped : a.drop_rows)
            if (same_table(kept, dropped))
                refuse(r, "anonymise.keep_tables", {"anonymise.keep_tables"},
                       kept + " is also in drop_rows; keep it in one of the two.");
    if (!job.has(JobStep::anonymise)) return;
    if (job.mode == "merge")
        refuse(r, "steps", {"steps", "mode"},
               "mode merge cannot anonymise: the merged rows join a live Mattermost. Remove anonymise from steps.");
    if (a.key_env.empty() && a.key_file.empty())
        refuse(r, "anonymise", {"anonymise", "steps", "mode"},
               std::string("the anonymise step needs its key: key_env (the variable holding it) or key_file (the file "
                           "holding it)") + (r.line_of("steps") ? "." : "; a refresh anonymises unless steps: says otherwise."));
    if (a.passwords == "test-password" && a.test_password_env.empty() && a.test_password_file.empty())
        refuse(r, "anonymise.passwords", {"anonymise.passwords"},
               "test-password needs test_password_env or test_password_file (the password every user gets).");
}

void check_config_and_files(const JobReader& r, const Job& job) {
    if (job.has(JobStep::config)) {
        if (job.mode == "merge")
            refuse(r, "steps", {"steps"},
                   "mode merge keeps the destination's settings: remove config from steps (mmmove config merge can still "
                   "be run by hand).");
        for (auto [side, key] : {std::pair{&job.source, "source.config"}, std::pair{&job.destination, "destination.config"}})
            if (side->config.empty())
                refuse(r, key, {"steps", "source"},
                       "the config step needs both servers' settings: set source.config and destination.config (each "
                       "config.json, or configuration DSN), or give the databases as config.json paths.");
    }
    if (job.mode == "merge" && r.line_of("files.remove_extra"))
        refuse(r, "files.remove_extra", {"files.remove_extra"},
               "mode merge never deletes a destination file (the source's files join the destination's through the "
               "merge's ID map, none replaced): remove this key.");
    if (r.line_of("files.keep_contents") && !job.has(JobStep::anonymise))
        refuse(r, "files.keep_contents", {"files.keep_contents"},
               "only an anonymised refresh writes placeholders instead of the files' contents; without the anonymise step "
               "the files are copied as they are: remove this key.");
    if (job.has(JobStep::files)) {
        for (auto [side, key] : {std::pair{&job.source, "source.data"}, std::pair{&job.destination, "destination.data"}})
            if (side->data.empty())
                refuse(r, key, {"steps", "source"},
                       "the files step needs both data directories (FileSettings.Directory): set source.data and "
                       "destination.data.");
    }
}

void check_copy(const JobReader& r, const Job& job) {
    if (!job.has(JobStep::copy))
        refuse(r, "steps", {"steps"}, "every job copies: add copy to steps (with mode: merge, copy is the merge).");
    if (job.mode == "merge" && job.copy.create_schema)
        refuse(r, "copy.create_schema", {"copy.create_schema"},
               "mode merge writes into an existing Mattermost, whose schema it keeps: remove create_schema.");
    if (job.copy.incremental && job.mode != "refresh")
        refuse(r, "copy.incremental", {"copy.incremental", "mode"},
               "only mode refresh refreshes incrementally (mode move syncs by itself): remove this key.");
    if (job.copy.lower_case_tables && !job.copy.create_schema)
        refuse(r, "copy.lower_case_tables", {"copy.lower_case_tables"},
               "names the tables create_schema makes on a MySQL destination: set create_schema: true, or remove this key "
               "(a Bitnami source's lower-case tables are read as they are).");
}

// A move keeps the source's data as it is (no anonymise) and is proven by the final sync; its files
// are synced with each pass and once more in the downtime, its config merged before the start.
void check_move(const JobReader& r, const Job& job) {
    if (job.mode != "move") {
        if (r.line_of("move")) refuse(r, "move", {"move"}, "only mode: move reads a move section; set it, or remove this key.");
        return;
    }
    if (job.has(JobStep::anonymise))
        refuse(r, "steps", {"steps", "mode"},
               "mode move carries production's data as it is onto the server that replaces it: remove anonymise from steps.");
}

}  // namespace

void check_job_rules(const JobReader& r, const Job& job) {
    check_copy(r, job);
    check_sections(r, job);
    check_anonymise(r, job);
    check_config_and_files(r, job);
    check_move(r, job);
}

}  // namespace mmmove
