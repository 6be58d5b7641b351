// What `mmmove check` says about each side's Mattermost schema and rows, on real servers: a destination
// a first Mattermost start prepared, migrations that share numbers but not names, databases from
// before db_migrations, and an empty destination whose engine has no model for the source's version.
#include <catch2/catch.hpp>

#include <sstream>

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

const std::string kBotId = "firststartbotuser000000001";

uint64_t count(Database& db, const std::string& table) {
    return std::stoull(*db.query("SELECT COUNT(*) FROM " + db.quote_ident(table))[0][0]);
}

// The stored name of a Mattermost table on this side (Users on MySQL, users on PostgreSQL).
std::string table(Database& db, const std::string& name) { return db.quote_ident(read_catalog(db).find(name)->name); }

// The rows a Mattermost server writes when it first starts against an empty schema: a bot account with
// its Bots row, preferences and status, a default role and the server's Systems rows. Column names are
// left unquoted: both engines match them case-insensitively.
void write_first_start(Database& db) {
    db.exec("INSERT INTO " + table(db, "users") + " (Id, CreateAt, UpdateAt, DeleteAt, Username, Email, Roles, Props, "
            "NotifyProps) VALUES ('" + kBotId + "', 1, 1, 0, 'feedbackbot', 'feedbackbot@localhost', 'system_user', '{}', '{}')");
    db.exec("INSERT INTO " + table(db, "bots") + " (UserId, Description, OwnerId, CreateAt, UpdateAt, DeleteAt) "
            "VALUES ('" + kBotId + "', 'Feedbackbot collects user feedback', 'com.mattermost.nps', 1, 1, 0)");
    db.exec("INSERT INTO " + table(db, "preferences") + " (UserId, Category, Name, Value) VALUES ('" + kBotId +
            "', 'tutorial_step', '" + kBotId + "', '0'), ('" + kBotId + "', 'recommended_next_steps', 'hide', 'false')");
    db.exec("INSERT INTO " + table(db, "status") + " (UserId, Status, Manual, LastActivityAt) VALUES ('" + kBotId +
            "', 'online', false, 1)");
    db.exec("INSERT INTO " + table(db, "roles") + " (Id, Name, DisplayName, Permissions, SchemeManaged, BuiltIn) VALUES "
            "('firststartrole000000000001', 'system_user', 'System User', 'create_team', true, true)");
    db.exec("INSERT INTO " + table(db, "systems") + " (Name, Value) VALUES ('DiagnosticId', 'firststartdiagnostic000001'), "
            "('FirstServerRunTimestamp', '1700000000000'), ('AdvancedPermissionsMigrationComplete', 'true')");
}

// A destination schema made the way an admin would: `mmmove schema create`, then a first server start.
void prepare_like_mattermost(const ScratchDb& db) {
    auto made = run_mmmove({"schema", "create", "--to", db.dsn(), "--level", "141"});
    INFO(made.output);
    REQUIRE(made.exit_code == 0);
    write_first_start(*db.connect());
}

std::string blocking_lines(const std::string& output) {
    std::istringstream in(output);
    std::string line, out;
    while (std::getline(in, line))
        if (line.find("[BLOCKING]") != std::string::npos) out += line + "\n";
    return out;
}

}  // namespace

TEST_CASE("a destination a first Mattermost start prepared is copied into without --truncate", "[check][e2e][mysql][pg][long]") {
    ScratchDb src(Engine::mysql, "fs"), to_pg(Engine::postgres, "fsd"), to_my(Engine::mysql, "fsd");
    fill_sample(src, 100);
    uint64_t source_users = count(*src.connect(), "Users");
    for (const ScratchDb* dst : {&to_pg, &to_my}) {
        prepare_like_mattermost(*dst);
        auto checked = run_mmmove({"check", "--from", src.dsn(), "--to", dst->dsn()});
        INFO(checked.output);
        CHECK(checked.exit_code == 0);
        CHECK_THAT(checked.output, Catch::Contains("holds only rows a first Mattermost start writes"));
        auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst->dsn()});
        INFO(out.output);
        REQUIRE(out.exit_code == 0);
        bool pg = dst->engine() == Engine::postgres;
        CHECK_THAT(out.output, Catch::Contains(std::string("replaced the rows a first server start wrote: ") +
                                               (pg ? "bots (1), preferences (2), users (1 bot)" : "Bots (1), Preferences (2), Users (1 bot)")));
        auto d = dst->connect();
        CHECK(count(*d, pg ? "users" : "Users") == source_users);
        CHECK(d->query("SELECT 1 FROM " + table(*d, "users") + " WHERE Id = '" + kBotId + "'").empty());
        CHECK(d->query("SELECT 1 FROM " + table(*d, "systems") + " WHERE Value = 'firststartdiagnostic000001'").empty());
    }
}

TEST_CASE("a destination with a person, a team or a post is refused, naming what it holds", "[check][e2e][pg][mysql]") {
    ScratchDb src(Engine::mysql, "used");
    fill_sample(src, 50);
    struct Case {
        std::string insert, named;
    };
    const std::vector<Case> cases = {
        {"INSERT INTO users (id, username, email) VALUES ('humanuser00000000000000001', 'alice', 'alice@example.com')",
         "users (1 user that is not a bot)"},
        {"INSERT INTO teams (id, name, displayname) VALUES ('firstteam00000000000000001', 'team', 'Team')", "teams (1 row)"},
        {"INSERT INTO posts (id, userid, channelid, message) VALUES ('firstpost00000000000000001', '" + kBotId +
             "', 'nochannel0000000000000001', 'hello')",
         "posts (1 row)"},
    };
    for (const auto& c : cases) {
        ScratchDb dst(Engine::postgres, "usedd");
        prepare_like_mattermost(dst);
        auto d = dst.connect();
        d->exec(c.insert);
        auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
        INFO(out.output);
        CHECK(out.exit_code == 4);
        CHECK_THAT(out.output, Catch::Contains("More than a first Mattermost start writes: " + c.named) &&
                                   Catch::Contains("--truncate"));
        CHECK(count(*d, "users") == (c.named.rfind("users", 0) == 0 ? 2 : 1));  // nothing was replaced
    }
}

