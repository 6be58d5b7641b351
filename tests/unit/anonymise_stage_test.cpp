// The anonymise stage on rows as the copy hands them over: which tables are dropped, which get no
// transform at all, that a username is masked alike in Users, in mentions and in Posts.Props, how
// passwords and MFA end up, the counts (also from several threads), and the job's overrides.
#include <algorithm>
#include <crypt.h>

#include <catch2/catch.hpp>
#include <memory>
#include <nlohmann/json.hpp>
#include <thread>

#include "catalog/catalog.h"
#include "core/error.h"
#include "pipeline/issue_log.h"
#include "pipeline/planner.h"
#include "transform/anonymise.h"

using namespace mmmove;

namespace {

const std::string key = "an anonymisation key of 32 bytes";

Column column(const std::string& name, ColumnKind kind = ColumnKind::text) {
    Column c;
    c.name = name;
    c.type = kind == ColumnKind::boolean ? "boolean" : "text";
    c.kind = kind;
    return c;
}

// A table as the catalog would read it, and its plan.
struct TestTable {
    Table table;
    PlannedTable planned;
    RowColumns columns;
    TestTable(const std::string& name, std::vector<Column> cols) : columns(names(cols)) {
        table.name = name;
        table.columns = std::move(cols);
        table.primary_key = {table.columns.at(0).name};
        planned.source = &table;
        planned.dest = &table;
    }
    static std::vector<std::string> names(const std::vector<Column>& cols) {
        std::vector<std::string> out;
        for (const auto& c : cols) out.push_back(c.name);
        return out;
    }
};

AnonymiseOptions options(AnonymiseOptions::Passwords passwords = AnonymiseOptions::Passwords::disable) {
    AnonymiseOptions o;
    o.key = key;
    o.passwords = passwords;
    o.columns = anonymised_columns();
    o.drop_tables = anonymised_drop_tables({}, {});
    return o;
}

FieldRow row_of(const std::vector<const char*>& values) {
    FieldRow row;
    for (const char* v : values) row.push_back(v ? Field::of(v) : Field{});
    return row;
}

std::string value(const FieldRow& row, size_t i) {
    return row[i].null ? "(null)" : std::string(row[i].view());
}

TestTable users() {
    return TestTable(
        "Users", {column("Id"), column("Username"), column("Email"), column("Password"), column("AuthData"),
                  column("MfaActive", ColumnKind::boolean), column("MfaSecret"), column("Roles")});
}

}  // namespace

TEST_CASE("rows of dropped tables are not copied, and counted", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::postgres);
    TestTable sessions("sessions", {column("id"), column("token")});
    ChunkIssues issues;
    {
        TransformChain chain = stage.chain(sessions.planned, sessions.columns, issues);
        REQUIRE_FALSE(chain.empty());
        for (int i = 0; i < 3; ++i) {
            FieldRow row = row_of({"id", "token"});
            CHECK_FALSE(chain.apply(row));
        }
        CHECK(chain.dropped() == 3);
    }
    CHECK(stage.counts().dropped_rows == 3);
    CHECK(stage.write_plan(sessions.planned).kind == WritePlan::Kind::insert);
}

TEST_CASE("a table without anonymised columns gets no transform", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::postgres);
    ChunkIssues issues;
    TestTable threads("threads", {column("postid"), column("replycount", ColumnKind::integer)});
    CHECK(stage.chain(threads.planned, threads.columns, issues).empty());
    // Users, but a chunk that reads none of its masked columns: nothing to do either.
    TestTable ids("users", {column("id"), column("createat", ColumnKind::integer)});
    CHECK(stage.chain(ids.planned, ids.columns, issues).empty());
}

