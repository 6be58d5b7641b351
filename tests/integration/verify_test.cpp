// mmmove verify on real servers: equal after a copy in every direction (values the copy changed are
// expected through its report), and each kind of difference named by table, key and column.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>

#include <sys/stat.h>

#include "catalog/catalog.h"
#include "catalog/secrets.h"
#include "support.h"
#include "../common/test_files.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// The first line of the output that is a JSON object (progress and warnings go to stderr).
nlohmann::json json_of(const CliRun& run) {
    size_t start = run.output.rfind("{\"", 0) == 0 ? 0 : run.output.find("\n{\"") + 1;
    INFO(run.output.substr(0, 3000));
    auto j = nlohmann::json::parse(run.output.substr(start), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

const nlohmann::json& table_of(const nlohmann::json& result, const std::string& name) {
    for (const auto& t : result["tables"])
        if (lower(t["destination_table"].get<std::string>()) == name) return t;
    FAIL("no table " << name << " in the result");
    throw std::logic_error("unreachable");
}

// Copies with every policy that changes values rather than stopping, so hostile rows land changed.
CliRun copy(const ScratchDb& src, const ScratchDb& dst, const std::string& report, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--report", report,
                                     "--on-overlong=truncate", "--on-invalid-json=repair", "--on-refused-value=repair", "--chunk-rows", "500"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mmmove(args);
}

// --expect-changes REPORT when the copy wrote a report (it does when it changed a value).
std::vector<std::string> expect_changes(const std::string& report) {
    if (!std::filesystem::exists(report)) return {};
    return {"--expect-changes", report};
}

CliRun verify(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra = {}) {
    std::vector<std::string> args = {"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--chunk-rows", "500", "--json"};
    args.insert(args.end(), extra.begin(), extra.end());
    return run_mmmove(args);
}

std::string posts_table(const Database& db, bool lower_case) {
    return db.engine() == Engine::postgres || lower_case ? "posts" : "Posts";
}
std::string col(const Database& db, const std::string& camel) { return db.engine() == Engine::postgres ? lower(camel) : camel; }

// Three posts (by ID order) with a Props object of two or more keys, the last of them for the JSON test.
std::vector<std::string> pick_posts(Database& db, const std::string& posts) {
    std::vector<std::string> ids;
    std::string props = db.quote_ident(col(db, "Props")), id = db.quote_ident(col(db, "Id"));
    for (const auto& r : db.query("SELECT " + id + " FROM " + db.quote_ident(posts) + " ORDER BY " + id + " LIMIT 3")) ids.push_back(*r[0]);
    for (const auto& r : db.query("SELECT " + id + ", " + props + " FROM " + db.quote_ident(posts) + " ORDER BY " + id)) {
        auto j = nlohmann::json::parse(r[1].value_or("{}"), nullptr, false);
        if (j.is_object() && j.size() >= 2) {
            ids.push_back(*r[0]);
            break;
        }
    }
    REQUIRE(ids.size() == 4);
    return ids;
}

// A copy of row `id` under a new ID.
void duplicate_row(Database& db, const std::string& table, const std::string& id, const std::string& new_id) {
    Catalog cat = read_catalog(db);
    const Table* t = cat.find(table);
    REQUIRE(t);
    std::string names, values;
    for (const auto& c : t->columns) {
        names += (names.empty() ? "" : ", ") + db.quote_ident(c.name);
        values += (values.empty() ? "" : ", ") + (lower(c.name) == "id" ? db.quote_literal(new_id) : db.quote_ident(c.name));
    }
    db.exec("INSERT INTO " + db.quote_ident(t->name) + " (" + names + ") SELECT " + values + " FROM " + db.quote_ident(t->name) +
            " WHERE " + db.quote_ident(col(db, "Id")) + " = " + db.quote_literal(id));
}

// The same object with its keys in the opposite order, as text.
std::string reversed_keys(const std::string& json) {
    auto j = nlohmann::ordered_json::parse(json);
    nlohmann::ordered_json r = nlohmann::ordered_json::object();
    std::vector<std::string> keys;
    for (auto it = j.begin(); it != j.end(); ++it) keys.push_back(it.key());
    for (auto k = keys.rbegin(); k != keys.rend(); ++k) r[*k] = j[*k];
    return r.dump();
}

}  // namespace

TEST_CASE("verify says equal after a copy in each direction and from Bitnami, the copy's changes expected", "[threads][e2e][verify][mysql][pg]") {
    struct Case {
        Engine from, to;
        bool lower_case;
    };
    for (Case c : {Case{Engine::mysql, Engine::postgres, false}, Case{Engine::postgres, Engine::postgres, false},
                   Case{Engine::postgres, Engine::mysql, false}, Case{Engine::mysql, Engine::mysql, false},
                   Case{Engine::mysql, Engine::postgres, true}}) {
        DYNAMIC_SECTION(engine_name(c.from) << " -> " << engine_name(c.to) << (c.lower_case ? " (Bitnami)" : "")) {
            ScratchDb src(c.from, "ves"), dst(c.to, "ved");
            fill_sample(src, 1500, 141, c.lower_case);
            std::string report = report_path(dst);
            auto copied = copy(src, dst, report);
            INFO(copied.output);
            REQUIRE(copied.exit_code == 0);
            auto out = verify(src, dst, expect_changes(report));
            INFO(out.output.substr(0, 4000));
            REQUIRE(out.exit_code == 0);
            auto j = json_of(out);
            CHECK(j["equal"] == true);
            CHECK(table_of(j, "posts")["source_rows"] == 1500);
            CHECK(table_of(j, "posts")["destination_rows"] == 1500);
            CHECK(table_of(j, "posts")["chunks"].get<int>() > 1);  // compared in the copy's chunks
            if (c.from == Engine::mysql && c.to == Engine::postgres) {
                // The sample's NUL bytes were removed by the copy: differences unless the report is given.
                CHECK(table_of(j, "posts")["expected_changed"].get<int>() > 0);
                auto plain = verify(src, dst);
                CHECK(plain.exit_code == 7);
                auto p = json_of(plain);
                CHECK(p["equal"] == false);
                CHECK(table_of(p, "posts")["differing"] == table_of(j, "posts")["expected_changed"]);
                CHECK(table_of(p, "posts")["examples"][0]["columns"] == nlohmann::json::array({"Message"}));
            }
        }
    }
}

TEST_CASE("verify names a changed value, a deleted row and an added row; a reordered JSON object is equal", "[threads][e2e][verify][mysql][pg]") {
    for (auto [from, to] : {std::pair{Engine::mysql, Engine::postgres}, std::pair{Engine::postgres, Engine::mysql}}) {
        DYNAMIC_SECTION(engine_name(from) << " -> " << engine_name(to)) {
            ScratchDb src(from, "vds"), dst(to, "vdd");
            fill_sample(src, 1500);
            std::string report = report_path(dst);
            REQUIRE(copy(src, dst, report).exit_code == 0);
            auto d = dst.connect();
            std::string posts = posts_table(*d, false), id = d->quote_ident(col(*d, "Id"));
            auto ids = pick_posts(*d, posts);  // changed, deleted, duplicated, reordered
            std::string message = d->quote_ident(col(*d, "Message")), props = d->quote_ident(col(*d, "Props"));
            d->exec("UPDATE " + posts + " SET " + message + " = 'changed on the destination' WHERE " + id + " = " + d->quote_literal(ids[0]));
            d->exec("DELETE FROM " + posts + " WHERE " + id + " = " + d->quote_literal(ids[1]));
            duplicate_row(*d, posts, ids[2], "zzzzaddedonthedestination0");
            std::string before = *d->query("SELECT " + props + " FROM " + posts + " WHERE " + id + " = " + d->quote_literal(ids[3]))[0][0];
            d->exec("UPDATE " + posts + " SET " + props + " = " + d->quote_literal(reversed_keys(before)) + " WHERE " + id + " = " +
                    d->quote_literal(ids[3]));
            if (to == Engine::mysql)  // MariaDB keeps JSON as text: the stored spelling really changed
                REQUIRE(*d->query("SELECT " + props + " FROM " + posts + " WHERE " + id + " = " + d->quote_literal(ids[3]))[0][0] != before);

            std::vector<std::string> expect = expect_changes(report);
            auto out = verify(src, dst, expect);
            INFO(out.output.substr(0, 4000));
            CHECK(out.exit_code == 7);
            auto j = json_of(out);
            CHECK(j["equal"] == false);
            const auto& t = table_of(j, "posts");
            CHECK(t["differing"] == 1);
            CHECK(t["missing"] == 1);
            CHECK(t["extra"] == 1);
            CHECK(t["source_rows"] == 1500);
            CHECK(t["destination_rows"] == 1500);
            REQUIRE(t["examples"].size() == 3);
            std::string id_name = from == Engine::postgres ? "id" : "Id";
            CHECK(t["examples"][0]["kind"] == "differs");
            CHECK(t["examples"][0]["key"] == id_name + "=" + ids[0]);
            CHECK(t["examples"][0]["columns"] == nlohmann::json::array({from == Engine::postgres ? "message" : "Message"}));
            CHECK(t["examples"][0]["detail"].get<std::string>().find("changed on the destination") != std::string::npos);
            CHECK(t["examples"][1]["kind"] == "missing");
            CHECK(t["examples"][1]["key"] == id_name + "=" + ids[1]);
            CHECK(t["examples"][2]["kind"] == "extra");
            CHECK(t["examples"][2]["key"] == id_name + "=zzzzaddedonthedestination0");
            for (const auto& other : j["tables"])
                if (other["destination_table"] != t["destination_table"]) CHECK(other["equal"] == true);

            std::vector<std::string> args = {"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--tables", "posts"};
            args.insert(args.end(), expect.begin(), expect.end());
            auto text = run_mmmove(args);
            CHECK(text.exit_code == 7);
            CHECK(text.output.find("1 row differs, 1 missing on the destination, 1 only on the destination") != std::string::npos);
            CHECK(text.output.find("verify: DIFFERENT") != std::string::npos);
        }
    }
}

TEST_CASE("copy --verify compares on the copy's snapshot, with the copy's own report", "[threads][e2e][verify][mysql][pg]") {
    ScratchDb src(Engine::mysql, "vcs"), dst(Engine::postgres, "vcd");
    fill_sample(src, 1500);
    std::string report = report_path(dst);
    auto out = copy(src, dst, report, {"--verify", "--json", "--jobs", "3"});
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto j = nlohmann::json::parse(out.output.substr(out.output.find("{\n")));
    CHECK(j["verify"]["equal"] == true);
    CHECK(j["verify"]["expected_changes"].get<int>() > 0);  // the sample's NUL bytes, removed and expected
    CHECK(j["verify"]["jobs"] == 3);

    // A destination row changed afterwards makes a second verify fail, and only that one.
    auto d = dst.connect();
    d->exec("UPDATE users SET nickname = 'someone else' WHERE id = (SELECT MIN(id) FROM users)");
    auto again = verify(src, dst, {"--expect-changes", report});
    CHECK(again.exit_code == 7);
    CHECK(table_of(json_of(again), "users")["differing"] == 1);
}

TEST_CASE("verify shows secrets by hash and never their values", "[e2e][verify][mysql][pg]") {
    ScratchDb src(Engine::postgres, "vss"), dst(Engine::postgres, "vsd");
    fill_sample(src, 200);
    auto s = src.connect();
    const std::string token = "resettoken0123456789abcdefghij";
    s->exec("INSERT INTO tokens (token, createat, type, extra) VALUES ('" + token + "', 1, 'password_recovery', '{}')");
    std::string report = report_path(dst);
    REQUIRE(copy(src, dst, report).exit_code == 0);
    auto d = dst.connect();
    d->exec("UPDATE tokens SET extra = '{\"changed\": true}'");
    std::string hash = *d->query("SELECT password FROM users ORDER BY id LIMIT 1")[0][0];
    d->exec("UPDATE users SET password = 'another-password-hash' WHERE id = (SELECT MIN(id) FROM users)");
    auto out = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(out.output);
    CHECK(out.exit_code == 7);
    CHECK(out.output.find(token) == std::string::npos);
    CHECK(out.output.find("token=" + masked_secret(token)) != std::string::npos);
    CHECK(out.output.find("another-password-hash") == std::string::npos);
    if (!hash.empty()) CHECK(out.output.find(hash) == std::string::npos);
    CHECK(out.output.find(masked_secret("another-password-hash")) != std::string::npos);
}

TEST_CASE("verify refuses a report that is not one, naming the file and line", "[e2e][verify][pg]") {
    ScratchDb src(Engine::postgres, "vrs"), dst(Engine::postgres, "vrd");
    fill_sample(src, 100);
    std::string report = report_path(dst);
    REQUIRE(copy(src, dst, report).exit_code == 0);
    TempFolder dir("verify-report");
    std::string bad = dir.path.string() + "/report.jsonl";
    spit(bad, "{\"table\":\"Posts\",\"key\":\"Id=x\",\"column\":\"Message\",\"problem\":\"p\",\"action\":\"removed\"}\nnot json\n");
    auto out = verify(src, dst, {"--expect-changes", bad});
    CHECK(out.exit_code == 2);
    CHECK(out.output.find("Line 2 of") != std::string::npos);
    std::string fifo = dir.path.string() + "/fifo";
    REQUIRE(mkfifo(fifo.c_str(), 0600) == 0);
    auto from_fifo = verify(src, dst, {"--expect-changes", fifo});  // refused at once, never waits for a writer
    CHECK(from_fifo.exit_code == 2);
    CHECK(from_fifo.output.find("not a regular file") != std::string::npos);
}

TEST_CASE("a table the destination lacks is a difference unless skipped; a destination without Mattermost is refused", "[e2e][verify][pg]") {
    ScratchDb src(Engine::postgres, "vts"), dst(Engine::postgres, "vtd"), empty(Engine::postgres, "vte");
    fill_sample(src, 100);
    std::string report = report_path(dst);
    REQUIRE(copy(src, dst, report).exit_code == 0);
    dst.connect()->exec("DROP TABLE emoji");
    auto out = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(out.output);
    CHECK(out.exit_code == 7);
    CHECK_THAT(out.output, Catch::Contains("emoji") && Catch::Contains("only on the source") && Catch::Contains("--skip-table emoji"));
    auto skipped = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--skip-table", "Emoji"});
    INFO(skipped.output);
    CHECK(skipped.exit_code == 0);
    auto nothing = run_mmmove({"verify", "--from", src.dsn(), "--to", empty.dsn(), "--quiet"});
    CHECK(nothing.exit_code == 4);
    CHECK_THAT(nothing.output, Catch::Contains("holds no Mattermost tables"));
}
