// Job files (`mmmove run JOB.yaml`): what they parse to, the ${NAME} expansion, and the refusals, each
// naming the file, the line and the key.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <fstream>

#include "../common/test_paths.h"
#include "core/error.h"
#include "job/job_file.h"

using namespace mmmove;
using Env = std::map<std::string, std::string>;

namespace {

const Env base_env = {
    {"MMMOVE_SOURCE", "postgres://mmuser@prod-db:5432/mattermost?sslmode=require"},
    {"MMMOVE_DEST", "postgres://mmuser@test-db:5432/mattermost?sslmode=require"},
    {"MMMOVE_ANON_KEY", "0123456789abcdef0123456789abcdef"},
};

// A job whose sides come from the variables, followed by `rest`.
std::string with_sides(const std::string& rest) {
    return "job: nightly\nsource:\n  database: ${MMMOVE_SOURCE}\ndestination:\n  database: ${MMMOVE_DEST}\n" + rest;
}

Job parse(const std::string& text, const Env& env = base_env) { return parse_job(text, "jobs/test.yaml", &env); }

std::string refusal(const std::string& text, const Env& env = base_env) {
    try {
        parse(text, env);
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        return e.what();
    }
    FAIL("the job was accepted:\n" << text);
    return "";
}

std::string temp_file(const std::string& name, const std::string& contents, mode_t mode) {
    std::string path = "/tmp/mmmove-job-test-" + std::to_string(getpid()) + "-" + name;
    ::unlink(path.c_str());
    std::ofstream(path) << contents;
    ::chmod(path.c_str(), mode);
    return path;
}

}  // namespace

TEST_CASE("a full job file parses to its fields", "[job]") {
    Job job = parse(R"(job: staging.refresh_1
mode: refresh
source:
  database: ${MMMOVE_SOURCE}
  password_env: PROD_PASSWORD
  config: /opt/mattermost/config/config.json
  data: /opt/mattermost/data
destination:
  database: /opt/mm-test/config/config.json
  password_file: /etc/mmmove/test.password
  data: /opt/mm-test/data
steps: [files, verify, copy, anonymise, config]
copy:
  jobs: 4
  chunk_rows: 50000
  create_schema: yes
  skip_tables: [Audits, Jobs]
  on_overlong: truncate
  on_invalid_json: repair
  on_refused_value: skip-row
anonymise:
  key_file: /etc/mmmove/anon.key
  passwords: test-password
  test_password_env: TEST_PASSWORD
  messages: keep
  columns:
    - {table: Users, column: Position, kind: keep}
    - table: Posts
      column: Props
      kind: json_text
      keep_paths: ["attachments[].author_icon", from_webhook]
  drop_rows: [Audits]
  keep_rows: [Sessions]
  keep_tables: [focalboard_blocks]
config:
  keep: [ServiceSettings.ListenAddress, PluginSettings.Plugins]
  email: true
  push: false
  outgoing_webhooks: true
  keep_site_url: false
files:
  checksum: true
  remove_extra: false
lock: /run/lock/staging.lock
summary: /var/lib/mmmove/staging.json
report: staging-report.jsonl
force: true
)");
    CHECK(job.file == "jobs/test.yaml");
    CHECK(job.name == "staging.refresh_1");
    CHECK(job.mode == "refresh");
    CHECK(job.source.database == base_env.at("MMMOVE_SOURCE"));
    CHECK(job.source.password_env == "PROD_PASSWORD");
    CHECK(job.source.config == "/opt/mattermost/config/config.json");
    CHECK(job.source.data == "/opt/mattermost/data");
    CHECK(job.destination.password_file == "/etc/mmmove/test.password");
    CHECK(job.destination.config == "/opt/mm-test/config/config.json");  // the database's config.json
    // Run order, check added, whatever order the file lists them in.
    CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::anonymise, JobStep::verify,
                                            JobStep::config, JobStep::files});
    CHECK(job.copy.jobs == 4);
    CHECK(job.copy.chunk_rows == 50000);
    CHECK(job.copy.create_schema);
    CHECK(job.copy.skip_tables == std::vector<std::string>{"Audits", "Jobs"});
    CHECK(job.copy.on_overlong == "truncate");
    CHECK(job.copy.on_invalid_json == "repair");
    CHECK(job.copy.on_refused_value == "skip-row");
    CHECK(job.anonymise.key_file == "/etc/mmmove/anon.key");
    CHECK(job.anonymise.passwords == "test-password");
    CHECK(job.anonymise.test_password_env == "TEST_PASSWORD");
    CHECK(job.anonymise.messages == "keep");
    REQUIRE(job.anonymise.columns.size() == 2);
    CHECK(job.anonymise.columns[0].kind == "keep");
    CHECK(job.anonymise.columns[1].keep_paths == std::vector<std::string>{"attachments[].author_icon", "from_webhook"});
    CHECK(job.anonymise.drop_rows == std::vector<std::string>{"Audits"});
    CHECK(job.anonymise.keep_rows == std::vector<std::string>{"Sessions"});
    CHECK(job.anonymise.keep_tables == std::vector<std::string>{"focalboard_blocks"});
    CHECK(job.config.keep.size() == 2);
    CHECK((job.config.email && !job.config.push && job.config.outgoing_webhooks && !job.config.keep_site_url));
    CHECK((job.files.checksum && !job.files.remove_extra));
    CHECK(job.lock == "/run/lock/staging.lock");
    CHECK(job.summary == "/var/lib/mmmove/staging.json");
    CHECK(job.report == "staging-report.jsonl");
    CHECK(job.force);
    CHECK(job.has(JobStep::files));
    CHECK(std::string(job_step_name(JobStep::anonymise)) == "anonymise");
}

