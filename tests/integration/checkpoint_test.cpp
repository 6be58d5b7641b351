// The copy's and merge's checkpoint entries (pipeline/checkpoint.h) on a real destination: a value with
// text that is not UTF-8 (a name read back from a hostile source) is refused with mmmove's own error,
// naming where it stands, before anything is written: the entry keeps its earlier value. An entry set
// again is replaced in one statement.
#include <catch2/catch.hpp>

#include "pipeline/checkpoint.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

void refuses_invalid_utf8(Engine engine) {
    ScratchDb dst(engine, "ckp");
    auto d = dst.connect();
    Checkpoint checkpoint(*d);
    checkpoint.create({{"started", "2026-01-01 00:00:00 UTC"}, {"source_clock_ms", 5}});
    checkpoint.set("source_clock_ms", 7);  // set again: replaced
    CHECK(checkpoint.state()["source_clock_ms"] == 7);

    const nlohmann::json hostile = {{"bounds", {{"posts", {"ab", std::string("c\xff\xfe")}}}}};
    try {
        checkpoint.set("source_clock_ms", hostile);
        FAIL("a value that is not UTF-8 was accepted");
    } catch (const Error& e) {
        const std::string message = e.what();
        CHECK(message.find("not UTF-8") != std::string::npos);
        CHECK(message.find("source_clock_ms → bounds → posts → 1") != std::string::npos);
        CHECK(message.find(Checkpoint::kStateTable) != std::string::npos);
    }
    nlohmann::json key_hostile = nlohmann::json::object();
    key_hostile[std::string("us\xc3rs")] = 1;  // a truncated sequence in an object's key
    CHECK_THROWS_AS(checkpoint.set("source_clock_ms", key_hostile), Error);
    CHECK(checkpoint.state()["source_clock_ms"] == 7);  // the earlier value stands
    CHECK(query_one(*d, std::string("SELECT COUNT(*) FROM ") + Checkpoint::kStateTable) == "2");
    checkpoint.drop();
}

}  // namespace

TEST_CASE("a checkpoint entry that is not UTF-8 is refused before anything is written: PostgreSQL", "[e2e][checkpoint][pg]") {
    refuses_invalid_utf8(Engine::postgres);
}

TEST_CASE("a checkpoint entry that is not UTF-8 is refused before anything is written: MariaDB", "[e2e][checkpoint][mysql]") {
    refuses_invalid_utf8(Engine::mysql);
}
