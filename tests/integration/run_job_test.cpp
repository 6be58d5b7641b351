// mmmove run JOB.yaml on real servers: a nightly anonymised refresh of a test environment, run twice
// in a row (MySQL→PostgreSQL and PostgreSQL→PostgreSQL). After each run no username, email, name,
// token, secret or password hash of the source is anywhere in the destination (every column of every
// table is scanned), every reference mappings/references.yaml lists resolves as it does on the source,
// and the second run leaves the same rows as the first. Around it: the lock refuses a concurrent run
// (on this host and from "another host"), a stale lock is taken over, a destination that is the source
// is refused, and a malformed job names its line.
#include <sys/file.h>
#include <sys/wait.h>
#include <fcntl.h>
#include <signal.h>

#include <catch2/catch.hpp>
#include <chrono>
#include <filesystem>
#include <thread>
#include <cstdlib>
#include <nlohmann/json.hpp>
#include <set>
#include <unordered_set>

#include "../common/test_files.h"
#include "catalog/anonymise_model.h"
#include "catalog/catalog.h"
#include "catalog/references.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string quoted_table(Database& db, const Catalog& cat, const std::string& name) {
    const Table* t = cat.find(name);
    return t ? db.quote_ident(t->name) : "";
}

// A row in `table` with every column filled by a plain value of its kind, `values` overriding some:
// the secrets the sample data lacks (sessions, webhooks, tokens) are planted this way on either engine.
void plant_row(Database& db, const Catalog& cat, const std::string& table, const std::map<std::string, std::string>& values) {
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

// Secrets of the kinds the sample data has none of, each a distinctive value the scan looks for.
void plant_secrets(const ScratchDb& src) {
    auto db = src.connect();
    Catalog cat = read_catalog(*db);
    std::string user = db->query("SELECT MIN(Id) FROM " + quoted_table(*db, cat, "Users")).at(0).at(0).value_or("");
    plant_row(*db, cat, "Sessions", {{"Id", "sessionrowidsessionrowid01"}, {"Token", "sessiontokensecretvalue001"}, {"UserId", user}});
    plant_row(*db, cat, "UserAccessTokens", {{"Id", "accesstokenrowidaccesstk01"}, {"Token", "accesstokensecretvalue0001"}, {"UserId", user}});
    plant_row(*db, cat, "IncomingWebhooks", {{"Id", "incominghooksecretidvalue1"}, {"UserId", user}});
    plant_row(*db, cat, "OutgoingWebhooks", {{"Id", "outgoinghookrowidoutgoing1"}, {"Token", "outgoinghooktokensecret001"}, {"CreatorId", user}});
    plant_row(*db, cat, "Commands", {{"Id", "commandrowidcommandrowid01"}, {"Token", "commandtokensecretvalue001"}, {"CreatorId", user}});
    plant_row(*db, cat, "OAuthApps", {{"Id", "oauthapprowidoauthapprow01"}, {"ClientSecret", "oauthclientsecretvalue0001"}, {"CreatorId", user}});
    db->exec("UPDATE " + quoted_table(*db, cat, "Users") + " SET MfaSecret = 'mfasecretvaluemfasecret001' WHERE Id = " + db->quote_literal(user));
    // What makes a server production: its licence, keys, and links to its partners' servers.
    std::string channel = db->query("SELECT MIN(Id) FROM " + quoted_table(*db, cat, "Channels")).at(0).at(0).value_or("");
    plant_row(*db, cat, "Licenses", {{"Id", "licenserowidlicenserowid01"}, {"Bytes", "productionlicencebytes0001"}});
    plant_row(*db, cat, "RemoteClusters", {{"RemoteId", "remoteclusterrowidremote01"}, {"Name", "partner"},
                                           {"SiteURL", "https://partner.example.com"}, {"Token", "remoteclustertokenvalue001"},
                                           {"RemoteToken", "remoteclusterremotetoken01"}, {"CreatorId", user}});
    plant_row(*db, cat, "SharedChannels", {{"ChannelId", channel}, {"RemoteId", "remoteclusterrowidremote01"}, {"ShareName", "shared"}});
    plant_row(*db, cat, "SharedChannelRemotes", {{"Id", "sharedremoterowidsharedr01"}, {"ChannelId", channel},
                                                 {"RemoteId", "remoteclusterrowidremote01"}, {"CreatorId", user}});
    db->exec("UPDATE " + quoted_table(*db, cat, "Channels") + " SET Shared = " + (db->engine() == Engine::postgres ? "true" : "1") +
             " WHERE Id = " + db->quote_literal(channel));
    std::string systems = quoted_table(*db, cat, "Systems");
    for (const char* name : {"ActiveLicenseId", "AsymmetricSigningKey", "PostActionCookieSecret", "ClusterEncryptionKey"})
        db->exec("DELETE FROM " + systems + " WHERE Name = " + db->quote_literal(name));
    db->exec("INSERT INTO " + systems + " (Name, Value) VALUES ('ActiveLicenseId', 'licenserowidlicenserowid01'), "
             "('AsymmetricSigningKey', '{\"ecdsa_key\":{\"d\":\"productionsigningkey0001\"}}'), "
             "('PostActionCookieSecret', '{\"key\":\"productioncookiesecret01\"}'), ('ClusterEncryptionKey', 'productionclusterkey0001')");
}

// The Systems rows of a database, by name.
std::map<std::string, std::string> systems_rows(Database& db) {
    std::map<std::string, std::string> out;
    for (const auto& r : db.query("SELECT Name, Value FROM " + quoted_table(db, read_catalog(db), "Systems"))) out[r[0].value_or("")] = r[1].value_or("");
    return out;
}

// After an anonymised refresh the destination is a server of its own: its own DiagnosticId (not the
// source's, and `previous` when it had one), no licence, none of the source's keys, no link to the
// source's partner servers. Returns the destination's DiagnosticId.
std::string check_staging_identity(Database& src, Database& dst, const std::string& previous) {
    auto prod = systems_rows(src), staging = systems_rows(dst);
    REQUIRE(prod.count("DiagnosticId"));
    REQUIRE(staging.count("DiagnosticId"));
    const std::string id = staging["DiagnosticId"];
    CHECK(id != prod["DiagnosticId"]);
    CHECK(id.size() == 26);
    if (!previous.empty()) CHECK(id == previous);
    for (const char* name : {"ActiveLicenseId", "AsymmetricSigningKey", "PostActionCookieSecret", "ClusterEncryptionKey"}) {
        INFO(name);
        CHECK(prod.count(name));
        CHECK_FALSE(staging.count(name));
    }
    for (const char* table : {"Licenses", "RemoteClusters", "SharedChannels", "SharedChannelRemotes"}) {
        INFO(table);
        CHECK(src.query("SELECT COUNT(*) FROM " + quoted_table(src, read_catalog(src), table)).at(0).at(0) == "1");
        CHECK(dst.query("SELECT COUNT(*) FROM " + quoted_table(dst, read_catalog(dst), table)).at(0).at(0) == "0");
    }
    CHECK(dst.query("SELECT COUNT(*) FROM channels WHERE shared").at(0).at(0) == "0");
    return id;
}

// Every non-empty value of the source's personal and secret columns (usernames, emails, names, tokens,
// secrets, password hashes): what must not appear in the destination.
std::set<std::string> personal_values(const ScratchDb& src) {
    auto db = src.connect();
    Catalog cat = read_catalog(*db);
    std::set<std::string> out;
    for (const auto& c : anonymised_columns()) {
        if (c.kind == AnonKind::free_text || c.kind == AnonKind::json_text || c.kind == AnonKind::url || c.kind == AnonKind::file_name ||
            c.kind == AnonKind::ip_address || c.kind == AnonKind::person_detail)
            continue;
        const Table* t = cat.find(c.table);
        if (!t || !t->find_column(c.column) || t->find_column(c.column)->kind == ColumnKind::binary) continue;  // images: not words
        for (const auto& row : db->query("SELECT " + db->quote_ident(t->find_column(c.column)->name) + " FROM " + db->quote_ident(t->name)))
            // plant_row's filler stands in every column it is not told about, kept ones too: not a personal value
            if (row[0] && row[0]->size() >= 4 && *row[0] != "true" && *row[0] != "false" && *row[0] != "plantedvalueplantedvalue12")
                out.insert(*row[0]);
    }
    return out;
}

// Every value of every table of a database, as words and as one text, for the scan.
struct Scan {
    std::unordered_set<std::string> words;
    std::string all;
};
Scan scan_destination(Database& db) {
    Scan s;
    for (const auto& t : read_catalog(db).tables) {  // every table: per-instance ones (Sessions…) and mmmove's own too
        std::vector<std::string> names;
        for (const auto& c : t.columns) names.push_back(c.name);
        auto reader = db.read_table(t.name, names);
        FieldRow row;
        while (reader->next(row))
            for (const auto& f : row) {
                if (f.null) continue;
                s.all.append(f.view()).push_back('\n');
                std::string word;
                for (char c : std::string(f.view()) + " ") {
                    if (std::isalnum(static_cast<unsigned char>(c)) || std::string("@._+-$/").find(c) != std::string::npos) word += c;
                    else if (!word.empty()) s.words.insert(word), word.clear();
                }
            }
    }
    return s;
}

std::vector<std::string> leaks(const std::set<std::string>& personal, const Scan& scan) {
    std::vector<std::string> found;
    for (const auto& v : personal)
        if (scan.words.count(v) || (v.size() >= 10 && scan.all.find(v) != std::string::npos)) found.push_back(v);
    return found;
}

// References of the model (plain columns) that do not resolve, per reference: the anonymised copy must
// leave exactly as many dangling as the source has (the sample data has some on purpose).
std::map<std::string, int64_t> dangling_references(Database& db) {
    Catalog cat = read_catalog(db);
    std::map<std::string, int64_t> out;
    for (const auto& r : references().columns) {
        const Table* t = cat.find(r.table);
        const Table* target = cat.find(r.target.table);
        if (!t || !target || r.kind == ColumnRefKind::names) continue;
        const Column* c = t->find_column(r.column);
        const Column* tc = target->find_column(r.target.column);
        if (!c || !tc) continue;
        std::string col = "x." + db.quote_ident(c->name);
        auto rows = db.query("SELECT COUNT(*) FROM " + db.quote_ident(t->name) + " x WHERE " + col + " IS NOT NULL AND " + col +
                             " <> '' AND NOT EXISTS (SELECT 1 FROM " + db.quote_ident(target->name) + " y WHERE y." +
                             db.quote_ident(tc->name) + " = " + col + ")");
        out[r.table + "." + r.column + "->" + r.target.table] = std::stoll(rows.at(0).at(0).value_or("0"));
    }
    return out;
}

struct JobFiles {
    TempFolder dir;
    std::string job, summary, lock;
    JobFiles(const std::string& tag, const ScratchDb& src, const ScratchDb& dst, const std::string& extra = "")
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
             "source:\n  database: ${MMMOVE_TEST_SOURCE}\n  config: " + (dir.path / "source-config.json").string() + "\n"
             "destination:\n  database: ${MMMOVE_TEST_DEST}\n  config: " + (dir.path / "dest-config.json").string() + "\n"
             "steps: [check, copy, anonymise, verify, config]\n"
             "copy:\n  create_schema: true\n  chunk_rows: 400\n  jobs: 2\n"
             "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n"
             "lock: " + lock + "\nsummary: " + summary + "\nreport: " + (dir.path / "report.jsonl").string() + "\n" + extra);
        setenv("MMMOVE_TEST_SOURCE", src.dsn().c_str(), 1);
        setenv("MMMOVE_TEST_DEST", dst.dsn().c_str(), 1);
        setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    }
};

