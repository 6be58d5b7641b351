#include "job/job_file.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <set>

#include "catalog/references.h"
#include "core/error.h"
#include "core/safe_file.h"
#include "core/trusted_path.h"
#include "db/data_source.h"
#include "job/job_rules.h"
#include "job/job_yaml.h"

namespace mmmove {
namespace {

constexpr std::pair<JobStep, const char*> step_names[] = {
    {JobStep::check, "check"},   {JobStep::copy, "copy"},     {JobStep::anonymise, "anonymise"},
    {JobStep::verify, "verify"}, {JobStep::config, "config"}, {JobStep::files, "files"},
};

const std::string password_hint =
    "unknown key: passwords never sit in a job file. Name the environment variable holding it with "
    "password_env, or the file holding it with password_file.";

bool ends_with(const std::string& s, const std::string& end) {
    return s.size() >= end.size() && s.compare(s.size() - end.size(), end.size(), end) == 0;
}

// A database given as a path is Mattermost's config.json (as --from and --to read it).
bool is_config_path(const std::string& database) {
    std::error_code ec;
    return ends_with(database, ".json") || std::filesystem::is_regular_file(database, ec);
}

// A `*_env` key names a variable; `${NAME}` there would paste the secret itself where a name belongs
// (and into any message about it).
std::string variable_name(const JobReader& r, const JobValue& v) {
    if (JobReader::uses_variable(v))
        r.fail(v, "names the variable itself: write " + v.key.substr(v.key.rfind('.') + 1) + ": NAME, without ${ }.");
    std::string name = r.text(v);
    if (!is_variable_name(name)) r.fail(v, "\"" + name + "\" is not a variable name (letters, digits and _, not starting with a digit).");
    return name;
}

// A DSN is checked now, so its mistakes are reported with their line, and refused when the file itself
// (not a variable) holds its password.
void check_database(const JobReader& r, const JobValue& v, const std::string& database, Side side) {
    if (is_config_path(database)) return;
    DataSource ds;
    try {
        ds = parse_data_source(database, side);
    } catch (const Error& e) {
        r.fail(v, e.what());
    }
    if (!ds.password.empty() && !JobReader::uses_variable(v))
        r.fail(v, "the DSN holds a password, which a job file must not: remove it from the DSN and name the variable "
                  "holding it with password_env, or the file with password_file.");
}

JobSide read_side(const JobReader& r, const JobValue& v, Side side) {
    static const std::map<std::string, std::string> hints = {
        {"password", password_hint}, {"pass", password_hint}, {"passwd", password_hint},
        {"dsn", "unknown key: write the DSN (or the path of config.json) as database."},
        {"datasource", "unknown key: write the DSN (or the path of config.json) as database."},
    };
    if (!v.node || v.node.IsNull()) r.fail(v, "has no value; it needs at least database: (a DSN or a config.json path).");
    JobFields f = r.fields(v, {"database", "password_env", "password_file", "config", "data"}, hints);
    auto database = f.find("database");
    if (database == f.end())
        r.fail(v, "database is missing; write the DSN (without its password) or the path of the server's config.json.");
    JobSide s;
    s.database = r.text(database->second);
    check_database(r, database->second, s.database, side);
    if_present(f, "password_env", [&](const JobValue& x) { s.password_env = variable_name(r, x); });
    if_present(f, "password_file", [&](const JobValue& x) { s.password_file = r.text(x); });
    if (!s.password_env.empty() && !s.password_file.empty())
        r.fail(f["password_file"], "give password_env or password_file, not both.");
    if_present(f, "config", [&](const JobValue& x) { s.config = r.text(x); });
    if_present(f, "data", [&](const JobValue& x) { s.data = r.text(x); });
    if (s.config.empty() && ends_with(s.database, ".json")) s.config = s.database;
    return s;
}

std::vector<JobStep> read_steps(const JobReader& r, const JobValue& v) {
    std::set<JobStep> chosen;
    for (const JobValue& item : r.items(v)) {
        if (item.node.IsScalar() && item.node.Scalar() == "merge")
            r.fail(item, "there is no step merge: with mode: merge, the step copy does the merge.");
        std::string name = r.choice(item, {"check", "copy", "anonymise", "verify", "config", "files"});
        JobStep step = JobStep::check;
        for (const auto& [s, n] : step_names)
            if (name == n) step = s;
        if (!chosen.insert(step).second) r.fail(item, name + " is listed twice; keep one.");
    }
    chosen.insert(JobStep::check);  // a job never writes before the check has passed
    return {chosen.begin(), chosen.end()};  // JobStep's order is the order steps run in
}

// Without `steps`: what the mode does, plus config and files when both sides say where they are.
std::vector<JobStep> default_steps(const Job& job) {
    std::vector<JobStep> steps = {JobStep::check, JobStep::copy};
    if (job.mode == "refresh") steps.push_back(JobStep::anonymise);
    steps.push_back(JobStep::verify);
    if (job.mode != "merge" && !job.source.config.empty() && !job.destination.config.empty()) steps.push_back(JobStep::config);
    if (!job.source.data.empty() && !job.destination.data.empty()) steps.push_back(JobStep::files);
    return steps;
}

JobCopy read_copy(const JobReader& r, const JobValue& v) {
    JobFields f = r.fields(v, {"jobs", "chunk_rows", "create_schema", "lower_case_tables", "skip_tables", "on_overlong",
                               "on_invalid_json", "on_refused_value", "incremental", "allow_other_sessions"});
    JobCopy c;
    if_present(f, "jobs", [&](const JobValue& x) { c.jobs = static_cast<unsigned>(r.number(x, 0, 1024)); });
    if_present(f, "chunk_rows", [&](const JobValue& x) { c.chunk_rows = r.number(x, 1, 1000000000); });
    if_present(f, "create_schema", [&](const JobValue& x) { c.create_schema = r.boolean(x); });
    if_present(f, "lower_case_tables", [&](const JobValue& x) { c.lower_case_tables = r.boolean(x); });
    if_present(f, "incremental", [&](const JobValue& x) { c.incremental = r.boolean(x); });
    if_present(f, "allow_other_sessions", [&](const JobValue& x) { c.allow_other_sessions = r.boolean(x); });
    if_present(f, "skip_tables", [&](const JobValue& x) { c.skip_tables = r.texts(x); });
    if_present(f, "on_overlong", [&](const JobValue& x) { c.on_overlong = r.choice(x, {"stop", "truncate"}); });
    if_present(f, "on_invalid_json", [&](const JobValue& x) { c.on_invalid_json = r.choice(x, {"stop", "repair"}); });
    if_present(f, "on_refused_value",
               [&](const JobValue& x) { c.on_refused_value = r.choice(x, {"stop", "repair", "skip-row"}); });
    return c;
}

std::vector<std::string> read_json_paths(const JobReader& r, const JobValue& v) {
    std::vector<std::string> paths;
    for (const JobValue& item : r.items(v)) {
        std::string path = r.text(item);
        try {
            parse_json_path(path);
        } catch (const Error& e) {
            r.fail(item, std::string(e.what()) + " Write members as a.b, any member as *, each element of a list as [].");
        }
        paths.push_back(path);
    }
    if (paths.empty()) r.fail(v, "is empty; list the JSON members to keep, or remove keep_paths.");
    return paths;
}

AnonymiseOverride read_column(const JobReader& r, const JobValue& v) {
    JobFields f = r.fields(v, {"table", "column", "kind", "paths", "keep_paths"});
    for (const char* needed : {"table", "column", "kind"})
        if (!f.count(needed)) r.fail(v, std::string("has no ") + needed + "; each entry needs table, column and kind.");
    AnonymiseOverride c;
    c.table = r.text(f["table"]);
    c.column = r.text(f["column"]);
    c.kind = r.choice(f["kind"], {"username", "email", "person_name", "person_detail", "free_text", "secret", "ip_address",
                                  "json_text", "file_name", "url", "password", "cleared", "keep"});
    // JSON columns are masked deny by default: a list of members to mask no longer means anything, and
    // reading it as members to keep would turn a job's intent around.
    if_present(f, "paths", [&](const JobValue& x) {
        r.fail(x, "is no longer read: every string in a JSON column is masked unless mappings/anonymise.yaml "
                  "(json_keep) keeps its member. List members to copy unmasked under keep_paths instead.");
    });
    if_present(f, "keep_paths", [&](const JobValue& x) {
        if (c.kind != "json_text") r.fail(x, "keep_paths are read only with kind: json_text.");
        c.keep_paths = read_json_paths(r, x);
    });
    return c;
}

std::vector<AnonymiseOverride> read_columns(const JobReader& r, const JobValue& v) {
    std::vector<AnonymiseOverride> out;
    std::map<std::string, std::string> seen;  // lower-case table.column → the entry's key
    for (const JobValue& item : r.items(v)) {
        AnonymiseOverride c = read_column(r, item);
        std::string id = c.table + "." + c.column;
        std::transform(id.begin(), id.end(), id.begin(), [](unsigned char ch) { return std::tolower(ch); });
        if (auto earlier = seen.find(id); earlier != seen.end())
            r.fail(item, c.table + "." + c.column + " is already given in " + earlier->second + "; keep one.");
        seen[id] = item.key;
        out.push_back(std::move(c));
    }
    return out;
}

JobAnonymise read_anonymise(const JobReader& r, const JobValue& v) {
    static const std::string secret_hint =
        "unknown key: the key never sits in a job file. Name the environment variable holding it with key_env, "
        "or the file holding it with key_file.";
    static const std::map<std::string, std::string> hints = {
        {"key", secret_hint}, {"secret", secret_hint},
        {"test_password", "unknown key: the test password never sits in a job file. Name the variable holding it with "
                          "test_password_env, or the file with test_password_file."},
    };
    JobFields f = r.fields(v, {"key_env", "key_file", "passwords", "test_password_env", "test_password_file", "messages",
                               "columns", "drop_rows", "keep_rows", "keep_tables"}, hints);
    JobAnonymise a;
    if_present(f, "key_env", [&](const JobValue& x) { a.key_env = variable_name(r, x); });
    if_present(f, "key_file", [&](const JobValue& x) { a.key_file = r.text(x); });
    if_present(f, "passwords", [&](const JobValue& x) { a.passwords = r.choice(x, {"disable", "test-password"}); });
    if_present(f, "test_password_env", [&](const JobValue& x) { a.test_password_env = variable_name(r, x); });
    if_present(f, "test_password_file", [&](const JobValue& x) { a.test_password_file = r.text(x); });
    if_present(f, "messages", [&](const JobValue& x) { a.messages = r.choice(x, {"scramble", "replace", "keep"}); });
    if_present(f, "columns", [&](const JobValue& x) { a.columns = read_columns(r, x); });
    if_present(f, "drop_rows", [&](const JobValue& x) { a.drop_rows = r.texts(x); });
    if_present(f, "keep_rows", [&](const JobValue& x) { a.keep_rows = r.texts(x); });
    if_present(f, "keep_tables", [&](const JobValue& x) { a.keep_tables = r.texts(x); });
    return a;
}

// "ServiceSettings.SiteURL": names of letters, digits and _ joined by dots.
bool is_setting_path(const std::string& path) {
    if (path.empty() || path.front() == '.' || path.back() == '.' || path.find("..") != std::string::npos) return false;
    return std::all_of(path.begin(), path.end(),
                       [](char c) { return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.'; });
}

JobConfig read_config(const JobReader& r, const JobValue& v) {
    JobFields f = r.fields(v, {"keep", "email", "push", "outgoing_webhooks", "keep_site_url", "search"});
    JobConfig c;
    if_present(f, "keep", [&](const JobValue& x) {
        for (const JobValue& item : r.items(x)) {
            std::string path = r.text(item);
            if (!is_setting_path(path))
                r.fail(item, "\"" + path + "\" is not a setting's dotted path, like ServiceSettings.SiteURL.");
            c.keep.push_back(path);
        }
    });
    if_present(f, "email", [&](const JobValue& x) { c.email = r.boolean(x); });
    if_present(f, "push", [&](const JobValue& x) { c.push = r.boolean(x); });
    if_present(f, "outgoing_webhooks", [&](const JobValue& x) { c.outgoing_webhooks = r.boolean(x); });
    if_present(f, "keep_site_url", [&](const JobValue& x) { c.keep_site_url = r.boolean(x); });
    if_present(f, "search", [&](const JobValue& x) { c.search = r.boolean(x); });
    return c;
}

JobFiles read_files(const JobReader& r, const JobValue& v) {
    JobFields f = r.fields(v, {"checksum", "remove_extra", "keep_contents"});
    JobFiles files;
    if_present(f, "keep_contents", [&](const JobValue& x) { files.keep_contents = r.boolean(x); });
    if_present(f, "checksum", [&](const JobValue& x) { files.checksum = r.boolean(x); });
    if_present(f, "remove_extra", [&](const JobValue& x) { files.remove_extra = r.boolean(x); });
    return files;
}

// A command the job runs (move.stop, move.start): an argv list, its program an absolute path, so no
// shell and no PATH lookup decides what runs.
std::vector<std::string> read_command(const JobReader& r, const JobValue& v) {
    std::vector<std::string> argv = r.texts(v);
    if (argv.empty() || argv[0].empty() || argv[0][0] != '/')
        r.fail(v, "is a command as a list: its program's absolute path first, then its arguments, e.g. "
                  "[/usr/bin/systemctl, stop, mattermost]. No shell runs it.");
    return argv;
}

JobMove read_move(const JobReader& r, const JobValue& v) {
    JobFields f = r.fields(v, {"until_changed_rows", "max_passes", "stop", "start", "follow", "stop_timeout_seconds",
                                 "start_timeout_seconds"});
    JobMove m;
    if_present(f, "until_changed_rows", [&](const JobValue& x) { m.until_changed_rows = r.number(x, 0, 1000000000000); });
    if_present(f, "max_passes", [&](const JobValue& x) { m.max_passes = static_cast<unsigned>(r.number(x, 1, 100)); });
    if_present(f, "follow", [&](const JobValue& x) { m.follow = r.boolean(x); });
    if_present(f, "stop_timeout_seconds", [&](const JobValue& x) { m.stop_timeout_seconds = static_cast<unsigned>(r.number(x, 1, 86400)); });
    if_present(f, "start_timeout_seconds", [&](const JobValue& x) { m.start_timeout_seconds = static_cast<unsigned>(r.number(x, 1, 86400)); });
    if_present(f, "stop", [&](const JobValue& x) { m.stop = read_command(r, x); });
    if_present(f, "start", [&](const JobValue& x) { m.start = read_command(r, x); });
    return m;
}

// The name becomes part of the lock file's and the summary's names: nothing that could leave a folder.
std::string read_name(const JobReader& r, const JobValue& v) {
    std::string name = r.text(v);
    bool ok = name.size() <= 64 && std::isalnum(static_cast<unsigned char>(name[0])) &&
              std::all_of(name.begin(), name.end(), [](char c) {
                  return std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' || c == '.';
              });
    if (!ok)
        r.fail(v, "\"" + name + "\" is not a job name: up to 64 letters, digits, -, _ and ., starting with a letter or digit.");
    return name;
}

// Line `line` (1-based) of `text`, or "".
std::string line_at(const std::string& text, int line) {
    size_t start = 0;
    for (int i = 1; i < line && start != std::string::npos; ++i) {
        start = text.find('\n', start);
        if (start != std::string::npos) ++start;
    }
    if (start == std::string::npos || start >= text.size()) return "";
    return text.substr(start, text.find('\n', start) - start);
}

YAML::Node load_yaml(const JobReader& r, const std::string& text) {
    YAML::Node root;
    try {
        root = YAML::Load(text);
    } catch (const YAML::Exception& e) {
        int line = e.mark.line >= 0 ? e.mark.line + 1 : 1;
        // Inside [ ] or { }, the { of an unquoted ${NAME} opens a mapping: the commonest surprise.
        bool variable = (line_at(text, line) + line_at(text, line - 1)).find("${") != std::string::npos;
        r.fail(line, "", "is not valid YAML: " + e.msg + ". Check the indentation and quoting there" +
                             (variable ? " (inside [ ] or { }, quote a value holding ${NAME}: \"${NAME}\")." : "."));
    }
    if (!root || root.IsNull())
        r.fail(1, "", "the job file is empty; it needs at least job:, source: and destination: (see the examples).");
    if (!root.IsMap()) r.fail(1, "", "a job file is a mapping of keys (job:, mode:, source:…), not a list or a single value.");
    return root;
}

// A move carries production as it is, onto the server that replaces it: its files step deletes only
// with files.remove_extra (as `mmmove files sync` only with --delete), and its config step leaves email,
// push and outgoing webhooks as the source has them (a refresh turns them off on staging), and with the
// files step the destination keeps its FileSettings.Directory.
void move_defaults(const JobReader& r, Job& job) {
    if (!r.line_of("files.remove_extra")) job.files.remove_extra = false;
    if (!r.line_of("config.email")) job.config.email = true;
    if (!r.line_of("config.push")) job.config.push = true;
    if (!r.line_of("config.outgoing_webhooks")) job.config.outgoing_webhooks = true;
    // The files step put the files in destination.data: the new server reads them where its own config says.
    const std::string dir = "FileSettings.Directory";
    if (job.has(JobStep::files) && std::find(job.config.keep.begin(), job.config.keep.end(), dir) == job.config.keep.end())
        job.config.keep.push_back(dir);
}

void read_top(const JobReader& r, const JobFields& f, Job& job) {
    if_present(f, "mode", [&](const JobValue& x) { job.mode = r.choice(x, {"refresh", "copy", "merge", "move"}); });
    if_present(f, "source", [&](const JobValue& x) { job.source = read_side(r, x, Side::source); });
    if_present(f, "destination", [&](const JobValue& x) { job.destination = read_side(r, x, Side::destination); });
    if_present(f, "copy", [&](const JobValue& x) { job.copy = read_copy(r, x); });
    if_present(f, "anonymise", [&](const JobValue& x) { job.anonymise = read_anonymise(r, x); });
    if_present(f, "config", [&](const JobValue& x) { job.config = read_config(r, x); });
    if_present(f, "files", [&](const JobValue& x) { job.files = read_files(r, x); });
    if_present(f, "move", [&](const JobValue& x) { job.move = read_move(r, x); });
    if_present(f, "merge_rules", [&](const JobValue& x) { job.merge_rules = r.text(x); });
    if_present(f, "lock", [&](const JobValue& x) { job.lock = r.text(x); });
    if_present(f, "summary", [&](const JobValue& x) { job.summary = r.text(x); });
    if_present(f, "report", [&](const JobValue& x) { job.report = r.text(x); });
    if_present(f, "force", [&](const JobValue& x) { job.force = r.boolean(x); });
    auto steps = f.find("steps");
    job.steps = steps == f.end() ? default_steps(job) : read_steps(r, steps->second);
}

}  // namespace

const char* job_step_name(JobStep step) {
    for (const auto& [s, name] : step_names)
        if (s == step) return name;
    return "?";
}

bool Job::has(JobStep step) const { return std::find(steps.begin(), steps.end(), step) != steps.end(); }

Job parse_job(const std::string& text, const std::string& origin, const std::map<std::string, std::string>* env) {
    JobReader r(origin, env);
    static const std::map<std::string, std::string> hints = {
        {"name", "unknown key: the job's name is written job: NAME."},
        {"password", password_hint},
        {"merge", "unknown key: a merge is written mode: merge (merge_rules: names its rules file)."},
    };
    JobFields f = r.fields(JobValue{load_yaml(r, text), "", 1},
                           {"job", "mode", "source", "destination", "steps", "copy", "anonymise", "config", "files",
                            "merge_rules", "move", "lock", "summary", "report", "force"}, hints);
    for (const char* needed : {"job", "source", "destination"})
        if (!f.count(needed))
            r.fail(1, needed, std::string("is missing; a job file needs job: (its name), source: and destination:."));
    Job job;
    job.file = origin;
    job.name = read_name(r, f["job"]);
    read_top(r, f, job);
    check_job_rules(r, job);
    if (job.mode == "merge") job.files.remove_extra = false;  // a merge's files join the destination's: nothing is deleted
    if (job.mode == "move") move_defaults(r, job);
    return job;
}

Job load_job(const std::string& path) {
    // Whoever can change the job decides what root reads as a password and which files it writes.
    require_trusted_file(path, "job file");
    Job job = parse_job(read_input_file(path, "job file", 1 << 20), path);
    if (!job.merge_rules.empty()) require_trusted_file(job.merge_rules, "merge rules file (merge_rules)");
    // A command root runs is trusted as the job file is (and checked again just before it runs).
    if (!job.move.stop.empty()) require_trusted_file(job.move.stop[0], "command move.stop");
    if (!job.move.start.empty()) require_trusted_file(job.move.start[0], "command move.start");
    return job;
}

}  // namespace mmmove
