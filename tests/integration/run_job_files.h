#pragma once
// What the `mmmove run` integration tests share: a job's files (a nightly anonymised refresh as an
// admin writes it, with production's and staging's config.json and, with the files step, data directories),
// reading a database's Systems rows and planting a row.
#include <catch2/catch.hpp>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "support.h"

namespace mmmove::test {

inline std::string quoted_table(Database& db, const Catalog& cat, const std::string& name) {
    const Table* t = cat.find(name);
    return t ? db.quote_ident(t->name) : "";
}

// The Systems rows of a database, by name.
inline std::map<std::string, std::string> systems_rows(Database& db) {
    std::map<std::string, std::string> out;
    for (const auto& r : db.query("SELECT Name, Value FROM " + quoted_table(db, read_catalog(db), "Systems"))) out[r[0].value_or("")] = r[1].value_or("");
    return out;
}

// A row in `table` with every column filled by a plain value of its kind, `values` overriding some:
// the secrets the sample data lacks (sessions, webhooks, tokens) are planted this way on either engine.
inline void plant_row(Database& db, const Catalog& cat, const std::string& table, const std::map<std::string, std::string>& values) {
    const Table* t = cat.find(table);
    REQUIRE(t);
    std::string cols, vals;
    for (const auto& c : t->columns) {
        std::string v;
        auto it = std::find_if(values.begin(), values.end(), [&](const auto& kv) { return lower(kv.first) == lower(c.name); });
        if (it != values.end()) v = db.quote_literal(it->second);
        else if (c.kind == ColumnKind::integer || c.kind == ColumnKind::floating) v = "0";
        else if (c.kind == ColumnKind::boolean) v = db.engine() == Engine::postgres ? "false" : "0";
        else if (c.kind == ColumnKind::json) v = "'{}'";
        else if (c.kind == ColumnKind::text_array) v = db.engine() == Engine::postgres ? "'{}'" : "'[]'";
        else if (c.kind == ColumnKind::enumeration || c.kind == ColumnKind::binary) continue;
        else v = db.quote_literal(c.max_chars && c.max_chars < 26 ? std::string(static_cast<size_t>(c.max_chars), 'a') : "plantedvalueplantedvalue12");
        cols += (cols.empty() ? "" : ", ") + db.quote_ident(c.name);
        vals += (vals.empty() ? "" : ", ") + v;
    }
    db.exec("INSERT INTO " + db.quote_ident(t->name) + " (" + cols + ") VALUES (" + vals + ")");
}

// A bare anonymised refresh job (check, copy, anonymise, verify; one worker) in `dir`, named
// test-<name>, with `anonymise_extra` lines under anonymise: (each "  key: value\n"); sets the key's
// environment variable and returns the job file's path.
inline std::string bare_refresh_job(const TempFolder& dir, const std::string& name, const ScratchDb& src, const ScratchDb& dst,
                                    const std::string& anonymise_extra = "") {
    const std::string job = (dir.path / "refresh.yaml").string();
    spit(job, "job: test-" + name + "\nmode: refresh\n"
              "source:\n  database: " + src.dsn() + "\n"
              "destination:\n  database: " + dst.dsn() + "\n"
              "steps: [check, copy, anonymise, verify]\n"
              "copy:\n  create_schema: true\n  jobs: 1\n"
              "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n" + anonymise_extra +
              "lock: " + (dir.path / "refresh.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
              "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
    setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    return job;
}

struct JobFiles {
    TempFolder dir;
    std::string job, summary, lock;
    // with_files: both sides get a data directory (source-data, dest-data in dir) and the files step runs.
    JobFiles(const std::string& tag, const ScratchDb& src, const ScratchDb& dst, const std::string& extra = "", bool with_files = false)
        : dir("run-" + tag), job((dir.path / "refresh.yaml").string()), summary((dir.path / "summary.json").string()),
          lock((dir.path / "refresh.lock").string()) {
        spit(dir.path / "source-config.json", R"({"ServiceSettings": {"SiteURL": "https://chat.example.com", "EnableOutgoingWebhooks": true},
 "SqlSettings": {"DriverName": ")" + std::string(src.engine() == Engine::postgres ? "postgres" : "mysql") + R"(", "DataSource": ")" + src.dsn() + R"("},
 "EmailSettings": {"SendEmailNotifications": true, "SendPushNotifications": true, "SMTPPassword": "smtp-production-secret",
                   "SMTPServer": "smtp.prodsvc.example.com", "PushNotificationServer": "https://push.prodsvc.example.com"},
 "FileSettings": {"DriverName": "amazons3", "AmazonS3Bucket": "prodsvc-bucket", "AmazonS3Endpoint": "s3.prodsvc.example.com"},
 "ElasticsearchSettings": {"ConnectionURL": "https://search.prodsvc.example.com", "EnableIndexing": true},
 "LdapSettings": {"Enable": true, "LdapServer": "ldap.prodsvc.example.com"}, "SamlSettings": {"Enable": true, "IdpURL": "https://idp.prodsvc.example.com"},
 "ClusterSettings": {"Enable": true, "ClusterName": "prodsvc-cluster"},
 "PluginSettings": {"Plugins": {"com.example.hook": {"webhookurl": "https://hooks.prodsvc.example.com/T0"}}}})");
        spit(dir.path / "dest-config.json", R"({"ServiceSettings": {"SiteURL": "https://staging.example.com", "EnableOutgoingWebhooks": false},
 "SqlSettings": {"DriverName": ")" + std::string(dst.engine() == Engine::postgres ? "postgres" : "mysql") + R"(", "DataSource": ")" + dst.dsn() + R"("},
 "EmailSettings": {"SendEmailNotifications": false, "SendPushNotifications": false, "SMTPPassword": ""}})");
        spit(dir.path / "refresh.yaml",
             "# a nightly refresh, as an admin writes it\n"
             "job: test-refresh-" + tag + "\n"
             "mode: refresh\n"
             "source:\n  database: ${MMMOVE_TEST_SOURCE}\n  config: " + (dir.path / "source-config.json").string() + "\n" +
             (with_files ? "  data: " + (dir.path / "source-data").string() + "\n" : "") +
             "destination:\n  database: ${MMMOVE_TEST_DEST}\n  config: " + (dir.path / "dest-config.json").string() + "\n" +
             (with_files ? "  data: " + (dir.path / "dest-data").string() + "\n" : "") +
             "steps: [check, copy, anonymise, verify, config" + (with_files ? ", files" : "") + "]\n"
             "copy:\n  create_schema: true\n  chunk_rows: 400\n  jobs: 2\n"
             "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n"
             "lock: " + lock + "\nsummary: " + summary + "\nreport: " + (dir.path / "report.jsonl").string() + "\n" + extra);
        setenv("MMMOVE_TEST_SOURCE", src.dsn().c_str(), 1);
        setenv("MMMOVE_TEST_DEST", dst.dsn().c_str(), 1);
        setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    }
};

}  // namespace mmmove::test
