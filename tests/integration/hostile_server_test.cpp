// A rogue server must get nothing mmmove should not send: no local file (LOCAL INFILE
// requests outside mmmove's own loads, or naming another file), no clear-text password, no silent
// fallback from the TLS the DataSource asks for.
#include <catch2/catch.hpp>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <memory>
#include <thread>

#include "db/database.h"
#include "fake_mysql_server.h"

using namespace mmmove;
using mmmove::test::FakeMysqlServer;

namespace {

// A file only the test knows, standing for /etc/shadow or a config.json full of secrets.
struct SecretFile {
    std::string path = "/tmp/mmmove-secret-" + std::to_string(getpid()) + ".txt";
    std::string marker = "MMMOVE-SECRET-MARKER-" + std::to_string(getpid());
    SecretFile() { std::ofstream(path) << marker << "\n"; }
    ~SecretFile() { std::filesystem::remove(path); }
};

DataSource fake_source(int port, const std::string& params = "") {
    return parse_data_source("mmuser:FakeServerPassw0rd@tcp(127.0.0.1:" + std::to_string(port) + ")/mattermost" + params,
                             Side::source);
}

bool starts_with(const std::string& s, const char* prefix) { return s.rfind(prefix, 0) == 0; }

}  // namespace

TEST_CASE("a rogue MySQL source cannot read a local file with a LOCAL INFILE request", "[hostile][mysql]") {
    SecretFile secret;
    FakeMysqlServer::Behaviour b;
    b.infile_name = secret.path;
    b.request_file_on = [](const std::string&) { return true; };  // the very first query
    FakeMysqlServer fake(b);
    CHECK_THROWS_WITH(Database::connect(fake_source(fake.port()), Side::source),
                      Catch::Contains("asked mmmove to send it the local file") && Catch::Contains("refused"));
    CHECK(fake.files_received() == 0);
    CHECK_THAT(fake.received(), !Catch::Contains(secret.marker));
}

TEST_CASE("a MySQL loader connection refuses LOCAL INFILE requests outside its loads", "[hostile][mysql]") {
    SecretFile secret;
    FakeMysqlServer::Behaviour b;
    b.infile_name = secret.path;
    b.request_file_on = [](const std::string& q) { return q.find("mmmove_probe") != std::string::npos; };
    b.answer_one_on = [](const std::string& q) { return q.find("@@local_infile") != std::string::npos; };
    FakeMysqlServer fake(b);
    DataSource ds = fake_source(fake.port());
    auto db = Database::connect(ds, Side::destination);
    REQUIRE(db->enable_bulk_load());
    CHECK_THROWS_WITH(db->query("SELECT 'mmmove_probe'"), Catch::Contains("local file \"" + secret.path + "\""));
    CHECK(fake.files_received() == 0);
    CHECK_THAT(fake.received(), !Catch::Contains(secret.marker));
}

TEST_CASE("a MySQL load serves only its own stream, never a file the server names instead", "[hostile][mysql]") {
    SecretFile secret;
    auto one_row = [] {
        return [sent = false](FieldRow& row) mutable {
            if (sent) return false;
            row = {Field::of("ROWDATA-1"), Field::of("x")};
            return sent = true;
        };
    };
    FakeMysqlServer::Behaviour b;
    b.request_file_on = [](const std::string& q) { return starts_with(q, "LOAD DATA LOCAL INFILE"); };
    b.answer_one_on = [](const std::string& q) { return q.find("@@local_infile") != std::string::npos; };
    b.loaded_rows = 1;

    SECTION("the server asks for another file during the load") {
        b.infile_name = secret.path;
        FakeMysqlServer fake(b);
        auto db = Database::connect(fake_source(fake.port()), Side::destination);
        REQUIRE(db->enable_bulk_load());
        auto writer = db->write_table("Posts", {"Id", "Message"}, {ColumnKind::text, ColumnKind::text});
        CHECK_THROWS_WITH(writer->write_all(one_row()), Catch::Contains("local file \"" + secret.path + "\""));
        CHECK(fake.files_received() == 0);
        CHECK_THAT(fake.received(), !Catch::Contains(secret.marker) && !Catch::Contains("ROWDATA-1"));
    }
    SECTION("the server asks for the load's own stream") {
        b.infile_name = "mmmove-stream";
        FakeMysqlServer fake(b);
        auto db = Database::connect(fake_source(fake.port()), Side::destination);
        REQUIRE(db->enable_bulk_load());
        auto writer = db->write_table("Posts", {"Id", "Message"}, {ColumnKind::text, ColumnKind::text});
        CHECK(writer->write_all(one_row()) == 1);
        CHECK(fake.files_received() == 1);
        CHECK_THAT(fake.received(), Catch::Contains("ROWDATA-1\tx\n"));
    }
}

TEST_CASE("a MySQL server asking for mysql_clear_password never receives the password", "[tls][mysql]") {
    FakeMysqlServer::Behaviour b;
    b.switch_to_clear_password = true;
    for (const char* params : {"", "?allowCleartextPasswords=true", "?tls=preferred&allowCleartextPasswords=true",
                               "?tls=skip-verify&allowCleartextPasswords=true"}) {
        INFO(params);
        FakeMysqlServer fake(b);
        CHECK_THROWS_WITH(Database::connect(fake_source(fake.port(), params), Side::source),
                          Catch::Contains("clear text") && Catch::Contains("tls=true") && !Catch::Contains("FakeServerPassw0rd"));
        CHECK_THAT(fake.received(), !Catch::Contains("FakeServerPassw0rd"));
    }
}

TEST_CASE("tls=true or skip-verify against a MySQL server without TLS fails and says so", "[tls][mysql]") {
    FakeMysqlServer fake({});
    for (const char* mode : {"true", "skip-verify"}) {
        INFO(mode);
        CHECK_THROWS_WITH(Database::connect(fake_source(fake.port(), std::string("?tls=") + mode), Side::source),
                          Catch::Contains("could not be reached over TLS") && Catch::Contains(std::string("tls=") + mode));
    }
    CHECK_THAT(fake.received(), !Catch::Contains("FakeServerPassw0rd"));
    // preferred falls back to plain text, as Mattermost's driver does.
    CHECK_NOTHROW(Database::connect(fake_source(fake.port(), "?tls=preferred"), Side::source));
}

TEST_CASE("timeout=1m in a MySQL DataSource waits a minute for the server, not a second", "[mysql]") {
    FakeMysqlServer::Behaviour b;
    b.silent = true;
    auto fake = std::make_unique<FakeMysqlServer>(b);
    DataSource ds = fake_source(fake->port(), "?timeout=1m");
    std::atomic<bool> done{false};
    std::thread connecting([&] {
        try {
            Database::connect(ds, Side::source);
        } catch (const Error&) {
        }
        done = true;
    });
    std::this_thread::sleep_for(std::chrono::seconds(3));
    CHECK_FALSE(done);
    fake.reset();  // closes the connection: the connect fails at once instead of after the minute
    connecting.join();
    CHECK(done);
}
