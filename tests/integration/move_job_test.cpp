// `mmmove run` with mode: move on real servers: copy, sync passes (each with the files), the stop
// command, the final sync, verify, the files once more, the config merge and the start command, in
// that order; the summary reports each pass, the expected and the measured downtime.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <signal.h>
#include <sys/wait.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

namespace fs = std::filesystem;

// A move job in a folder of its own: both servers' config.json (the same SiteURL, as a move keeps it)
// and data directories, the summary, the lock.
struct MoveFiles {
    TempFolder dir{"move-job"};
    fs::path src_data = dir.path / "old-data", dst_data = dir.path / "new-data", summary = dir.path / "summary.json";
    fs::path src_config = dir.path / "old-config.json", dst_config = dir.path / "new-config.json";
    std::string job = (dir.path / "move.yaml").string();

    explicit MoveFiles(const ScratchDb& dst) {
        fs::create_directories(src_data / "20261206");
        fs::create_directories(dst_data);
        spit(src_config, R"({"ServiceSettings": {"SiteURL": "https://chat.example.com", "ListenAddress": ":8065"},
 "SqlSettings": {"DriverName": "postgres", "DataSource": "postgres://old-db/mattermost"},
 "TeamSettings": {"SiteName": "Old chat"}, "EmailSettings": {"SendEmailNotifications": true},
 "FileSettings": {"Directory": ")" + src_data.string() + R"("}})");
        spit(dst_config, R"({"ServiceSettings": {"SiteURL": "https://chat.example.com", "ListenAddress": ":8066"},
 "SqlSettings": {"DriverName": "postgres", "DataSource": ")" + dst.dsn() + R"("},
 "TeamSettings": {"SiteName": "New install"}, "EmailSettings": {"SendEmailNotifications": false},
 "FileSettings": {"Directory": ")" + dst_data.string() + R"("}})");
    }
    // `move` holds the move section's lines ("  key: value\n"); with_files_and_config adds both sides'.
    void write(const ScratchDb& src, const ScratchDb& dst, const std::string& move, bool with_files_and_config = true) {
        auto side = [&](const ScratchDb& db, const fs::path& config, const fs::path& data) {
            return "  database: " + db.dsn() + "\n" +
                   (with_files_and_config ? "  config: " + config.string() + "\n  data: " + data.string() + "\n" : "");
        };
        spit(job, "job: test-move\nmode: move\nsource:\n" + side(src, src_config, src_data) + "destination:\n" +
                      side(dst, dst_config, dst_data) + "copy:\n  create_schema: true\n  jobs: 1\n  chunk_rows: 1000\nmove:\n" + move +
                      "lock: " + (dir.path / "move.lock").string() + "\nsummary: " + summary.string() + "\nreport: " +
                      (dir.path / "report.jsonl").string() + "\n");
        fs::permissions(job, fs::perms::owner_read | fs::perms::owner_write);
    }
    nlohmann::json read_summary() const { return nlohmann::json::parse(slurp(summary)); }
};

std::vector<std::string> step_names(const nlohmann::json& s) {
    std::vector<std::string> out;
    for (const auto& step : s["steps"]) out.push_back(step["step"]);
    return out;
}

std::string step_status(const nlohmann::json& s, const std::string& name) {
    for (const auto& step : s["steps"])
        if (step["step"] == name) return step["status"];
    return "absent";
}

// Polls `sql` on `db` until it returns a nonzero count (an error counts as 0: the table may not exist
// yet), while the mmmove process `pid` still runs.
void wait_until(Database& db, const std::string& sql, pid_t pid) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
        try {
            if (query_one(db, sql) != "0") return;
        } catch (const Error&) {
        }
        int status;
        REQUIRE(waitpid(pid, &status, WNOHANG) == 0);
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Mattermost posting meanwhile: three new posts, stamped now.
void post_three(Database& src) {
    Catalog catalog = read_catalog(src);
    const Table* posts = catalog.find("Posts");
    REQUIRE(posts);
    std::string stamp = std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    std::string cols, values;
    for (const auto& c : posts->columns) {
        std::string l = lower(c.name), sep = cols.empty() ? "" : ", ", q = src.quote_ident(c.name);
        cols += sep + q;
        values += sep + (l == "id" ? "CONCAT('zz', SUBSTR(" + q + ", 3))" : l == "createat" || l == "updateat" ? stamp : q);
    }
    src.exec("INSERT INTO " + src.quote_ident(posts->name) + " (" + cols + ") SELECT " + values + " FROM " +
             src.quote_ident(posts->name) + " ORDER BY " + src.quote_ident(posts->find_column("Id")->name) + " LIMIT 3");
}