TEST_CASE("a username is masked alike in Users, in mentions and in Posts.Props", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::mysql);
    const Masker masker(key);
    const std::string alice = masker.username("alice");
    ChunkIssues issues;
    TestTable u = users();
    TransformChain chain = stage.chain(u.planned, u.columns, issues);
    FieldRow row = row_of({"id1", "Alice", "alice@acme.com", "$2a$10$abcdefghijklmnopqrstuu", "", "1",
                           "JBSWY3DPEHPK3PXP", "system_user"});
    REQUIRE(chain.apply(row));
    CHECK(value(row, 0) == "id1");
    CHECK(value(row, 1) == alice);
    CHECK(value(row, 2) == masker.email("alice@acme.com"));
    CHECK(value(row, 3) == std::string(disabled_password));
    CHECK(value(row, 4).empty());  // no SSO login: stays ''
    CHECK(value(row, 5) == "0");   // MySQL spells false 0
    CHECK(value(row, 6).empty());
    CHECK(value(row, 7) == "system_user");

    TestTable posts("Posts", {column("Id"), column("Message"), column("Props", ColumnKind::json)});
    TransformChain post_chain = stage.chain(posts.planned, posts.columns, issues);
    FieldRow post =
        row_of({"p1", "hi @alice!", R"({"username":"alice","addedUsername":"bob","from_webhook":"true"})"});
    REQUIRE(post_chain.apply(post));
    CHECK(value(post, 1).find("@" + alice + "!") != std::string::npos);
    const auto props = nlohmann::json::parse(value(post, 2));
    CHECK(props["username"] == alice);
    CHECK(props["addedUsername"] == masker.username("bob"));
    CHECK(props["from_webhook"] == "true");
}

TEST_CASE("NULL stays NULL and empty stays empty in every masked column", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::postgres);
    ChunkIssues issues;
    TestTable u = users();
    TransformChain chain = stage.chain(u.planned, u.columns, issues);
    FieldRow row = row_of({"id1", nullptr, "", nullptr, nullptr, nullptr, "", nullptr});
    CHECK(chain.apply(row));
    for (size_t i = 1; i < row.size(); ++i) {
        INFO(u.columns.names()[i]);
        CHECK(row[i].null == (i != 2 && i != 6));
        if (!row[i].null) CHECK(row[i].size == 0);
    }
    CHECK(chain.changed() == 0);
}

TEST_CASE("cleared flags are false as the source engine spells them", "[unit][anonymise]") {
    CHECK(cleared_value(ColumnKind::boolean, Engine::postgres) == "f");
    CHECK(cleared_value(ColumnKind::boolean, Engine::mysql) == "0");
    CHECK(cleared_value(ColumnKind::integer, Engine::mysql) == "0");
    CHECK(cleared_value(ColumnKind::text, Engine::postgres).empty());
    AnonymiseStage stage(options(), Engine::postgres);
    ChunkIssues issues;
    TestTable u = users();
    TransformChain chain = stage.chain(u.planned, u.columns, issues);
    FieldRow row = row_of({"id1", "bob", "bob@acme.com", "", "bob-ldap", "t", "SECRET", "system_user"});
    REQUIRE(chain.apply(row));
    CHECK(value(row, 5) == "f");
    CHECK(value(row, 6).empty());
    CHECK(value(row, 3).empty());  // an SSO user has no password: stays ''
    CHECK(value(row, 4).size() == std::string("bob-ldap").size());
    CHECK(value(row, 4) != "bob-ldap");
}

TEST_CASE("the test password is a bcrypt hash every user gets", "[unit][anonymise]") {
    const std::string key = "unit-test-key-0123456789abcdef";
    const std::string hash = test_password_hash("staging-pass", key);
    CHECK(hash.rfind("$2b$10$", 0) == 0);
    CHECK(hash.size() == 60);
    crypt_data data{};
    const char* again = crypt_rn("staging-pass", hash.c_str(), &data, sizeof data);
    REQUIRE(again);
    CHECK(std::string(again) == hash);
    const char* wrong = crypt_rn("other-pass", hash.c_str(), &data, sizeof data);
    CHECK((!wrong || std::string(wrong) != hash));
    CHECK(test_password_hash("staging-pass", key) == hash);  // the same every night under one key
    CHECK(test_password_hash("staging-pass", "another-key-0123456789abcdef") != hash);
    CHECK(test_password_hash("other-pass", key).substr(0, 29) != hash.substr(0, 29));  // another password, another salt
    const std::string other = test_password_hash("staging-pass", "another-key-0123456789abcdef");
    CHECK(std::string(crypt_rn("staging-pass", other.c_str(), &data, sizeof data)) == other);

    AnonymiseOptions o = options(AnonymiseOptions::Passwords::test_password);
    o.password_hash = hash;
    AnonymiseStage stage(std::move(o), Engine::postgres);
    ChunkIssues issues;
    TestTable u = users();
    TransformChain chain = stage.chain(u.planned, u.columns, issues);
    FieldRow row = row_of({"id1", "bob", "bob@acme.com", "$2a$10$whatever", "", "f", "", ""});
    REQUIRE(chain.apply(row));
    CHECK(value(row, 3) == hash);

    AnonymiseOptions missing = options(AnonymiseOptions::Passwords::test_password);
    CHECK_THROWS_AS(AnonymiseStage(std::move(missing), Engine::postgres), Error);
}

