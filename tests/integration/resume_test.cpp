// Kill-and-resume, for real: the mmmove process is killed with SIGKILL mid-copy, or its server
// connections are terminated; the same command with --resume must finish the copy with every row
// exactly once, the indexes back, and no checkpoint tables left.
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <set>
#include <nlohmann/json.hpp>

#include "catalog/schema_model.h"
#include "sample/generator.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {


void require_finished_like_an_uninterrupted_run(const ScratchDb& src, const ScratchDb& dst, bool strip) {
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    Content a = read_content(*s, strip), b = read_content(*d, strip);
    REQUIRE(a.size() == b.size());
    for (const auto& [table, rows] : a) {
        INFO(table);
        CHECK(rows == b.at(table));  // no duplicate, no missing row
    }
    CHECK_FALSE(read_catalog(*d).find("mmmove_copy_chunks"));
    // Every index the load dropped is back, as defined.
    ScratchDb fresh(dst.engine(), "fresh");
    auto f = fresh.connect();
    create_schema(*f, *find_model(dst.engine(), 141), false);
    SchemaModel got = dump_model(*d), want = dump_model(*f);
    CHECK(model_to_yaml(got).substr(model_to_yaml(got).find("tables:")) == model_to_yaml(want).substr(model_to_yaml(want).find("tables:")));
}

}  // namespace

TEST_CASE("a copy killed with SIGKILL finishes with --resume, every row exactly once", "[threads][e2e][resume][mysql][pg]") {
    ScratchDb src(Engine::mysql, "kill"), dst(Engine::postgres, "killd");
    fill_sample(src, 40000);
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1",
                                     "--chunk-rows", "500", "--quiet", "--report", "/tmp/" + dst.name() + ".jsonl"};
    kill_mid_run(args, dst, 5);
    auto d = dst.connect();
    uint64_t chunks_at_kill = committed_chunks(*d);
    CHECK(chunks_at_kill >= 5);

    auto again = run_mmmove(args);
    INFO(again.output);
    CHECK(again.exit_code == 4);
    CHECK_THAT(again.output, Catch::Contains("did not finish") && Catch::Contains("--resume"));

    args.push_back("--resume");
    args.erase(std::find(args.begin(), args.end(), "--create-schema"));
    auto resumed = run_mmmove(args);
    INFO(resumed.output);
    REQUIRE(resumed.exit_code == 0);
    CHECK_THAT(resumed.output, Catch::Contains("resumed") && Catch::Contains("Row counts match on every table."));
    require_finished_like_an_uninterrupted_run(src, dst, true);

    // The report of the resumed copy lists every value the whole copy changed, each once: the posts
    // whose Message holds a NUL byte, whichever run copied them.
    auto s = src.connect(Side::source);
    std::set<std::string> expected, reported;
    for (const auto& r : s->query("SELECT Id FROM Posts WHERE LOCATE(CHAR(0), Message) > 0")) expected.insert("Id=" + *r[0]);
    REQUIRE_FALSE(expected.empty());
    std::istringstream report(slurp("/tmp/" + dst.name() + ".jsonl"));
    for (std::string line; std::getline(report, line);) {
        auto j = nlohmann::json::parse(line);
        if (j["table"] == "Posts" && j["column"] == "Message") CHECK(reported.insert(j["key"].get<std::string>()).second);
    }
    CHECK(reported == expected);
}

TEST_CASE("a crafted checkpoint row never reaches the source's SQL on --resume", "[e2e][resume][pg]") {
    ScratchDb src(Engine::postgres, "craft"), dst(Engine::postgres, "craftd");
    fill_sample(src, 40000);
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1",
                                     "--chunk-rows", "500", "--quiet", "--report", "/tmp/" + dst.name() + ".jsonl"};
    kill_mid_run(args, dst, 3);
    auto d = dst.connect();
    auto state = nlohmann::json::parse(*d->query("SELECT value FROM mmmove_copy_state WHERE name = 'bounds'")[0][0]);
    // Whoever controls the destination marks Posts' bounds numeric and hides statements in them.
    state["posts"] = {{"key", "id"}, {"numeric", true},
                      {"bounds", {"'0' OR true) TO STDOUT; CREATE TABLE mmmove_pwned (x int); COPY (SELECT 1"}}};
    d->exec("UPDATE mmmove_copy_state SET value = " + d->quote_literal(state.dump()) + " WHERE name = 'bounds'");
    args.push_back("--resume");
    args.erase(std::find(args.begin(), args.end(), "--create-schema"));
    auto resumed = run_mmmove(args);
    INFO(resumed.output);
    CHECK(resumed.exit_code == 4);
    CHECK_THAT(resumed.output, Catch::Contains("checkpoint") && Catch::Contains("--truncate"));
    auto s = src.connect(Side::source);
    CHECK_FALSE(read_catalog(*s).find("mmmove_pwned"));
}

