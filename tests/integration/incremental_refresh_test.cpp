// mmmove run with `copy: incremental: true` on real servers: an anonymised refresh that writes only
// what changed since the last one, through the same masks, and ends equal to a full refresh. The
// source goes from state A to state B (new posts, edits, a soft delete, hard-deleted reactions and
// preferences, a reaction added with an old stamp, one soft-deleted and one whose emoji changed, a user whose username and e-mail change, a new webhook — its key is masked — a new
// session and Systems row); destination D2 is refreshed in full from A, then incrementally from B;
// destination D1 is refreshed in full from B. D1 and D2 must then hold the same rows, but for each
// one's own staging identity. Another key, or a record that is not the one mmmove wrote, makes the
// run a full refresh (still equal); `mmmove sync` still refuses the anonymised destination.
#include <catch2/catch.hpp>

#include <crypt.h>

#include <chrono>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

constexpr const char* kKeyA = "test-key-0123456789abcdef-not-for-production";
constexpr const char* kKeyB = "another-key-0123456789abcdef-not-for-production";

// A refresh job (check, copy, anonymise, verify; one worker, small chunks) of `src` into `dst`, the
// key from MMMOVE_TEST_ANON_KEY. Returns the job file's path; its summary is summary-<name>.json.
std::string refresh_job(const TempFolder& dir, const std::string& name, const ScratchDb& src, const ScratchDb& dst, bool incremental,
                        const std::string& anonymise_extra = "") {
    const std::string job = (dir.path / (name + ".yaml")).string();
    spit(job, "job: test-" + name + "\nmode: refresh\n"
              "source:\n  database: " + src.dsn() + "\n"
              "destination:\n  database: " + dst.dsn() + "\n"
              "steps: [check, copy, anonymise, verify]\n"
              "copy:\n  create_schema: true\n  jobs: 1\n  chunk_rows: 300\n" + (incremental ? "  incremental: true\n" : "") +
              "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n" + anonymise_extra +
              "lock: " + (dir.path / (name + ".lock")).string() + "\nsummary: " + (dir.path / ("summary-" + name + ".json")).string() +
              "\nreport: " + (dir.path / ("report-" + name + ".jsonl")).string() + "\n");
    return job;
}