void refresh_twice(Engine source_engine) {
    const std::string tag = source_engine == Engine::postgres ? "pg" : "my";
    ScratchDb src(source_engine, "runsrc"), dst(Engine::postgres, "rundst");
    fill_sample(src, 3000, 141);
    plant_secrets(src);
    std::set<std::string> personal = personal_values(src);
    REQUIRE(personal.size() > 100);
    JobFiles files(tag, src, dst);
    std::map<std::string, int64_t> dangling_before;
    {
        auto s = src.connect();
        dangling_before = dangling_references(*s);
        // The rows of the tables an anonymised copy drops dangle nowhere on the destination: they are not there.
        for (const auto& t : anonymised_drop_rows())
            for (auto& [ref, n] : dangling_before)
                if (lower(ref.substr(0, ref.find('.'))) == lower(t)) n = 0;
        std::vector<std::string> found = leaks(personal, scan_destination(*s)), missed;
        std::set_difference(personal.begin(), personal.end(), found.begin(), found.end(), std::back_inserter(missed));
        CAPTURE(missed);
        CHECK(missed.empty());  // the scan finds every value where it is
    }

    Content first;
    std::string staging_id;
    for (int run = 1; run <= 2; ++run) {
        INFO("run " << run);
        CliRun r = run_mmmove({"run", files.job});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        CHECK(r.output.find("every masked row is in the destination as masked") != std::string::npos);
        auto db = dst.connect();
        Scan scan = scan_destination(*db);
        CAPTURE(leaks(personal, scan));
        CHECK(leaks(personal, scan).empty());
        CHECK(scan.all.find("plantedvalue") != std::string::npos);  // the planted rows are there, masked (the scan sees them)
        CHECK(dangling_references(*db) == dangling_before);
        {
            auto s = src.connect();
            staging_id = check_staging_identity(*s, *db, staging_id);  // the second run keeps the first's identity
        }
        for (const char* planted : {"productionsigningkey", "productioncookiesecret", "productionclusterkey", "productionlicencebytes",
                                    "partner.example.com"})
            CHECK(scan.all.find(planted) == std::string::npos);
        // Sessions are not copied at all; users still log in as someone (the rows are there).
        CHECK(db->query("SELECT COUNT(*) FROM sessions").at(0).at(0) == "0");
        CHECK(std::stoll(*db->query("SELECT COUNT(*) FROM users").at(0).at(0)) > 10);
        // The config step kept staging's SiteURL and secrets and turned email and push off.
        std::string config = slurp(files.dir.path / "dest-config.json");
        CHECK(config.find("https://staging.example.com") != std::string::npos);
        CHECK(config.find("chat.example.com") == std::string::npos);
        CHECK(config.find("smtp-production-secret") == std::string::npos);
        CHECK(config.find("prodsvc") == std::string::npos);  // none of production's services: S3, search, LDAP, SAML, SMTP, push, cluster, plugins
        CHECK(config.find("\"Enable\": true") == std::string::npos);  // LDAP, SAML, cluster stay off
        CHECK(config.find("\"SendEmailNotifications\": false") != std::string::npos);
        CHECK(config.find("\"EnableOutgoingWebhooks\": false") != std::string::npos);
        // The summary and the logs name counts, never a value.
        std::string summary = slurp(files.summary);
        auto j = nlohmann::json::parse(summary);
        CHECK(j["exit_code"] == 0);
        CHECK(j["masked"]["username"].get<uint64_t>() > 10);
        CHECK(j["masked"]["email"].get<uint64_t>() > 10);
        CHECK(j["dropped_rows"].get<uint64_t>() >= 1);
        for (const auto& v : personal) {
            INFO(v);
            CHECK(summary.find(v) == std::string::npos);
            CHECK(r.output.find(v) == std::string::npos);
        }
        Content now = read_content(*db, false);
        if (run == 1) first = std::move(now);
        else CHECK(now == first);  // the same source and key give the same rows
    }
}

}  // namespace

