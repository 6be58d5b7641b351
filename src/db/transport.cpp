#include "db/transport.h"

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <string_view>

namespace mmmove {
namespace {

[[noreturn]] void bad(Side side, const std::string& what) {
    throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " DataSource " + what);
}

const std::string* param(const DataSource& ds, const char* key) {
    auto it = ds.params.find(key);
    return it == ds.params.end() ? nullptr : &it->second;
}

// go-sql-driver's readBool: the spellings strconv.ParseBool accepts, as the driver does.
std::optional<bool> go_bool(const std::string& v) {
    if (v == "1" || v == "true" || v == "TRUE" || v == "True") return true;
    if (v == "0" || v == "false" || v == "FALSE" || v == "False") return false;
    return std::nullopt;
}

MysqlTls mysql_tls_mode(const std::string& value, Side side) {
    if (auto b = go_bool(value)) return *b ? MysqlTls::verify : MysqlTls::off;
    std::string lower;
    for (char c : value) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    if (lower == "skip-verify") return MysqlTls::skip_verify;
    if (lower == "preferred") return MysqlTls::preferred;
    // Any other value names a tls.Config registered inside a Go program; Mattermost registers none.
    bad(side, "has tls=" + value + ", which Mattermost's MySQL driver does not know; use tls=true (verify the "
              "server's certificate), tls=skip-verify, tls=preferred or tls=false.");
}

unsigned timeout_seconds(const std::string& value, Side side) {
    auto ms = parse_go_duration_ms(value);
    if (!ms || *ms < 0)
        bad(side, "has timeout=" + value + ", which is not a duration; write it as Mattermost's driver reads it, "
                  "e.g. timeout=30s, timeout=1m or timeout=1m30s.");
    if (*ms == 0) return 0;  // Go: no timeout; libmariadb: its own default
    double s = std::ceil(*ms / 1000.0);
    return s > 86400 ? 86400u : static_cast<unsigned>(s);
}

}  // namespace

std::optional<double> parse_go_duration_ms(const std::string& text) {
    static const std::pair<const char*, double> units[] = {{"ns", 1e-6}, {"us", 1e-3}, {"\xC2\xB5s", 1e-3},
                                                           {"\xCE\xBCs", 1e-3}, {"ms", 1}, {"s", 1e3},
                                                           {"m", 6e4}, {"h", 3.6e6}};
    std::string_view s = text;
    bool negative = !s.empty() && s[0] == '-';
    if (!s.empty() && (s[0] == '-' || s[0] == '+')) s.remove_prefix(1);
    if (s == "0") return 0.0;
    if (s.empty()) return std::nullopt;
    double total = 0;
    while (!s.empty()) {
        size_t n = 0;
        bool digits = false;
        while (n < s.size() && (std::isdigit(static_cast<unsigned char>(s[n])) || s[n] == '.')) {
            digits = digits || s[n] != '.';
            ++n;
        }
        if (!digits) return std::nullopt;  // a unit with no number, or "." alone
        double value = 0;
        auto [end, ec] = std::from_chars(s.data(), s.data() + n, value);
        if (ec != std::errc() || end != s.data() + n) return std::nullopt;  // "1.2.3"
        s.remove_prefix(n);
        size_t u = 0;
        while (u < s.size() && !std::isdigit(static_cast<unsigned char>(s[u])) && s[u] != '.') ++u;
        std::string_view unit = s.substr(0, u);
        double factor = 0;
        for (const auto& [name, f] : units)
            if (unit == name) factor = f;
        if (factor == 0) return std::nullopt;  // missing or unknown unit ("30", "5x")
        total += value * factor;
        s.remove_prefix(u);
    }
    return negative ? -total : total;
}

bool is_secret_parameter(const std::string& key) { return key == "password" || key == "sslpassword"; }

MysqlTransport mysql_transport(const DataSource& ds, Side side) {
    MysqlTransport t;
    if (auto* v = param(ds, "tls")) t.tls = mysql_tls_mode(*v, side);
    if (auto* v = param(ds, "timeout")) t.connect_timeout_seconds = timeout_seconds(*v, side);
    // Mattermost's driver refuses the whole DSN when these are malformed; so does mmmove (it does not
    // apply them: a copy's statements legitimately run longer than Mattermost's 30 s).
    for (const char* key : {"readTimeout", "writeTimeout"})
        if (auto* v = param(ds, key); v && !parse_go_duration_ms(*v))
            bad(side, "has " + std::string(key) + "=" + *v + ", which is not a duration; write e.g. 30s or 1m.");
    bool allow = false;
    if (auto* v = param(ds, "allowCleartextPasswords")) {
        auto b = go_bool(*v);
        if (!b) bad(side, "has allowCleartextPasswords=" + *v + "; write true or false.");
        allow = *b;
    }
    t.allow_cleartext_password = allow && t.tls == MysqlTls::verify;
    return t;
}

PostgresTransport postgres_transport(const DataSource& ds, Side side) {
    PostgresTransport t;
    // lib/pq, like libpq, takes PGSSLMODE when the URL names no sslmode; without either it requires TLS.
    const char* env = std::getenv("PGSSLMODE");
    t.sslmode = param(ds, "sslmode") ? *param(ds, "sslmode") : env && *env ? env : "require";
    static const char* modes[] = {"disable", "allow", "prefer", "require", "verify-ca", "verify-full"};
    bool known = false;
    for (const char* m : modes) known = known || t.sslmode == m;
    if (!known)
        bad(side, "has sslmode=" + t.sslmode + "; use disable, allow, prefer, require, verify-ca or verify-full.");
    if (auto* v = param(ds, "sslinline"); v && *v != "false")
        bad(side, "has sslinline, which only Go programs understand; put the certificates and key in files and "
                  "name them with sslrootcert, sslcert and sslkey.");
    if (auto* v = param(ds, "connect_timeout")) {
        if (v->empty() || v->find_first_not_of("0123456789") != std::string::npos)
            bad(side, "has connect_timeout=" + *v + "; write a number of seconds, e.g. connect_timeout=10.");
        t.connect_timeout = *v;
    }
    for (const char* key : {"sslrootcert", "sslcert", "sslkey", "sslcrl", "sslpassword"})
        if (auto* v = param(ds, key)) t.tls_files.emplace_back(key, *v);
    return t;
}

}  // namespace mmmove
