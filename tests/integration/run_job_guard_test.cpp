// mmmove run JOB.yaml on real servers, around the refresh itself: the lock refuses a concurrent run
// (on this host and from "another host"), two jobs never load one database at once, a stale lock is
// taken over, a destination that is the source is refused, a malformed job names its line, a killed
// refresh resumes, SQL planted in a checkpoint never runs, and an anonymised refresh stops at what
// nobody classified.
#include <sys/file.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

TEST_CASE("a concurrent run of a job is refused by its lock; a stale lock is taken over", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "locksrc"), dst(Engine::postgres, "lockdst");
    fill_sample(src, 3000, 141);
    JobFiles files("lock", src, dst);

    SECTION("a lock file held by a live run") {
        int fd = open(files.lock.c_str(), O_RDWR | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        std::string holder = "pid 4242\nstarted 2026-11-24 03:00:00 UTC\n";
        REQUIRE(write(fd, holder.data(), holder.size()) == static_cast<ssize_t>(holder.size()));
        REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
        CliRun r = run_mmmove({"run", files.job});
        close(fd);
        INFO(r.output);
        CHECK(r.exit_code == 9);
        CHECK(r.output.find("pid 4242") != std::string::npos);
        auto db = dst.connect();
        CHECK(db->query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()").at(0).at(0) == "0");  // nothing done
    }
    SECTION("a run in progress, from this host and from another (another lock file, the destination's lock)") {
        std::string out = (files.dir.path / "first.log").string();
        pid_t first = spawn_mmmove({"run", files.job}, out);
        auto db = dst.connect();
        wait_for_chunks(*db, first, 1);
        REQUIRE(kill(first, SIGSTOP) == 0);  // frozen mid-copy, holding both locks, however fast the machine
        CliRun same_host = run_mmmove({"run", files.job});
        std::string other = slurp(files.job);  // the same job on another host: its own lock file
        size_t at = other.find("lock: ");
        other.replace(at, other.find('\n', at) - at, "lock: " + (files.dir.path / "other-host.lock").string());
        spit(files.dir.path / "other-host.yaml", other);
        CliRun other_host = run_mmmove({"run", (files.dir.path / "other-host.yaml").string()});
        REQUIRE(kill(first, SIGCONT) == 0);
        int status = 0;
        REQUIRE(waitpid(first, &status, 0) == first);
        INFO(slurp(out));
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        INFO(same_host.output);
        INFO(other_host.output);
        CHECK(same_host.exit_code == 9);
        CHECK(other_host.exit_code == 9);
        CHECK(other_host.output.find("holds the destination's lock") != std::string::npos);
    }
    SECTION("the lock file of a run that died is taken over") {
        spit(files.lock, "pid 999999\nstarted 2026-11-23 03:00:00 UTC\njob test-refresh-lock\n");
        CliRun r = run_mmmove({"run", files.job});
        INFO(r.output);
        CHECK(r.exit_code == 0);
        auto j = nlohmann::json::parse(slurp(files.summary));
        CHECK(j["warnings"].dump().find("ended without releasing it") != std::string::npos);
        CHECK(slurp(files.lock).empty());  // released when the run ended
    }
}

namespace {

// Runs mmmove and waits at most `seconds` for it: a load that waits on another's row locks instead
// of being refused is killed, and the test fails rather than hangs.
CliRun run_bounded(const std::vector<std::string>& args, const std::filesystem::path& out, int seconds) {
    pid_t pid = spawn_mmmove(args, out.string());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            FAIL_CHECK("mmmove " << args[0] << " was still running after " << seconds << " s (it waited instead of being refused)");
            return {-1, slurp(out)};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out)};
}

}  // namespace

TEST_CASE("two different jobs, or a job and a copy, never load into one destination database at once", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "dlsrc"), dst(Engine::postgres, "dldst");
    fill_sample(src, 3000, 141);
    JobFiles first_job("dest-lock-a", src, dst), second_job("dest-lock-b", src, dst);  // own names, own lock files
    std::string out = (first_job.dir.path / "first.log").string();
    pid_t first = spawn_mmmove({"run", first_job.job}, out);
    auto db = dst.connect();
    wait_for_chunks(*db, first, 1);
    REQUIRE(kill(first, SIGSTOP) == 0);  // frozen mid-copy, holding the destination's lock
    // A COMMIT a worker sent just before the stop still completes on the server: count once it has.
    uint64_t chunks = committed_chunks(*db);
    for (uint64_t settled = 0; settled != chunks; chunks = committed_chunks(*db)) {
        settled = chunks;
        std::this_thread::sleep_for(std::chrono::milliseconds(300));
    }
    CliRun second = run_bounded({"run", second_job.job}, second_job.dir.path / "second.log", 60);
    CliRun copy = run_bounded({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--truncate", "--quiet", "--report",
                               (second_job.dir.path / "copy-report.jsonl").string()},
                              second_job.dir.path / "copy.log", 60);
    uint64_t chunks_after = committed_chunks(*db);  // the first is still frozen: any new chunk is the others'
    REQUIRE(kill(first, SIGCONT) == 0);
    int status = 0;
    REQUIRE(waitpid(first, &status, 0) == first);
    INFO(slurp(out));
    INFO(second.output);
    INFO(copy.output);
    CHECK(second.exit_code == 9);
    CHECK_THAT(second.output, Catch::Contains("holds the destination's lock") && Catch::Contains("Nothing was done"));
    CHECK(copy.exit_code == 9);
    CHECK_THAT(copy.output, Catch::Contains("holds the destination's lock"));
    // Neither wrote anything: the second job never recorded its refresh, the first finished alone.
    CHECK(chunks_after == chunks);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(db->query("SELECT COUNT(*) FROM mmmove_refresh WHERE job = 'test-refresh-dest-lock-b'").at(0).at(0) == "0");
    CHECK(db->query("SELECT COUNT(*) FROM mmmove_refresh WHERE job = 'test-refresh-dest-lock-a' AND finished IS NOT NULL").at(0).at(0) == "1");
}