TEST_CASE("a refresh job from MySQL to PostgreSQL, run twice, leaves no personal value and the same rows", "[e2e][run]") {
    refresh_twice(Engine::mysql);
}

TEST_CASE("a refresh job from PostgreSQL to PostgreSQL, run twice, leaves no personal value and the same rows", "[e2e][run][threads]") {
    refresh_twice(Engine::postgres);
}

TEST_CASE("a concurrent run of a job is refused by its lock; a stale lock is taken over", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "locksrc"), dst(Engine::postgres, "lockdst");
    fill_sample(src, 3000, 141);
    JobFiles files("lock", src, dst);

    SECTION("a lock file held by a live run") {
        int fd = open(files.lock.c_str(), O_RDWR | O_CREAT, 0600);
        REQUIRE(fd >= 0);
        std::string holder = "pid 4242\nstarted 2026-11-24 03:00:00 UTC\n";
        REQUIRE(write(fd, holder.data(), holder.size()) == static_cast<ssize_t>(holder.size()));
        REQUIRE(flock(fd, LOCK_EX | LOCK_NB) == 0);
        CliRun r = run_mmmove({"run", files.job});
        close(fd);
        INFO(r.output);
        CHECK(r.exit_code == 9);
        CHECK(r.output.find("pid 4242") != std::string::npos);
        auto db = dst.connect();
        CHECK(db->query("SELECT COUNT(*) FROM pg_tables WHERE schemaname = current_schema()").at(0).at(0) == "0");  // nothing done
    }
    SECTION("a run in progress, from this host and from another (another lock file, the destination's lock)") {
        std::string out = (files.dir.path / "first.log").string();
        pid_t first = spawn_mmmove({"run", files.job}, out);
        auto db = dst.connect();
        wait_for_chunks(*db, first, 1);
        REQUIRE(kill(first, SIGSTOP) == 0);  // frozen mid-copy, holding both locks, however fast the machine
        CliRun same_host = run_mmmove({"run", files.job});
        std::string other = slurp(files.job);  // the same job on another host: its own lock file
        size_t at = other.find("lock: ");
        other.replace(at, other.find('\n', at) - at, "lock: " + (files.dir.path / "other-host.lock").string());
        spit(files.dir.path / "other-host.yaml", other);
        CliRun other_host = run_mmmove({"run", (files.dir.path / "other-host.yaml").string()});
        REQUIRE(kill(first, SIGCONT) == 0);
        int status = 0;
        REQUIRE(waitpid(first, &status, 0) == first);
        INFO(slurp(out));
        CHECK(WIFEXITED(status));
        CHECK(WEXITSTATUS(status) == 0);
        INFO(same_host.output);
        INFO(other_host.output);
        CHECK(same_host.exit_code == 9);
        CHECK(other_host.exit_code == 9);
        CHECK(other_host.output.find("holds the destination's lock") != std::string::npos);
    }
    SECTION("the lock file of a run that died is taken over") {
        spit(files.lock, "pid 999999\nstarted 2026-11-23 03:00:00 UTC\njob test-refresh-lock\n");
        CliRun r = run_mmmove({"run", files.job});
        INFO(r.output);
        CHECK(r.exit_code == 0);
        auto j = nlohmann::json::parse(slurp(files.summary));
        CHECK(j["warnings"].dump().find("ended without releasing it") != std::string::npos);
        CHECK(slurp(files.lock).empty());  // released when the run ended
    }
}