TEST_CASE("a job file leaves out what it does not change", "[job]") {
    SECTION("a refresh copies, anonymises and verifies") {
        Job job = parse(with_sides("anonymise:\n  key_env: MMMOVE_ANON_KEY\n"));
        CHECK(job.mode == "refresh");
        CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::anonymise, JobStep::verify});
        CHECK(job.copy.jobs == 0);
        CHECK(job.copy.chunk_rows == 200000);
        CHECK_FALSE(job.copy.create_schema);
        CHECK(job.copy.on_refused_value == "stop");
        CHECK(job.anonymise.passwords == "disable");
        CHECK(job.anonymise.messages == "scramble");
        CHECK(parse(with_sides("anonymise:\n  key_env: K\n  messages: replace\n")).anonymise.messages == "replace");
        CHECK(job.config.keep_site_url);
        CHECK_FALSE(job.config.email);
        CHECK(job.files.remove_extra);
        CHECK(job.report == "mmmove-report.jsonl");
        CHECK(job.lock.empty());
        CHECK(job.summary.empty());
        CHECK_FALSE(job.force);
    }
    SECTION("config and files join the steps when both sides say where they are") {
        Job job = parse("job: a\nmode: copy\nsource: {database: /a/config.json, data: /a/data}\n"
                        "destination: {database: /b/config.json, data: /b/data}\n");
        CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::verify, JobStep::config, JobStep::files});
        CHECK(job.source.config == "/a/config.json");
    }
    SECTION("a merge copies (merges) and verifies, and never takes the config step by default") {
        Job job = parse("job: m\nmode: merge\nsource: {database: /a/config.json}\ndestination: {database: /b/config.json}\n");
        CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::verify});
    }
    SECTION("check runs first even when the list leaves it out") {
        Job job = parse(with_sides("mode: copy\nsteps:\n  - verify\n  - copy\n"));
        CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::verify});
    }
}

TEST_CASE("${NAME} takes a value from the environment", "[job]") {
    Env env = base_env;
    env["DB_HOST"] = "db7";
    env["JOBS"] = "6";
    env["TRICKY"] = "${JOBS}";
    Job job = parse("job: x-${JOBS}\nmode: copy\nsource:\n  database: \"postgres://mm@${DB_HOST}:5432/mm\"\n"
                    "destination:\n  database: ${MMMOVE_DEST}\ncopy:\n  jobs: ${JOBS}\n"
                    "report: /tmp/$${literal}-${TRICKY}.jsonl\n",
                    env);
    CHECK(job.name == "x-6");
    CHECK(job.source.database == "postgres://mm@db7:5432/mm");
    CHECK(job.copy.jobs == 6);
    CHECK(job.report == "/tmp/${literal}-${JOBS}.jsonl");  // $${ is literal; a variable's value is not expanded again
}

