// The privacy auditor's test of an anonymised refresh: a production source in which every text, JSON
// and binary column of every table (found by asking the live server, not mmmove's model) holds a
// marker, with plugin tables (Boards, Playbooks, Calls), markers in production's config.json and in its
// data directory; then the default refresh (check, copy, anonymise, verify, config, files) into a fresh
// staging. No marker may reach staging's tables, config or files, the summary, the report or mmmove's
// output, and staging stays usable. Columns the model keeps by design as ids, times, counts, flags or
// types get no marker: they are counted and printed with the reason on every run.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <iostream>
#include <sstream>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "sample/generator.h"
#include "scanner_support.h"
#include "support.h"
#include "transform/anonymise.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

namespace {

// Tables of plugins Mattermost installs (Boards, Playbooks, Calls), as each engine spells them.
void add_plugin_tables(Database& db) {
    const bool pg = db.engine() == Engine::postgres;
    const std::string blob = pg ? "bytea" : "longblob", json = pg ? "jsonb" : "json";
    db.exec("CREATE TABLE focalboard_blocks (id varchar(36) PRIMARY KEY, created_by varchar(36) NOT NULL, "
            "create_at bigint NOT NULL, title text, fields " + json + ", image " + blob + ")");
    db.exec(std::string("CREATE TABLE ") + (pg ? "ir_incident" : "IR_Incident") +
            " (ID varchar(26) PRIMARY KEY, Name varchar(1024) NOT NULL, Description text, ChecklistsJSON " + json + ", CreateAt bigint)");
    db.exec("CREATE TABLE calls (ID varchar(26) PRIMARY KEY, ChannelID varchar(26), StartAt bigint, Title varchar(256), Props " +
            json + ", Recording " + blob + ")");
}

// How the job classifies the plugin tables: Boards' blocks masked (ids kept), Playbooks and Calls dropped.
const char* kPluginClassification =
    "  drop_rows: [IR_Incident, calls]\n"
    "  columns:\n"
    "    - {table: focalboard_blocks, column: id, kind: keep}\n"
    "    - {table: focalboard_blocks, column: created_by, kind: keep}\n"
    "    - {table: focalboard_blocks, column: create_at, kind: keep}\n"
    "    - {table: focalboard_blocks, column: title, kind: free_text}\n"
    "    - {table: focalboard_blocks, column: fields, kind: json_text}\n"
    "    - {table: focalboard_blocks, column: image, kind: cleared}\n";

std::string quoted(Database& db, const std::string& table) { return db.quote_ident(read_catalog(db).find(table)->name); }

std::string one(Database& db, const std::string& sql) { return db.query(sql).at(0).at(0).value_or("NULL"); }

// Production's files: an upload whose name is a marker and whose contents hold one (its FileInfo row
// names it), and an avatar holding one.
void plant_files(Planter& p, Database& db, const fs::path& data) {
    const std::string fileinfo = quoted(db, "FileInfo"), users = quoted(db, "Users");
    const std::string file_id = one(db, "SELECT MAX(Id) FROM " + fileinfo), user_id = one(db, "SELECT MAX(Id) FROM " + users);
    const std::string name = p.marker("FileInfo.Name (an upload's file name)") + ".pdf";
    const std::string path = "20240131/teams/noteam/channels/c/users/u/" + file_id + "/" + name;
    spit(data / path, "%PDF-1.4 " + p.marker("upload contents") + "\n");
    spit(data / "users" / user_id / "profile.png", "\x89PNG\r\n\x1a\n" + p.marker("avatar contents"));
    db.exec("UPDATE " + fileinfo + " SET Name = " + db.quote_literal(name) + ", Path = " + db.quote_literal(path) +
            ", ThumbnailPath = " + db.quote_literal(path + "_thumb.jpg") + " WHERE Id = " + db.quote_literal(file_id));
}

// Production's config.json: markers in every service, credential and address, plugin settings and
// the free text settings.
std::string production_config(Planter& p, const ScratchDb& src) {
    auto m = [&](const std::string& key) { return p.marker("config " + key); };
    std::ostringstream j;
    j << R"({"ServiceSettings": {"SiteURL": "https://)" << m("ServiceSettings.SiteURL") << R"(.example.com", "GoogleDeveloperKey": ")"
      << m("ServiceSettings.GoogleDeveloperKey") << R"("},
 "SqlSettings": {"DriverName": ")" << (src.engine() == Engine::postgres ? "postgres" : "mysql") << R"(", "DataSource": ")" << src.dsn() << R"("},
 "TeamSettings": {"SiteName": ")" << m("TeamSettings.SiteName") << R"(", "CustomDescriptionText": ")" << m("TeamSettings.CustomDescriptionText")
      << R"(", "CustomBrandText": ")" << m("TeamSettings.CustomBrandText") << R"(", "RestrictCreationToDomains": ")"
      << m("TeamSettings.RestrictCreationToDomains") << R"(.example.org"},
 "AnnouncementSettings": {"EnableBanner": true, "BannerText": ")" << m("AnnouncementSettings.BannerText") << R"("},
 "GuestAccountsSettings": {"RestrictCreationToDomains": ")" << m("GuestAccountsSettings.RestrictCreationToDomains") << R"(.example.org"},
 "FileSettings": {"DriverName": "amazons3", "Directory": "/srv/)" << m("FileSettings.Directory") << R"(/data", "AmazonS3Bucket": ")"
      << m("FileSettings.AmazonS3Bucket") << R"(", "AmazonS3Endpoint": ")" << m("FileSettings.AmazonS3Endpoint") << R"(.example.com", "AmazonS3AccessKeyId": ")"
      << m("FileSettings.AmazonS3AccessKeyId") << R"(", "AmazonS3SecretAccessKey": ")" << m("FileSettings.AmazonS3SecretAccessKey") << R"("},
 "ElasticsearchSettings": {"ConnectionURL": "https://)" << m("ElasticsearchSettings.ConnectionURL") << R"(.example.com", "Username": ")"
      << m("ElasticsearchSettings.Username") << R"(", "Password": ")" << m("ElasticsearchSettings.Password") << R"(", "IndexPrefix": ")"
      << m("ElasticsearchSettings.IndexPrefix") << R"(", "EnableIndexing": true},
 "EmailSettings": {"SMTPServer": ")" << m("EmailSettings.SMTPServer") << R"(.example.com", "SMTPUsername": ")" << m("EmailSettings.SMTPUsername")
      << R"(", "SMTPPassword": ")" << m("EmailSettings.SMTPPassword") << R"(", "FeedbackName": ")" << m("EmailSettings.FeedbackName")
      << R"(", "FeedbackEmail": ")" << m("EmailSettings.FeedbackEmail") << R"(@example.com", "FeedbackOrganization": ")"
      << m("EmailSettings.FeedbackOrganization") << R"(", "ReplyToAddress": ")" << m("EmailSettings.ReplyToAddress")
      << R"(@example.com", "PushNotificationServer": "https://)" << m("EmailSettings.PushNotificationServer") << R"(.example.com"},
 "SupportSettings": {"SupportEmail": ")" << m("SupportSettings.SupportEmail") << R"(@example.com", "AboutLink": "https://)"
      << m("SupportSettings.AboutLink") << R"(.example.com", "HelpLink": "https://)" << m("SupportSettings.HelpLink") << R"(.example.com"},
 "NativeAppSettings": {"AppDownloadLink": "https://)" << m("NativeAppSettings.AppDownloadLink") << R"(.example.com"},
 "LdapSettings": {"Enable": true, "LdapServer": ")" << m("LdapSettings.LdapServer") << R"(", "BindUsername": ")" << m("LdapSettings.BindUsername")
      << R"(", "BindPassword": ")" << m("LdapSettings.BindPassword") << R"("},
 "SamlSettings": {"Enable": true, "IdpURL": "https://)" << m("SamlSettings.IdpURL") << R"(.example.com"},
 "GitLabSettings": {"Id": ")" << m("GitLabSettings.Id") << R"(", "Secret": ")" << m("GitLabSettings.Secret") << R"("},
 "ClusterSettings": {"ClusterName": ")" << m("ClusterSettings.ClusterName") << R"("},
 "PluginSettings": {"Plugins": {"github": {"githuboauthclientsecret": ")" << m("PluginSettings github secret")
      << R"(", "githuborg": ")" << m("PluginSettings github org") << R"("}, "jira": {"jiraadminadditionalhelptext": ")"
      << m("PluginSettings jira help text") << R"(", "webhookurl": "https://)" << m("PluginSettings jira webhook") << R"(.example.com/h"}}}})";
    return j.str();
}

