// The progress line counts only rows that stay: a chunk whose transaction the destination rolls back
// after a lost lock conflict is loaded again, and the rows of the lost attempt are taken back.
// The conflict is made by a trigger on the destination's Posts that fails the first COPY into it
// with PostgreSQL's deadlock error (40P01) once every row of that chunk has been sent; the chunk holds
// all 12,000 posts, so the lost attempt counted 10,000 of them (the count moves in steps of 5,000).
#include <catch2/catch.hpp>

#include <cstdio>
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
    std::string cmd = std::string(MMMOVE_BINARY) + " copy --from '" + src.dsn() + "' --to '" + dst.dsn() + "' --jobs 1 --chunk-rows 50000";
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