TEST_CASE("a copy whose server connections are terminated finishes with --resume", "[threads][e2e][resume][pg][mysql]") {
    for (Engine to : {Engine::postgres, Engine::mysql}) {
        DYNAMIC_SECTION("destination " << engine_name(to)) {
            ScratchDb src(Engine::postgres, "term"), dst(to, "termd");
            fill_sample(src, 30000);
            std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "2",
                                             "--chunk-rows", "500", "--quiet"};
            std::string out = "/tmp/" + dst.name() + ".out";
            pid_t pid = spawn_mmmove(args, out);
            auto d = dst.connect();
            wait_for_chunks(*d, pid, 4);
            if (to == Engine::postgres) {
                d->query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE application_name = 'mmmove' AND datname = " +
                        d->quote_literal(dst.name()) + " AND pid <> pg_backend_pid()");
            } else {
                for (const auto& r : d->query("SELECT ID FROM information_schema.PROCESSLIST WHERE DB = " + d->quote_literal(dst.name()) +
                                              " AND ID <> CONNECTION_ID()"))
                    try {
                        d->exec("KILL CONNECTION " + r[0].value_or("0"));
                    } catch (const Error&) {
                    }
            }
            int status;
            waitpid(pid, &status, 0);
            std::string output = slurp(out);
            INFO(output);
            REQUIRE(WIFEXITED(status));
            CHECK(WEXITSTATUS(status) == 4);
            CHECK_THAT(output, Catch::Contains("run the same command with --resume"));

            args.push_back("--resume");
            args.erase(std::find(args.begin(), args.end(), "--create-schema"));
            auto resumed = run_mmmove(args);
            INFO(resumed.output);
            REQUIRE(resumed.exit_code == 0);
            require_finished_like_an_uninterrupted_run(src, dst, false);
        }
    }
}

TEST_CASE("--resume without an interrupted copy is refused", "[e2e][resume][pg]") {
    ScratchDb src(Engine::postgres, "nores"), dst(Engine::postgres, "noresd");
    fill_sample(src, 100);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--resume"});
    CHECK(out.exit_code == 2);
    CHECK_THAT(out.output, Catch::Contains("no interrupted mmmove copy"));
}

TEST_CASE("--truncate over an interrupted copy starts again and still restores every index", "[e2e][resume][pg][mysql]") {
    ScratchDb src(Engine::postgres, "trunc"), dst(Engine::mysql, "truncd");
    fill_sample(src, 30000);
    auto s = src.connect();
    s->exec("ANALYZE");
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1",
                                     "--chunk-rows", "500", "--quiet"};
    kill_mid_run(args, dst, 5);

    args.erase(std::find(args.begin(), args.end(), "--create-schema"));
    args.push_back("--truncate");
    auto again = run_mmmove(args);
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    require_finished_like_an_uninterrupted_run(src, dst, false);
}