nlohmann::json run_refresh(const TempFolder& dir, const std::string& name, const std::string& job, const char* key) {
    setenv("MMMOVE_TEST_ANON_KEY", key, 1);
    CliRun r = run_mmmove({"run", job, "--quiet"});
    INFO(r.output.substr(0, 6000));
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(slurp(dir.path / ("summary-" + name + ".json")), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

uint64_t table_rows(const nlohmann::json& summary, const std::string& table) {
    for (const auto& t : summary["tables"])
        if (lower(t["table"].get<std::string>()) == table) return t["rows"].get<uint64_t>();
    return 0;
}

std::string now_ms() {
    return std::to_string(std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count());
}

// Quoted names as `db`'s catalog spells them.
struct Names {
    explicit Names(Database& d) : db(d), cat(read_catalog(d)) {}
    std::string t(const std::string& table) const { return quoted_table(db, cat, table); }
    std::string c(const std::string& table, const std::string& column) const {
        const Column* found = cat.find(table)->find_column(column);
        REQUIRE(found);
        return db.quote_ident(found->name);
    }
    std::string first(const std::string& table, const std::string& column, size_t offset = 0) const {
        return query_one(db, "SELECT " + c(table, column) + " FROM " + t(table) + " ORDER BY " + c(table, column) + " LIMIT 1 OFFSET " +
                                 std::to_string(offset));
    }
    Database& db;
    Catalog cat;
};

// State A's extras: a webhook (its Id is masked: the table is rewritten whole when it changes).
void plant_state_a(Database& s) {
    Names n(s);
    plant_row(s, n.cat, "IncomingWebhooks", {{"Id", "incominghookstateaidvalue1"}, {"UserId", n.first("users", "id")}});
}

// From state A to state B, as a live server changes: edits stamp UpdateAt, new posts keep old stamps.
void change_to_state_b(Database& s) {
    Names n(s);
    const std::string posts = n.t("posts"), id = n.c("posts", "id"), message = n.c("posts", "message");
    const std::string stamp = ", " + n.c("posts", "updateat") + " = " + now_ms();
    std::vector<std::string> ids;
    for (const auto& r : s.query("SELECT " + id + " FROM " + posts + " ORDER BY " + id + " LIMIT 4")) ids.push_back(*r[0]);
    REQUIRE(ids.size() == 4);
    for (const char* new_id : {"zzzzincrnewpost00000000001", "zzzzincrnewpost00000000002"}) {
        std::string names, values;
        for (const auto& col : n.cat.find("posts")->columns) {
            names += (names.empty() ? "" : ", ") + s.quote_ident(col.name);
            values += (values.empty() ? "" : ", ") + (lower(col.name) == "id" ? s.quote_literal(new_id) : s.quote_ident(col.name));
        }
        s.exec("INSERT INTO " + posts + " (" + names + ") SELECT " + values + " FROM " + posts + " WHERE " + id + " = " + s.quote_literal(ids[0]));
    }
    s.exec("UPDATE " + posts + " SET " + message + " = 'edited after the refresh @someone'" + stamp + " WHERE " + id + " = " + s.quote_literal(ids[1]));
    s.exec("UPDATE " + posts + " SET " + n.c("posts", "deleteat") + " = " + now_ms() + stamp + " WHERE " + id + " = " + s.quote_literal(ids[2]));
    s.exec("UPDATE " + posts + " SET " + message + " = 'second edit'" + stamp + " WHERE " + id + " = " + s.quote_literal(ids[3]));
    // Hard deletes (keys only the destination still has) and a Preferences value (no change column).
    const std::string reactions = n.t("reactions"), prefs = n.t("preferences");
    const std::string post = n.first("reactions", "postid");
    s.exec("DELETE FROM " + reactions + " WHERE " + n.c("reactions", "postid") + " = " + s.quote_literal(post));
    // Reactions, whose key the stage masks (EmojiName): one added with an old stamp (found by masked
    // keys alone), one removed softly and one whose emoji changed (stamped: compared whole).
    const std::string r_post = n.c("reactions", "postid"), r_emoji = n.c("reactions", "emojiname"), r_stamp = n.c("reactions", "updateat");
    const auto posts_with = [&](size_t offset) {
        return query_one(s, "SELECT " + r_post + " FROM " + reactions + " WHERE " + r_post + " <> " + s.quote_literal(post) + " GROUP BY " +
                                r_post + " ORDER BY " + r_post + " LIMIT 1 OFFSET " + std::to_string(offset));
    };
    std::string names, values;
    for (const auto& col : n.cat.find("reactions")->columns) {
        names += (names.empty() ? "" : ", ") + s.quote_ident(col.name);
        values += (values.empty() ? "" : ", ") + (lower(col.name) == "emojiname" ? "'incr_old_stamp_emoji'" : s.quote_ident(col.name));
    }
    s.exec("INSERT INTO " + reactions + " (" + names + ") SELECT " + values + " FROM " + reactions + " WHERE " + r_post + " = " +
           s.quote_literal(posts_with(3)) + " LIMIT 1");
    s.exec("UPDATE " + reactions + " SET " + n.c("reactions", "deleteat") + " = " + now_ms() + ", " + r_stamp + " = " + now_ms() + " WHERE " +
           r_post + " = " + s.quote_literal(posts_with(5)));
    s.exec("UPDATE " + reactions + " SET " + r_emoji + " = CONCAT('incr_', " + r_emoji + "), " + r_stamp + " = " + now_ms() + " WHERE " +
           r_post + " = " + s.quote_literal(posts_with(7)));
    const std::string user = n.first("preferences", "userid");
    s.exec("DELETE FROM " + prefs + " WHERE " + n.c("preferences", "userid") + " = " + s.quote_literal(user) + " AND " +
           n.c("preferences", "category") + " <> 'tutorial_step'");
    s.exec("UPDATE " + prefs + " SET " + n.c("preferences", "value") + " = 'changed after the refresh' WHERE " + n.c("preferences", "userid") +
           " = " + s.quote_literal(n.first("preferences", "userid", 5)));
    // A user renamed: the masks derive from username and e-mail.
    const std::string renamed = n.first("users", "id", 1);
    s.exec("UPDATE " + n.t("users") + " SET " + n.c("users", "username") + " = 'renamedafterrefresh', " + n.c("users", "email") +
           " = 'renamed.after@refresh.example.com', " + n.c("users", "updateat") + " = " + now_ms() + " WHERE " + n.c("users", "id") + " = " +
           s.quote_literal(renamed));
    // A new webhook (masked key), a session (never copied) and a Systems row.
    plant_row(s, n.cat, "IncomingWebhooks", {{"Id", "incominghookstatebidvalue1"}, {"UserId", renamed}});
    plant_row(s, n.cat, "Sessions", {{"Id", "sessionstatebrowidsession1"}, {"Token", "sessionstatebtokensecret01"}, {"UserId", renamed}});
    s.exec("INSERT INTO " + n.t("systems") + " (" + n.c("systems", "name") + ", " + n.c("systems", "value") + ") VALUES ('IncrementalTestFlag', 'true')");
}

// A destination's rows, less mmmove's own tables and its staging identity (each keeps its own).
Content refreshed_rows(const ScratchDb& db) {
    auto d = db.connect();
    Content c = read_content(*d, false);
    for (auto it = c.begin(); it != c.end();) it = it->first.rfind("mmmove", 0) == 0 ? c.erase(it) : std::next(it);
    auto& systems = c["systems"];
    systems.erase(std::remove_if(systems.begin(), systems.end(), [](const std::string& r) { return r.find("name=DiagnosticId") != std::string::npos; }),
                  systems.end());
    return c;
}

void check_same_rows(const ScratchDb& full, const ScratchDb& incremental) {
    Content a = refreshed_rows(full), b = refreshed_rows(incremental);
    for (const auto& [table, rows] : a) {
        INFO(table);
        auto it = b.find(table);
        REQUIRE(it != b.end());
        CHECK(rows.size() == it->second.size());
        CHECK(rows == it->second);
    }
    CHECK(a.size() == b.size());
}

std::string identity(const ScratchDb& db) { return systems_rows(*db.connect())["DiagnosticId"]; }

void check_incremental_equals_full(Engine from) {
    ScratchDb src(from, "irs"), full(Engine::postgres, "irf"), incr(Engine::postgres, "iri");
    fill_sample(src, 600, 141, false, 1, false);
    plant_state_a(*src.connect(Side::source));
    TempFolder dir("incremental");
    const std::string incr_job = refresh_job(dir, "incr", src, incr, true), full_job = refresh_job(dir, "full", src, full, false);

    auto first = run_refresh(dir, "incr", incr_job, kKeyA);  // nothing to sync into yet: a full refresh
    CHECK(first["incremental"] == false);
    const std::string staging_id = identity(incr);
    change_to_state_b(*src.connect(Side::source));

    auto second = run_refresh(dir, "incr", incr_job, kKeyA);
    CHECK(second["incremental"] == true);
    CHECK(table_rows(second, "posts") == 5);  // 2 inserted, 3 updated
    CHECK(table_rows(second, "users") == 1);
    CHECK(table_rows(second, "incomingwebhooks") == 1);
    CHECK(table_rows(second, "sessions") == 0);
    CHECK(second["rows"].get<uint64_t>() < 200);
    CHECK(identity(incr) == staging_id);  // the staging identity stays, as a full refresh keeps it
    auto d = incr.connect();
    CHECK(query_one(*d, "SELECT COUNT(*) FROM users WHERE username = 'renamedafterrefresh' OR email LIKE '%refresh.example.com'") == "0");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM sessions") == "0");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM incomingwebhooks WHERE id LIKE 'incominghook%'") == "0");
    CHECK(query_one(*d, "SELECT COUNT(*) FROM mmmove_refresh WHERE finished IS NOT NULL") == "1");

    run_refresh(dir, "full", full_job, kKeyA);
    check_same_rows(full, incr);
    // The materialized views (Mattermost's poststats…) as the full refresh left them: the incremental
    // run refreshes those reading a table it wrote (Posts changed, so poststats must have).
    auto f = full.connect();
    const auto views = f->query("SELECT matviewname FROM pg_matviews WHERE schemaname = current_schema() ORDER BY 1");
    CHECK(views.size() >= 3);
    for (const auto& v : views) {
        INFO(*v[0]);
        const std::string sum = "SELECT COUNT(*) || ':' || COALESCE(md5(string_agg(v::text, ',' ORDER BY v::text)), '') FROM " + *v[0] + " v";
        CHECK(query_one(*f, sum) == query_one(*d, sum));
    }

    auto nothing = run_refresh(dir, "incr", incr_job, kKeyA);  // nothing changed: nothing written
    INFO(nothing["tables"].dump());
    CHECK(nothing["incremental"] == true);
    CHECK(nothing["rows"] == 0);
}

}  // namespace

