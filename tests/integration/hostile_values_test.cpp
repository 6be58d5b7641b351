// Values and names a hostile or broken database holds, on real servers: a one-letter secret in a row the
// destination refuses (its mask holds the letter again), a post's Props holding JSON nested 100,000
// deep in an anonymised refresh, terminal escapes in names and in a server's words, secrets verify must
// not print, and a refused copy whose clean-up fails.
#include <sys/wait.h>
#include <signal.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <thread>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "catalog/secrets.h"
#include "support.h"
#include "transform/convert.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// Runs mmmove with `args`, killing it if it has not ended within `seconds`; the exit code is -1 then.
CliRun run_bounded(const std::vector<std::string>& args, const std::string& output, int seconds) {
    pid_t pid = spawn_mmmove(args, output);
    REQUIRE(pid > 0);
    CliRun run;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            run.output = slurp(output);
            return run;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    run.output = slurp(output);
    return run;
}

}  // namespace

TEST_CASE("a refused row whose secret is one letter ends the copy with the secret masked", "[e2e][values][hostile][mysql][pg]") {
    ScratchDb src(Engine::mysql, "oneletter"), dst(Engine::postgres, "oneletterd");
    fill_sample(src, 20);
    auto s = src.connect();
    // Two tokens "a" and "a\0": one key once PostgreSQL's NUL removal is done, so the destination refuses
    // the second and quotes the secret in its reason; the mask of "a" holds an "a" again.
    REQUIRE(masked_secret("a").find('a') != std::string::npos);
    s->exec("INSERT INTO Tokens (Token, CreateAt, Type, Extra) VALUES ('a', 1, 'verify_email', '{}'), "
            "(CONCAT('a', CHAR(0)), 1, 'verify_email', '{}')");
    auto run = run_bounded({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1"},
                           "/tmp/" + dst.name() + ".out", 120);
    INFO(run.output);
    REQUIRE(run.exit_code == 6);
    CHECK_THAT(run.output, Catch::Contains("the destination refused this row") && Catch::Contains(masked_secret("a")));
    CHECK_THAT(run.output, !Catch::Contains("=(a)"));
}

TEST_CASE("a refused copy whose clean-up fails says what the destination holds and what to do", "[e2e][values][hostile][mysql][pg]") {
    ScratchDb src(Engine::mysql, "undo"), dst(Engine::postgres, "undod");
    fill_sample(src, 100);
    auto s = src.connect();
    s->exec("ALTER TABLE Channels MODIFY Type varchar(1)");
    s->exec("UPDATE Channels SET Type = 'X' WHERE Id = (SELECT Id FROM (SELECT MIN(Id) AS Id FROM Channels) c)");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::postgres, 141), false);
    // A table of the admin's own that refers to Posts: TRUNCATE Posts now fails, so emptying the
    // destination again after the refused row fails.
    d->exec("CREATE TABLE admin_notes (postid varchar(26) REFERENCES posts (id))");
    auto run = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(run.output);
    CHECK(run.exit_code == 6);
    CHECK_THAT(run.output, Catch::Contains("the destination refused this row"));
    CHECK_THAT(run.output, !Catch::Contains("The destination was emptied again"));
    CHECK_THAT(run.output, Catch::Contains("Emptying the destination again failed") &&
                               Catch::Contains("still holds the rows copied so far") && Catch::Contains("--truncate") &&
                               Catch::Contains("admin_notes"));
}

TEST_CASE("escape sequences in table names and in a server's words are printed escaped", "[e2e][hostile][mysql][pg]") {
    ScratchDb src(Engine::mysql, "esc"), dst(Engine::postgres, "escd");
    fill_sample(src, 20);
    src.connect()->exec("CREATE TABLE `evil\x1b[2Jtable` (id int PRIMARY KEY)");
    create_schema(*dst.connect(), *find_model(Engine::postgres, 141), false);
    auto check = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(check.output);
    CHECK_THAT(check.output, Catch::Contains("evil\\x1b[2Jtable"));
    CHECK(check.output.find('\x1b') == std::string::npos);
    // A database name with an OSC title sequence: the server's refusal quotes it back.
    const std::string bad = "mmuser@tcp(127.0.0.1:" + std::to_string(servers().my_port) + ")/no\x1b]0;owned\x07" "db";
    auto refused = run_mmmove({"check", "--from", bad, "--to", dst.dsn()});
    INFO(refused.output);
    CHECK(refused.exit_code == 3);
    CHECK_THAT(refused.output, Catch::Contains("no\\x1b]0;owned\\x07db"));
    CHECK(refused.output.find('\x1b') == std::string::npos);
    CHECK(refused.output.find('\x07') == std::string::npos);
}