TEST_CASE("a disabled password is no hash any password matches", "[unit][anonymise]") {
    const std::string disabled(disabled_password);
    CHECK_FALSE(disabled.empty());
    CHECK(disabled[0] != '$');  // neither bcrypt ($2a$, $2b$) nor any crypt(3) or PHC hash
    crypt_data data{};
    for (const char* guess : {"", "password", "mmmove-anonymised:login-disabled"}) {
        const char* h = crypt_rn(guess, disabled.c_str(), &data, sizeof data);
        CHECK((!h || std::string(h) != disabled));
    }
}

TEST_CASE("counts add up per kind, also from several threads", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::postgres);
    auto worker = [&stage] {
        ChunkIssues issues;
        TestTable u = users();
        TestTable tokens("Tokens", {column("Token"), column("Extra")});
        TransformChain chain = stage.chain(u.planned, u.columns, issues);
        TransformChain dropped = stage.chain(tokens.planned, tokens.columns, issues);
        for (int i = 0; i < 100; ++i) {
            const std::string name = "user" + std::to_string(i);
            FieldRow row = row_of({"id", name.c_str(), "a@b.c", "hash", nullptr, "t", "", "system_user"});
            chain.apply(row);
            FieldRow token = row_of({"t", "{}"});
            dropped.apply(token);
        }
    };
    std::vector<std::thread> threads;
    for (int i = 0; i < 4; ++i) threads.emplace_back(worker);
    for (auto& t : threads) t.join();
    const AnonymiseCounts& c = stage.counts();
    CHECK(c.by_kind.at(AnonKind::username) == 400);
    CHECK(c.by_kind.at(AnonKind::email) == 400);
    CHECK(c.by_kind.at(AnonKind::password) == 400);
    CHECK(c.by_kind.at(AnonKind::cleared) == 400);  // MfaActive 't' → 'f'; MfaSecret '' was already empty
    CHECK(c.by_kind.at(AnonKind::secret) == 0);     // AuthData NULL
    CHECK(c.dropped_rows == 400);
    CHECK(c.masked() == 1600);
}