TEST_CASE("an incremental anonymised refresh ends equal to a full refresh: PostgreSQL to PostgreSQL", "[e2e][run][incremental][pg]") {
    check_incremental_equals_full(Engine::postgres);
}

TEST_CASE("an incremental anonymised refresh ends equal to a full refresh: MySQL to PostgreSQL", "[e2e][run][incremental][mysql][pg][long]") {
    check_incremental_equals_full(Engine::mysql);
}

TEST_CASE("an incremental refresh under another key, or over a tampered record, is a full refresh",
          "[e2e][run][incremental][pg]") {
    ScratchDb src(Engine::postgres, "irs"), full(Engine::postgres, "irf"), incr(Engine::postgres, "iri");
    fill_sample(src, 300, 141, false, 1, false);
    TempFolder dir("incremental-key");
    const std::string incr_job = refresh_job(dir, "incr", src, incr, true), full_job = refresh_job(dir, "full", src, full, false);
    run_refresh(dir, "incr", incr_job, kKeyA);
    auto d = incr.connect();
    const std::string fingerprint = query_one(*d, "SELECT fingerprint FROM mmmove_sync_state");
    CHECK(fingerprint.size() == 64);

    // Another key: every mask differs, so the run replaces every row.
    auto rekeyed = run_refresh(dir, "incr", incr_job, kKeyB);
    CHECK(rekeyed["incremental"] == false);
    CHECK(query_one(*d, "SELECT fingerprint FROM mmmove_sync_state") != fingerprint);
    run_refresh(dir, "full", full_job, kKeyB);
    check_same_rows(full, incr);

    // A fingerprint of the right form that is not this job's, one of another form, and a record saying
    // the rows are the source's own: each a full refresh (equal to D1), never a sync over them.
    for (const char* tamper : {"UPDATE mmmove_sync_state SET fingerprint = repeat('a', 64)",
                               "UPDATE mmmove_sync_state SET fingerprint = 'DROP TABLE posts'",
                               "UPDATE mmmove_sync_state SET transformed = 0, fingerprint = ''"}) {
        INFO(tamper);
        d->exec("UPDATE posts SET message = 'planted on staging' WHERE id = (SELECT MIN(id) FROM posts)");
        d->exec(tamper);
        auto again = run_refresh(dir, "incr", incr_job, kKeyB);
        CHECK(again["incremental"] == false);
        CHECK(query_one(*d, "SELECT COUNT(*) FROM posts WHERE message = 'planted on staging'") == "0");
        check_same_rows(full, incr);
    }
    CHECK(run_refresh(dir, "incr", incr_job, kKeyB)["incremental"] == true);

    // `mmmove sync` (no stage) still refuses the anonymised destination: it would write unmasked rows.
    CliRun refused = run_mmmove({"sync", "--from", src.dsn(), "--to", incr.dsn(), "--quiet"});
    INFO(refused.output);
    CHECK(refused.exit_code == 4);
    CHECK(refused.output.find("anonymised") != std::string::npos);
}

