// A scanning sync from PostgreSQL skips the rows stamped within the skew margin that the previous
// pass's snapshot already saw (sync/seen_rows.h), and still compares every row it did not see: one
// written late by an app server whose clock lags (stamped before that snapshot, committed after).
// The horizon it goes by is recorded with the snapshot; one from another cluster proves nothing.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <regex>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

uint64_t posts(const nlohmann::json& j, const std::string& field) { return table_of(j, "posts")[field].get<uint64_t>(); }

}  // namespace

TEST_CASE("a sync from PostgreSQL compares again only the margin's rows the previous snapshot did not see", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "sysr"), dst(Engine::postgres, "sysd");
    fill_sample(src, 60, 141, false, 1, false);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    const std::vector<std::string> base = {"--from", src.dsn(), "--to", dst.dsn(), "--quiet"};
    auto run = [&](std::vector<std::string> head) {
        head.insert(head.end(), base.begin(), base.end());
        return run_mmmove(head);
    };
    REQUIRE(run({"copy", "--create-schema"}).exit_code == 0);
    const std::string now_ms = "(extract(epoch FROM clock_timestamp()) * 1000)::bigint";
    // One chunk (each chunk reads its stamped rows), then chunks of 20 rows (the table as a whole first).
    for (const std::string chunk_rows : {"100000", "20"}) {
        auto sync_json = [&] {
            auto out = run({"sync", "--json", "--chunk-rows", chunk_rows});
            INFO(chunk_rows + " rows a chunk: " + out.output.substr(0, 3000));
            REQUIRE(out.exit_code == 0);
            return json_of(out);
        };
        REQUIRE(run({"sync"}).exit_code == 0);
        CHECK(std::regex_match(query_one(*d, "SELECT horizon FROM mmmove_sync_state"), std::regex(R"(\d+/\d+:\d+)")));

        s->exec("UPDATE posts SET message = 'edited " + chunk_rows + "', updateat = " + now_ms +
                " WHERE id IN (SELECT id FROM posts ORDER BY id LIMIT 3)");
        auto j = sync_json();
        CHECK(posts(j, "updated") == 3);
        CHECK((posts(j, "chunks") > 1) == (chunk_rows == "20"));

        // At once again: the three edits are within the margin, but the last pass's snapshot saw them.
        j = sync_json();
        CHECK(posts(j, "updated") == 0);
        CHECK(posts(j, "rows_compared") == 0);

        // A post written late: stamped a minute before the last snapshot, committed after it.
        const int64_t previous = std::stoll(query_one(*d, "SELECT snapshot_ms FROM mmmove_sync_state"));
        s->exec("UPDATE posts SET message = 'late " + chunk_rows + "', updateat = " + std::to_string(previous - 60000) +
                " WHERE id = (SELECT id FROM posts ORDER BY id OFFSET 30 LIMIT 1)");
        j = sync_json();
        CHECK(posts(j, "updated") == 1);
        CHECK(posts(j, "rows_compared") == 1);
        CHECK(run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"}).exit_code == 0);
    }
    // A horizon recorded on another cluster (a dump loaded elsewhere, a restore) proves nothing: the
    // margin's rows (the last round's four edits) are compared again, and found equal.
    d->exec("UPDATE mmmove_sync_state SET horizon = '1/1:' || split_part(horizon, ':', 2)");
    auto out = run({"sync", "--json"});
    REQUIRE(out.exit_code == 0);
    auto j = json_of(out);
    CHECK(posts(j, "rows_compared") >= 4);
    CHECK(posts(j, "updated") + posts(j, "inserted") + posts(j, "deleted") == 0);
}
