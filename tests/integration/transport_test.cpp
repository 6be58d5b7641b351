// PostgreSQL connections honour the URL's TLS settings as Mattermost's driver (lib/pq) does,
// and no DSN argument leaves its password readable in /proc/<pid>/cmdline.
#include <catch2/catch.hpp>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <thread>

#include "fake_mysql_server.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A PostgreSQL server that answers every SSLRequest with 'S' and then says nothing: enough for libpq
// to set up its side of TLS (where it loads sslrootcert, sslcert and sslkey) and fail there.
class TlsWillingPostgres {
public:
    TlsWillingPostgres() {
        fd_ = socket(AF_INET, SOCK_STREAM, 0);
        sockaddr_in addr{};
        addr.sin_family = AF_INET;
        addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        REQUIRE(bind(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0);
        REQUIRE(listen(fd_, 4) == 0);
        socklen_t len = sizeof addr;
        getsockname(fd_, reinterpret_cast<sockaddr*>(&addr), &len);
        port_ = ntohs(addr.sin_port);
        thread_ = std::thread([this] { serve(); });
    }
    ~TlsWillingPostgres() {
        stop_ = true;
        thread_.join();
        close(fd_);
    }
    int port() const { return port_; }

private:
    void serve() {
        while (!stop_) {
            pollfd p{fd_, POLLIN, 0};
            if (poll(&p, 1, 100) <= 0) continue;
            int c = accept(fd_, nullptr, nullptr);
            char request[8];
            if (c >= 0 && read(c, request, sizeof request) == sizeof request && write(c, "S", 1) == 1) {
                pollfd q{c, POLLIN, 0};
                poll(&q, 1, 2000);  // the client's TLS hello, or its giving up
            }
            if (c >= 0) close(c);
        }
    }
    int fd_ = -1, port_ = 0;
    std::atomic<bool> stop_{false};
    std::thread thread_;
};

std::string connect_error(const std::string& dsn) {
    try {
        Database::connect(parse_data_source(dsn, Side::source), Side::source);
    } catch (const Error& e) {
        return e.what();
    }
    FAIL("connected to " << dsn);
    return "";
}

// Starts mmmove in the background and returns what /proc/<pid>/cmdline shows while it waits.
std::string cmdline_while_running(const std::string& args) {
    std::string cmd = std::string(mmmove_binary()) + " " + args + " >/dev/null 2>&1 & echo $!";
    FILE* p = popen(cmd.c_str(), "r");
    char pid[32] = {0};
    REQUIRE(fgets(pid, sizeof pid, p));
    pclose(p);
    std::string id(pid, strcspn(pid, "\n"));
    std::this_thread::sleep_for(std::chrono::milliseconds(1500));
    std::ifstream in("/proc/" + id + "/cmdline", std::ios::binary);
    std::string cmdline((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    kill(std::stoi(id), SIGTERM);  // the mmmove started just above
    return cmdline;
}

}  // namespace

TEST_CASE("a postgres URL's sslrootcert, sslcert and sslkey reach libpq", "[tls][pg]") {
    TlsWillingPostgres server;
    std::string base = "postgres://mmuser:TlsTestSecret@127.0.0.1:" + std::to_string(server.port()) + "/mattermost?connect_timeout=5";
    std::string missing_root = "/tmp/mmmove-missing-root-" + std::to_string(getpid()) + ".crt";
    auto err = connect_error(base + "&sslmode=verify-full&sslrootcert=" + missing_root);
    CHECK_THAT(err, Catch::Contains(missing_root) && Catch::Contains("sslmode=verify-full") && !Catch::Contains("TlsTestSecret"));

    std::string cert = "/tmp/mmmove-not-a-cert-" + std::to_string(getpid()) + ".crt";
    std::ofstream(cert) << "not a certificate\n";
    err = connect_error(base + "&sslmode=require&sslcert=" + cert + "&sslkey=" + cert);
    CHECK_THAT(err, Catch::Contains(cert));
    std::filesystem::remove(cert);
}

TEST_CASE("with no sslmode a PostgreSQL connection requires TLS, as Mattermost's driver does", "[tls][pg]") {
    // The throwaway PostgreSQL runs without ssl: lib/pq's default (require) must not fall back to plain text.
    std::string dsn = "postgres://mmuser@127.0.0.1:" + std::to_string(servers().pg_port) + "/postgres";
    auto err = connect_error(dsn);
    CHECK_THAT(err, Catch::Contains("does not offer TLS") && Catch::Contains("sslmode=disable"));
    DataSource plain = parse_data_source(dsn + "?sslmode=disable", Side::source);
    plain.password = servers().password;
    CHECK_NOTHROW(Database::connect(plain, Side::source));
}

TEST_CASE("no DSN argument shows its password in /proc/<pid>/cmdline", "[e2e][mysql][pg]") {
    servers();
    FakeMysqlServer::Behaviour b;
    b.silent = true;  // accepts and never answers: mmmove waits in its connect while we look
    FakeMysqlServer fake(b);
    std::string port = std::to_string(fake.port());
    auto dir = std::filesystem::temp_directory_path() / ("mmmove-cmdline-" + std::to_string(getpid()));
    std::filesystem::create_directories(dir / "a");
    std::filesystem::create_directories(dir / "b");
    std::ofstream(dir / "config.json") << R"({"SqlSettings": {"DriverName": "postgres", "DataSource": "postgres://u@h/mm"}})";

    auto files = cmdline_while_running("files sync --from " + (dir / "a").string() + " --to " + (dir / "b").string() +
                                       " --db 'mmuser:DbArgSecret1@tcp(127.0.0.1:" + port + ")/mm?timeout=10s'");
    auto check = cmdline_while_running("check '--from=postgres://mmuser@127.0.0.1:" + port +
                                       "/mm?password=QueryArgSecret2&connect_timeout=10' --to 'mysql://mmuser:ToArgSecret3@tcp(127.0.0.1:" +
                                       port + ")/mm'");
    auto merge = cmdline_while_running("config merge --to " + (dir / "config.json").string() +
                                       " --from 'mysql://mmuser:MergeArgSecret4@tcp(127.0.0.1:" + port + ")/mm?timeout=10s'");
    std::filesystem::remove_all(dir);
    REQUIRE_FALSE(files.empty());
    REQUIRE_FALSE(check.empty());
    REQUIRE_FALSE(merge.empty());
    CHECK_THAT(files, Catch::Contains("--db") && Catch::Contains("mmuser:") && !Catch::Contains("DbArgSecret1"));
    CHECK_THAT(check, Catch::Contains("password=") && !Catch::Contains("QueryArgSecret2") && !Catch::Contains("ToArgSecret3"));
    CHECK_THAT(merge, Catch::Contains("mysql://mmuser:") && !Catch::Contains("MergeArgSecret4"));
    // Nor their lengths: each shows as three stars, and the arguments after it stay whole.
    CHECK_THAT(files, Catch::Contains(std::string("--db\0mmuser:***@tcp(127.0.0.1:", 30)));
    CHECK_THAT(check, Catch::Contains("/mm?password=***&connect_timeout=10") && Catch::Contains("mmuser:***@tcp(127.0.0.1:"));
    CHECK_THAT(merge, Catch::Contains("mysql://mmuser:***@tcp(127.0.0.1:" + port + ")/mm?timeout=10s"));
}

TEST_CASE("a real MariaDB load still streams through LOAD DATA LOCAL behind the file-request gate", "[mysql]") {
    ScratchDb db(Engine::mysql, "gate");
    auto conn = db.connect(Side::destination);
    conn->exec("CREATE TABLE Reactions (UserId varchar(26), EmojiName varchar(64))");
    REQUIRE(conn->enable_bulk_load());
    int left = 1000;
    auto writer = conn->write_table("Reactions", {"UserId", "EmojiName"}, {ColumnKind::text, ColumnKind::text});
    CHECK(writer->write_all([&](FieldRow& row) {
        row = {Field::of("u"), Field::of("smile")};
        return left-- > 0;
    }) == 1000);
    CHECK(*conn->query("SELECT COUNT(*) FROM Reactions WHERE EmojiName = 'smile'")[0][0] == "1000");
}
