// An anonymised refresh whose source values sit at their columns' limits: masks are longer than what
// they replace (an @mention grows from 3 characters to 19), and the refresh must still finish (exit 0)
// with every row in the destination, each masked value within its column, and verify agreeing.
#include <catch2/catch.hpp>
#include <cstdlib>

#include "../common/test_files.h"
#include "run_job_files.h"
#include "support.h"
#include "transform/convert.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// The source's values at the limit: a G channel's display name (varchar(64)) and a header
// (varchar(1024)) full of @mentions, a nickname of 64 characters, a message of 60,000 characters made
// of @mentions (PostgreSQL's varchar(65535), MySQL's text of 65,535 bytes).
void fill_to_the_limit(Database& db) {
    const bool pg = db.engine() == Engine::postgres;
    auto repeat = [](const std::string& piece, size_t chars) {
        std::string out;
        while (out.size() + piece.size() <= chars) out += piece;
        return out;
    };
    const std::string channels = pg ? "channels" : "Channels", users = pg ? "users" : "Users", posts = pg ? "posts" : "Posts";
    const std::string first = pg ? " WHERE id = (SELECT MIN(id) FROM " : " WHERE Id = (SELECT * FROM (SELECT MIN(Id) FROM ";
    const std::string close = pg ? ")" : ") AS m)";
    db.exec("UPDATE " + channels + " SET displayname = " + db.quote_literal(repeat("@ab, ", 64)) + ", header = " +
            db.quote_literal(repeat("@cd ", 1024)) + first + channels + close);
    db.exec("UPDATE " + users + " SET nickname = " + db.quote_literal(std::string(64, 'n')) + first + users + close);
    db.exec("UPDATE " + posts + " SET message = " + db.quote_literal(repeat("@ef ", 60000)) + first + posts + close);
}

int64_t count(Database& db, const std::string& sql) { return std::stoll(*db.query(sql).at(0).at(0)); }

void refresh_at_the_limit(Engine source_engine, const std::string& messages) {
    const std::string tag = std::string(source_engine == Engine::postgres ? "pg" : "my") + "-" + messages;
    ScratchDb src(source_engine, "fitsrc"), dst(Engine::postgres, "fitdst");
    fill_sample(src, 200, 141);
    {
        auto s = src.connect(Side::source);
        fill_to_the_limit(*s);
    }
    TempFolder dir("fit-" + tag);
    const std::string job = bare_refresh_job(dir, "fit-" + tag, src, dst, "  messages: " + messages + "\n");
    CliRun r = run_mmmove({"run", job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("every masked row is in the destination as masked") != std::string::npos);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    const bool pg = source_engine == Engine::postgres;
    for (const char* t : {"Channels", "Users", "Posts"}) {
        INFO(t);
        CHECK(count(*d, "SELECT COUNT(*) FROM " + lower(t)) == count(*s, "SELECT COUNT(*) FROM " + (pg ? lower(t) : std::string(t))));
    }
    CHECK(count(*d, "SELECT MAX(LENGTH(displayname)) FROM channels") <= 64);
    CHECK(count(*d, "SELECT COUNT(*) FROM channels WHERE displayname LIKE '@user-%'") == 1);
    CHECK(count(*d, "SELECT COUNT(*) FROM channels WHERE LENGTH(header) = 1024") == 1);
    CHECK(count(*d, "SELECT COUNT(*) FROM posts WHERE LENGTH(message) = 65535 AND message LIKE '@user-%'") == 1);
}

}  // namespace

TEST_CASE("a refresh whose values sit at their columns' limits fits every mask, PostgreSQL to PostgreSQL", "[e2e][run][fit]") {
    refresh_at_the_limit(Engine::postgres, "scramble");
}

TEST_CASE("a refresh whose values sit at their columns' limits fits every mask, MySQL to PostgreSQL", "[e2e][run][fit]") {
    refresh_at_the_limit(Engine::mysql, "replace");
}