TEST_CASE("verify never prints a team's invite id or a plugin's stored value", "[e2e][verify][hostile][pg]") {
    ScratchDb src(Engine::postgres, "vinv"), dst(Engine::postgres, "vinvd");
    fill_sample(src, 50);
    auto s = src.connect();
    s->exec("INSERT INTO pluginkeyvaluestore (pluginid, pkey, pvalue, expireat) VALUES "
            "('com.github.plugin', 'user_token', 'githuboauthtokenvalue0001'::bytea, 0)");
    s->exec("UPDATE teams SET inviteid = 'teaminvitesecretvalue0001'");
    REQUIRE(run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet",
                        "--report", report_path(dst)}).exit_code == 0);
    auto d = dst.connect();
    d->exec("UPDATE teams SET inviteid = 'changedinvitesecretvalue02'");
    d->exec("UPDATE pluginkeyvaluestore SET pvalue = 'changedgithubtokenvalue02'::bytea");
    auto out = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(out.output);
    CHECK(out.exit_code == 7);
    CHECK_THAT(out.output, Catch::Contains("teams") && Catch::Contains("pluginkeyvaluestore"));
    for (const char* clear : {"teaminvitesecretvalue0001", "changedinvitesecretvalue02", "githuboauthtokenvalue0001",
                              "changedgithubtokenvalue02"})
        CHECK_THAT(out.output, !Catch::Contains(clear) && !Catch::Contains(bytes_to_pg_hex(clear).substr(2, 24)));
    CHECK_THAT(out.output, Catch::Contains(masked_secret("teaminvitesecretvalue0001")));
}

TEST_CASE("an anonymised refresh masks a post whose Props hold JSON nested 100,000 deep", "[e2e][run][hostile][pg]") {
    ScratchDb src(Engine::postgres, "deepsrc"), dst(Engine::postgres, "deepdst");
    fill_sample(src, 50);
    auto s = src.connect();
    const std::string post = *s->query("SELECT MIN(id) FROM posts")[0][0];
    // A 200 KB string that is itself JSON, 100,000 levels deep, where a message attachment's text goes.
    const std::string deep = std::string(100000, '[') + "\"Confidential Plan\"" + std::string(100000, ']');
    const std::string props = nlohmann::json{{"attachments", {{{"text", deep}}}}}.dump();
    s->exec("UPDATE posts SET props = " + s->quote_literal(props) + "::jsonb WHERE id = " + s->quote_literal(post));

    TempFolder dir("deep-json");
    spit(dir.path / "refresh.yaml",
         "job: deep-json\nmode: refresh\n"
         "source:\n  database: ${MMMOVE_TEST_SOURCE}\ndestination:\n  database: ${MMMOVE_TEST_DEST}\n"
         "steps: [check, copy, anonymise, verify]\n"
         "copy:\n  create_schema: true\n"
         "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n"
         "lock: " + (dir.path / "lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
         "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
    setenv("MMMOVE_TEST_SOURCE", src.dsn().c_str(), 1);
    setenv("MMMOVE_TEST_DEST", dst.dsn().c_str(), 1);
    setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    auto run = run_mmmove({"run", (dir.path / "refresh.yaml").string()});
    INFO(run.output.substr(0, 4000));
    REQUIRE(run.exit_code == 0);
    auto d = dst.connect();
    const std::string text = *d->query("SELECT props->'attachments'->0->>'text' FROM posts WHERE id = " + d->quote_literal(post))[0][0];
    CHECK(text.find("Confidential") == std::string::npos);
    CHECK(text != deep);
}
