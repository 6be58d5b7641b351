#include <catch2/catch.hpp>
#include <cstdlib>
#include <filesystem>
#include <fstream>

#include "db/data_source.h"
#include "db/database.h"

using namespace mmmove;

TEST_CASE("postgres URLs in Mattermost's form are parsed", "[unit]") {
    auto ds = parse_data_source("postgres://mmuser:s3cr%40t@db.example:5433/mattermost?sslmode=disable&connect_timeout=10", Side::source);
    CHECK(ds.engine == Engine::postgres);
    CHECK(ds.user == "mmuser");
    CHECK(ds.password == "s3cr@t");
    CHECK(ds.host == "db.example");
    CHECK(ds.port == 5433);
    CHECK(ds.database == "mattermost");
    CHECK(ds.params.at("sslmode") == "disable");
    auto pgl = parse_data_source("postgresql://u@h/db", Side::source);
    CHECK(pgl.port == 5432);
    CHECK(pgl.password.empty());
}

TEST_CASE("MySQL DataSources in the go-sql-driver form are parsed", "[unit]") {
    auto ds = parse_data_source("mmuser:p:w@tcp(old:3307)/mattermost?charset=utf8mb4,utf8&readTimeout=30s", Side::source);
    CHECK(ds.engine == Engine::mysql);
    CHECK(ds.user == "mmuser");
    CHECK(ds.password == "p:w");
    CHECK(ds.host == "old");
    CHECK(ds.port == 3307);
    CHECK(ds.database == "mattermost");
    CHECK(ds.params.at("charset") == "utf8mb4,utf8");
    auto sock = parse_data_source("mysql://root@unix(/run/mysqld/mysqld.sock)/mm", Side::destination);
    CHECK(sock.unix_socket == "/run/mysqld/mysqld.sock");
    CHECK(sock.engine == Engine::mysql);
}

TEST_CASE("malformed DataSources are refused with the side and the fix", "[unit]") {
    auto refused = [](const std::string& dsn) {
        try {
            parse_data_source(dsn, Side::destination);
        } catch (const Error& e) {
            CHECK(e.code() == ExitCode::bad_input);
            return std::string(e.what());
        }
        FAIL("accepted " << dsn);
        return std::string();
    };
    CHECK_THAT(refused("postgres://u:pw@host:notaport/db"), Catch::Contains("destination") && Catch::Contains("port"));
    CHECK_THAT(refused("postgres://u:pw@host:5432/"), Catch::Contains("names no database"));
    CHECK_THAT(refused("u:pw@tcp(host:3306)"), Catch::Contains("not in a form Mattermost writes"));
    CHECK_THAT(refused("u:pw@udp(host)/db"), Catch::Contains("udp"));
    CHECK_THAT(refused("mongodb://x/y"), Catch::Contains("unknown scheme"));
    CHECK_THAT(refused(""), Catch::Contains("empty"));
    CHECK_THAT(refused("postgres://u:pw@h/d%zz"), Catch::Contains("%-escape"));
}

TEST_CASE("masked DataSources never show the password", "[unit]") {
    auto pg = parse_data_source("postgres://mmuser:hunter2@h:5432/mm?sslmode=disable", Side::source);
    CHECK(pg.masked() == "postgres://mmuser:****@h:5432/mm?sslmode=disable");
    auto my = parse_data_source("mmuser:hunter2@tcp(h:3306)/mm", Side::source);
    CHECK(my.masked() == "mmuser:****@tcp(h:3306)/mm");
    CHECK(mask_secrets("failed for hunter2 at h", my) == "failed for **** at h");
}

TEST_CASE("config.json gives DriverName and DataSource; the password can come from a file", "[unit]") {
    auto dir = std::filesystem::temp_directory_path() / "mmmove-unit-config";
    std::filesystem::create_directories(dir);
    auto cfg = (dir / "config.json").string();
    std::ofstream(cfg) << R"({"SqlSettings": {"DriverName": "mysql", "DataSource": "mmuser:old@tcp(db:3306)/mattermost"}})";
    auto pwfile = (dir / "pw").string();
    std::ofstream(pwfile) << "from-file\n";
    std::filesystem::permissions(pwfile, std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);
    auto ds = resolve_data_source(cfg, Side::source, pwfile);
    CHECK(ds.engine == Engine::mysql);
    CHECK(ds.host == "db");
    CHECK(ds.password == "from-file");

    std::ofstream(cfg) << R"({"SqlSettings": {"DriverName": "postgres", "DataSource": "mmuser:x@tcp(db:3306)/mattermost"}})";
    CHECK_THROWS_WITH(resolve_data_source(cfg, Side::source), Catch::Contains("DriverName") && Catch::Contains("make the two agree"));

    std::ofstream(cfg) << "{\n  \"SqlSettings\": {,\n}";
    CHECK_THROWS_WITH(resolve_data_source(cfg, Side::source), Catch::Contains("not valid JSON") && Catch::Contains("line 2"));

    std::ofstream(cfg) << R"({"ServiceSettings": {}})";
    CHECK_THROWS_WITH(resolve_data_source(cfg, Side::source), Catch::Contains("no SqlSettings.DataSource"));
    CHECK_THROWS_WITH(resolve_data_source((dir / "missing.json").string(), Side::source), Catch::Contains("does not exist"));
    std::filesystem::remove_all(dir);
}

TEST_CASE("statements in error messages never carry their values", "[unit]") {
    std::string shown = Database::statement_for_message(
        "INSERT INTO configurations (id, value) VALUES ('x', '{\"SqlSettings\":{\"DataSource\":\"postgres://u:secret@h/db\"}}')");
    CHECK(shown == "INSERT INTO configurations (id, value) VALUES …");
    CHECK(Database::statement_for_message("UPDATE t SET a = 'secret'") == "UPDATE t SET a = …");
    CHECK(Database::statement_for_message("CREATE TABLE x (a int)") == "CREATE TABLE x (a int)");
}