TEST_CASE("an unset variable is refused with its name, the line and the key", "[job]") {
    Env env = base_env;
    env.erase("MMMOVE_DEST");
    std::string e = refusal(with_sides("mode: copy\n"), env);
    CHECK_THAT(e, Catch::StartsWith("jobs/test.yaml:5: destination.database: the environment variable MMMOVE_DEST is not set"));
    CHECK_THAT(e, Catch::Contains("export MMMOVE_DEST=") || Catch::Contains("Export MMMOVE_DEST="));
    env["MMMOVE_DEST"] = "";
    CHECK_THAT(refusal(with_sides("mode: copy\n"), env), Catch::Contains("MMMOVE_DEST is not set (or is empty)"));
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  jobs: ${1X}\n")),
               Catch::Contains("copy.jobs: \"${1X}\" is not a variable name"));
    CHECK_THAT(refusal(with_sides("mode: copy\nreport: a${B\n")), Catch::Contains("without a closing"));
}

TEST_CASE("unknown and repeated keys are refused with the file, line and key", "[job]") {
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  jobs: 2\n  job: 3\n")),
               Catch::StartsWith("jobs/test.yaml:9: copy.job: unknown key; did you mean jobs? copy takes: jobs, chunk_rows"));
    CHECK_THAT(refusal(with_sides("mode: copy\nfrobnicate: 1\n")),
               Catch::StartsWith("jobs/test.yaml:7: frobnicate: unknown key. A job file takes: job, mode,"));
    CHECK_THAT(refusal("job: a\nsource:\n  database: ${MMMOVE_SOURCE}\n  password: hunter2\ndestination: {database: x.json}\n"),
               Catch::StartsWith("jobs/test.yaml:4: source.password: unknown key: passwords never sit in a job file") &&
                   Catch::Contains("password_env") && !Catch::Contains("hunter2"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key: abc\n")),
               Catch::Contains("anonymise.key: unknown key: the key never sits"));
    CHECK_THAT(refusal(with_sides("mode: copy\nmode: merge\n")),
               Catch::StartsWith("jobs/test.yaml:7: mode: is given twice (first on line 6)"));
    CHECK_THAT(refusal("mode: copy\nsource: {database: a.json}\ndestination: {database: b.json}\n"),
               Catch::StartsWith("jobs/test.yaml:1: job: is missing"));
    CHECK_THAT(refusal("job: a\nsource:\n  config: /x.json\ndestination: {database: b.json}\n"),
               Catch::StartsWith("jobs/test.yaml:2: source: database is missing"));
}

TEST_CASE("values of the wrong type are refused", "[job]") {
    CHECK(refusal(with_sides("mode: copy\ncopy:\n  jobs: two\n")) ==
          "jobs/test.yaml:8: copy.jobs: expected a whole number, got \"two\"");
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  jobs: 5000\n")),
               Catch::Contains("copy.jobs: must be between 0 and 1024"));
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  create_schema: maybe\n")),
               Catch::Contains("copy.create_schema: expected true or false, got \"maybe\""));
    CHECK_THAT(refusal("job: a\nsource:\n  database: {host: db}\ndestination: {database: b.json}\n"),
               Catch::StartsWith("jobs/test.yaml:3: source.database: expected a single value, got a mapping"));
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  skip_tables: Audits\n")),
               Catch::Contains("copy.skip_tables: expected a list"));
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy: 4\n")), Catch::Contains("copy: expected a mapping"));
    CHECK_THAT(refusal(with_sides("mode: copy\nsummary:\n")), Catch::Contains("summary: has no value"));
    CHECK_THAT(refusal("job: ../etc\nsource: {database: a.json}\ndestination: {database: b.json}\n"),
               Catch::Contains("job: \"../etc\" is not a job name"));
    // A value from a variable is shown only when it cannot be a secret.
    Env env = base_env;
    env["JOBS"] = "user:pw@host";
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy:\n  jobs: ${JOBS}\n"), env),
               Catch::Contains("got the value of ${JOBS}") && !Catch::Contains("pw@host"));
}

