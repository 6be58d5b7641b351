#include <catch2/catch.hpp>

#include "catalog/migrations.h"

using namespace mmmove;

TEST_CASE("migrations are the same when number and name agree, or the names are a known engine spelling", "[unit]") {
    CHECK(same_migration(141, "add_remoteid_channelid_to_post_acknowledgements", "add_remoteid_channelid_to_post_acknowledgements"));
    CHECK(same_migration(92, "add_createat_to_teamembers", "add_createat_to_teammembers"));
    CHECK(same_migration(92, "add_createat_to_teammembers", "add_createat_to_teamembers"));
    CHECK_FALSE(same_migration(93, "add_createat_to_teamembers", "add_createat_to_teammembers"));
    CHECK_FALSE(same_migration(142, "add_schemeid_to_roles", "create_content_flagging_tables"));
}

TEST_CASE("comparing migration sets names what each side lacks and what differs under one number", "[unit]") {
    MigrationSet esr = {{141, "add_remoteid_channelid_to_post_acknowledgements"}, {142, "add_schemeid_to_roles"}};
    MigrationSet v11 = {{141, "add_remoteid_channelid_to_post_acknowledgements"}, {142, "create_content_flagging_tables"},
                        {143, "content_flagging_table_index"}};
    MigrationDiff d = compare_migrations(esr, v11);
    CHECK_FALSE(d.same());
    CHECK(d.only_a.empty());
    CHECK(d.only_b == std::vector<int64_t>{143});
    REQUIRE(d.renamed.size() == 1);
    CHECK(d.renamed[0].version == 142);
    CHECK(d.renamed[0].name_a == "add_schemeid_to_roles");
    CHECK(d.renamed[0].name_b == "create_content_flagging_tables");
    CHECK(compare_migrations(esr, esr).same());
}
