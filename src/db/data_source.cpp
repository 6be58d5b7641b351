#include "db/data_source.h"

#include "core/replace.h"
#include "core/text_file.h"
#include "db/transport.h"

#include <sys/stat.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>
#include <sstream>

namespace mmmove {

const char* engine_name(Engine e) { return e == Engine::postgres ? "PostgreSQL" : "MySQL/MariaDB"; }
const char* side_name(Side s) { return s == Side::source ? "source" : "destination"; }
ExitCode side_exit_code(Side s) { return s == Side::source ? ExitCode::source : ExitCode::destination; }

namespace {

[[noreturn]] void bad(Side side, const std::string& what) {
    throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " DataSource " + what);
}

std::string percent_decode(const std::string& s, Side side) {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
        if (s[i] != '%') {
            out += s[i];
            continue;
        }
        if (i + 2 >= s.size() || !isxdigit(static_cast<unsigned char>(s[i + 1])) ||
            !isxdigit(static_cast<unsigned char>(s[i + 2])))
            bad(side, "has a malformed %-escape; write special characters as %XX (for example %40 for @).");
        out += static_cast<char>(std::stoi(s.substr(i + 1, 2), nullptr, 16));
        i += 2;
    }
    return out;
}

void parse_query(const std::string& q, DataSource& ds, Side side) {
    std::stringstream in(q);
    std::string item;
    while (std::getline(in, item, '&')) {
        if (item.empty()) continue;
        auto eq = item.find('=');
        std::string k = item.substr(0, eq);
        std::string v = eq == std::string::npos ? "" : percent_decode(item.substr(eq + 1), side);
        ds.params[k] = v;
    }
}

int parse_port(const std::string& p, Side side) {
    if (p.empty() || p.size() > 5 || p.find_first_not_of("0123456789") != std::string::npos)
        bad(side, "has a port that is not a number; write host:port, e.g. db:5432. (A user name or password "
                  "holding : / ? # @ or % must write them percent-encoded, e.g. %3F for ?.)");
    int port = std::stoi(p);
    if (port < 1 || port > 65535) bad(side, "has a port outside 1-65535.");
    return port;
}

// Splits "user:pass" (the password may contain ':').
void split_userinfo(const std::string& info, DataSource& ds, Side side, bool decode) {
    auto colon = info.find(':');
    ds.user = info.substr(0, colon);
    ds.password = colon == std::string::npos ? "" : info.substr(colon + 1);
    if (decode) {
        ds.user = percent_decode(ds.user, side);
        ds.password = percent_decode(ds.password, side);
    }
}

DataSource parse_postgres_url(const std::string& text, Side side) {
    DataSource ds;
    ds.engine = Engine::postgres;
    ds.port = 5432;
    std::string rest = text.substr(text.find("://") + 3);
    auto q = rest.find('?');
    // An '@' after the '?' means the user name or password holds an unencoded '?': the URL cannot be
    // read as lib/pq would, and no part of it may be echoed (it would be part of the password).
    if (q != std::string::npos && rest.find('@', q) != std::string::npos)
        bad(side, "cannot be read: its user name or password holds a character that must be percent-encoded "
                  "(write ? as %3F, # as %23, / as %2F, @ as %40, % as %25), or a parameter value holds an '@' "
                  "(write it as %40).");
    if (q != std::string::npos) {
        parse_query(rest.substr(q + 1), ds, side);
        rest = rest.substr(0, q);
    }
    auto at = rest.rfind('@');
    if (at != std::string::npos) {
        split_userinfo(rest.substr(0, at), ds, side, true);
        rest = rest.substr(at + 1);
    }
    auto slash = rest.find('/');
    std::string hostport = rest.substr(0, slash);
    ds.database = slash == std::string::npos ? "" : percent_decode(rest.substr(slash + 1), side);
    if (!hostport.empty()) {
        auto colon = hostport.rfind(':');
        if (colon != std::string::npos && hostport.find(']') == std::string::npos) {
            ds.host = hostport.substr(0, colon);
            ds.port = parse_port(hostport.substr(colon + 1), side);
        } else {
            ds.host = hostport;
        }
    }
    if (ds.database.empty()) bad(side, "names no database; end the URL with /<database>, e.g. /mattermost.");
    // lib/pq takes a password parameter as well as the user:password@ form; the parameter wins, and is
    // kept only as the password (never among the parameters that masked() prints).
    if (auto pw = ds.params.find("password"); pw != ds.params.end()) {
        ds.password = pw->second;
        ds.params.erase(pw);
    }
    if (ds.params.count("host") && !ds.params["host"].empty() && ds.params["host"][0] == '/')
        ds.unix_socket = ds.params["host"];
    return ds;
}