namespace {

// Runs mmmove and waits at most `seconds` for it: a load that waits on another's row locks instead
// of being refused is killed, and the test fails rather than hangs.
CliRun run_bounded(const std::vector<std::string>& args, const std::filesystem::path& out, int seconds) {
    pid_t pid = spawn_mmmove(args, out.string());
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(seconds);
    int status = 0;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (std::chrono::steady_clock::now() > deadline) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            FAIL_CHECK("mmmove " << args[0] << " was still running after " << seconds << " s (it waited instead of being refused)");
            return {-1, slurp(out)};
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, slurp(out)};
}

}  // namespace

TEST_CASE("two different jobs, or a job and a copy, never load into one destination database at once", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "dlsrc"), dst(Engine::postgres, "dldst");
    fill_sample(src, 3000, 141);
    JobFiles first_job("dest-lock-a", src, dst), second_job("dest-lock-b", src, dst);  // own names, own lock files
    std::string out = (first_job.dir.path / "first.log").string();
    pid_t first = spawn_mmmove({"run", first_job.job}, out);
    auto db = dst.connect();
    wait_for_chunks(*db, first, 1);
    REQUIRE(kill(first, SIGSTOP) == 0);  // frozen mid-copy, holding the destination's lock
    uint64_t chunks = committed_chunks(*db);
    CliRun second = run_bounded({"run", second_job.job}, second_job.dir.path / "second.log", 60);
    CliRun copy = run_bounded({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--truncate", "--quiet", "--report",
                               (second_job.dir.path / "copy-report.jsonl").string()},
                              second_job.dir.path / "copy.log", 60);
    uint64_t chunks_after = committed_chunks(*db);  // the first is still frozen: any new chunk is the others'
    REQUIRE(kill(first, SIGCONT) == 0);
    int status = 0;
    REQUIRE(waitpid(first, &status, 0) == first);
    INFO(slurp(out));
    INFO(second.output);
    INFO(copy.output);
    CHECK(second.exit_code == 9);
    CHECK_THAT(second.output, Catch::Contains("holds the destination's lock") && Catch::Contains("Nothing was done"));
    CHECK(copy.exit_code == 9);
    CHECK_THAT(copy.output, Catch::Contains("holds the destination's lock"));
    // Neither wrote anything: the second job never recorded its refresh, the first finished alone.
    CHECK(chunks_after == chunks);
    CHECK(WIFEXITED(status));
    CHECK(WEXITSTATUS(status) == 0);
    CHECK(db->query("SELECT COUNT(*) FROM mmmove_refresh WHERE job = 'test-refresh-dest-lock-b'").at(0).at(0) == "0");
    CHECK(db->query("SELECT COUNT(*) FROM mmmove_refresh WHERE job = 'test-refresh-dest-lock-a' AND finished IS NOT NULL").at(0).at(0) == "1");
}

