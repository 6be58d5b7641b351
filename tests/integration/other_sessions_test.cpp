// A copy or sync into a database that something else is connected to (a running Mattermost) is
// refused, naming the sessions and the fix; --allow-other-sessions writes anyway. mmmove's own
// connections (its workers, and the test harness's, which connect through mmmove's Database) never
// count. The foreign session is opened here with the client libraries directly, as Mattermost would.
#include <catch2/catch.hpp>
#include <libpq-fe.h>
#include <mysql.h>

#include <chrono>
#include <memory>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A session on `db` that is not mmmove's: held open until destroyed.
class ForeignSession {
public:
    explicit ForeignSession(const ScratchDb& db) : engine_(db.engine()) {
        const DataSource ds = db.data_source();
        if (engine_ == Engine::postgres) {
            const std::string conninfo = "host=127.0.0.1 port=" + std::to_string(ds.port) + " user=" + ds.user + " password=" +
                                         ds.password + " dbname=" + ds.database + " sslmode=disable application_name=mattermost-server";
            pg_ = PQconnectdb(conninfo.c_str());
            REQUIRE(PQstatus(pg_) == CONNECTION_OK);
        } else {
            my_ = mysql_init(nullptr);
            unsigned protocol = MYSQL_PROTOCOL_TCP;
            mysql_options(my_, MYSQL_OPT_PROTOCOL, &protocol);
            REQUIRE(mysql_real_connect(my_, "127.0.0.1", ds.user.c_str(), ds.password.c_str(), ds.database.c_str(),
                                       static_cast<unsigned>(ds.port), nullptr, 0));
        }
    }
    ~ForeignSession() {
        if (pg_) PQfinish(pg_);
        if (my_) mysql_close(my_);
    }
    ForeignSession(const ForeignSession&) = delete;
    ForeignSession& operator=(const ForeignSession&) = delete;

private:
    Engine engine_;
    PGconn* pg_ = nullptr;
    MYSQL* my_ = nullptr;
};

bool says(const CliRun& run, const std::string& text) { return run.output.find(text) != std::string::npos; }

void refuses_while_others_connected(Engine engine) {
    ScratchDb src(engine, "oss"), dst(engine, "osd");
    fill_sample(src, 30, 141, false, 1, false);
    auto d = dst.connect();  // the harness's own session stays open throughout: it is mmmove's, never counted
    const std::vector<std::string> copy = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--jobs", "2"};
    REQUIRE(run_mmmove(copy).exit_code == 0);
    auto clean = sync(src, dst);
    INFO(clean.output.substr(0, 2000));
    REQUIRE(clean.exit_code == 0);  // mmmove's own worker connections and the harness's do not count
    CHECK_FALSE(says(clean, "other session"));

    auto s = src.connect(Side::source);
    const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch());
    s->exec("UPDATE Posts SET Message = 'changed while Mattermost ran', UpdateAt = " + std::to_string(now.count()));
    {
        ForeignSession mattermost(dst);
        auto refused = sync(src, dst);
        INFO(refused.output.substr(0, 3000));
        CHECK(refused.exit_code == 4);
        CHECK(says(refused, "1 other session is connected to the destination database"));
        CHECK(says(refused, "of mmuser"));
        CHECK(says(refused, "Stop Mattermost"));
        CHECK(says(refused, "--allow-other-sessions"));
        if (engine == Engine::postgres) CHECK(says(refused, "(mattermost-server)"));
        CHECK(query_one(*d, "SELECT COUNT(*) FROM Posts WHERE Message = 'changed while Mattermost ran'") == "0");  // nothing written
        auto truncating = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--truncate", "--quiet"});
        CHECK(truncating.exit_code == 4);
        CHECK(says(truncating, "1 other session is connected"));
        CHECK(query_one(*d, "SELECT command FROM mmmove_sync_state") == "sync");  // the refused copy did not even forget the record

        auto check = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn(), "--truncate"});
        INFO(check.output.substr(0, 3000));
        CHECK(check.exit_code == 0);  // check writes nothing: a warning
        CHECK(says(check, "[warning] 1 other session is connected"));

        auto allowed = sync(src, dst, {"--allow-other-sessions"});
        INFO(allowed.output.substr(0, 3000));
        CHECK(allowed.exit_code == 0);
        CHECK(query_one(*d, "SELECT COUNT(*) FROM Posts WHERE Message = 'changed while Mattermost ran'") == "30");
    }
    CHECK(sync(src, dst).exit_code == 0);  // Mattermost stopped: nothing in the way
}

}  // namespace

TEST_CASE("sync and copy refuse a destination another session uses: PostgreSQL", "[e2e][sync][pg]") {
    refuses_while_others_connected(Engine::postgres);
}

TEST_CASE("sync and copy refuse a destination another session uses: MySQL", "[e2e][sync][mysql]") {
    refuses_while_others_connected(Engine::mysql);
}
