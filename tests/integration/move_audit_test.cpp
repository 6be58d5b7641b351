// A move job (`mode: move`) as an attacker and a careful admin would try it, on real servers: a
// destination that is the source reached another way, and what the stop and start commands inherit
// from mmmove (its environment, which holds the passwords, and its open connections).
#include <catch2/catch.hpp>

#include <cstdlib>
#include <filesystem>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

namespace fs = std::filesystem;

// A move job without files or config: its database sides, the move section's lines, lock and summary
// in a folder of its own.
struct AuditMove {
    TempFolder dir{"move-audit"};
    std::string job = (dir.path / "move.yaml").string();

    void write(const std::string& src_dsn, const std::string& dst_dsn, const std::string& move) {
        spit(job, "job: audit-move\nmode: move\nsource:\n  database: " + src_dsn + "\ndestination:\n  database: " + dst_dsn +
                      "\ncopy:\n  create_schema: true\n  jobs: 1\n  chunk_rows: 1000\nmove:\n  until_changed_rows: 100000\n" + move +
                      "lock: " + (dir.path / "move.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
                      "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
        fs::permissions(job, fs::perms::owner_read | fs::perms::owner_write);
    }
};

// The source's own database through PostgreSQL's Unix socket instead of TCP: another DSN, one database.
std::string through_socket(const ScratchDb& db) {
    const char* dir = std::getenv("MMMOVE_SERVERS_DIR");
    const std::string sockets = std::string(dir && *dir ? dir : "/tmp/mmmove-servers") + "/pgrun";
    REQUIRE(fs::exists(sockets + "/.s.PGSQL." + std::to_string(servers().pg_port)));
    return "postgres://mmuser@localhost:" + std::to_string(servers().pg_port) + "/" + db.name() + "?host=" + sockets + "&sslmode=disable";
}

}  // namespace

TEST_CASE("a move job whose destination is the source through PostgreSQL's Unix socket is refused, even with --force",
          "[e2e][pg][run][move][audit]") {
    ScratchDb src(Engine::postgres, "msock");
    fill_sample(src, 50, 141, false, 1, false);
    AuditMove m;
    const auto stopped = m.dir.path / "stopped";
    m.write(src.dsn(), through_socket(src), "  stop: [/usr/bin/touch, " + stopped.string() + "]\n");
    for (bool force : {false, true}) {
        INFO("--force: " << force);
        CliRun run = force ? run_mmmove({"run", "--force", m.job}) : run_mmmove({"run", m.job});
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("is the source's database"));
        CHECK_FALSE(fs::exists(stopped));
    }
    // Nothing of mmmove's landed in the source: it is only read.
    auto db = src.connect();
    CHECK(db->query("SELECT COUNT(*) FROM information_schema.tables WHERE table_name LIKE 'mmmove%'").at(0).at(0) == "0");
}

TEST_CASE("a move job's stop and start commands inherit neither the passwords nor mmmove's connections", "[e2e][mysql][pg][run][move][audit]") {
    ScratchDb src(Engine::mysql, "menvs"), dst(Engine::postgres, "menvd");
    fill_sample(src, 50, 141, false, 1, false);
    AuditMove m;
    // The command records what it got: its environment, and where its open descriptors lead.
    const auto script = m.dir.path / "record.sh", env = m.dir.path / "env.txt", fds = m.dir.path / "fds.txt";
    spit(script, "env > " + env.string() + "\nls -l /proc/$$/fd/ > " + fds.string() + "\n");
    setenv("MMMOVE_AUDIT_DSN", dst.dsn().c_str(), 1);
    m.write(src.dsn(), "${MMMOVE_AUDIT_DSN}", "  start: [/bin/sh, " + script.string() + "]\n");
    CliRun run = run_mmmove({"run", m.job});
    unsetenv("MMMOVE_AUDIT_DSN");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const std::string environment = slurp(env), descriptors = slurp(fds);
    INFO(environment);
    INFO(descriptors);
    CHECK_THAT(environment, Catch::Contains("PATH="));  // the command did run, with what it needs to find programs
    CHECK_THAT(environment, !Catch::Contains("MMMOVE_SOURCE_PASSWORD") && !Catch::Contains("MMMOVE_DEST_PASSWORD") &&
                                !Catch::Contains("MMMOVE_PASSWORD_FILE") && !Catch::Contains("MMMOVE_AUDIT_DSN"));
    CHECK(environment.find(servers().password) == std::string::npos);
    CHECK_THAT(descriptors, !Catch::Contains("socket:") && !Catch::Contains("move.lock") && !Catch::Contains("summary.json"));
}

TEST_CASE("a move job syncs every table its file does not skip, whatever the destination's record says was left behind",
          "[e2e][pg][run][move][audit]") {
    ScratchDb src(Engine::postgres, "mlbs"), dst(Engine::postgres, "mlbd");
    fill_sample(src, 50, 141, false, 1, false);
    AuditMove m;
    m.write(src.dsn(), dst.dsn(), "  stop: [/usr/bin/true]\n");
    CliRun run = run_mmmove({"run", m.job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);

    // Whoever can write the new database claims that the copy left Posts behind; meanwhile a post is
    // edited on the old server.
    auto to = dst.connect(), from = src.connect();
    to->exec("UPDATE mmmove_sync_state SET left_behind = '[\"posts\"]'");
    from->exec("UPDATE posts SET message = 'edited before the stop', updateat = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint WHERE id = (SELECT MIN(id) FROM posts)");
    run = run_mmmove({"run", m.job});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(to->query("SELECT COUNT(*) FROM posts WHERE message = 'edited before the stop'").at(0).at(0) == "1");
}

TEST_CASE("copy and sync refuse a destination that is their source under another DSN, before anything is written",
          "[e2e][pg][copy][sync][audit]") {
    ScratchDb seed(Engine::postgres, "csseed"), src(Engine::postgres, "cssrc");
    fill_sample(seed, 50, 141, false, 1, false);
    // The old server was itself filled by mmmove: it holds mmmove's record, which sync looks for.
    TempFolder dir("copy-into-source");
    const std::string report = (dir.path / "report.jsonl").string();
    CliRun filled = run_mmmove({"copy", "--from", seed.dsn(), "--to", src.dsn(), "--create-schema", "--quiet", "--report", report});
    INFO(filled.output);
    REQUIRE(filled.exit_code == 0);
    auto db = src.connect();
    const std::string posts = db->query("SELECT COUNT(*) FROM posts").at(0).at(0).value_or("");
    const std::string record = db->query("SELECT finished FROM mmmove_sync_state").at(0).at(0).value_or("");
    REQUIRE(posts == "50");

    std::string alias = src.dsn();
    alias.replace(alias.find("127.0.0.1"), 9, "localhost");
    for (const auto& args : {std::vector<std::string>{"copy", "--from", src.dsn(), "--to", alias, "--truncate", "--quiet", "--report", report},
                             std::vector<std::string>{"sync", "--from", src.dsn(), "--to", through_socket(src), "--final", "--quiet"}}) {
        INFO(args.at(0));
        CliRun run = run_mmmove(args);
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("is the source's database"));
        CHECK(db->query("SELECT COUNT(*) FROM posts").at(0).at(0).value_or("") == posts);
        CHECK(db->query("SELECT finished FROM mmmove_sync_state").at(0).at(0).value_or("") == record);
    }
}