// The go-sql-driver form: [user[:password]@][net[(addr)]]/dbname[?param1=value1&paramN=valueN]
DataSource parse_mysql_dsn(const std::string& text, Side side) {
    DataSource ds;
    ds.engine = Engine::mysql;
    ds.port = 3306;
    std::string rest = text;
    auto slash = rest.rfind('/');
    if (slash == std::string::npos)
        bad(side, "is not in a form Mattermost writes: expected postgres://user:pass@host:5432/db?… or "
                  "user:pass@tcp(host:3306)/db?….");
    std::string tail = rest.substr(slash + 1);
    rest = rest.substr(0, slash);
    auto q = tail.find('?');
    ds.database = tail.substr(0, q);
    if (q != std::string::npos) parse_query(tail.substr(q + 1), ds, side);
    if (ds.database.empty()) bad(side, "names no database; write …/mattermost after the address.");
    auto at = rest.rfind('@');
    std::string addr = rest;
    if (at != std::string::npos) {
        split_userinfo(rest.substr(0, at), ds, side, false);
        addr = rest.substr(at + 1);
    }
    if (addr.empty()) return ds;
    auto open = addr.find('(');
    if (open == std::string::npos || addr.back() != ')')
        bad(side, "has an address that is not tcp(host:port) or unix(/path/to/socket).");
    std::string net = addr.substr(0, open);
    std::string inner = addr.substr(open + 1, addr.size() - open - 2);
    if (net == "tcp") {
        auto colon = inner.rfind(':');
        if (colon == std::string::npos) {
            ds.host = inner;
        } else {
            ds.host = inner.substr(0, colon);
            ds.port = parse_port(inner.substr(colon + 1), side);
        }
        if (ds.host.empty()) ds.host = "127.0.0.1";
    } else if (net == "unix") {
        ds.unix_socket = inner;
    } else {
        bad(side, "uses the network \"" + net + "\"; use tcp(host:port) or unix(/path).");
    }
    return ds;
}

// A password file other users can read is refused, as ssh refuses such a private key. The rule is
// libpq's for its key files: no access at all for others; a root-owned file may also be read by its
// group (0640, how secrets are shared with a service account). Pipes such as <(…) have no such bits.
void check_password_file(const std::string& path, Side side) {
    std::string what = std::string("The ") + side_name(side) + " password file " + path;
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw Error(ExitCode::bad_input, what + " does not exist or cannot be opened; check the path.");
    if (!S_ISREG(st.st_mode)) return;
    mode_t forbidden = st.st_uid == 0 ? (S_IWGRP | S_IXGRP | S_IRWXO) : (S_IRWXG | S_IRWXO);
    if ((st.st_mode & forbidden) != 0) {
        char mode[8];
        std::snprintf(mode, sizeof mode, "%04o", static_cast<unsigned>(st.st_mode & 07777));
        throw Error(ExitCode::bad_input, what + " can be read or changed by other users (mode " + mode +
                                             "); make it private with: chmod 600 " + path + " — then run mmmove again.");
    }
}

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == '\r' || s.back() == ' ')) s.pop_back();
    return s;
}

}  // namespace