TEST_CASE("a job's overrides change, add and remove columns", "[unit][anonymise]") {
    auto find = [](const std::vector<AnonymisedColumn>& cols, const std::string& t,
                   const std::string& c) -> const AnonymisedColumn* {
        for (const auto& x : cols)
            if (lower(x.table) == lower(t) && lower(x.column) == lower(c)) return &x;
        return nullptr;
    };
    const auto cols = anonymised_columns_with({{"users", "email", "keep", {}},
                                               {"Users", "Nickname", "free_text", {}},
                                               {"Systems", "Value", "json_text", {"manualTimezone"}}});
    CHECK_FALSE(find(cols, "Users", "Email"));
    REQUIRE(find(cols, "Users", "Nickname"));
    CHECK(find(cols, "Users", "Nickname")->kind == AnonKind::free_text);
    REQUIRE(find(cols, "Systems", "Value"));  // kept by the model, masked by this job
    CHECK(find(cols, "Systems", "Value")->keep_paths == std::vector<std::string>{"manualTimezone"});
    CHECK(cols.size() == anonymised_columns().size());  // one removed, one added
    // A job's kept JSON members come on top of the model's: staging keeps the flags it needs.
    const auto props = anonymised_columns_with({{"Posts", "Props", "json_text", {"my_plugin_flag"}}});
    const auto& kept = find(props, "Posts", "Props")->keep_paths;
    CHECK(std::find(kept.begin(), kept.end(), "from_webhook") != kept.end());
    CHECK(std::find(kept.begin(), kept.end(), "my_plugin_flag") != kept.end());
    try {
        anonymised_columns_with({{"Users", "Email", "mail", {}}});
        FAIL("an unknown kind was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        CHECK_THAT(std::string(e.what()), Catch::Contains("Users.Email") && Catch::Contains("'mail'"));
    }
    CHECK_THROWS_AS(anonymised_columns_with({{"Users", "Email", "email", {"a"}}}), Error);
    CHECK_THROWS_AS(anonymised_columns_with({{"Users", "Props", "json_text", {"a..b"}}}), Error);
}

TEST_CASE("a job can drop more tables or keep one the model drops", "[unit][anonymise]") {
    const auto tables = anonymised_drop_tables({"Audits"}, {"Sessions"});
    CHECK(tables.count("audits"));
    CHECK_FALSE(tables.count("sessions"));
    CHECK(tables.count("oauthaccessdata"));
    CHECK(tables.count("tokens"));
}

TEST_CASE("names of a fixed form are kept in that form only, and alike in every column that names them", "[unit][anonymise]") {
    AnonymiseStage stage(options(), Engine::postgres);
    const Masker masker(key);
    ChunkIssues issues;
    TestTable u = users();
    TransformChain users_chain = stage.chain(u.planned, u.columns, issues);
    FieldRow user = row_of({"id1", "alice", "a@b.c", "", "", "f", "", "system_user Dr_Jane_Doe  custom_role"});
    REQUIRE(users_chain.apply(user));
    const std::string jane = masker.token("Dr_Jane_Doe");
    CHECK(jane.size() == 11);
    CHECK(jane.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789") == std::string::npos);
    CHECK(value(user, 7) == "system_user " + jane + "  custom_role");  // Mattermost's role names, and the spaces, stay

    TestTable roles("Roles", {column("Id"), column("Name"), column("Permissions")});
    TransformChain roles_chain = stage.chain(roles.planned, roles.columns, issues);
    FieldRow role = row_of({"r1", "Dr_Jane_Doe", "create_post Ring Jane on +49151 read_channel"});
    REQUIRE(roles_chain.apply(role));
    CHECK(value(role, 1) == jane);  // the role row and the lists naming it still match
    CHECK(value(role, 2) == "create_post " + masker.token("Ring") + " " + masker.token("Jane") + " on " + masker.token("+49151") +
                                " read_channel");

    TestTable priority("PostsPriority", {column("PostId"), column("Priority")});
    TransformChain priority_chain = stage.chain(priority.planned, priority.columns, issues);
    FieldRow urgent = row_of({"p1", "urgent"}), odd = row_of({"p2", "call-me"});
    REQUIRE(priority_chain.apply(urgent));
    CHECK(value(urgent, 1) == "urgent");  // a value of the set stays
    REQUIRE(priority_chain.apply(odd));
    CHECK(value(odd, 1) == masker.token("call-me"));
}

TEST_CASE("Systems rows are copied only with a value of the form of server state", "[unit][anonymise]") {
    AnonymiseOptions o = options();
    o.server_id = "stagingidstagingidstagingi";
    AnonymiseStage stage(o, Engine::postgres);
    ChunkIssues issues;
    TestTable systems("Systems", {column("Name"), column("Value")});
    TransformChain chain = stage.chain(systems.planned, systems.columns, issues);
    for (auto [name, stored] : {std::pair{"AdvancedPermissionsMigrationComplete", "true"}, {"InstallationDate", "1700000000000"},
                               {"Version", "9.11.0"}, {"WarnMetricNumberOfActiveUsers500", "ack"}, {"LastEmptyValue", ""}}) {
        FieldRow row = row_of({name, stored});
        INFO(name);
        CHECK(chain.apply(row));
        CHECK(value(row, 1) == stored);
    }
    FieldRow identity = row_of({"DiagnosticId", "productionidproductionidpr"});
    REQUIRE(chain.apply(identity));
    CHECK(value(identity, 1) == o.server_id);
    for (auto [name, stored] : {std::pair{"AsymmetricSigningKey", "{\"ecdsa_key\":{}}"}, {"PluginGithubToken", "ghp_Abc123secret"},
                               {"OnCallNote", "Dr Jane Doe 0151 2345"}, {"ExportPath", "/srv/prod/export"}}) {
        FieldRow row = row_of({name, stored});
        INFO(name);
        CHECK_FALSE(chain.apply(row));  // not copied
    }
}
