// mmmove run JOB.yaml on real servers: a nightly anonymised refresh of a test environment, run twice
// in a row (MySQL→PostgreSQL and PostgreSQL→PostgreSQL). After each run no username, email, name,
// token, secret or password hash of the source is anywhere in the destination (every column of every
// table is scanned), every reference mappings/references.yaml lists resolves as it does on the source,
// and the second run leaves the same rows as the first (the tests around the refresh: run_job_guard_test).
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
#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

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
        // Kinds that keep some values by design: town-square and D/G channel names, system emoji.
        if (c.kind == AnonKind::free_text || c.kind == AnonKind::json_text || c.kind == AnonKind::url || c.kind == AnonKind::file_name ||
            c.kind == AnonKind::ip_address || c.kind == AnonKind::person_detail || c.kind == AnonKind::channel_name ||
            c.kind == AnonKind::emoji_ref || c.kind == AnonKind::hashtags || c.kind == AnonKind::display_name ||
            c.kind == AnonKind::token)  // role names and the like: kept when of Mattermost's form, by design
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
        // Nothing wrote to the source meanwhile: the copy step measured it (rows an anonymised copy drops are no change).
        CHECK(j["source_moved_on"]["moved_on"] == false);
        CHECK(j["source_moved_on"]["tables_checked"].get<uint64_t>() > 40);
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