DataSource parse_data_source(const std::string& text, Side side) {
    if (text.empty()) bad(side, "is empty; pass a DSN or the path of a config.json.");
    DataSource ds;
    if (text.rfind("postgres://", 0) == 0 || text.rfind("postgresql://", 0) == 0)
        ds = parse_postgres_url(text, side);
    else if (text.rfind("mysql://", 0) == 0)
        ds = parse_mysql_dsn(text.substr(8), side);
    else if (text.find("://") != std::string::npos)
        bad(side, "uses an unknown scheme; Mattermost supports postgres:// and MySQL's user:pass@tcp(host)/db.");
    else
        ds = parse_mysql_dsn(text, side);
    // TLS and timeout values Mattermost's driver would refuse are refused here, before any connection.
    if (ds.engine == Engine::mysql) mysql_transport(ds, side);
    else postgres_transport(ds, side);
    return ds;
}

DataSource resolve_data_source(const std::string& arg, Side side, const std::string& password_file) {
    DataSource ds;
    bool looks_like_file = arg.size() > 5 && arg.substr(arg.size() - 5) == ".json";
    if (looks_like_file || (std::filesystem::exists(arg) && std::filesystem::is_regular_file(arg))) {
        if (!std::filesystem::exists(arg))
            throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " config file " + arg +
                                                 " does not exist; pass the path of Mattermost's config.json.");
        nlohmann::json cfg;
        try {
            cfg = nlohmann::json::parse(read_text_file(arg));
        } catch (const nlohmann::json::parse_error& e) {
            throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " config file " + arg +
                                                 " is not valid JSON (" + e.what() +
                                                 "); fix the file or pass a DSN instead.");
        }
        auto sql = cfg.find("SqlSettings");
        if (sql == cfg.end() || !sql->is_object() || !sql->contains("DataSource") ||
            !(*sql)["DataSource"].is_string())
            throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " config file " + arg +
                                                 " has no SqlSettings.DataSource string; is it Mattermost's config.json?");
        std::string driver = sql->value("DriverName", "postgres");
        std::string dsn = (*sql)["DataSource"].get<std::string>();
        ds = parse_data_source(driver == "mysql" && dsn.find("://") == std::string::npos ? dsn : dsn, side);
        Engine expected = driver == "mysql" ? Engine::mysql : Engine::postgres;
        if (ds.engine != expected)
            throw Error(ExitCode::bad_input, std::string("The ") + side_name(side) + " config file " + arg +
                                                 " says DriverName \"" + driver + "\" but its DataSource is a " +
                                                 engine_name(ds.engine) + " DSN; make the two agree.");
    } else {
        ds = parse_data_source(arg, side);
    }
    const char* env = std::getenv(side == Side::source ? "MMMOVE_SOURCE_PASSWORD" : "MMMOVE_DEST_PASSWORD");
    if (env && *env) ds.password = env;
    if (!password_file.empty()) {
        check_password_file(password_file, side);
        ds.password = trim(read_text_file(password_file));
    }
    return ds;
}

std::string DataSource::masked() const {
    std::string pw = password.empty() ? "" : ":****";
    std::string q;
    for (const auto& [k, v] : params) q += (q.empty() ? "?" : "&") + k + "=" + (is_secret_parameter(k) ? "****" : v);
    if (engine == Engine::postgres)
        return "postgres://" + user + pw + "@" + host + ":" + std::to_string(port) + "/" + database + q;
    std::string addr = unix_socket.empty() ? "tcp(" + host + ":" + std::to_string(port) + ")" : "unix(" + unix_socket + ")";
    return user + pw + "@" + addr + "/" + database + q;
}

std::string DataSource::label() const {
    std::string where = unix_socket.empty() ? host + ":" + std::to_string(port) : unix_socket;
    return std::string(engine_name(engine)) + " " + where + "/" + database;
}

std::string mask_secrets(std::string text, const DataSource& ds) {
    return replace_all_once(text, {{ds.password, "****"}});
}

}  // namespace mmmove
