// mmmove sync --final proves the source stood still from a temporary logical slot made before its
// snapshot (sync/stillness_stream.h). The pass is stopped at a pause point (MMMOVE_TEST_PAUSE_AT) and a
// post is written there: after the snapshot it must be caught, before the snapshot it must not count;
// when the slot cannot be made in time the pass counts rows, as before, and still catches the post.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <thread>

#include "catalog/catalog.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A new post stamped now: the first post's row under a new id.
void write_post(const ScratchDb& db, const std::string& id) {
    auto s = db.connect(Side::source);
    Catalog catalog = read_catalog(*s);
    const Table* posts = catalog.find("Posts");
    REQUIRE(posts);
    const std::string now = std::to_string(
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
    std::string cols, values;
    for (const auto& c : posts->columns) {
        const std::string l = lower(c.name), sep = cols.empty() ? "" : ", ";
        cols += sep + s->quote_ident(c.name);
        values += sep + (l == "id" ? s->quote_literal(id) : l == "createat" || l == "updateat" ? now : s->quote_ident(c.name));
    }
    const std::string table = s->quote_ident(posts->name);
    s->exec("INSERT INTO " + table + " (" + cols + ") SELECT " + values + " FROM " + table + " ORDER BY " +
            s->quote_ident(posts->find_column("Id")->name) + " LIMIT 1");
}

struct CopiedPair {
    ScratchDb src, dst{Engine::postgres, "dst"};
    explicit CopiedPair(Engine source = Engine::postgres) : src(source, "src") {
        fill_sample(src, 200, 141, false, 1, false);
        auto copy = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet"});
        INFO(copy.output);
        REQUIRE(copy.exit_code == 0);
    }
    std::vector<std::string> final_sync(bool json = false) const {
        std::vector<std::string> args{"sync", "--final", "--from", src.dsn(), "--to", dst.dsn(), "--jobs", "2"};
        if (json) args.push_back("--json");
        return args;
    }
};

struct Ran {
    int exit_code = -1;
    std::string output;
};

// Runs `args`, stops it at pause point `point`, runs `meanwhile`, and lets it go on.
Ran run_paused(const std::vector<std::string>& args, const std::string& point, const std::string& tag,
               const std::function<void()>& meanwhile) {
    const std::filesystem::path dir = "/tmp/mmt_pause_" + tag;
    std::filesystem::remove_all(dir);
    std::filesystem::create_directories(dir);
    const std::string out = (dir / "out").string();
    setenv("MMMOVE_TEST_PAUSE_AT", (point + ":" + dir.string()).c_str(), 1);
    pid_t pid = spawn_mmmove(args, out);
    unsetenv("MMMOVE_TEST_PAUSE_AT");
    bool reached = false;
    for (int i = 0; i < 6000 && !reached; ++i) {
        reached = std::filesystem::exists(dir / (point + ".reached"));
        if (!reached) std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    if (reached) meanwhile();
    std::ofstream(dir / (point + ".go")) << "go\n";
    int status = 0;
    waitpid(pid, &status, 0);
    Ran r;
    r.output = slurp(out);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::filesystem::remove_all(dir);
    REQUIRE(reached);
    return r;
}

}  // namespace

TEST_CASE("a final sync proves from the change stream: a post committed before its snapshot is no move",
          "[e2e][pg][sync][final]") {
    CopiedPair p;
    // Committed after the temporary slot was made and before the snapshot: the snapshot sees it, the
    // pass brings it over, and the stream's copy of it must not count as a move.
    auto r = run_paused(p.final_sync(), "final-before-snapshot", p.dst.name(), [&] { write_post(p.src, "zzbeforesnapshot0000000001"); });
    INFO(r.output);
    CHECK(r.exit_code == 0);
    CHECK_THAT(r.output, Catch::Contains("1 rows inserted"));
    CHECK_THAT(r.output, Catch::Contains("the source stood still during the final sync (proof: change stream"));
    CHECK_THAT(r.output, Catch::Contains("ms (change stream)"));
    auto d = p.dst.connect();
    CHECK(query_one(*d, "SELECT count(*) FROM posts WHERE id = 'zzbeforesnapshot0000000001'") == "1");
    // No slot outlives the pass.
    auto s = p.src.connect();
    CHECK(query_one(*s, "SELECT count(*) FROM pg_replication_slots WHERE database = current_database()") == "0");

    // A quiet source again, in --json: the proof is named.
    auto again = run_mmmove(p.final_sync(true));
    INFO(again.output);
    REQUIRE(again.exit_code == 0);
    auto j = nlohmann::json::parse(again.output.substr(again.output.find("{\n")));
    CHECK(j["final"]["proof"] == "change stream");
    CHECK(j["final"]["source_stood_still"] == true);
    CHECK(j["final"]["source_moved"]["stream_transactions"] == 0);
}

TEST_CASE("a final sync catches from the change stream a post committed after its snapshot", "[e2e][pg][sync][final]") {
    CopiedPair p;
    auto r = run_paused(p.final_sync(), "final-before-proof", p.dst.name(), [&] { write_post(p.src, "zzafterthesnapshot00000001"); });
    INFO(r.output);
    CHECK(r.exit_code == 11);
    CHECK_THAT(r.output, Catch::Contains("THE SOURCE MOVED while the final sync ran (proof: change stream)"));
    CHECK_THAT(r.output, Catch::Contains("posts: 1 row new or changed since the snapshot"));
    CHECK_THAT(r.output, !Catch::Contains("stood still"));
    // The post is not in the destination: the pass's snapshot did not hold it.
    auto d = p.dst.connect();
    CHECK(query_one(*d, "SELECT count(*) FROM posts WHERE id = 'zzafterthesnapshot00000001'") == "0");
}

TEST_CASE("a final sync from MariaDB proves from the binlog: before its snapshot no move, after it THE SOURCE MOVED",
          "[e2e][mysql][pg][sync][final]") {
    CopiedPair p(Engine::mysql);
    auto before = run_paused(p.final_sync(), "final-before-snapshot", p.dst.name(), [&] { write_post(p.src, "zzbeforesnapshot0000000001"); });
    INFO(before.output);
    CHECK(before.exit_code == 0);
    CHECK_THAT(before.output, Catch::Contains("1 rows inserted"));
    CHECK_THAT(before.output, Catch::Contains("the source stood still during the final sync (proof: change stream"));
    auto after = run_paused(p.final_sync(), "final-before-proof", p.dst.name(), [&] { write_post(p.src, "zzafterthesnapshot00000001"); });
    INFO(after.output);
    CHECK(after.exit_code == 11);
    CHECK_THAT(after.output, Catch::Contains("THE SOURCE MOVED while the final sync ran (proof: change stream)"));
    CHECK_THAT(after.output, Catch::Contains("Posts: up to 1 row new or changed since the snapshot"));
}

TEST_CASE("a final sync whose temporary slot waits too long proves by row counts and still catches a post",
          "[e2e][pg][sync][final]") {
    CopiedPair p;
    // A transaction with an xid left open anywhere on the cluster holds a slot's creation until it ends:
    // the pass gives up after its bound and counts.
    ScratchDb elsewhere(Engine::postgres, "blk");  // another database: the destination must have no other sessions
    auto blocker = elsewhere.connect();
    blocker->begin();
    blocker->query("SELECT txid_current()");
    auto r = run_paused(p.final_sync(), "final-before-proof", p.dst.name(), [&] { write_post(p.src, "zzwhileblocked000000000001"); });
    blocker->rollback();
    INFO(r.output);
    CHECK(r.exit_code == 11);
    CHECK_THAT(r.output, Catch::Contains("proving the source stood still by row counts (no temporary replication slot"));
    CHECK_THAT(r.output, Catch::Contains("THE SOURCE MOVED while the final sync ran (proof: row counts)"));
    CHECK_THAT(r.output, Catch::Contains("posts: ") && Catch::Contains("1 more row since the snapshot"));
}