void move_job(Engine from) {
    ScratchDb src(from, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    MoveFiles f(dst);
    spit(f.src_data / "20261206" / "early.txt", "in the old data directory before the move");
    spit(f.dir.path / "late-upload", "uploaded just before the stop");
    const auto started = f.dir.path / "started";
    // The stop uploads a file into the old data directory, as the last user before it would; the start
    // succeeds only when that file reached the new one first. No shell: argv lists.
    f.write(src, dst, "  until_changed_rows: 10\n  max_passes: 3\n  stop: [/bin/cp, " + (f.dir.path / "late-upload").string() + ", " +
                          (f.src_data / "20261206" / "late.txt").string() + "]\n  start: [/bin/cp, " +
                          (f.dst_data / "20261206" / "late.txt").string() + ", " + started.string() + "]\n");
    auto run = run_mmmove({"run", f.job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(fs::exists(started));
    CHECK(slurp(f.dst_data / "20261206" / "early.txt") == "in the old data directory before the move");
    CHECK_THAT(run.output, Catch::Contains("the source stood still during the final sync"));
    CHECK_THAT(run.output, Catch::Contains("Expected downtime: about "));
    CHECK_THAT(run.output, Catch::Contains("Downtime: "));
    auto s = f.read_summary();
    // The statistics views the final sync left as they stood are refreshed after the start, outside the downtime.
    CHECK(step_names(s) == std::vector<std::string>{"check", "copy", "sync 1", "files 1", "stop", "final sync", "verify",
                                                    "final files", "config", "start", "views"});
    CHECK(step_status(s, "views") == "ok");
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT sum(numposts)::text FROM poststats") == query_one(*d, "SELECT count(*) FROM posts"));
    CHECK(s["move"]["copied"] == true);
    REQUIRE(s["move"]["passes"].size() == 2);
    CHECK(s["move"]["passes"][0]["rows"] == 0);
    CHECK(s["move"]["passes"][1]["final"] == true);
    CHECK(s["move"]["expected_downtime_seconds"].get<double>() > 0);
    CHECK(s["move"]["downtime_seconds"].get<double>() > 0);
    CHECK(s["move"]["final_source_moved"]["moved_on"] == false);
    CHECK(s["files"]["copied"] == 2);  // early.txt with the first pass, late.txt in the downtime
    // The config: the source's settings, the new server's database, address and data directory, email as it was.
    auto config = nlohmann::json::parse(slurp(f.dst_config));
    CHECK(config["TeamSettings"]["SiteName"] == "Old chat");
    CHECK(config["EmailSettings"]["SendEmailNotifications"] == true);
    CHECK(config["SqlSettings"]["DataSource"] == dst.dsn());
    CHECK(config["ServiceSettings"]["ListenAddress"] == ":8066");
    CHECK(config["FileSettings"]["Directory"] == f.dst_data.string());
    auto v = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(v.output);
    CHECK(v.exit_code == 0);
}

}  // namespace

TEST_CASE("a move job from PostgreSQL runs copy, sync and files passes, stop, final sync, verify, files, config and start in order",
          "[e2e][pg][run][move]") {
    move_job(Engine::postgres);
}

TEST_CASE("a move job from MySQL to PostgreSQL ends equal, the source proven still", "[e2e][mysql][pg][run][move][long]") {
    move_job(Engine::mysql);
}

TEST_CASE("a move job whose stop command fails starts nothing, says where both servers stand, and its next run goes on",
          "[e2e][pg][run][move]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 100, 141, false, 1, false);
    MoveFiles f(dst);
    const auto started = f.dir.path / "started";
    const std::string start = "  start: [/usr/bin/touch, " + started.string() + "]\n";
    f.write(src, dst, "  stop: [/bin/false]\n" + start);
    auto run = run_mmmove({"run", f.job});
    INFO(run.output);
    CHECK(run.exit_code == 3);
    CHECK_FALSE(fs::exists(started));
    CHECK_THAT(run.output, Catch::Contains("move.stop") && Catch::Contains("may be running, stopped or partly stopped") &&
                               Catch::Contains("as of sync pass 1 (not final) and nothing was started"));
    auto s = f.read_summary();
    CHECK(step_status(s, "stop") == "failed");
    for (const char* name : {"final sync", "verify", "final files", "config", "start", "views"}) {
        INFO(name);
        CHECK(step_status(s, name) == "skipped");
    }
    CHECK(nlohmann::json::parse(slurp(f.dst_config))["TeamSettings"]["SiteName"] == "New install");

    // A config.json mmmove cannot read fails the run before the stop, the old server still serving.
    const std::string good_config = slurp(f.dst_config);
    spit(f.dst_config, "{\"ServiceSettings\": ");
    const auto stopped = f.dir.path / "stopped";
    f.write(src, dst, "  stop: [/usr/bin/touch, " + stopped.string() + "]\n" + start);
    run = run_mmmove({"run", f.job});
    INFO(run.output);
    CHECK(run.exit_code != 0);
    CHECK_FALSE(fs::exists(stopped));
    CHECK(step_status(f.read_summary(), "stop") == "skipped");
    spit(f.dst_config, good_config);

    // A file uploaded before the next run arrives with its first pass; the copy is not run again.
    spit(f.src_data / "20261206" / "between.txt", "uploaded between the runs");
    f.write(src, dst, "  stop: [/usr/bin/true]\n" + start);
    run = run_mmmove({"run", f.job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(fs::exists(started));
    s = f.read_summary();
    CHECK(s["move"]["copied"] == false);
    CHECK(step_names(s).at(1) == "sync 1");
    CHECK(step_names(s).at(2) == "files 1");
    CHECK(slurp(f.dst_data / "20261206" / "between.txt") == "uploaded between the runs");
}

TEST_CASE("a move job whose stop command hangs ends it and what it started after stop_timeout_seconds and starts nothing",
          "[e2e][pg][run][move]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 50, 141, false, 1, false);
    MoveFiles f(dst);
    const auto started = f.dir.path / "started", child = f.dir.path / "child.pid";
    // The stop command starts a child and waits for it: both hang, both must be ended.
    f.write(src, dst, "  stop_timeout_seconds: 2\n  stop: [/bin/dash, -c, '/bin/sleep 300 & echo $! > " + child.string() +
                          "; wait']\n  start: [/usr/bin/touch, " + started.string() + "]\n", false);
    const auto begun = std::chrono::steady_clock::now();
    auto run = run_mmmove({"run", f.job});
    INFO(run.output);
    CHECK(std::chrono::steady_clock::now() - begun < std::chrono::seconds(120));
    CHECK(run.exit_code == 3);
    CHECK_THAT(run.output, Catch::Contains("did not finish within 2 seconds (move.stop_timeout_seconds)") &&
                               Catch::Contains("may be running, stopped or partly stopped"));
    CHECK_FALSE(fs::exists(started));
    auto s = f.read_summary();
    CHECK(step_status(s, "stop") == "failed");
    CHECK(step_status(s, "final sync") == "skipped");
    REQUIRE(fs::exists(child));
    const pid_t sleeper = std::stoi(slurp(child));
    bool gone = false;
    for (int i = 0; i < 100 && !gone; ++i, std::this_thread::sleep_for(std::chrono::milliseconds(20))) gone = kill(sleeper, 0) != 0;
    CHECK(gone);
    if (!gone) kill(sleeper, SIGKILL);
}

TEST_CASE("a move job's dry run lists its steps in order with the commands it would run, and writes nothing", "[e2e][pg][run][move]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 50, 141, false, 1, false);
    MoveFiles f(dst);
    spit(f.src_data / "20261206" / "early.txt", "a file");
    const auto stopped = f.dir.path / "stopped", started = f.dir.path / "started";
    f.write(src, dst, "  stop: [/usr/bin/touch, " + stopped.string() + "]\n  start: [/usr/bin/touch, " + started.string() + "]\n" +
                          "  follow: true\n");
    auto run = run_mmmove({"run", "--dry-run", f.job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    size_t at = 0;
    const std::vector<std::string> in_order = {"would copy: ", "would sync passes: ", "would stop: run /usr/bin/touch " + stopped.string(),
                                               "would final sync: ", "would verify: ", "would final files: ", "would config: ",
                                               "would start: run /usr/bin/touch " + started.string(), "would views: after the start"};
    for (const std::string& line : in_order) {
        INFO(line);
        size_t found = run.output.find(line, at);
        REQUIRE(found != std::string::npos);
        at = found;
    }
    // Following is said before it leaves a slot holding the source's WAL; a dry run creates none.
    CHECK(run.output.find("creates a replication slot mmmove_") != std::string::npos);
    CHECK(run.output.find("then drop the replication slot it followed") != std::string::npos);
    CHECK(query_one(*src.connect(), "SELECT COUNT(*) FROM pg_replication_slots WHERE slot_name LIKE 'mmmove%' AND "
                                    "database = current_database()") == "0");
    CHECK_FALSE(fs::exists(stopped));
    CHECK_FALSE(fs::exists(started));
    CHECK_FALSE(fs::exists(f.summary));
    CHECK(fs::is_empty(f.dst_data));
    CHECK(nlohmann::json::parse(slurp(f.dst_config))["TeamSettings"]["SiteName"] == "New install");
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = 'public'") == "0");
}

TEST_CASE("a move job whose source moves on during the copy gives no sync advice, and gives up after max_passes stopping nothing",
          "[e2e][pg][run][move]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    MoveFiles f(dst);
    const auto stopped = f.dir.path / "stopped", out = f.dir.path / "run.out";
    f.write(src, dst, "  until_changed_rows: 0\n  max_passes: 1\n  stop: [/usr/bin/touch, " + stopped.string() + "]\n", false);
    pid_t pid = spawn_mmmove({"run", f.job}, out.string());
    {
        // Holding the copy's chunk log keeps the copy waiting after its snapshot until the posts are in.
        auto d = dst.connect();
        wait_until(*d, "SELECT COUNT(*) FROM mmmove_copy_state WHERE name = 'source_clock_ms'", pid);
        d->exec("BEGIN");
        d->exec("LOCK TABLE mmmove_copy_chunks IN ACCESS EXCLUSIVE MODE");
        wait_until(*d, "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = 'mmmove_copy_chunks'::regclass AND "
                       "database = (SELECT oid FROM pg_database WHERE datname = current_database())", pid);
        post_three(*src.connect(Side::source));
        d->exec("COMMIT");
    }
    int status = 0;
    waitpid(pid, &status, 0);
    std::string output = slurp(out);
    INFO(output);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 11);
    CHECK_FALSE(fs::exists(stopped));
    CHECK_THAT(output, Catch::Contains("the sync passes catch up"));
    CHECK_THAT(output, !Catch::Contains("MOVED ON") && !Catch::Contains("mmmove sync"));
    CHECK_THAT(output, Catch::Contains("Nothing was stopped"));
    auto s = f.read_summary();
    CHECK(s["move"]["passes"][0]["rows"] == 3);
    CHECK(s["warnings"].dump().find("mmmove sync") == std::string::npos);
    CHECK(step_status(s, "stop") == "skipped");
    CHECK(step_status(s, "start") == "absent");  // the job has no start command
}

TEST_CASE("a move job with move.follow syncs through the change stream and drops its slot after the final pass",
          "[e2e][pg][run][move][follow]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    auto s = src.connect(Side::source);
    {
        INFO("the test PostgreSQL needs wal_level = logical: restart it with scripts/servers (stop, then start)");
        REQUIRE(query_one(*s, "SHOW wal_level") == "logical");
    }
    MoveFiles f(dst);
    f.write(src, dst, "  until_changed_rows: 10\n  max_passes: 3\n  follow: true\n", false);
    auto run = run_mmmove({"run", f.job});
    INFO(run.output);
    const std::string marker = "created the replication slot ";
    const auto at = run.output.find(marker);
    REQUIRE(at != std::string::npos);
    const std::string slot = run.output.substr(at + marker.size(), run.output.find(' ', at + marker.size()) - at - marker.size());
    struct Drop {  // whatever happened: a slot keeps the server's WAL
        Database& db;
        std::string slot;
        ~Drop() {
            try {
                db.query("SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = " + db.quote_literal(slot));
            } catch (...) {
            }
        }
    } drop{*s, slot};
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.output, Catch::Contains("the source stood still during the final sync"));
    CHECK_THAT(run.output, Catch::Contains("dropped the replication slot " + slot));
    CHECK(query_one(*s, "SELECT count(*) FROM pg_replication_slots WHERE slot_name = " + s->quote_literal(slot)) == "0");
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT count(*) FROM information_schema.tables WHERE table_name = 'mmmove_follow_state'") == "0");
    auto v = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    CHECK(v.exit_code == 0);
}
