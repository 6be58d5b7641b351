// The binlog position a MariaDB follow record holds (db/binlog_reader.h, pipeline/follow_state.h) is
// read back from the destination: only "FILE:POS" with a binlog file name of the server's form is
// accepted; a path, SQL text or junk is no position at all.
#include <catch2/catch.hpp>

#include "db/binlog_reader.h"

using namespace mmmove;

TEST_CASE("a binlog position is accepted back only in the form mmmove writes", "[follow][binlog]") {
    auto p = BinlogPosition::parse("binlog.000001:501112");
    REQUIRE(p);
    CHECK(p->file == "binlog.000001");
    CHECK(p->pos == 501112);
    CHECK(p->text() == "binlog.000001:501112");
    CHECK(BinlogPosition::parse("mysql-bin.1234567:4"));
    CHECK(BinlogPosition::parse("mariadb_bin.000042:4"));

    for (const char* bad : {"", "binlog.000001", ":4", "binlog.000001:", "binlog.000001:3", "binlog.000001:0", "binlog.000001:-4",
                            "binlog.000001:04", "binlog.000001:4 ", "binlog.000001:4;", "binlog.000001:123456789012345678901",
                            "../../etc/passwd:4", "/var/lib/mysql/binlog.000001:4", "../binlog.000001:4", ".binlog.000001:4",
                            "binlog.000001/../x.000001:4", "binlog.00001:4", "binlog:4", "x'; DROP TABLE Posts; -- .000001:4",
                            "binlog.000001:4:5", "binlog.000001\n:4", "binlog.000001:4\nDROP"}) {
        INFO(bad);
        CHECK_FALSE(BinlogPosition::parse(bad));
    }
    CHECK_FALSE(binlog_file_name("../../etc/passwd"));
    CHECK_FALSE(binlog_file_name("binlog.000001'"));
    CHECK(binlog_file_name("binlog.000001"));
}

TEST_CASE("binlog positions are ordered by file number, then offset", "[follow][binlog]") {
    auto at = [](const char* s) { return *BinlogPosition::parse(s); };
    CHECK(compare_binlog_positions(at("binlog.000001:900"), at("binlog.000002:4")) == -1);
    CHECK(compare_binlog_positions(at("binlog.000002:4"), at("binlog.000001:900")) == 1);
    CHECK(compare_binlog_positions(at("binlog.000002:400"), at("binlog.000002:400")) == 0);
    CHECK(compare_binlog_positions(at("binlog.000002:400"), at("binlog.000002:500")) == -1);
    CHECK(compare_binlog_positions(at("binlog.999999:4"), at("binlog.1000000:4")) == -1);
    CHECK_FALSE(compare_binlog_positions(at("binlog.000001:4"), at("other.000001:4")));
}