TEST_CASE("the same migration numbers under different names are refused, naming both names", "[check][e2e][pg]") {
    ScratchDb src(Engine::postgres, "esr"), dst(Engine::postgres, "v11");
    auto s = src.connect();
    auto d = dst.connect();
    create_schema(*s, *find_model(Engine::postgres, 141), false);
    create_schema(*d, *find_model(Engine::postgres, 141), false);
    // Mattermost 10.11.17+ and 11.x both have 142-144, for different migrations.
    s->exec("INSERT INTO db_migrations (version, name) VALUES (142, 'add_schemeid_to_roles'), "
            "(143, 'backfill_roles_schemeid'), (144, 'add_roles_schemeid_index')");
    d->exec("INSERT INTO db_migrations (version, name) VALUES (142, 'create_content_flagging_tables'), "
            "(143, 'content_flagging_table_index'), (144, 'add_dcr_fields_to_oauth_apps')");
    for (const char* cmd : {"check", "copy"}) {
        auto out = run_mmmove({cmd, "--from", src.dsn(), "--to", dst.dsn()});
        INFO(out.output);
        CHECK(out.exit_code == 5);
        CHECK_THAT(out.output, Catch::Contains("142 (source: add_schemeid_to_roles, destination: create_content_flagging_tables)") &&
                                   Catch::Contains("144 (source: add_roles_schemeid_index, destination: add_dcr_fields_to_oauth_apps)") &&
                                   Catch::Contains("different Mattermost release branches"));
    }
}

TEST_CASE("a Mattermost older than 6.4 is named as such, on either side, with the upgrade to do", "[check][e2e][pg]") {
    ScratchDb old(Engine::postgres, "v60"), empty(Engine::postgres, "v60e"), current(Engine::postgres, "v60c");
    auto o = old.connect();
    for (const char* t : {"users", "posts", "channels"}) o->exec(std::string("CREATE TABLE ") + t + " (id varchar(26) PRIMARY KEY)");
    o->exec("CREATE TABLE systems (name varchar(64) PRIMARY KEY, value varchar(1024))");
    o->exec("INSERT INTO systems VALUES ('Version', '6.0.0')");
    o->exec("CREATE TABLE schema_migrations (version bigint PRIMARY KEY, dirty boolean NOT NULL)");
    fill_sample(current, 20);

    auto as_source = run_mmmove({"check", "--from", old.dsn(), "--to", empty.dsn()});
    INFO(as_source.output);
    CHECK(as_source.exit_code == 3);
    CHECK_THAT(as_source.output, Catch::Contains("older than v6.4") && Catch::Contains("Version 6.0.0") &&
                                     Catch::Contains("schema_migrations") && Catch::Contains("upgrade the source with Mattermost"));
    CHECK_THAT(as_source.output, !Catch::Contains("holds no Mattermost schema"));

    auto as_dest = run_mmmove({"check", "--from", current.dsn(), "--to", old.dsn()});
    INFO(as_dest.output);
    CHECK(as_dest.exit_code == 4);
    CHECK_THAT(as_dest.output, Catch::Contains("The destination database holds a Mattermost schema older than v6.4") &&
                                   Catch::Contains("Upgrade it with Mattermost to the source's version (migration 141"));

    // A Version row says nothing about when the server last ran: 10.x databases can carry one too.
    current.connect()->exec("INSERT INTO systems (name, value) VALUES ('Version', '10.10.0')");
    auto noted = run_mmmove({"check", "--from", current.dsn(), "--to", empty.dsn(), "--create-schema"});
    INFO(noted.output);
    CHECK(noted.exit_code == 0);
    CHECK_THAT(noted.output, Catch::Contains("Version row (10.10.0). It is informational only") &&
                                 !Catch::Contains("7.0 or older"));
}

TEST_CASE("an empty destination is offered --create-schema only for a level its engine has", "[check][e2e][pg][mysql]") {
    ScratchDb src(Engine::postgres, "lvl"), dst(Engine::mysql, "lvld");
    auto s = src.connect();
    create_schema(*s, *find_model(Engine::postgres, 141), false);
    s->exec("INSERT INTO db_migrations (version, name) VALUES (142, 'create_content_flagging_tables')");
    auto plain = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(plain.output);
    CHECK(plain.exit_code == 4);
    std::string blocking = blocking_lines(plain.output);
    CHECK_THAT(blocking, Catch::Contains("no tables") && Catch::Contains("no MySQL/MariaDB schema model") &&
                             Catch::Contains("levels 124 and 141") && Catch::Contains("starting the source's Mattermost version"));
    CHECK_THAT(blocking, !Catch::Contains("--create-schema") && !Catch::Contains("159"));
    auto asked = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema"});
    INFO(asked.output);
    CHECK(asked.exit_code == 5);
    CHECK_THAT(blocking_lines(asked.output), Catch::Contains("levels 124 and 141") && !Catch::Contains("159"));
    // A source at a modelled level is still offered --create-schema.
    s->exec("DELETE FROM db_migrations WHERE version = 142");
    auto offered = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn()});
    CHECK(offered.exit_code == 4);
    CHECK_THAT(offered.output, Catch::Contains("pass --create-schema"));
}