TEST_CASE("a bad choice lists the allowed ones", "[job]") {
    CHECK(refusal(with_sides("mode: copy\ncopy:\n  on_overlong: cut\n")) ==
          "jobs/test.yaml:8: copy.on_overlong: expected one of stop, truncate; got \"cut\"");
    CHECK_THAT(refusal(with_sides("mode: backup\n")), Catch::Contains("mode: expected one of refresh, copy, merge"));
    CHECK_THAT(refusal(with_sides("mode: copy\nsteps: [check, copy, sync]\n")),
               Catch::Contains("steps[3]: expected one of check, copy, anonymise, verify, config, files"));
    CHECK_THAT(refusal(with_sides("mode: merge\nsteps: [merge]\n")), Catch::Contains("the step copy does the merge"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: K\n  columns:\n    - {table: Users, column: Email, kind: hash}\n")),
               Catch::Contains("anonymise.columns[1].kind: expected one of username, email,"));
}

TEST_CASE("malformed YAML is refused with its line", "[job]") {
    CHECK_THAT(refusal("job: a\nsteps: [check, copy\nmode: copy\n"), Catch::StartsWith("jobs/test.yaml:3: is not valid YAML"));
    CHECK_THAT(refusal("job: a\n  mode: copy\n"), Catch::StartsWith("jobs/test.yaml:2: is not valid YAML"));
    CHECK_THAT(refusal("job: a\nsource: {database: ${MMMOVE_SOURCE}}\n"),
               Catch::StartsWith("jobs/test.yaml:2: is not valid YAML") && Catch::Contains("quote a value holding ${NAME}"));
    CHECK_THAT(refusal(""), Catch::Contains("the job file is empty"));
    CHECK_THAT(refusal("- job: a\n"), Catch::Contains("a job file is a mapping"));
}

TEST_CASE("passwords never sit in the job file", "[job]") {
    CHECK_THAT(refusal("job: a\nmode: copy\nsource:\n  database: postgres://mm:secret@db/mm\ndestination: {database: b.json}\n"),
               Catch::StartsWith("jobs/test.yaml:4: source.database: the DSN holds a password") && !Catch::Contains("secret"));
    Env env = base_env;
    env["MMMOVE_SOURCE"] = "mm:secret@tcp(db:3306)/mm";  // from a variable: as private as a password file
    CHECK(parse(with_sides("mode: copy\n"), env).source.database == "mm:secret@tcp(db:3306)/mm");
    CHECK_THAT(refusal(with_sides("anonymise: {key_env: \"${MMMOVE_ANON_KEY}\"}\n")),
               Catch::Contains("anonymise.key_env: names the variable itself") && !Catch::Contains("0123456789abcdef"));
    CHECK_THAT(refusal("job: a\nmode: copy\nsource:\n  database: postgres://mm@db:70000/mm\ndestination: {database: b.json}\n"),
               Catch::Contains("source.database: The source DataSource has a port outside 1-65535"));
}

TEST_CASE("rules across keys", "[job]") {
    CHECK_THAT(refusal(with_sides("mode: copy\nsteps: [check, verify]\n")), Catch::Contains("steps: every job copies"));
    CHECK_THAT(refusal(with_sides("")), Catch::Contains("anonymise: the anonymise step needs its key") &&
                                            Catch::Contains("a refresh anonymises unless steps: says otherwise"));
    CHECK_THAT(refusal(with_sides("anonymise: {key_env: A, key_file: /k}\n")), Catch::Contains("not both"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  passwords: test-password\n")),
               Catch::StartsWith("jobs/test.yaml:8: anonymise.passwords: test-password needs test_password_env"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  test_password_env: P\n")),
               Catch::Contains("anonymise.test_password_env: is read only with passwords: test-password"));
    CHECK_THAT(refusal(with_sides("steps: [copy, verify]\nanonymise:\n  key_env: A\n")),
               Catch::StartsWith("jobs/test.yaml:7: anonymise: the steps do not include anonymise, so this job would "
                                 "copy real data"));
    CHECK_THAT(refusal(with_sides("mode: copy\nsteps: [copy, config]\n")),
               Catch::Contains("source.config: the config step needs both servers' settings"));
    CHECK_THAT(refusal(with_sides("mode: copy\nsteps: [copy, files]\n")), Catch::Contains("source.data: the files step needs"));
    CHECK_THAT(refusal(with_sides("mode: copy\nfiles: {checksum: true}\n")),
               Catch::Contains("files: the steps do not include files"));
    CHECK_THAT(refusal(with_sides("mode: merge\nsteps: [copy, anonymise]\nanonymise: {key_env: A}\n")),
               Catch::Contains("mode merge cannot anonymise"));
    CHECK_THAT(refusal(with_sides("mode: merge\ncopy: {create_schema: true}\n")),
               Catch::Contains("copy.create_schema: mode merge writes into an existing Mattermost"));
    CHECK_THAT(refusal(with_sides("mode: copy\nmerge_rules: rules.yaml\n")), Catch::Contains("merge_rules: only mode: merge"));
    CHECK_THAT(refusal(with_sides("mode: copy\ncopy: {lower_case_tables: true}\n")),
               Catch::Contains("copy.lower_case_tables: names the tables create_schema makes"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  drop_rows: [Posts]\n  keep_rows: [posts]\n")),
               Catch::Contains("posts is also in drop_rows"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  drop_rows: [IR_Incident]\n  keep_tables: [ir_incident]\n")),
               Catch::Contains("anonymise.keep_tables: ir_incident is also in drop_rows"));
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  columns:\n"
                                  "    - {table: Users, column: Email, kind: email, keep_paths: [a]}\n")),
               Catch::Contains("anonymise.columns[1].keep_paths: keep_paths are read only with kind: json_text"));
    // The old list of members to mask is refused, never read the other way round.
    CHECK_THAT(refusal(with_sides("anonymise:\n  key_env: A\n  columns:\n"
                                  "    - {table: Posts, column: Props, kind: json_text, paths: [a]}\n")),
               Catch::Contains("anonymise.columns[1].paths: is no longer read") && Catch::Contains("keep_paths"));
    CHECK(parse(with_sides("mode: merge\nmerge_rules: rules.yaml\n")).merge_rules == "rules.yaml");
}

TEST_CASE("a merge job never deletes files: remove_extra is refused, and its files step deletes nothing", "[job]") {
    const std::string sides = "job: m\nmode: merge\nsource: {database: /a/config.json, data: /a/data}\n"
                              "destination: {database: /b/config.json, data: /b/data}\n";
    CHECK_THAT(refusal(sides + "files:\n  remove_extra: true\n"),
               Catch::StartsWith("jobs/test.yaml:6: files.remove_extra: mode merge never deletes a destination file"));
    CHECK_THAT(refusal(sides + "files: {checksum: true, remove_extra: false}\n"), Catch::Contains("files.remove_extra: mode merge never deletes"));
    Job job = parse(sides + "files: {checksum: true}\n");
    CHECK(job.has(JobStep::files));
    CHECK_FALSE(job.files.remove_extra);  // the default of a refresh does not reach a merge
    CHECK(job.files.checksum);
    CHECK(parse(sides).has(JobStep::files));  // both data directories: the merge's file join
}

TEST_CASE("files.keep_contents: an anonymised refresh copies the files' contents only when the job says so", "[job]") {
    const std::string sides = "job: r\nsource: {database: /a/config.json, data: /a/data}\n"
                              "destination: {database: /b/config.json, data: /b/data}\n";
    Job job = parse(sides + "anonymise: {key_env: A}\n");
    CHECK(job.has(JobStep::files));
    CHECK_FALSE(job.files.keep_contents);  // placeholders by default
    CHECK(parse(sides + "anonymise: {key_env: A}\nfiles:\n  keep_contents: true\n").files.keep_contents);
    CHECK_THAT(refusal(sides + "anonymise: {key_env: A}\nfiles: {keep_contents: maybe}\n"), Catch::Contains("files.keep_contents"));
    CHECK_THAT(refusal(sides + "anonymise: {key_env: A}\nfiles: {keep_content: true}\n"), Catch::Contains("files.keep_content: unknown key"));
    CHECK_THAT(refusal(sides + "mode: copy\nfiles:\n  keep_contents: true\n"),
               Catch::StartsWith("jobs/test.yaml:6: files.keep_contents: only an anonymised refresh writes placeholders"));
}

TEST_CASE("the example jobs in config/ parse as shipped", "[job]") {
    const std::string dir = std::string(test::source_dir()) + "/config/";
    for (const char* name : {"refresh-test.yaml", "move.yaml", "bitnami-to-postgres.yaml", "merge.yaml", "move-live.yaml"}) {
        INFO(name);
        std::ifstream in(dir + name);
        REQUIRE(in);
        std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
        Env env = base_env;
        env["MMMOVE_SOURCE"] = "bn_mattermost@tcp(127.0.0.1:3306)/bitnami_mattermost";
        Job job = parse_job(text, dir + name, &env);
        CHECK(job.has(JobStep::check));
        CHECK(job.has(JobStep::copy));
        CHECK(job.has(JobStep::verify));
        CHECK(job.has(JobStep::anonymise) == (job.name == "refresh-test"));
        if (job.name == "move-live") {
            CHECK(job.mode == "move");
            CHECK(job.move.until_changed_rows == 1000);
            CHECK(job.move.stop == std::vector<std::string>{"/usr/bin/systemctl", "stop", "mattermost"});
            CHECK(job.has(JobStep::files));
            CHECK(job.has(JobStep::config));
        }
    }
}

TEST_CASE("a move job's commands are argv lists with an absolute program, and move is read only in mode move", "[job]") {
    Env env = base_env;
    const std::string head = "job: m\nsource: {database: a.json}\ndestination: {database: b.json}\n";
    CHECK_THROWS_WITH(parse_job(head + "mode: move\nmove:\n  stop: [systemctl, stop, mattermost]\n", "j.yaml", &env),
                      Catch::Contains("move.stop") && Catch::Contains("absolute path") && Catch::Contains("No shell"));
    CHECK_THROWS_WITH(parse_job(head + "mode: move\nmove:\n  stop: /usr/bin/systemctl stop mattermost\n", "j.yaml", &env),
                      Catch::Contains("move.stop"));
    CHECK_THROWS_WITH(parse_job(head + "mode: copy\nmove:\n  max_passes: 3\n", "j.yaml", &env), Catch::Contains("only mode: move"));
    Job job = parse_job(head + "mode: move\nmove:\n  until_changed_rows: 0\n  start: [/bin/true]\n", "j.yaml", &env);
    CHECK(job.move.until_changed_rows == 0);
    CHECK(job.move.start == std::vector<std::string>{"/bin/true"});
    CHECK(job.move.stop_timeout_seconds == 600);  // a stop that hangs is ended after 10 minutes unless the job says
    CHECK(parse_job(head + "mode: move\nmove:\n  stop_timeout_seconds: 90\n", "j.yaml", &env).move.stop_timeout_seconds == 90);
    CHECK_THROWS_WITH(parse_job(head + "mode: move\nmove:\n  stop_timeout_seconds: 0\n", "j.yaml", &env),
                      Catch::Contains("move.stop_timeout_seconds"));
    // The databases given as config.json paths: the move merges the config before the start.
    CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::verify, JobStep::config});
    CHECK_THROWS_WITH(parse_job(head + "mode: move\nsteps: [copy, anonymise]\nanonymise: {key_env: K}\n", "j.yaml", &env), Catch::Contains("remove anonymise"));
}

