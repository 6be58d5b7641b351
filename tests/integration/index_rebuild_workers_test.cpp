// The index rebuild on the shared worker pool: once one index cannot be built, the other workers
// finish the index they are on and take no other, and the first error is what the copy reports.
#include <catch2/catch.hpp>

#include <sstream>

#include "pipeline/index_rebuild.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

TEST_CASE("index rebuild: one index that cannot be built stops the other workers", "[threads][pg]") {
    constexpr int kIndexes = 40;
    ScratchDb db(Engine::postgres, "idxw");
    auto conn = db.connect();
    conn->exec("CREATE TABLE \"Widgets\" (\"Id\" integer PRIMARY KEY, \"A\" integer, \"B\" integer)");
    // The rebuild starts the full-text ("gin") indexes first: this one fails at once.
    std::vector<SecondaryIndex> indexes{
        {"Widgets", "idx_widgets_gin", "CREATE INDEX idx_widgets_gin ON {table} USING gin (\"NoSuchColumn\")", false}};
    for (int i = 0; i < kIndexes; ++i) {
        std::string name = "idx_widgets_" + std::to_string(i);
        indexes.push_back({"Widgets", name, "CREATE INDEX " + name + " ON {table} (\"A\", \"B\")", false});
    }
    std::ostringstream log;
    CHECK_THROWS_WITH(rebuild_indexes(db.data_source(), indexes, 2, log, true), Catch::Contains("NoSuchColumn"));
    int built = std::stoi(query_one(*conn, "SELECT count(*) FROM pg_indexes WHERE tablename = 'Widgets' AND indexname LIKE 'idx_widgets_%'"));
    // Before the pool, the other worker built all of them while the copy was already failing.
    CHECK(built < kIndexes / 2);
}
