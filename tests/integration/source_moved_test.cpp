// A copy measures whether its source moved on after the snapshot it read: a writer that posts, edits
// and hard-deletes a reaction while the copy runs is named in a warning; a quiet source gives none.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include "catalog/catalog.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// Polls `sql` on `db` until it returns a nonzero count (an error counts as 0: the table may not exist yet).
void wait_until(Database& db, const std::string& sql, pid_t copy) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    for (;;) {
        try {
            if (query_one(db, sql) != "0") return;
        } catch (const Error&) {
        }
        int status;
        REQUIRE(waitpid(copy, &status, WNOHANG) == 0);  // the copy is still running
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// What Mattermost would do meanwhile: 12 new posts, one edited post, one hard-deleted reaction.
void write_like_mattermost(Database& src) {
    Catalog catalog = read_catalog(src);
    const Table* posts = catalog.find("Posts");
    const Table* reactions = catalog.find("Reactions");
    REQUIRE(posts);
    REQUIRE(reactions);
    auto q = [&](const std::string& name) { return src.quote_ident(name); };
    auto col = [&](const Table* t, const char* name) { return q(t->find_column(name)->name); };
    std::string stamp = std::to_string(now_ms());
    std::string cols, values;
    for (const auto& c : posts->columns) {
        std::string l = lower(c.name), sep = cols.empty() ? "" : ", ";
        cols += sep + q(c.name);
        values += sep + (l == "id" ? "CONCAT('zz', SUBSTR(" + q(c.name) + ", 3))" : l == "createat" || l == "updateat" ? stamp : q(c.name));
    }
    src.exec("INSERT INTO " + q(posts->name) + " (" + cols + ") SELECT " + values + " FROM " + q(posts->name) + " ORDER BY " +
             col(posts, "Id") + " LIMIT 12");
    std::string edited = query_one(src, "SELECT " + col(posts, "Id") + " FROM " + q(posts->name) + " WHERE " + col(posts, "Id") +
                                            " NOT LIKE 'zz%' ORDER BY " + col(posts, "Id") + " LIMIT 1");
    src.exec("UPDATE " + q(posts->name) + " SET " + col(posts, "Message") + " = 'edited', " + col(posts, "EditAt") + " = " + stamp +
             ", " + col(posts, "UpdateAt") + " = " + stamp + " WHERE " + col(posts, "Id") + " = " + src.quote_literal(edited));
    auto r = src.query("SELECT " + col(reactions, "PostId") + ", " + col(reactions, "UserId") + ", " + col(reactions, "EmojiName") +
                       " FROM " + q(reactions->name) + " ORDER BY 1, 2, 3 LIMIT 1");
    REQUIRE(r.size() == 1);
    src.exec("DELETE FROM " + q(reactions->name) + " WHERE " + col(reactions, "PostId") + " = " + src.quote_literal(*r[0][0]) +
             " AND " + col(reactions, "UserId") + " = " + src.quote_literal(*r[0][1]) + " AND " + col(reactions, "EmojiName") +
             " = " + src.quote_literal(*r[0][2]));
}

}  // namespace

// [long]: under AddressSanitizer the copy of a live PostgreSQL source (live_sync_test.cpp) prints the warning.
TEST_CASE("a copy from MySQL while Mattermost writes to it names the tables that moved on",
          "[threads][e2e][mysql][pg][source_moved][long]") {
    ScratchDb src(Engine::mysql, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    std::string out = "/tmp/" + dst.name() + ".out", report = report_path(dst);
    pid_t copy = spawn_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "1", "--report", report}, out);

    // The writer holds the copy's chunk log on the destination, so the copy waits, its snapshot taken
    // (the moment is noted just before it), until Mattermost's writes are in: no race with a fast copy.
    std::thread writer([&] {
        auto d = dst.connect();
        wait_until(*d, "SELECT COUNT(*) FROM mmmove_copy_state WHERE name = 'source_clock_ms'", copy);
        d->exec("BEGIN");
        d->exec("LOCK TABLE mmmove_copy_chunks IN ACCESS EXCLUSIVE MODE");
        wait_until(*d, "SELECT COUNT(*) FROM pg_locks WHERE NOT granted AND relation = 'mmmove_copy_chunks'::regclass AND "
                       "database = (SELECT oid FROM pg_database WHERE datname = current_database())", copy);
        auto s = src.connect(Side::source);
        write_like_mattermost(*s);
        d->exec("COMMIT");
    });
    writer.join();
    int status = 0;
    waitpid(copy, &status, 0);
    std::string output = slurp(out);
    std::filesystem::remove(out);
    std::filesystem::remove(report);
    INFO(output);
    REQUIRE(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);  // the copy is complete as of its snapshot
    CHECK_THAT(output, Catch::Contains("THE SOURCE MOVED ON"));
    CHECK_THAT(output, Catch::Contains("Posts: 13 rows new or changed, 12 more rows since the snapshot"));
    CHECK_THAT(output, Catch::Contains("Reactions: 1 fewer row since the snapshot"));
    CHECK_THAT(output, Catch::Contains("mmmove sync"));
    CHECK_THAT(output, !Catch::Contains("Users:"));
}

TEST_CASE("a copy of a quiet PostgreSQL source says it did not move on", "[e2e][pg][source_moved]") {
    ScratchDb src(Engine::postgres, "src"), dst(Engine::postgres, "dst");
    fill_sample(src, 300, 141, false, 1, false);
    std::string report = report_path(dst);
    auto run = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--report", report});
    std::filesystem::remove(report);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.output, !Catch::Contains("MOVED ON"));
    auto json = nlohmann::json::parse(run.output.substr(run.output.find("{\n")));
    CHECK(json["source_moved_on"]["moved_on"] == false);
    CHECK(json["source_moved_on"]["tables"].empty());
    CHECK(json["source_moved_on"]["tables_checked"].get<int>() > 40);
    CHECK(json["source_moved_on"]["count_only_tables"].size() > 5);
}