TEST_CASE("a job whose destination is the source, or whose file is malformed, is refused before anything is written", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "samesrc"), other(Engine::postgres, "sameoth");
    fill_sample(src, 200, 141);
    JobFiles files("same", src, other);
    auto db = src.connect();
    const std::string users_before = *db->query("SELECT COUNT(*) FROM users").at(0).at(0);

    // The same database under another spelling of its DSN (localhost for 127.0.0.1).
    std::string same = src.dsn();
    same.replace(same.find("127.0.0.1"), 9, "localhost");
    setenv("MMMOVE_TEST_DEST", same.c_str(), 1);
    CliRun r = run_mmmove({"run", files.job});
    INFO(r.output);
    CHECK(r.exit_code == 4);
    CHECK(r.output.find("is the source's database") != std::string::npos);
    CHECK(*db->query("SELECT COUNT(*) FROM users").at(0).at(0) == users_before);

    // The destination's configuration has the source's SiteURL: production, by the look of it.
    setenv("MMMOVE_TEST_DEST", other.dsn().c_str(), 1);
    std::string prod_like = slurp(files.dir.path / "source-config.json");
    spit(files.dir.path / "dest-config.json", prod_like);
    r = run_mmmove({"run", files.job});
    INFO(r.output);
    CHECK(r.exit_code == 4);
    CHECK(r.output.find("source's SiteURL") != std::string::npos);

    // Malformed YAML: the file and its line are named.
    spit(files.dir.path / "broken.yaml", "job: broken\nsource:\n  database: x\n destination: [\n");
    r = run_mmmove({"run", (files.dir.path / "broken.yaml").string()});
    INFO(r.output);
    CHECK(r.exit_code == 2);
    CHECK(r.output.find("broken.yaml:4") != std::string::npos);
}

