// DataSource parameters read as Mattermost's drivers read them: TLS and timeouts.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "db/data_source.h"
#include "dsn_refusal.h"
#include "db/transport.h"

using namespace mmmove;

using mmmove::test::refusal;

TEST_CASE("Go durations are read as Mattermost's MySQL driver reads them", "[unit]") {
    CHECK(parse_go_duration_ms("1m") == 60000);
    CHECK(parse_go_duration_ms("30s") == 30000);
    CHECK(parse_go_duration_ms("1m30s") == 90000);
    CHECK(parse_go_duration_ms("500ms") == 500);
    CHECK(parse_go_duration_ms("1.5h") == 5400000);
    CHECK(parse_go_duration_ms("0") == 0);
    for (const char* bad : {"", "1", "m", "1x", "1.2.3s", "s1", "--1s", ".s", "30 s"}) {
        INFO(bad);
        CHECK_FALSE(parse_go_duration_ms(bad));
    }
}

TEST_CASE("timeout=1m in a MySQL DataSource is a minute; a malformed timeout is refused", "[unit]") {
    auto timeout = [](const std::string& v) {
        return mysql_transport(parse_data_source("u@tcp(h:3306)/mm?timeout=" + v, Side::source), Side::source)
            .connect_timeout_seconds;
    };
    CHECK(timeout("1m") == 60);
    CHECK(timeout("1m30s") == 90);
    CHECK(timeout("30s") == 30);
    CHECK(timeout("500ms") == 1);
    CHECK_THAT(refusal("u@tcp(h:3306)/mm?timeout=1"), Catch::Contains("timeout=1,") && Catch::Contains("timeout=1m30s"));
    CHECK_THAT(refusal("u@tcp(h:3306)/mm?readTimeout=30"), Catch::Contains("readTimeout=30"));
}

TEST_CASE("MySQL tls and allowCleartextPasswords mean what they mean to Mattermost's driver", "[unit]") {
    auto transport = [](const std::string& q) {
        return mysql_transport(parse_data_source("u:p@tcp(h:3306)/mm" + q, Side::source), Side::source);
    };
    CHECK(transport("").tls == MysqlTls::off);
    CHECK(transport("?tls=false").tls == MysqlTls::off);
    CHECK(transport("?tls=true").tls == MysqlTls::verify);
    CHECK(transport("?tls=skip-verify").tls == MysqlTls::skip_verify);
    CHECK(transport("?tls=preferred").tls == MysqlTls::preferred);
    CHECK_THAT(refusal("u:p@tcp(h:3306)/mm?tls=custom"), Catch::Contains("tls=custom") && Catch::Contains("tls=true"));
    CHECK_FALSE(transport("").allow_cleartext_password);
    CHECK_FALSE(transport("?allowCleartextPasswords=true").allow_cleartext_password);
    CHECK_FALSE(transport("?tls=preferred&allowCleartextPasswords=true").allow_cleartext_password);
    CHECK_FALSE(transport("?tls=skip-verify&allowCleartextPasswords=true").allow_cleartext_password);
    CHECK(transport("?tls=true&allowCleartextPasswords=true").allow_cleartext_password);
    CHECK_THAT(refusal("u:p@tcp(h:3306)/mm?allowCleartextPasswords=yes"), Catch::Contains("allowCleartextPasswords"));
}

TEST_CASE("PostgreSQL requires TLS unless the URL says otherwise, and passes its TLS files to libpq", "[unit]") {
    unsetenv("PGSSLMODE");
    auto transport = [](const std::string& q) {
        return postgres_transport(parse_data_source("postgres://u:p@h:5432/mm" + q, Side::source), Side::source);
    };
    CHECK(transport("").sslmode == "require");
    CHECK(transport("?sslmode=disable").sslmode == "disable");
    auto t = transport("?sslmode=verify-full&sslrootcert=/etc/mm/root.crt&sslcert=/etc/mm/c.crt&sslkey=/etc/mm/c.key");
    CHECK(t.sslmode == "verify-full");
    using Files = std::vector<std::pair<std::string, std::string>>;
    CHECK(t.tls_files == Files{{"sslrootcert", "/etc/mm/root.crt"}, {"sslcert", "/etc/mm/c.crt"}, {"sslkey", "/etc/mm/c.key"}});
    CHECK_THAT(refusal("postgres://u:p@h/mm?sslmode=sometimes"), Catch::Contains("sslmode=sometimes") && Catch::Contains("verify-full"));
    setenv("PGSSLMODE", "verify-ca", 1);
    CHECK(transport("").sslmode == "verify-ca");
    unsetenv("PGSSLMODE");
}
