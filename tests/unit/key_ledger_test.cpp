// The key digests a sync records on the destination (sync/key_ledger.h) read back only in the form
// mmmove writes them: anything else is no ledger at all, and the next pass compares both sides.
#include <catch2/catch.hpp>

#include "sync/key_ledger.h"

using mmmove::sync_detail::KeyLedger;
using mmmove::sync_detail::TableKeyDigest;

TEST_CASE("a key ledger reads back as it was written", "[keyledger]") {
    KeyLedger l;
    l.set("posts", TableKeyDigest{"pg", 1000000, "-92233720368547758070000"});
    l.set("reactions", TableKeyDigest{"xx", 3, "18446744073709551615:0"});
    l.set("threads", TableKeyDigest{"pg", 0, ""});
    const auto back = KeyLedger::parse(l.text());
    REQUIRE(back);
    REQUIRE(back->find("posts"));
    CHECK(*back->find("posts") == *l.find("posts"));
    CHECK(*back->find("reactions") == *l.find("reactions"));
    CHECK(*back->find("threads") == *l.find("threads"));
    CHECK_FALSE(back->find("channels"));
    CHECK(KeyLedger::parse("") );
    CHECK(KeyLedger::parse("")->empty());
    CHECK(KeyLedger().text().empty());
}

TEST_CASE("a key ledger in any other form is no ledger", "[keyledger]") {
    for (const char* bad : {"x", "[]", "{\"posts\":1}", "{\"posts\":\"pg:abc\"}", "{\"posts\":\"pg:5:\"}", "{\"posts\":\"pg:0:7\"}",
                            "{\"posts\":\"pg:05:7\"}", "{\"posts\":\"pg:5:07\"}", "{\"posts\":\"pg:5:-0\"}", "{\"posts\":\"pg:5:7 \"}",
                            "{\"posts\":\"md5:5:7\"}", "{\"posts\":\"xx:5:7\"}", "{\"posts\":\"xx:5:18446744073709551616:1\"}",
                            "{\"posts\":\"xx:5:1:2:3\"}", "{\"posts\":{\"pg\":5}}", "{\"\":\"pg:5:7\"}",
                            "{\"posts\":\"pg:5:1234567890123456789012345678901234567890\"}",
                            "{\"posts\":\"pg:5:7\",\"reactions\":\"pg:x\"}"})
        CHECK_FALSE(KeyLedger::parse(bad));
    CHECK(KeyLedger::parse("{\"posts\":\"pg:5:-7\",\"reactions\":\"xx:2:0:18446744073709551615\"}"));
}
