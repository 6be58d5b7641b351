// A server may return any bytes for a table or column name. The --json summaries must still be
// written, naming the table (bytes that are not UTF-8 as U+FFFD), not abort with nlohmann's
// invalid-UTF-8 exception. (PostgreSQL and MariaDB convert or check names on the way to a UTF-8
// client, so only a hostile server sends such names: tested here at the writers.)
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "copy/copy.h"
#include "sync/sync.h"

using namespace mmmove;

namespace {

const std::string kName = "caf\xe9";          // latin1 é: not UTF-8
const std::string kShown = "caf\xef\xbf\xbd";  // é as U+FFFD

}  // namespace

TEST_CASE("copy's and sync's --json summaries are written when a table name is not UTF-8", "[json]") {
    CopyResult copied;
    copied.left_behind.emplace_back(kName, 3);
    std::string copy_json;
    REQUIRE_NOTHROW(copy_json = copy_summary_json(copied));
    auto c = nlohmann::json::parse(copy_json);
    CHECK(c["left_behind"][0]["table"] == kShown);

    CatchUpResult synced;
    synced.left_behind.push_back(kName);
    TableCatchUp t;
    t.dest_table = kName;
    synced.tables.push_back(t);
    std::string sync_json;
    REQUIRE_NOTHROW(sync_json = sync_summary_json(synced));
    auto s = nlohmann::json::parse(sync_json);
    CHECK(s["left_behind"][0] == kShown);
    CHECK(s["tables"][0]["table"] == kShown);
}
