// A MySQL DataSource's address means what it means to Mattermost's Go driver: tcp(host:port) is TCP to
// that host and port — "localhost" included, which libmariadb alone sends to the default Unix socket,
// possibly another server — and unix(/path) is that socket.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <optional>
#include <string>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// Sets an environment variable for the test's child processes, restoring its old value at the end.
class EnvVar {
public:
    EnvVar(const char* name, const std::string& value) : name_(name) {
        if (const char* old = std::getenv(name)) old_ = old;
        setenv(name, value.c_str(), 1);
    }
    ~EnvVar() {
        if (old_) setenv(name_, old_->c_str(), 1);
        else unsetenv(name_);
    }
    EnvVar(const EnvVar&) = delete;
    EnvVar& operator=(const EnvVar&) = delete;

private:
    const char* name_;
    std::optional<std::string> old_;
};

}  // namespace

TEST_CASE("a MySQL tcp(localhost:PORT) address reaches that port over TCP, never a Unix socket", "[hostile][mysql]") {
    ScratchDb db(Engine::mysql, "tcplocal");
    // libmariadb takes the default socket for "localhost" from MYSQL_UNIX_PORT: point it at nothing, as a
    // machine whose default socket belongs to another server (or to nobody) would.
    EnvVar bogus("MYSQL_UNIX_PORT", "/nonexistent/mmmove-not-this-server.sock");
    std::string dsn = "mmuser@tcp(localhost:" + std::to_string(servers().my_port) + ")/" + db.name();
    auto run = run_mmmove({"schema", "create", "--to", dsn, "--level", "141"});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(table_exists(*db.connect(), "Posts"));
}

TEST_CASE("a MySQL unix(/path) address reaches the server through that socket", "[mysql]") {
    ScratchDb db(Engine::mysql, "unixsock");
    const char* dir = std::getenv("MMMOVE_SERVERS_DIR");
    REQUIRE(dir);
    // The shared servers' accounts: mmuser logs in from 127.0.0.1 only, root (no password) over the socket.
    DataSource ds = parse_data_source("root@unix(" + std::string(dir) + "/myrun/my.sock)/" + db.name(), Side::destination);
    auto conn = Database::connect(ds, Side::destination);
    auto rows = conn->query("SELECT @@port, DATABASE()");
    REQUIRE(rows.size() == 1);
    CHECK(rows[0][1] == db.name());
}
