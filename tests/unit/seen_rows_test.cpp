// Which source rows the previous pass's snapshot saw (sync/seen_rows.h): a row it did not see must be
// compared, so every doubt answers "not seen".
#include <catch2/catch.hpp>

#include "sync/seen_rows.h"

using mmmove::sync_detail::SeenRows;
using mmmove::sync_detail::SnapshotHorizon;

namespace {

constexpr uint64_t kEpoch = uint64_t(1) << 32;

SnapshotHorizon at(uint64_t xmin, uint64_t xmax = 0, std::string cluster = "7716560636599389562/1") {
    return SnapshotHorizon{std::move(cluster), xmin, xmax};
}

}  // namespace

TEST_CASE("a horizon reads back only in the form mmmove writes it", "[seenrows]") {
    const auto h = SnapshotHorizon::parse("7716560636599389562/1:4294967300");
    REQUIRE(h);
    CHECK(h->cluster == "7716560636599389562/1");
    CHECK(h->xmin == 4294967300u);
    CHECK(h->text() == "7716560636599389562/1:4294967300");
    for (const char* bad : {"", "1/1", "1:5", "1/1:", "/1:5", "1/:5", "01/1:5", "1/01:5", "1/1:05", "1/1:5 ", "1/1:-5", "1/4294967296:5",
                            "1/1:18446744073709551616", "99999999999999999999/1:5", "1/1:5; DROP TABLE posts"})
        CHECK_FALSE(SnapshotHorizon::parse(bad));
}

TEST_CASE("a row is seen only when its xmin is below the previous snapshot's xmin", "[seenrows]") {
    const auto seen = SeenRows::make(at(1000), at(0, 5000));
    REQUIRE(seen);
    CHECK(seen->seen(999u));
    CHECK(seen->seen(3u));
    CHECK_FALSE(seen->seen(1000u));  // at the previous xmin: it may have run then, or be a subtransaction of one that did
    CHECK_FALSE(seen->seen(1001u));
    CHECK_FALSE(seen->seen(4999u));
    CHECK_FALSE(seen->seen(6000u));  // beyond this snapshot's xmax: no version it reads, so in doubt
    // PostgreSQL's special xids (invalid, bootstrap, frozen) say nothing about when a version was written.
    for (uint32_t special : {0u, 1u, 2u}) CHECK_FALSE(seen->seen(special));
    // As the source prints it: a whole 32-bit number, else not seen.
    CHECK(seen->seen("999", 3));
    CHECK_FALSE(seen->seen("1000", 4));
    CHECK_FALSE(seen->seen("", 0));
    CHECK_FALSE(seen->seen("99x", 3));
    CHECK_FALSE(seen->seen("-99", 3));
    CHECK_FALSE(seen->seen("4294967296", 10));
}

TEST_CASE("a row's 32-bit xmin is widened across an epoch boundary", "[seenrows]") {
    // The previous snapshot just before the epoch turned, this one just after.
    const auto seen = SeenRows::make(at(kEpoch - 100), at(0, kEpoch + 50));
    REQUIRE(seen);
    CHECK(seen->seen(uint32_t(kEpoch - 101)));  // written in the previous epoch, before the previous xmin
    CHECK_FALSE(seen->seen(uint32_t(kEpoch - 100)));
    CHECK_FALSE(seen->seen(10u));  // written in this epoch: after the previous snapshot
    // Both in a later epoch.
    const auto later = SeenRows::make(at(3 * kEpoch + 1000), at(0, 3 * kEpoch + 9000));
    REQUIRE(later);
    CHECK(later->seen(999u));
    CHECK_FALSE(later->seen(1000u));
    CHECK_FALSE(later->seen(8999u));
    // Above this snapshot's xmax in 32 bits: a version of the epoch before (a frozen one), long before.
    CHECK(later->seen(9999u));
}

TEST_CASE("a horizon of another cluster, timeline or a far-off snapshot proves nothing", "[seenrows]") {
    CHECK_FALSE(SeenRows::make(at(1000, 0, "1/1"), at(0, 5000, "2/1")));          // another cluster (a dump loaded elsewhere)
    CHECK_FALSE(SeenRows::make(at(1000, 0, "1/1"), at(0, 5000, "1/2")));          // another timeline (a restore, a failover)
    CHECK_FALSE(SeenRows::make(at(1000, 0, ""), at(0, 5000, "")));                // no cluster known
    CHECK_FALSE(SeenRows::make(at(9000), at(0, 5000)));                           // recorded after this snapshot's xmax
    CHECK_FALSE(SeenRows::make(at(1000), at(0, 1000 + kEpoch / 2)));              // 2^31 transactions apart
    CHECK(SeenRows::make(at(1000), at(0, 1000 + kEpoch / 2 - 1)));
}
