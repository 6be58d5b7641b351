// The connections materialized views are refreshed on (an incremental refresh's early views, and
// refresh-views) give the refresh the memory poststats' grouping needs: each test's view records the
// work_mem of the session that refreshed it, which REFRESH MATERIALIZED VIEW evaluates in that session.
#include <catch2/catch.hpp>

#include <sstream>

#include "pipeline/index_rebuild.h"
#include "support.h"
#include "sync/early_views.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A table and a view over it that records the refreshing session's work_mem (the server's default, 4MB,
// when made).
void make_recording_view(Database& db) {
    db.exec("CREATE TABLE vw_rows (id integer PRIMARY KEY)");
    db.exec("INSERT INTO vw_rows VALUES (1)");
    db.exec("CREATE MATERIALIZED VIEW vw_memory AS SELECT current_setting('work_mem') AS work_mem, count(*) AS n FROM vw_rows");
    REQUIRE(query_one(db, "SELECT work_mem FROM vw_memory") != kViewWorkMem);
}

}  // namespace

TEST_CASE("an incremental refresh's early views are refreshed with room for poststats' grouping", "[pg][views][incremental]") {
    ScratchDb db(Engine::postgres, "vwe");
    auto d = db.connect();
    make_recording_view(*d);
    d->exec("INSERT INTO vw_rows VALUES (2)");
    const DataSource ds = db.data_source();
    sync_detail::EarlyViews early(ds, {"vw_memory"}, view_sources(*d), {"vw_rows"});
    early.table_done("vw_rows", true);
    CHECK(early.finish() == std::set<std::string>{"vw_memory"});
    CHECK(query_one(*d, "SELECT n FROM vw_memory") == "2");
    CHECK(query_one(*d, "SELECT work_mem FROM vw_memory") == kViewWorkMem);
}

TEST_CASE("refresh-views refreshes with room for poststats' grouping", "[pg][views]") {
    ScratchDb db(Engine::postgres, "vwa");
    auto d = db.connect();
    make_recording_view(*d);
    std::ostringstream log;
    refresh_views_apart(db.data_source(), {"vw_memory"}, 1, log, true);
    CHECK(query_one(*d, "SELECT work_mem FROM vw_memory") == kViewWorkMem);
}