// passwords: test-password. The hash's salt follows from the key, so a run after no user change
// rewrites no Users row, an incremental run ends equal to a full one (Users.Password included), and
// every user with a password still logs in with the test password, none with production's.
TEST_CASE("an incremental refresh with the test password rewrites only the users that changed", "[e2e][run][incremental][pg]") {
    ScratchDb src(Engine::postgres, "irs"), full(Engine::postgres, "irf"), incr(Engine::postgres, "iri");
    fill_sample(src, 300, 141, false, 1, false);
    TempFolder dir("incremental-password");
    setenv("MMMOVE_TEST_STAGING_PASSWORD", "staging-login-pass", 1);
    const std::string pw = "  passwords: test-password\n  test_password_env: MMMOVE_TEST_STAGING_PASSWORD\n";
    const std::string incr_job = refresh_job(dir, "incr", src, incr, true, pw), full_job = refresh_job(dir, "full", src, full, false, pw);
    CHECK(run_refresh(dir, "incr", incr_job, kKeyA)["incremental"] == false);

    auto again = run_refresh(dir, "incr", incr_job, kKeyA);
    INFO(again["tables"].dump());
    CHECK(again["incremental"] == true);
    CHECK(table_rows(again, "users") == 0);
    CHECK(again["rows"] == 0);

    auto s = src.connect(Side::source);
    s->exec("UPDATE users SET nickname = 'changed after the refresh', updateat = " + now_ms() + " WHERE id = (SELECT MIN(id) FROM users)");
    auto changed = run_refresh(dir, "incr", incr_job, kKeyA);
    CHECK(changed["incremental"] == true);
    CHECK(table_rows(changed, "users") == 1);
    run_refresh(dir, "full", full_job, kKeyA);
    check_same_rows(full, incr);

    auto d = incr.connect();
    const auto hashes = d->query("SELECT DISTINCT password FROM users WHERE password <> ''");
    REQUIRE(hashes.size() == 1);  // every user with a password has the test password's one hash
    const std::string hash = hashes[0][0].value_or("");
    crypt_data data{};
    const char* ok = crypt_rn("staging-login-pass", hash.c_str(), &data, sizeof data);
    REQUIRE(ok);
    CHECK(std::string(ok) == hash);
    for (const auto& row : s->query("SELECT DISTINCT password FROM users WHERE password <> ''"))
        CHECK(row[0].value_or("") != hash);  // production's hashes never reach staging
}
