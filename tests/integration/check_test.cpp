// What `mmmove check` says about each side's Mattermost schema, on real servers: migrations that share
// numbers but not names, databases from before db_migrations, and an empty destination whose engine has
// no model for the source's version.
#include <catch2/catch.hpp>

#include <sstream>

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string blocking_lines(const std::string& output) {
    std::istringstream in(output);
    std::string line, out;
    while (std::getline(in, line))
        if (line.find("[BLOCKING]") != std::string::npos) out += line + "\n";
    return out;
}

}  // namespace

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