// The source (production, with markers) and staging (an empty schema with the same plugins).
struct Scene {
    ScratchDb src, dst;
    TempFolder dir;
    Planter planter{{"focalboard_blocks.id", "focalboard_blocks.created_by"}};
    std::string job, summary;
    explicit Scene(Engine source_engine, Engine dest_engine, const std::string& tag)
        : src(source_engine, "scansrc"), dst(dest_engine, "scandst"), dir("scan-" + tag) {
        {
            auto db = dst.connect();
            create_schema(*db, *find_model(dest_engine, 141), false);
            add_plugin_tables(*db);
            planter.set_destination(*db);
        }
        {
            auto db = src.connect();
            create_schema(*db, *find_model(source_engine, 141), false);
            SampleOptions o;
            o.posts = 120;
            o.files_dir = (dir.path / "prod-data").string();
            std::ostringstream quiet;
            generate_sample(*db, o, quiet);
            add_plugin_tables(*db);
            planter.plant_database(*db);
            plant_files(planter, *db, dir.path / "prod-data");
        }
        fs::create_directories(dir.path / "staging-data");
        spit(dir.path / "prod-config.json", production_config(planter, src));
        spit(dir.path / "staging-config.json", R"({"ServiceSettings": {"SiteURL": "https://staging.example.com"},
 "SqlSettings": {"DriverName": ")" + std::string(dest_engine == Engine::postgres ? "postgres" : "mysql") + R"(", "DataSource": ")" +
                                                    dst.dsn() + R"("}})");
        job = (dir.path / "refresh.yaml").string();
        summary = (dir.path / "summary.json").string();
        spit(job, "job: scanner-" + tag + "\nmode: refresh\n"
                  "source:\n  database: " + src.dsn() + "\n  config: " + (dir.path / "prod-config.json").string() +
                  "\n  data: " + (dir.path / "prod-data").string() + "\n"
                  "destination:\n  database: " + dst.dsn() + "\n  config: " + (dir.path / "staging-config.json").string() +
                  "\n  data: " + (dir.path / "staging-data").string() + "\n"
                  "steps: [check, copy, anonymise, verify, config, files]\n"
                  "copy:\n  jobs: 2\n"
                  "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n" + kPluginClassification +
                  "lock: " + (dir.path / "refresh.lock").string() + "\nsummary: " + summary +
                  "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
        setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    }
};

