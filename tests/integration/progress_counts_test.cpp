// The progress line counts only rows that stay, against the rows that will move. A chunk whose
// transaction the destination rolls back after a lost lock conflict is loaded again, and the rows of
// the lost attempt are taken back; a merge --team expects the team's rows, not the whole source's.
// The conflict is made by a trigger on the destination's Posts that fails the first COPY into it
// with PostgreSQL's deadlock error (40P01) once every row of that chunk has been sent; the chunk holds
// all 12,000 posts, so the lost attempt counted 10,000 of them (the count moves in steps of 5,000).
#include <catch2/catch.hpp>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <regex>
#include <sys/wait.h>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// The last number captured by `pattern` (one group) in `text`; -1 when there is none.
int64_t last_number(const std::string& text, const std::regex& pattern) {
    int64_t n = -1;
    for (std::sregex_iterator it(text.begin(), text.end(), pattern), end; it != end; ++it) n = std::stoll((*it)[1].str());
    return n;
}

}  // namespace

TEST_CASE("progress counts a chunk rolled back after a lost lock conflict once, as the summary does", "[e2e][pg][progress]") {
    ScratchDb src(Engine::postgres, "prr"), dst(Engine::postgres, "prrd");
    fill_sample(src, 12000, 141, false, 1, false);
    auto made = run_mmmove({"schema", "create", "--to", dst.dsn(), "--level", "141"});
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
    auto d = dst.connect();
    d->exec("CREATE SEQUENCE test_posts_copies");
    d->exec("CREATE FUNCTION test_lose_once() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "
            "IF nextval('test_posts_copies') = 1 THEN RAISE EXCEPTION 'deadlock detected (test)' USING ERRCODE = 'deadlock_detected'; END IF; "
            "RETURN NULL; END $$");
    d->exec("CREATE TRIGGER test_lose_once AFTER INSERT ON posts FOR EACH STATEMENT EXECUTE FUNCTION test_lose_once()");

    // `script` gives mmmove a terminal: the live display ends with a final frame of the whole count.
    std::string cmd = std::string(mmmove_binary()) + " copy --from '" + src.dsn() + "' --to '" + dst.dsn() + "' --jobs 1 --chunk-rows 50000";
    FILE* p = popen(("script -qec \"" + cmd + "\" /dev/null 2>&1").c_str(), "r");
    REQUIRE(p != nullptr);
    std::string screen;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) screen.append(buf, n);
    int status = pclose(p);
    INFO(screen);
    REQUIRE(WEXITSTATUS(status) == 0);
    // The trigger ran again after the first COPY failed: the chunk was retried.
    CHECK(std::stoll(query_one(*d, "SELECT last_value FROM test_posts_copies")) > 1);
    CHECK(query_one(*d, "SELECT COUNT(*) FROM posts") == "12000");
    const int64_t shown = last_number(screen, std::regex(R"(%  (\d+) rows, )"));
    const int64_t copied = last_number(screen, std::regex(R"(Summary: \d+ tables, (\d+) rows copied)"));
    CHECK(copied > 12000);
    CHECK(shown == copied);
}

TEST_CASE("the progress line of merge --team expects the rows the team moves, not the whole source's", "[e2e][pg][progress][merge]") {
    ScratchDb src(Engine::postgres, "prt"), dst(Engine::postgres, "prtd");
    fill_sample(src, 20000, 141, false, 1, false);
    fill_sample(dst, 2000, 141, false, 2, false);
    auto plan = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", "team-0", "--plan", "--json"});
    INFO(plan.output);
    REQUIRE(plan.exit_code == 0);
    auto j = nlohmann::json::parse(plan.output.substr(plan.output.find("\n{") + 1));
    int64_t moving = 0, source = 0;
    for (const auto& t : j["tables"]) {
        if (t["merged"] == true) moving += t["source_rows"].get<int64_t>();
        source += t["total_rows"].get<int64_t>();
    }
    REQUIRE(moving < source / 2);  // the team is a part of the source

    setenv("MMMOVE_PROGRESS_SECONDS", "0.05", 1);
    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--team", "team-0", "--jobs", "1"});
    unsetenv("MMMOVE_PROGRESS_SECONDS");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    const int64_t expected = last_number(run.output, std::regex(R"(progress: \d+% \d+ of ~(\d+) rows)"));
    REQUIRE(expected > 0);
    CHECK(expected == moving);
}