TEST_CASE("a job whose destination is the source, or whose file is malformed, is refused before anything is written", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "samesrc"), other(Engine::postgres, "sameoth");
    fill_sample(src, 200, 141);
    JobFiles files("same", src, other);
    auto db = src.connect();
    const std::string users_before = *db->query("SELECT COUNT(*) FROM users").at(0).at(0);

    // The same database under another spelling of its DSN (localhost for 127.0.0.1).
    std::string same = src.dsn();
    same.replace(same.find("127.0.0.1"), 9, "localhost");
    setenv("MMMOVE_TEST_DEST", same.c_str(), 1);
    CliRun r = run_mmmove({"run", files.job});
    INFO(r.output);
    CHECK(r.exit_code == 4);
    CHECK(r.output.find("is the source's database") != std::string::npos);
    CHECK(*db->query("SELECT COUNT(*) FROM users").at(0).at(0) == users_before);

    // The destination's configuration has the source's SiteURL: production, by the look of it.
    setenv("MMMOVE_TEST_DEST", other.dsn().c_str(), 1);
    std::string prod_like = slurp(files.dir.path / "source-config.json");
    spit(files.dir.path / "dest-config.json", prod_like);
    r = run_mmmove({"run", files.job});
    INFO(r.output);
    CHECK(r.exit_code == 4);
    CHECK(r.output.find("source's SiteURL") != std::string::npos);

    // Malformed YAML: the file and its line are named.
    spit(files.dir.path / "broken.yaml", "job: broken\nsource:\n  database: x\n destination: [\n");
    r = run_mmmove({"run", (files.dir.path / "broken.yaml").string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("broken.yaml:4") != std::string::npos);
}