// Staging stays usable: references resolve as on the source, usernames unique, password logins off.
void check_usable(Database& src, Database& dst) {
    const std::string dangling_posts = "SELECT COUNT(*) FROM %P p WHERE NOT EXISTS (SELECT 1 FROM %C c WHERE c.Id = p.ChannelId)";
    const std::string dangling_members = "SELECT COUNT(*) FROM %M m WHERE NOT EXISTS (SELECT 1 FROM %U u WHERE u.Id = m.UserId)";
    auto run = [](Database& db, std::string sql) {
        for (auto [key, table] : {std::pair{"%P", "Posts"}, {"%C", "Channels"}, {"%M", "ChannelMembers"}, {"%U", "Users"}})
            for (size_t at; (at = sql.find(key)) != std::string::npos;) sql.replace(at, 2, quoted(db, table));
        return one(db, sql);
    };
    CHECK(run(dst, dangling_posts) == run(src, dangling_posts));
    CHECK(run(dst, dangling_members) == run(src, dangling_members));
    CHECK(run(dst, "SELECT COUNT(*) FROM %P") == run(src, "SELECT COUNT(*) FROM %P"));
    CHECK(run(dst, "SELECT COUNT(*) FROM %U") == run(src, "SELECT COUNT(*) FROM %U"));
    CHECK(run(dst, "SELECT COUNT(*) - COUNT(DISTINCT Username) FROM %U") == "0");
    CHECK(run(dst, "SELECT COUNT(*) FROM %U WHERE Password <> '' AND Password <> " + dst.quote_literal(std::string(disabled_password))) == "0");
}

void scan_refresh(Engine source_engine, Engine dest_engine, const std::string& tag) {
    Scene s(source_engine, dest_engine, tag);
    std::cout << "scanner " << tag << ": " << s.planter.report();
    {
        auto db = s.src.connect(Side::source);
        std::vector<std::string> on_source;
        for (const auto& [table, text] : dump_tables(*db)) find_markers(s.planter.markers(), text, table, on_source);
        CHECK(on_source.size() >= s.planter.planted_columns());  // the scan sees what was planted where it is
    }
    CliRun r = run_mmmove({"run", s.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);

    std::vector<std::string> hits;
    auto db = s.dst.connect();
    for (const auto& [table, text] : dump_tables(*db)) find_markers(s.planter.markers(), text, "table " + table, hits);
    find_markers(s.planter.markers(), slurp(s.dir.path / "staging-config.json"), "staging's config.json", hits);
    for (const auto& [file, text] : dump_files(s.dir.path / "staging-data")) find_markers(s.planter.markers(), text, "file " + file, hits);
    find_markers(s.planter.markers(), slurp(s.summary), "the summary", hits);
    find_markers(s.planter.markers(), slurp(s.dir.path / "report.jsonl"), "the report", hits);
    find_markers(s.planter.markers(), r.output, "mmmove's output", hits);
    std::cout << "scanner " << tag << ": " << hits.size() << " markers survived\n";
    for (const auto& h : hits) std::cout << "  " << h << '\n';
    CAPTURE(hits);
    CHECK(hits.empty());

    auto src = s.src.connect(Side::source);
    check_usable(*src, *db);
}

}  // namespace

TEST_CASE("scanner: no marker planted in any column, config or file of a MySQL production reaches staging", "[e2e][scanner]") {
    scan_refresh(Engine::mysql, Engine::postgres, "my-pg");
}

TEST_CASE("scanner: no marker planted in any column, config or file of a PostgreSQL production reaches staging", "[e2e][scanner][long]") {
    scan_refresh(Engine::postgres, Engine::postgres, "pg-pg");
}

TEST_CASE("scanner: no marker planted in any column, config or file of a MySQL production reaches a MySQL staging", "[e2e][scanner][long]") {
    scan_refresh(Engine::mysql, Engine::mysql, "my-my");
}
