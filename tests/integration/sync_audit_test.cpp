// mmmove sync against data and settings nobody here wrote: key values that look like SQL on a server
// that reads backslashes as escapes, tables a copy left behind, the source only read, --plan writing
// nothing, and a second writer refused by the destination's lock.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <sstream>

#include "db/destination_lock.h"
#include "pipeline/sync_state.h"
#include "support.h"
#include "sync_support.h"
#include "sync/final_pass.h"
#include "sync/sync.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

CliRun copy(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--chunk-rows", "300"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mmmove(args);
}

}  // namespace

TEST_CASE("sync names key values as literals on a PostgreSQL destination that reads backslashes as escapes",
          "[e2e][sync][pg][hostile]") {
    ScratchDb src(Engine::postgres, "syqs"), dst(Engine::postgres, "syqd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    // An old setting a database may still carry: '\'' then ends a literal one quote later than mmmove meant.
    dst.connect()->exec("ALTER DATABASE " + dst.name() + " SET standard_conforming_strings = off");
    auto s = src.connect(Side::source);
    // A preference name any Mattermost user can choose through the API; Preferences' key includes it.
    const std::string user = query_one(*s, "SELECT userid FROM preferences LIMIT 1");
    s->exec("INSERT INTO preferences (userid, category, name, value) VALUES (" + s->quote_literal(user) +
            ", 'display_settings', E'\\\\'' OR true OR name = \\\\''', 'x')");
    REQUIRE(query_one(*s, "SELECT name FROM preferences WHERE value = 'x'") == "\\' OR true OR name = \\'");
    const std::string prefs = query_one(*s, "SELECT COUNT(*) FROM preferences");

    auto out = sync(src, dst);
    INFO(out.output.substr(0, 3000));
    CHECK(out.exit_code == 0);
    auto d = dst.connect();
    CHECK(query_one(*d, "SELECT COUNT(*) FROM preferences") == prefs);  // no other user's preference deleted
    CHECK(verify(src, dst).exit_code == 0);
}

TEST_CASE("sync leaves behind the tables the copy left behind, and so does the sync after it", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syls"), dst(Engine::postgres, "syld");
    fill_sample(src, 60, 141, false, 1, false);
    auto copied = copy(src, dst, {"--skip-table", "Preferences"});
    INFO(copied.output.substr(0, 3000));
    REQUIRE(copied.exit_code == 0);
    auto d = dst.connect();
    REQUIRE(query_one(*d, "SELECT COUNT(*) FROM preferences") == "0");
    // The admin's own row in the table left behind: neither the copy's business nor the sync's.
    d->exec("INSERT INTO preferences (userid, category, name, value) VALUES ('admin', 'kept', 'kept', 'kept')");
    for (int pass = 1; pass <= 2; ++pass) {  // the second reads the record the first sync wrote
        auto out = sync(src, dst);  // no --skip-table: the record says which
        INFO("pass " << pass << "\n" << out.output.substr(0, 3000));
        REQUIRE(out.exit_code == 0);
        auto j = nlohmann::json::parse(out.output.substr(out.output.find('{')), nullptr, false);
        REQUIRE_FALSE(j.is_discarded());
        for (const auto& t : j["tables"]) CHECK(t["table"] != "preferences");
        CHECK(j["left_behind"] == nlohmann::json::array({"preferences"}));
        CHECK(query_one(*d, "SELECT COUNT(*) FROM preferences") == "1");
        CHECK(query_one(*d, "SELECT value FROM preferences") == "kept");
    }
}

TEST_CASE("sync --plan writes nothing: the destination's rows and record stay as they were", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syps"), dst(Engine::postgres, "sypd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto s = src.connect(Side::source);
    s->exec("UPDATE posts SET message = 'edited after the copy', updateat = updateat + 1");
    s->exec("DELETE FROM reactions");
    auto d = dst.connect();
    auto content = read_content(*d, false);
    const std::string record = "SELECT source || command || finished || snapshot_ms FROM mmmove_sync_state";
    const std::string before = query_one(*d, record);
    auto out = sync(src, dst, {"--plan"});
    INFO(out.output.substr(0, 3000));
    REQUIRE(out.exit_code == 0);
    CHECK(out.output.find("\"deleted\"") != std::string::npos);
    CHECK(read_content(*d, false) == content);
    CHECK(query_one(*d, record) == before);
}

TEST_CASE("sync reads the source on connections that refuse a write, its first connection included", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syrs"), dst(Engine::postgres, "syrd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    CatchUpOptions o;
    o.quiet = true;
    o.jobs = 1;
    o.final_pass = true;
    std::ostringstream log;
    auto result = run_sync(*s, *d, o, log);
    CHECK(source_stood_still(result));
    CHECK_THROWS_WITH(s->exec("CREATE TABLE mmmove_write_probe (x integer)"), Catch::Contains("read-only"));
}

TEST_CASE("a sync is refused while another mmmove holds the destination's lock", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "syxs"), dst(Engine::postgres, "syxd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto holder = dst.connect();
    {
        DestinationLock held(*holder);
        auto refused = sync(src, dst);
        INFO(refused.output.substr(0, 3000));
        CHECK(refused.exit_code == 9);
        CHECK(query_one(*holder, "SELECT command FROM mmmove_sync_state") == "copy");
    }
    CHECK(sync(src, dst).exit_code == 0);
}

TEST_CASE("sync writes a MySQL key holding a NUL byte into PostgreSQL as a copy does, MySQL to PostgreSQL",
          "[e2e][sync][mysql][pg][hostile]") {
    ScratchDb src(Engine::mysql, "syns"), dst(Engine::postgres, "synd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto s = src.connect(Side::source);
    const std::string user = query_one(*s, "SELECT UserId FROM Preferences LIMIT 1");
    // A preference name with a NUL byte: MySQL holds it, PostgreSQL's text cannot (the copy removes NUL bytes).
    s->exec("INSERT INTO Preferences (UserId, Category, Name, Value) VALUES (" + s->quote_literal(user) + ", 'display_settings', " +
            s->quote_literal(std::string("nul\0byte", 8)) + ", 'x')");
    const std::string prefs = query_one(*s, "SELECT COUNT(*) FROM Preferences");
    auto d = dst.connect();
    for (int pass = 1; pass <= 2; ++pass) {
        auto out = sync(src, dst);
        INFO("pass " << pass << "\n" << out.output.substr(0, 3000));
        CHECK(out.exit_code == 0);
        CHECK(query_one(*d, "SELECT COUNT(*) FROM preferences") == prefs);
        CHECK(query_one(*d, "SELECT value FROM preferences WHERE name = 'nulbyte'") == "x");
    }
}

TEST_CASE("sync refuses a planted record: escape sequences in the label, a list of tables that is not one, a horizon of another form",
          "[e2e][sync][pg][hostile]") {
    ScratchDb src(Engine::postgres, "syhs"), dst(Engine::postgres, "syhd");
    fill_sample(src, 60, 141, false, 1, false);
    REQUIRE(copy(src, dst).exit_code == 0);
    auto d = dst.connect();
    const std::string deep = std::string(5000, '[') + std::string(5000, ']');
    const std::vector<std::pair<std::string, std::string>> planted = {
        {"source", "E'\\x1b[2J\\x1b]0;owned\\x07'"},
        {"left_behind", "'{\"posts\": 1}'"},
        {"left_behind", "'[\"posts\", 1]'"},
        {"left_behind", "'" + deep + "'"},
        {"left_behind", "E'[\"a\\\\u0000b\"]'"},
        {"left_behind", "repeat('x', 100000)"},
        {"horizon", "'1/1:5; DROP TABLE posts'"},
        {"horizon", "repeat('9', 64)"},
        {"horizon", "'1/1'"},
    };
    for (const auto& [column, value] : planted) {
        d->exec("UPDATE mmmove_sync_state SET source = 'ok', left_behind = '[]', horizon = ''");
        d->exec("UPDATE mmmove_sync_state SET " + column + " = " + value);
        auto out = sync(src, dst);
        INFO(column << " = " << value.substr(0, 60) << "\n" << out.output.substr(0, 2000));
        CHECK(out.exit_code == 4);
        CHECK(out.output.find("which mmmove does not write") != std::string::npos);
        CHECK(out.output.find('\x1b') == std::string::npos);
    }
    d->exec("UPDATE mmmove_sync_state SET source = 'ok', left_behind = '[]', horizon = ''");
    CHECK(sync(src, dst).exit_code == 0);
}