TEST_CASE("a refresh killed half-way finishes with run --resume, with the rows of an uninterrupted refresh", "[e2e][run][resume]") {
    ScratchDb src(Engine::postgres, "ressrc"), killed(Engine::postgres, "reskill"), whole(Engine::postgres, "reswhole");
    fill_sample(src, 3000, 141);
    JobFiles files("resume", src, killed);
    spit(files.summary, R"({"job": "test-refresh-resume", "status": "ok", "exit_code": 0, "ok": true})");  // last night's
    kill_mid_run({"run", files.job}, killed, 3);
    // A run killed after taking its lock leaves a summary that says it was running, never last night's "ok".
    auto running = nlohmann::json::parse(slurp(files.summary));
    CHECK(running["status"] == "running");
    CHECK(running["ok"] == false);
    CHECK(!running["started"].get<std::string>().empty());
    CliRun r = run_mmmove({"run", "--resume", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("(resumed)") != std::string::npos);

    setenv("MMMOVE_TEST_DEST", whole.dsn().c_str(), 1);
    CliRun w = run_mmmove({"run", files.job});
    INFO(w.output);
    REQUIRE(w.exit_code == 0);
    auto a = killed.connect(), b = whole.connect();
    // Each staging server has an identity of its own; everything else is the same.
    const std::string id_a = systems_rows(*a)["DiagnosticId"], id_b = systems_rows(*b)["DiagnosticId"];
    CHECK(id_a.size() == 26);
    CHECK(id_a != id_b);
    for (Database* db : {a.get(), b.get()}) db->exec("UPDATE systems SET value = '' WHERE name = 'DiagnosticId'");
    CHECK(read_content(*a, false) == read_content(*b, false));
}

TEST_CASE("a refresh never runs SQL planted in an unfinished run's checkpoint, resumed or started over", "[e2e][run][resume]") {
    ScratchDb src(Engine::postgres, "cpsrc"), dst(Engine::postgres, "cpdst");
    fill_sample(src, 3000, 141);
    JobFiles files("planted", src, dst);
    kill_mid_run({"run", files.job}, dst, 3);
    std::filesystem::remove("/tmp/" + dst.name() + ".out");
    auto db = dst.connect();
    auto indexes = nlohmann::json::array();
    indexes.push_back({{"table", "posts"}, {"name", "idx_evil"}, {"definition", "CREATE TABLE mmmove_pwned (x int)"}, {"fulltext", false}});
    db->exec("UPDATE mmmove_copy_state SET value = " + db->quote_literal(indexes.dump()) + " WHERE name = 'indexes'");
    auto planted_ran = [&] { return read_catalog(*db).find("mmmove_pwned") != nullptr; };

    CliRun resumed = run_mmmove({"run", "--resume", files.job});
    INFO(resumed.output);
    CHECK_FALSE(planted_ran());
    CHECK(resumed.exit_code == 4);
    CHECK_THAT(resumed.output, Catch::Contains("checkpoint") && Catch::Contains("--truncate"));

    CliRun again = run_mmmove({"run", files.job});  // the earlier refresh is replaced: the checkpoint dropped unread
    INFO(again.output);
    CHECK_FALSE(planted_ran());
    CHECK(again.exit_code == 0);
    CHECK_FALSE(read_catalog(*db).find("mmmove_copy_state"));
}

namespace {

// A plugin's table (with a title someone typed) and a column Mattermost's schema does not have.
void add_unclassified(Database& db) {
    db.exec("CREATE TABLE focalboard_blocks (id varchar(26) PRIMARY KEY, title text)");
    db.exec("INSERT INTO focalboard_blocks (id, title) VALUES ('blockidblockidblockidblock', 'plannedlayoffsunclassified')");
    db.exec("ALTER TABLE users ADD COLUMN secondphone varchar(64)");
}

// The job's text with `from` replaced by `to` (the one occurrence JobFiles writes).
void edit_job(const JobFiles& files, const std::string& from, const std::string& to) {
    std::string text = slurp(files.job);
    REQUIRE(text.find(from) != std::string::npos);
    spit(files.job, text.replace(text.find(from), from.size(), to));
}

}  // namespace

TEST_CASE("an anonymised refresh stops before writing at a table or column nobody classified, until the job does", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "denysrc"), dst(Engine::postgres, "denydst");
    fill_sample(src, 200, 141);
    {
        auto db = src.connect();
        add_unclassified(*db);
        db->exec("UPDATE users SET secondphone = '+4915199887766' WHERE id = (SELECT MIN(id) FROM users)");
    }
    JobFiles files("deny", src, dst);
    auto names_both = [](const CliRun& r) {
        CHECK(r.exit_code == 10);
        CHECK(r.output.find("focalboard_blocks") != std::string::npos);
        CHECK(r.output.find("anonymise.drop_rows: [focalboard_blocks]") != std::string::npos);
        CHECK(r.output.find("anonymise.keep_tables: [focalboard_blocks]") != std::string::npos);
        CHECK(r.output.find("column users.secondphone") != std::string::npos);
        CHECK(r.output.find("{table: users, column: secondphone, kind: free_text}") != std::string::npos);
        CHECK(r.output.find("plannedlayoffs") == std::string::npos);  // names, never values
    };

    CliRun dry = run_mmmove({"run", "--dry-run", files.job});
    INFO(dry.output);
    names_both(dry);
    CliRun r = run_mmmove({"run", files.job});
    INFO(r.output);
    names_both(r);
    {
        auto db = dst.connect();
        CHECK(read_catalog(*db).tables.empty());  // no schema created, no mmmove_refresh row, no rows
    }

    // The destination has the same plugin and column; the job classifies both: it runs.
    ScratchDb used(Engine::postgres, "denyuse");
    fill_sample(used, 20, 141);
    {
        auto db = used.connect();
        add_unclassified(*db);
    }
    setenv("MMMOVE_TEST_DEST", used.dsn().c_str(), 1);
    edit_job(files, "create_schema: true", "create_schema: false");
    edit_job(files, "anonymise:\n", "anonymise:\n  drop_rows: [focalboard_blocks]\n"
                                    "  columns: [{table: users, column: secondphone, kind: person_detail}]\n");
    r = run_mmmove({"run", "--force", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto db = used.connect();
    CHECK(db->query("SELECT COUNT(*) FROM focalboard_blocks").at(0).at(0) == "0");
    CHECK(db->query("SELECT COUNT(*) FROM users WHERE secondphone IS NOT NULL").at(0).at(0) == "1");
    CHECK(db->query("SELECT COUNT(*) FROM users WHERE secondphone = '+4915199887766'").at(0).at(0) == "0");

    // Kept as it is, by the job's word.
    edit_job(files, "drop_rows: [focalboard_blocks]", "keep_tables: [focalboard_blocks]");
    r = run_mmmove({"run", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(db->query("SELECT title FROM focalboard_blocks").at(0).at(0) == "plannedlayoffsunclassified");
}
