// The anonymisation model (mappings/anonymise.yaml): it parses, names only tables and columns the schema
// models hold, covers every credential of mappings/secrets.yaml as a secret, leaves ids and derived
// names alone, and refuses malformed entries with a message that names them.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <set>

#include "catalog/anonymise_model.h"
#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"
#include "catalog/schema_model.h"
#include "core/error.h"

using namespace mmmove;

namespace {

using Columns = std::map<std::string, std::set<std::string>>;  // lower-case table → lower-case columns

// "`Id` varchar(26) NOT NULL", "\"position\" character varying(128)": the column's name, lower case.
std::string column_name(const std::string& definition) {
    std::string out;
    for (char c : definition.substr(0, definition.find(' ')))
        if (c != '`' && c != '"') out.push_back(c);
    return lower(out);
}

// The columns of the last MySQL schema (m141) and the newest PostgreSQL one (m159) together.
const Columns& schema_columns() {
    static const Columns all = [] {
        Columns out;
        for (const SchemaModel* m : {find_model(Engine::mysql, 141), find_model(Engine::postgres, 159)})
            for (const ModelTable& t : m->tables)
                for (const auto& c : t.columns) out[lower(t.name)].insert(column_name(c));
        return out;
    }();
    return all;
}

bool has_column(const std::string& table, const std::string& column) {
    auto t = schema_columns().find(lower(table));
    return t != schema_columns().end() && t->second.count(lower(column)) > 0;
}

const AnonymisedColumn* entry(const std::string& table, const std::string& column) {
    for (const AnonymisedColumn* c : anonymised_columns_of(table))
        if (lower(c->column) == lower(column)) return c;
    return nullptr;
}

const char* keeps_and_columns =
    "keeps: {username: a, email: a, person_name: a, person_detail: a, free_text: a, secret: a,\n"
    "        ip_address: a, json_text: a, file_name: a, url: a, password: a, cleared: a, token: a,\n"
    "        team_name: a, channel_name: a, emoji_name: a, emoji_ref: a, hashtags: a, display_name: a}\n"
    "columns:\n"
    "  - {table: Users, column: Email, kind: email}\n";

void require_refused(const std::string& yaml, const std::string& where, const std::string& problem) {
    INFO(yaml);
    try {
        parse_anonymise_model(YAML::Load(yaml));
        FAIL("the malformed model was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::internal);
        CHECK_THAT(std::string(e.what()), Catch::Contains(where) && Catch::Contains(problem));
    }
}

}  // namespace

TEST_CASE("the built-in anonymisation model parses and says what every kind keeps", "[unit][anonymise]") {
    REQUIRE_NOTHROW(anonymise_model());
    CHECK(anonymised_columns().size() > 40);
    CHECK(anonymise_model().keeps.size() == anon_kinds().size());
    CHECK(anon_kinds().size() == 19);
    REQUIRE(entry("Users", "Username"));
    CHECK(entry("Users", "Username")->kind == AnonKind::username);
    CHECK(entry("Users", "Email")->kind == AnonKind::email);
    CHECK(entry("Users", "FirstName")->kind == AnonKind::person_name);
    CHECK(entry("Posts", "Message")->kind == AnonKind::free_text);
    CHECK(entry("Audits", "IpAddress")->kind == AnonKind::ip_address);
    REQUIRE(entry("Users", "NotifyProps"));
    CHECK(entry("Users", "NotifyProps")->kind == AnonKind::json_text);
    // Deny by default inside JSON: the settings are kept members, mention_keys is no kept member.
    const auto& notify = entry("Users", "NotifyProps")->keep_paths;
    CHECK(std::find(notify.begin(), notify.end(), "desktop") != notify.end());
    CHECK(std::find(notify.begin(), notify.end(), "mention_keys") == notify.end());
    CHECK(std::find(notify.begin(), notify.end(), "auto_responder_message") == notify.end());
    REQUIRE(entry("ChannelMembers", "NotifyProps"));
    CHECK(entry("ChannelMembers", "NotifyProps")->kind == AnonKind::json_text);
    CHECK(std::string(anon_kind_name(AnonKind::person_detail)) == "person_detail");
    CHECK(entry("Users", "Password")->kind == AnonKind::password);
    CHECK(entry("Users", "MfaActive")->kind == AnonKind::cleared);
    CHECK(entry("Users", "MfaSecret")->kind == AnonKind::cleared);
    AnonKind k = AnonKind::url;
    CHECK(anon_kind_named("cleared", k));
    CHECK(k == AnonKind::cleared);
    CHECK_FALSE(anon_kind_named("keep", k));
}

TEST_CASE("the model drops the rows of live credentials and short-lived state", "[unit][anonymise]") {
    std::set<std::string> dropped;
    for (const auto& t : anonymised_drop_rows()) dropped.insert(lower(t));
    for (const char* t : {"sessions", "oauthaccessdata", "oauthauthdata", "tokens", "desktoptokens", "uploadsessions"}) {
        INFO(t);
        CHECK(dropped.count(t));
    }
    for (const auto& t : anonymised_drop_rows()) {
        INFO(t);
        CHECK(schema_columns().count(lower(t)));
    }
    CHECK_FALSE(dropped.count("users"));
    CHECK_FALSE(dropped.count("posts"));
}

TEST_CASE("every table and column the anonymisation model names exists in a schema model", "[unit][anonymise]") {
    REQUIRE(find_model(Engine::mysql, 141));
    REQUIRE(find_model(Engine::postgres, 159));
    CHECK(has_column("users", "POSITION"));  // quoted on PostgreSQL
    CHECK_FALSE(has_column("Users", "NoSuchColumn"));
    for (const auto& c : anonymised_columns()) {
        INFO(c.table << "." << c.column);
        CHECK(has_column(c.table, c.column));
    }
}

// A password becomes unusable (kind password), an MFA secret is cleared; every other credential is a secret.
TEST_CASE("every credential in secrets.yaml is anonymised as a secret, a password or cleared", "[unit][anonymise]") {
    const YAML::Node secrets = load_embedded_yaml("secrets.yaml")["columns"];
    REQUIRE(secrets.size() > 10);
    for (const auto& s : secrets) {
        const std::string name = s.as<std::string>();
        const auto dot = name.find('.');
        INFO(name);
        const AnonymisedColumn* c = entry(name.substr(0, dot), name.substr(dot + 1));
        REQUIRE(c);
        CHECK((c->kind == AnonKind::secret || c->kind == AnonKind::password || c->kind == AnonKind::cleared));
    }
}

TEST_CASE("ids are left alone; names other rows point at are masked by their own kinds", "[unit][anonymise]") {
    REQUIRE(entry("Channels", "Name"));
    CHECK(entry("Channels", "Name")->kind == AnonKind::channel_name);  // D/G names stay inside the kind
    CHECK(entry("PublicChannels", "Name")->kind == AnonKind::channel_name);
    CHECK(entry("Teams", "Name")->kind == AnonKind::team_name);
    CHECK(entry("Emoji", "Name")->kind == AnonKind::emoji_name);
    CHECK(entry("Reactions", "EmojiName")->kind == AnonKind::emoji_ref);
    CHECK(entry("Posts", "Hashtags")->kind == AnonKind::hashtags);
    CHECK(entry("Channels", "DisplayName")->kind == AnonKind::display_name);
    for (const char* path : {"Path", "ThumbnailPath", "PreviewPath"}) {  // their file name part, as files sync masks it
        INFO(path);
        REQUIRE(entry("FileInfo", path));
        CHECK(entry("FileInfo", path)->kind == AnonKind::file_name);
    }
    CHECK(anonymised_columns_of("Reactions").size() == 1);
    CHECK(anonymised_columns_of("Threads").empty());
    CHECK(anonymised_columns_of("Status").empty());
    for (const auto& c : anonymised_columns())
        if (lower(c.column) == "id") CHECK(lower(c.table) == "incomingwebhooks");  // the hook URL's secret
}

TEST_CASE("anonymisation lookups ignore case", "[unit][anonymise]") {
    CHECK(anonymised_columns_of("USERS").size() == anonymised_columns_of("Users").size());
    CHECK(anonymised_columns_of("scheduledposts").size() == 3);  // message, props, priority
    CHECK(anonymised_columns_of("ScheduledPosts").size() == 3);
    CHECK(entry("oauthaccessdata", "refreshtoken"));
    CHECK(anonymised_columns_of("NoSuchTable").empty());
}

TEST_CASE("a malformed anonymisation model is refused naming the entry", "[unit][anonymise]") {
    REQUIRE_NOTHROW(parse_anonymise_model(YAML::Load(keeps_and_columns)));
    const std::string keeps = std::string(keeps_and_columns).substr(0, std::string(keeps_and_columns).find("columns:"));
    require_refused(keeps + "columns:\n  - {table: Users, column: Email, kind: mail}\n", "columns entry 1 (Users.Email)",
                    "unknown kind 'mail'");
    require_refused(keeps + "columns:\n  - {table: Users, column: Email, kind: email}\n  - {table: Posts, kind: free_text}\n",
                    "columns entry 2 (Posts)", "has no 'column'");
    require_refused(keeps + "columns:\n  - {table: Users, column: Email, kind: email, colour: red}\n", "(Users.Email)",
                    "unknown field 'colour'");
    require_refused(keeps + "columns:\n  - {table: Users, column: Email, kind: email, paths: [a]}\n", "(Users.Email)",
                    "unknown field 'paths'");
    const std::string props = keeps + "columns:\n  - {table: Users, column: Props, kind: json_text}\n  - {table: Users, column: Email, kind: email}\n";
    require_refused(props + "json_keep:\n  Users.Props: [{reason: r, paths: ['a..b']}]\n", "json_keep entry Users.Props", "bad path");
    require_refused(props + "json_keep:\n  Users.Email: [{reason: r, paths: [a]}]\n", "json_keep entry Users.Email",
                    "no json_text entry");
    require_refused(props + "json_keep:\n  Users.Props: [{paths: [a]}]\n", "json_keep entry Users.Props", "no 'reason'");
    require_refused(props + "json_keep:\n  Users.Props: [{reason: r}]\n", "json_keep entry Users.Props", "neither");
    require_refused(keeps + "columns:\n  - {table: Users, column: Roles, kind: token}\n", "(Users.Roles)", "has no 'form'");
    require_refused(keeps + "columns:\n  - {table: Users, column: Roles, kind: token, form: '[a-z'}\n", "(Users.Roles)",
                    "no regular expression");
    require_refused(keeps + "columns:\n  - {table: Users, column: Email, kind: email, form: '[a-z]+'}\n", "(Users.Email)",
                    "not token");
    require_refused(std::string(keeps_and_columns) + "  - {table: users, column: email, kind: email}\n",
                    "columns entry 2 (users.email)", "repeats");
    require_refused(keeps + "columns:\n  - {table: Users, column: AuthData, kind: secret, when: \"AuthData <> ''\"}\n",
                    "(Users.AuthData)", "unknown field 'when'");
    require_refused(std::string(keeps_and_columns) + "drop_rows: [Sessions, sessions]\n", "drop_rows entry 2 (sessions)",
                    "repeats");
    require_refused(std::string(keeps_and_columns) + "drop_rows: {Sessions: yes}\n", "section 'drop_rows'", "not a list");
    require_refused("keeps: {username: a}\ncolumns: []\n", "section 'keeps'", "kind 'email'");
    require_refused("columns: []\n", "section 'keeps'", "missing");
}

// Deny by default: an anonymised run stops at a column nobody classified, so every column a built-in
// model holds must be masked, kept with a reason, or in a table whose rows are dropped.
TEST_CASE("every column of every table of every built-in schema model is classified for an anonymised copy", "[unit][anonymise]") {
    REQUIRE(builtin_models().size() >= 5);
    size_t checked = 0;
    for (const SchemaModel& m : builtin_models())
        for (const ModelTable& t : m.tables) {
            if (table_role(t.name) == TableRole::per_instance || table_role(t.name) == TableRole::schema_version) continue;
            for (const auto& c : t.columns) {
                INFO("m" << m.label << (m.engine == Engine::postgres ? " postgres " : " mysql ") << t.name << "." << column_name(c));
                CHECK(classify_column(t.name, column_name(c)) != ColumnClass::unclassified);
                ++checked;
            }
        }
    CHECK(checked > 2000);
    CHECK(classify_column("Users", "Email") == ColumnClass::masked);
    CHECK(classify_column("users", "createat") == ColumnClass::kept);
    CHECK(classify_column("Sessions", "DeviceId") == ColumnClass::dropped);
    CHECK(classify_column("Users", "NoSuchColumn") == ColumnClass::unclassified);
    CHECK(classify_column("focalboard_blocks", "title") == ColumnClass::unclassified);
}

TEST_CASE("every kept column exists in a schema model, has its reason, and no free text is kept", "[unit][anonymise]") {
    std::set<std::pair<std::string, std::string>> all;
    for (const SchemaModel& m : builtin_models())
        for (const ModelTable& t : m.tables)
            for (const auto& c : t.columns) all.emplace(lower(t.name), column_name(c));
    REQUIRE(anonymise_model().kept.size() > 370);
    for (const KeptColumn& k : anonymise_model().kept) {
        INFO(k.table << "." << k.column);
        CHECK(all.count({lower(k.table), lower(k.column)}));
        CHECK(k.reason.size() > 10);
    }
    // Text people type is masked, never kept.
    for (auto [t, c] : {std::pair{"Posts", "Message"}, {"Teams", "CompanyName"}, {"SidebarCategories", "DisplayName"},
                        {"OutgoingWebhooks", "TriggerWords"}, {"PropertyValues", "Value"}, {"Commands", "Description"}}) {
        INFO(t << "." << c);
        CHECK(classify_column(t, c) == ColumnClass::masked);
    }
}

TEST_CASE("a malformed keep section is refused naming the entry", "[unit][anonymise]") {
    const std::string base = keeps_and_columns;
    REQUIRE_NOTHROW(parse_anonymise_model(YAML::Load(base + "keep:\n  - {reason: ids, columns: {Users: [Id]}}\n")));
    require_refused(base + "keep:\n  - {reason: ids, columns: {Users: [Id, email]}}\n", "keep entry Users.email", "also masked");
    require_refused(base + "keep:\n  - {reason: ids, columns: {Users: [Id]}}\n  - {reason: x, columns: {users: [id]}}\n",
                    "keep entry users.id", "kept twice");
    require_refused(base + "keep:\n  - {columns: {Users: [Id]}}\n", "keep group 1", "has no 'reason'");
    require_refused(base + "keep:\n  - {reason: ids, columns: {Users: []}}\n", "keep group 1 (Users)", "columns");
    require_refused(base + "keep:\n  - {reason: ids, columns: {Users: [Id]}, when: varchar}\n", "keep group 1", "unknown field 'when'");
}
