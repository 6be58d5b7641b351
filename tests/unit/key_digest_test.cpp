// The arithmetic of server key digests (sync/key_digest.h): a table-wide pass adds the digest of the
// stamped keys the destination lacks to the destination's, and must spell the sum as PostgreSQL
// spells the sum of the union, or equal key sets would look different (and the other way round).
#include <catch2/catch.hpp>

#include "core/error.h"
#include "sync/key_digest.h"

using mmmove::sync_detail::ServerKeyDigest;

TEST_CASE("key digests add as PostgreSQL sums their union, signs and sums past 64 bits included", "[keydigest]") {
    CHECK(ServerKeyDigest{2, "5"}.plus({1, "-7"}) == ServerKeyDigest{3, "-2"});
    CHECK(ServerKeyDigest{1, "-3"}.plus({1, "3"}) == ServerKeyDigest{2, "0"});
    CHECK(ServerKeyDigest{}.plus({1, "42"}) == ServerKeyDigest{1, "42"});  // an empty set's sum is ""
    CHECK(ServerKeyDigest{1, "42"}.plus({}) == ServerKeyDigest{1, "42"});
    CHECK(ServerKeyDigest{2, "18446744073709551614"}.plus({1, "9223372036854775807"}) == ServerKeyDigest{3, "27670116110564327421"});
    CHECK(ServerKeyDigest{2, "-18446744073709551616"}.plus({1, "-9223372036854775808"}) == ServerKeyDigest{3, "-27670116110564327424"});
    CHECK_THROWS_AS(ServerKeyDigest({1, "12a"}).plus({1, "1"}), mmmove::Error);  // read back: only a whole number
    CHECK_THROWS_AS(ServerKeyDigest({1, "-"}).plus({1, "1"}), mmmove::Error);
}