namespace {

// True when SQL planted in the checkpoint ran: PostgreSQL a table it creates, MySQL a column it adds.
bool planted_sql_ran(const ScratchDb& dst) {
    auto d = dst.connect();
    if (dst.engine() == Engine::postgres)
        return d->query("SELECT COUNT(*) FROM pg_tables WHERE tablename LIKE 'mmmove_pwned%'").at(0).at(0) != "0";
    return d->query("SELECT COUNT(*) FROM information_schema.COLUMNS WHERE TABLE_SCHEMA = DATABASE() "
                    "AND COLUMN_NAME LIKE 'mmmove_pwned%'").at(0).at(0) != "0";
}

// Whoever owns the staging database adds index "definitions" of their own to a killed copy's
// checkpoint, under an unknown name, under a known name of a table that is not one, and one that
// forges a known index's definition.
void plant_hostile_indexes(const ScratchDb& dst) {
    auto d = dst.connect();
    auto indexes = nlohmann::json::parse(*d->query("SELECT value FROM mmmove_copy_state WHERE name = 'indexes'").at(0).at(0));
    const bool pg = dst.engine() == Engine::postgres;
    const std::string posts = pg ? "posts" : "Posts";
    auto evil = [&](int n) {  // each a statement of its own, so none fails for another's duplicate
        std::string i = std::to_string(n);
        return pg ? "CREATE TABLE mmmove_pwned" + i + " (x int)" : "KEY `idx_evil" + i + "` (`Id`), ADD COLUMN mmmove_pwned" + i + " int";
    };
    for (auto& i : indexes)  // the model knows this one: only the definition is forged
        if (i["name"] == "idx_posts_create_at" && i["table"] == posts) i["definition"] = evil(1);
    indexes.push_back({{"table", posts}, {"name", "idx_evil"}, {"definition", evil(2)}, {"fulltext", false}});
    indexes.push_back({{"table", posts + "\"; CREATE TABLE mmmove_pwned (x int); --"}, {"name", "idx_posts_create_at"},
                       {"definition", evil(3)}, {"fulltext", false}});
    d->exec("UPDATE mmmove_copy_state SET value = " + d->quote_literal(indexes.dump()) + " WHERE name = 'indexes'");
}

void hostile_index_definitions(Engine dest_engine) {
    ScratchDb src(Engine::postgres, "hidx"), dst(dest_engine, "hidxd");
    fill_sample(src, 30000);
    src.connect()->exec("ANALYZE");  // Posts' estimate makes it a large table, its indexes deferred
    const std::string report = "/tmp/" + dst.name() + ".jsonl";
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1",
                                     "--chunk-rows", "500", "--quiet", "--report", report};
    kill_mid_run(args, dst, 3);
    std::filesystem::remove("/tmp/" + dst.name() + ".out");
    plant_hostile_indexes(dst);
    args.erase(std::find(args.begin(), args.end(), "--create-schema"));

    auto with = [&](const std::string& flag) {
        auto a = args;
        if (!flag.empty()) a.push_back(flag);
        return run_mmmove(a);
    };
    CliRun resumed = with("--resume");
    INFO(resumed.output);
    CHECK_FALSE(planted_sql_ran(dst));
    CHECK(resumed.exit_code == 4);
    CHECK_THAT(resumed.output, Catch::Contains("checkpoint") && Catch::Contains("--truncate"));

    CliRun plain = with("");  // a plain copy over the stale checkpoint is refused, nothing in it used
    INFO(plain.output);
    CHECK_FALSE(planted_sql_ran(dst));
    CHECK(plain.exit_code == 4);
    CHECK_THAT(plain.output, Catch::Contains("did not finish"));

    CliRun truncated = with("--truncate");  // starts over: the checkpoint is dropped unread
    INFO(truncated.output);
    CHECK_FALSE(planted_sql_ran(dst));
    REQUIRE(truncated.exit_code == 0);
    require_finished_like_an_uninterrupted_run(src, dst, false);
    std::filesystem::remove(report);
}

}  // namespace

TEST_CASE("index definitions planted in a PostgreSQL checkpoint never run; resume refuses, --truncate starts over", "[e2e][resume][pg]") {
    hostile_index_definitions(Engine::postgres);
}

TEST_CASE("index definitions planted in a MariaDB checkpoint never run; resume refuses, --truncate starts over", "[e2e][resume][mysql]") {
    hostile_index_definitions(Engine::mysql);
}

TEST_CASE("rows planted in the checkpoint's list of changed values never reach the report", "[e2e][resume][pg]") {
    ScratchDb src(Engine::postgres, "hiss"), dst(Engine::postgres, "hissd");
    fill_sample(src, 20000);
    const std::string report = "/tmp/" + dst.name() + ".jsonl";
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1",
                                     "--chunk-rows", "500", "--quiet", "--report", report};
    kill_mid_run(args, dst, 3);
    std::filesystem::remove("/tmp/" + dst.name() + ".out");
    auto d = dst.connect();
    // A line that is two report lines, one of them not mmmove's, and a summary that writes to the terminal.
    d->exec("INSERT INTO mmmove_copy_issues (table_name, chunk, seq, summary, line) VALUES ('posts', 99999, 0, "
            "'Posts.Message: \x1b]0;owned\x07', '{\"action\":\"a\",\"column\":\"c\",\"key\":\"k\",\"problem\":\"p\",\"table\":\"t\"}\n"
            "{\"planted\":\"yes\"}')");
    args.erase(std::find(args.begin(), args.end(), "--create-schema"));
    args.push_back("--resume");
    CliRun resumed = run_mmmove(args);
    INFO(resumed.output);
    CHECK(resumed.exit_code == 4);
    CHECK_THAT(resumed.output, Catch::Contains("mmmove_copy_issues") && Catch::Contains("--truncate"));
    CHECK(resumed.output.find('\x1b') == std::string::npos);
    CHECK_FALSE(std::filesystem::exists(report));
    std::filesystem::remove(report);
}
