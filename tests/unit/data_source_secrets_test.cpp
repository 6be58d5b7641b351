// passwords are never printed or echoed, wherever a DataSource carries them, and password
// files that other users can read are refused.
#include <catch2/catch.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>

#include "db/data_source.h"
#include "dsn_refusal.h"

using namespace mmmove;

using mmmove::test::refusal;

TEST_CASE("a postgres ?password= parameter is the password and is never printed", "[unit]") {
    auto ds = parse_data_source("postgres://mmuser@h:5432/mm?password=QuerySecret1&sslmode=disable", Side::source);
    CHECK(ds.password == "QuerySecret1");
    CHECK(ds.params.count("password") == 0);
    CHECK_THAT(ds.masked(), !Catch::Contains("QuerySecret1") && Catch::Contains("mmuser:****@"));
    CHECK_THAT(ds.label(), !Catch::Contains("QuerySecret1"));
    auto both = parse_data_source("postgres://mmuser:old@h/mm?password=QuerySecret2", Side::source);
    CHECK(both.password == "QuerySecret2");
    auto key = parse_data_source("postgres://mmuser@h/mm?sslkey=/k&sslpassword=KeySecret3", Side::source);
    CHECK_THAT(key.masked(), !Catch::Contains("KeySecret3") && Catch::Contains("sslpassword=****"));
}

TEST_CASE("an unencoded ? in a PostgreSQL password is refused without echoing any of it", "[unit]") {
    std::string msg = refusal("postgres://mmuser:Pa55?Word9@db:5432/mattermost");
    CHECK_THAT(msg, Catch::Contains("percent-encoded") && Catch::Contains("%3F"));
    CHECK_THAT(msg, !Catch::Contains("Pa55") && !Catch::Contains("Word9"));
    std::string port = refusal("postgres://mmuser:Pa55:Word9@db:notaport/mattermost");
    CHECK_THAT(port, Catch::Contains("port") && !Catch::Contains("notaport"));
}

TEST_CASE("a password file other users can read is refused", "[unit]") {
    auto dir = std::filesystem::temp_directory_path() / ("mmmove-unit-pwmode-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir);
    auto file = (dir / "pw").string();
    std::ofstream(file) << "FileSecret4\n";
    auto resolve = [&] { return resolve_data_source("postgres://mmuser@h/mm", Side::destination, file); };

    chmod(file.c_str(), 0644);
    CHECK_THROWS_WITH(resolve(), Catch::Contains("destination password file " + file) && Catch::Contains("mode 0644") &&
                                     Catch::Contains("chmod 600 " + file) && !Catch::Contains("FileSecret4"));
    chmod(file.c_str(), 0604);
    CHECK_THROWS_WITH(resolve(), Catch::Contains("mode 0604"));
    chmod(file.c_str(), 0600);
    CHECK(resolve().password == "FileSecret4");
    // Group-readable is how a root-owned secret is shared with a service account (libpq's rule for keys).
    chmod(file.c_str(), 0640);
    if (geteuid() == 0) CHECK(resolve().password == "FileSecret4");
    else CHECK_THROWS_WITH(resolve(), Catch::Contains("mode 0640"));
    std::filesystem::remove_all(dir);
}
