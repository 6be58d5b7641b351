#pragma once
// How a DataSource asks to be reached: TLS, which ways of sending the password are allowed, and the
// connect timeout. The parameters are read the way Mattermost's own drivers read the same DataSource
// (go-sql-driver/mysql for MySQL, lib/pq for PostgreSQL), so a DSN means to mmmove what it means to
// the Mattermost server that uses it, defaults included.
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "db/data_source.h"

namespace mmmove {

// go-sql-driver's tls=false | preferred | skip-verify | true (default false).
enum class MysqlTls { off, preferred, skip_verify, verify };

struct MysqlTransport {
    MysqlTls tls = MysqlTls::off;
    // Plugins that hand the server the password itself (mysql_clear_password, dialog) are allowed only
    // when the DSN says allowCleartextPasswords=true, as Mattermost's driver requires, and tls=true:
    // the one mode in which libmariadb refuses to log in before TLS is up and the server verified.
    bool allow_cleartext_password = false;
    unsigned connect_timeout_seconds = 10;
};
// Throws Error(bad_input) naming the parameter and the values it takes.
MysqlTransport mysql_transport(const DataSource& ds, Side side);

struct PostgresTransport {
    std::string sslmode;  // lib/pq's default is require (libpq's own default, prefer, can fall back to plain text)
    std::string connect_timeout = "10";
    // sslrootcert, sslcert, sslkey, sslcrl, sslpassword: passed to libpq as given.
    std::vector<std::pair<std::string, std::string>> tls_files;
};
PostgresTransport postgres_transport(const DataSource& ds, Side side);

// Go's time.ParseDuration ("500ms", "30s", "1m30s", "1.5h"), in milliseconds; nullopt when malformed.
std::optional<double> parse_go_duration_ms(const std::string& text);

// The DataSource parameters whose values are secrets and are printed as "****".
bool is_secret_parameter(const std::string& key);

}  // namespace mmmove
