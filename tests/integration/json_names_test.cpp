// A server may return any bytes for a table name: a PostgreSQL database in SQL_ASCII hands its
// names to a UTF-8 client unconverted. sync's --json summary is still written (the bytes that are not
// UTF-8 become U+FFFD) and names the table, instead of aborting the command.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// Recreates `db` as a SQL_ASCII database (names and values are bytes, not checked as UTF-8).
void recreate_as_sql_ascii(const ScratchDb& db) {
    DataSource ds = db.data_source();
    ds.database = "postgres";
    auto admin = Database::connect(ds, Side::destination);
    admin->exec("DROP DATABASE " + db.name());
    admin->exec("CREATE DATABASE " + db.name() + " ENCODING 'SQL_ASCII' LC_COLLATE 'C' LC_CTYPE 'C' TEMPLATE template0");
}

bool names_left_behind(const nlohmann::json& list, const std::string& name) {
    for (const auto& t : list)
        if ((t.is_string() ? t : t["table"]) == name) return true;
    return false;
}

}  // namespace

TEST_CASE("sync writes its --json summary when a table name is not UTF-8", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "jns"), dst(Engine::postgres, "jnd");
    recreate_as_sql_ascii(src);
    fill_sample(src, 20, 141, false, 1, false);
    REQUIRE(run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet"}).exit_code == 0);
    {
        auto s = src.connect(Side::source);
        s->exec("SET client_encoding = 'LATIN1'");  // the server takes the byte as it is sent
        s->exec("CREATE TABLE \"caf\xe9\" (id varchar(26) PRIMARY KEY)");
    }
    // The new table is one the destination lacks: left behind, and named in the summary.
    CliRun synced = sync(src, dst, {"--skip-missing-tables"});
    INFO(synced.output.substr(0, 3000));
    REQUIRE(synced.exit_code == 0);
    CHECK(names_left_behind(json_of(synced)["left_behind"], "caf\xef\xbf\xbd"));  // café, é as U+FFFD
}