TEST_CASE("a refresh killed half-way finishes with run --resume, with the rows of an uninterrupted refresh", "[e2e][run][resume]") {
    ScratchDb src(Engine::postgres, "ressrc"), killed(Engine::postgres, "reskill"), whole(Engine::postgres, "reswhole");
    fill_sample(src, 3000, 141);
    JobFiles files("resume", src, killed);
    spit(files.summary, R"({"job": "test-refresh-resume", "status": "ok", "exit_code": 0, "ok": true})");  // last night's
    kill_mid_run({"run", files.job}, killed, 3);
    // A run killed after taking its lock leaves a summary that says it was running, never last night's "ok".
    auto running = nlohmann::json::parse(slurp(files.summary));
    CHECK(running["status"] == "running");
    CHECK(running["ok"] == false);
    CHECK(!running["started"].get<std::string>().empty());
    CliRun r = run_mmmove({"run", "--resume", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("(resumed)") != std::string::npos);

    setenv("MMMOVE_TEST_DEST", whole.dsn().c_str(), 1);
    CliRun w = run_mmmove({"run", files.job});
    INFO(w.output);
    REQUIRE(w.exit_code == 0);
    auto a = killed.connect(), b = whole.connect();
    // Each staging server has an identity of its own; everything else is the same.
    const std::string id_a = systems_rows(*a)["DiagnosticId"], id_b = systems_rows(*b)["DiagnosticId"];
    CHECK(id_a.size() == 26);
    CHECK(id_a != id_b);
    for (Database* db : {a.get(), b.get()}) db->exec("UPDATE systems SET value = '' WHERE name = 'DiagnosticId'");
    CHECK(read_content(*a, false) == read_content(*b, false));
}

TEST_CASE("a refresh never runs SQL planted in an unfinished run's checkpoint, resumed or started over", "[e2e][run][resume]") {
    ScratchDb src(Engine::postgres, "cpsrc"), dst(Engine::postgres, "cpdst");
    fill_sample(src, 3000, 141);
    JobFiles files("planted", src, dst);
    kill_mid_run({"run", files.job}, dst, 3);
    std::filesystem::remove("/tmp/" + dst.name() + ".out");
    auto db = dst.connect();
    auto indexes = nlohmann::json::array();
    indexes.push_back({{"table", "posts"}, {"name", "idx_evil"}, {"definition", "CREATE TABLE mmmove_pwned (x int)"}, {"fulltext", false}});
    db->exec("UPDATE mmmove_copy_state SET value = " + db->quote_literal(indexes.dump()) + " WHERE name = 'indexes'");
    auto planted_ran = [&] { return read_catalog(*db).find("mmmove_pwned") != nullptr; };

    CliRun resumed = run_mmmove({"run", "--resume", files.job});
    INFO(resumed.output);
    CHECK_FALSE(planted_ran());
    CHECK(resumed.exit_code == 4);
    CHECK_THAT(resumed.output, Catch::Contains("checkpoint") && Catch::Contains("--truncate"));

    CliRun again = run_mmmove({"run", files.job});  // the earlier refresh is replaced: the checkpoint dropped unread
    INFO(again.output);
    CHECK_FALSE(planted_ran());
    CHECK(again.exit_code == 0);
    CHECK_FALSE(read_catalog(*db).find("mmmove_copy_state"));
}

namespace {

// A plugin's table (with a title someone typed) and a column Mattermost's schema does not have.
void add_unclassified(Database& db) {
    db.exec("CREATE TABLE focalboard_blocks (id varchar(26) PRIMARY KEY, title text)");
    db.exec("INSERT INTO focalboard_blocks (id, title) VALUES ('blockidblockidblockidblock', 'plannedlayoffsunclassified')");
    db.exec("ALTER TABLE users ADD COLUMN secondphone varchar(64)");
}

// The job's text with `from` replaced by `to` (the one occurrence JobFiles writes).
void edit_job(const JobFiles& files, const std::string& from, const std::string& to) {
    std::string text = slurp(files.job);
    REQUIRE(text.find(from) != std::string::npos);
    spit(files.job, text.replace(text.find(from), from.size(), to));
}

}  // namespace

TEST_CASE("an anonymised refresh stops before writing at a table or column nobody classified, until the job does", "[e2e][run]") {
    ScratchDb src(Engine::postgres, "denysrc"), dst(Engine::postgres, "denydst");
    fill_sample(src, 200, 141);
    {
        auto db = src.connect();
        add_unclassified(*db);
        db->exec("UPDATE users SET secondphone = '+4915199887766' WHERE id = (SELECT MIN(id) FROM users)");
    }
    JobFiles files("deny", src, dst);
    auto names_both = [](const CliRun& r) {
        CHECK(r.exit_code == 10);
        CHECK(r.output.find("focalboard_blocks") != std::string::npos);
        CHECK(r.output.find("anonymise.drop_rows: [focalboard_blocks]") != std::string::npos);
        CHECK(r.output.find("anonymise.keep_tables: [focalboard_blocks]") != std::string::npos);
        CHECK(r.output.find("column users.secondphone") != std::string::npos);
        CHECK(r.output.find("{table: users, column: secondphone, kind: free_text}") != std::string::npos);
        CHECK(r.output.find("plannedlayoffs") == std::string::npos);  // names, never values
    };

    CliRun dry = run_mmmove({"run", "--dry-run", files.job});
    INFO(dry.output);
    names_both(dry);
    CliRun r = run_mmmove({"run", files.job});
    INFO(r.output);
    names_both(r);
    {
        auto db = dst.connect();
        CHECK(read_catalog(*db).tables.empty());  // no schema created, no mmmove_refresh row, no rows
    }

    // The destination has the same plugin and column; the job classifies both: it runs.
    ScratchDb used(Engine::postgres, "denyuse");
    fill_sample(used, 20, 141);
    {
        auto db = used.connect();
        add_unclassified(*db);
    }
    setenv("MMMOVE_TEST_DEST", used.dsn().c_str(), 1);
    edit_job(files, "create_schema: true", "create_schema: false");
    edit_job(files, "anonymise:\n", "anonymise:\n  drop_rows: [focalboard_blocks]\n"
                                    "  columns: [{table: users, column: secondphone, kind: person_detail}]\n");
    r = run_mmmove({"run", "--force", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto db = used.connect();
    CHECK(db->query("SELECT COUNT(*) FROM focalboard_blocks").at(0).at(0) == "0");
    CHECK(db->query("SELECT COUNT(*) FROM users WHERE secondphone IS NOT NULL").at(0).at(0) == "1");
    CHECK(db->query("SELECT COUNT(*) FROM users WHERE secondphone = '+4915199887766'").at(0).at(0) == "0");

    // Kept as it is, by the job's word.
    edit_job(files, "drop_rows: [focalboard_blocks]", "keep_tables: [focalboard_blocks]");
    r = run_mmmove({"run", files.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(db->query("SELECT title FROM focalboard_blocks").at(0).at(0) == "plannedlayoffsunclassified");
}