TEST_CASE("a move job syncs files and merges config, deleting and turning off nothing unless it says so", "[job]") {
    Env env = base_env;
    const std::string head = "job: m\nsource: {database: a.json, data: /srv/old}\ndestination: {database: b.json, data: /srv/new}\n";
    Job job = parse_job(head + "mode: move\n", "j.yaml", &env);
    CHECK(job.steps == std::vector<JobStep>{JobStep::check, JobStep::copy, JobStep::verify, JobStep::config, JobStep::files});
    CHECK_FALSE(job.files.remove_extra);  // as `mmmove files sync` without --delete
    CHECK(job.config.email);
    CHECK(job.config.push);
    CHECK(job.config.outgoing_webhooks);
    CHECK(std::find(job.config.keep.begin(), job.config.keep.end(), "FileSettings.Directory") != job.config.keep.end());
    job = parse_job(head + "mode: move\nfiles: {remove_extra: true}\nconfig: {email: false}\n", "j.yaml", &env);
    CHECK(job.files.remove_extra);
    CHECK_FALSE(job.config.email);
    CHECK(parse_job(head + "mode: refresh\nsteps: [copy]\n", "j.yaml", &env).files.remove_extra);  // a refresh keeps its default
}

TEST_CASE("load_job reads a regular file", "[job]") {
    std::string path =
        temp_file("load.yaml", "job: a\nmode: copy\nsource: {database: a.json}\ndestination: {database: b.json}\n", 0600);
    CHECK(load_job(path).file == path);
    ::unlink(path.c_str());
    CHECK_THROWS_WITH(load_job(path), Catch::Contains("job file") && Catch::Contains(path));
}
