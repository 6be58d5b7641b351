// "Every row lands or is named": values the destination cannot hold, the report under several workers
// and across resumed runs, secrets in the report, and failures after the rows are in. Real servers.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <set>

#include "catalog/schema_model.h"
#include "catalog/secrets.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

uint64_t count(Database& db, const std::string& table, const std::string& where = "") {
    return std::stoull(*db.query("SELECT COUNT(*) FROM " + db.quote_ident(table) + (where.empty() ? "" : " WHERE " + where))[0][0]);
}

std::vector<nlohmann::json> read_report(const std::string& path) {
    std::ifstream in(path);
    REQUIRE(in);
    std::vector<nlohmann::json> lines;
    for (std::string line; std::getline(in, line);) {
        INFO("report line: " << line);
        auto j = nlohmann::json::parse(line, nullptr, false);
        REQUIRE_FALSE(j.is_discarded());  // every line whole, valid JSON
        lines.push_back(std::move(j));
    }
    return lines;
}

// The posts whose Message holds a NUL byte (PostgreSQL cannot store one: each must be reported once).
std::set<std::string> posts_with_nul(Database& mysql_source) {
    std::set<std::string> ids;
    for (const auto& r : mysql_source.query("SELECT Id FROM Posts WHERE LOCATE(CHAR(0), Message) > 0")) ids.insert(*r[0]);
    return ids;
}

// A MySQL source at 141 whose every third post carries a NUL byte: many changed values, in many chunks.
void fill_with_nul_posts(const ScratchDb& src, uint64_t posts) {
    fill_sample(src, posts);
    auto s = src.connect();
    s->exec("UPDATE Posts SET Message = CONCAT(Message, CHAR(0), 'tail') WHERE CRC32(Id) % 3 = 0");
}

// The Posts.Message lines of a report, each key once: the set of post IDs.
std::set<std::string> reported_posts(const std::vector<nlohmann::json>& lines) {
    std::set<std::string> ids;
    for (const auto& l : lines) {
        if (l["table"] != "Posts" || l["column"] != "Message") continue;
        std::string key = l["key"];
        REQUIRE(key.rfind("Id=", 0) == 0);
        INFO("reported twice: " << key);
        REQUIRE(ids.insert(key.substr(3)).second);
    }
    return ids;
}

}  // namespace

TEST_CASE("the report lists every changed value once, with several workers and many chunks", "[threads][e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "rep"), dst(Engine::postgres, "repd");
    fill_with_nul_posts(src, 3000);
    auto s = src.connect(Side::source);
    std::set<std::string> expected = posts_with_nul(*s);
    REQUIRE(expected.size() > 500);
    std::string report = report_path(dst);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--jobs", "4", "--chunk-rows", "100",
                           "--report", report, "--json"});
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    auto lines = read_report(report);
    CHECK(reported_posts(lines) == expected);
    auto summary = nlohmann::json::parse(out.output.substr(out.output.find("{\n")));
    CHECK(summary["changed_values"].get<uint64_t>() == lines.size());
    uint64_t counted = 0;
    for (const auto& [what, n] : summary["changed_value_counts"].items()) counted += n.get<uint64_t>();
    CHECK(counted == lines.size());
    std::filesystem::remove(report);
}

TEST_CASE("a NULL where the destination says NOT NULL is named, and a policy stops, repairs or skips it", "[e2e][values][mysql][pg]") {
    // PropertyFields.UpdateAt is NULL-able in Mattermost's MySQL schema and NOT NULL in its PostgreSQL one (level 141).
    ScratchDb src(Engine::mysql, "nul"), dst(Engine::postgres, "nuld");
    fill_sample(src, 100);
    auto s = src.connect();
    const std::string id = "pfnullupdateat000000000000";
    s->exec("INSERT INTO PropertyFields (ID, GroupID, Name, Type, Attrs, TargetID, TargetType, CreateAt, UpdateAt, DeleteAt) VALUES ('" +
            id + "', 'g0000000000000000000000000', 'department', 'text', '{}', '', '', 1700000000000, NULL, 0)");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::postgres, 141), false);
    std::string report = report_path(dst);
    auto check = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(check.output);
    CHECK(check.exit_code == 0);
    CHECK_THAT(check.output, Catch::Contains("NOT NULL on the destination") && Catch::Contains("PropertyFields.UpdateAt"));

    auto stop = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--report", report});
    INFO(stop.output);
    CHECK(stop.exit_code == 6);
    CHECK_THAT(stop.output, Catch::Contains("Table PropertyFields (ID=" + id + ") column UpdateAt is NULL") &&
                                Catch::Contains("--on-refused-value=repair") && Catch::Contains("emptied again"));
    CHECK(count(*d, "users") == 0);
    CHECK(count(*d, "posts") == 0);

    auto repair = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--report", report, "--on-refused-value=repair"});
    INFO(repair.output);
    CHECK(repair.exit_code == 0);
    CHECK(*d->query("SELECT updateat FROM propertyfields WHERE id = '" + id + "'")[0][0] == "0");
    auto lines = read_report(report);
    bool listed = false;
    for (const auto& l : lines)
        listed = listed || (l["table"] == "PropertyFields" && l["column"] == "UpdateAt" && l["action"] == "replaced with 0");
    CHECK(listed);
    // verify redoes the repair the report names: equal with the report, one differing row without it.
    auto expected = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--expect-changes", report});
    INFO(expected.output);
    CHECK(expected.exit_code == 0);
    auto plain = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--tables", "PropertyFields"});
    CHECK(plain.exit_code == 7);
    CHECK_THAT(plain.output, Catch::Contains("ID=" + id + ": UpdateAt") && Catch::Contains("NULL on the source, \"0\" on the destination"));

    auto skip = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--report", report, "--truncate", "--on-refused-value=skip-row"});
    INFO(skip.output);
    CHECK(skip.exit_code == 0);
    CHECK(count(*d, "propertyfields", "id = '" + id + "'") == 0);
    CHECK_THAT(skip.output, Catch::Contains("1 rows were left out by --on-refused-value"));
    std::filesystem::remove(report);
}

TEST_CASE("an integer wider than the destination's column is named, and repair writes the nearest value", "[e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "wide"), dst(Engine::postgres, "wided");
    fill_sample(src, 100);
    auto s = src.connect();
    auto id = *s->query("SELECT Id FROM Channels ORDER BY Id LIMIT 1")[0][0];
    s->exec("UPDATE Channels SET TotalMsgCount = 5000000000 WHERE Id = '" + id + "'");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::postgres, 141), false);
    d->exec("DROP MATERIALIZED VIEW IF EXISTS poststats");  // nothing depends on the column but views; keep it simple
    d->exec("ALTER TABLE channels ALTER COLUMN totalmsgcount TYPE integer");
    auto check = run_mmmove({"check", "--from", src.dsn(), "--to", dst.dsn()});
    CHECK_THAT(check.output, Catch::Contains("integer columns are narrower") && Catch::Contains("Channels.TotalMsgCount"));
    auto stop = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(stop.output);
    CHECK(stop.exit_code == 6);
    CHECK_THAT(stop.output, Catch::Contains("Table Channels (Id=" + id + ") column TotalMsgCount holds 5000000000") &&
                                Catch::Contains("integer"));
    CHECK(count(*d, "channels") == 0);
    std::string report = report_path(dst);
    auto repair = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--on-refused-value=repair", "--report", report});
    INFO(repair.output);
    CHECK(repair.exit_code == 0);
    CHECK(*d->query("SELECT totalmsgcount FROM channels WHERE id = '" + id + "'")[0][0] == "2147483647");
    std::filesystem::remove(report);
}

TEST_CASE("rows the destination refuses (enum, duplicate after NUL removal) are named, never a stranded copy", "[e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "enm"), dst(Engine::postgres, "enmd");
    fill_sample(src, 100);
    auto s = src.connect();
    s->exec("ALTER TABLE Channels MODIFY Type varchar(1)");
    auto channel = *s->query("SELECT Id FROM Channels ORDER BY Id LIMIT 1")[0][0];
    s->exec("UPDATE Channels SET Type = 'X' WHERE Id = '" + channel + "'");
    // Two emoji that differ only by a NUL byte: equal once PostgreSQL's NUL removal is done.
    s->exec("INSERT INTO Emoji (Id, CreateAt, UpdateAt, DeleteAt, CreatorId, Name) VALUES "
            "('emojidupa00000000000000000', 1, 1, 0, 'u', 'dupe'), ('emojidupb00000000000000000', 1, 1, 0, 'u', CONCAT('dupe', CHAR(0)))");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::postgres, 141), false);

    auto stop = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(stop.output);
    CHECK(stop.exit_code == 6);
    CHECK_THAT(stop.output, Catch::Contains("the destination refused this row") && Catch::Contains("--on-refused-value=skip-row") &&
                                Catch::Contains("emptied again"));
    CHECK_THAT(stop.output, !Catch::Contains("--resume"));
    CHECK(count(*d, "channels") == 0);

    std::string report = report_path(dst);
    auto skip = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--on-refused-value=skip-row", "--report", report});
    INFO(skip.output);
    CHECK(skip.exit_code == 0);
    CHECK(count(*d, "channels", "id = '" + channel + "'") == 0);
    CHECK(count(*d, "emoji", "name = 'dupe'") == 1);
    std::set<std::string> skipped;
    for (const auto& l : read_report(report))
        if (l["action"] == "row skipped") skipped.insert(l["table"].get<std::string>() + " " + l["key"].get<std::string>());
    CHECK(skipped == std::set<std::string>{"Channels Id=" + channel, "Emoji Id=emojidupb00000000000000000"});
    CHECK_THAT(skip.output, Catch::Contains("2 rows were left out"));
    // The rows the copy left out are expected absent when verify is given the report.
    auto verified = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--expect-changes", report, "--json"});
    INFO(verified.output);
    CHECK(verified.exit_code == 0);
    auto j = nlohmann::json::parse(verified.output.substr(verified.output.find("{\"")));
    uint64_t absent = 0;
    for (const auto& t : j["tables"]) absent += t["expected_absent"].get<uint64_t>();
    CHECK(absent == 2);
    auto plain = run_mmmove({"verify", "--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--tables", "emoji,channels"});
    CHECK(plain.exit_code == 7);
    CHECK_THAT(plain.output, Catch::Contains("missing Id=emojidupb00000000000000000") && Catch::Contains("missing Id=" + channel));
    std::filesystem::remove(report);
}

TEST_CASE("names equal under MySQL's collation are refused rows, named, not a failed destination", "[e2e][values][pg][mysql]") {
    ScratchDb src(Engine::postgres, "coll"), dst(Engine::mysql, "colld");
    fill_sample(src, 100);
    auto s = src.connect();
    s->exec("INSERT INTO emoji (id, createat, updateat, deleteat, creatorid, name) VALUES "
            "('emojicasea0000000000000000', 1, 1, 0, 'u', 'party'), ('emojicaseb0000000000000000', 1, 1, 0, 'u', 'party ')");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::mysql, 141), false);
    auto stop = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(stop.output);
    CHECK(stop.exit_code == 6);
    CHECK_THAT(stop.output, Catch::Contains("Table emoji (id=emojicase") && Catch::Contains("the destination refused this row"));
    CHECK(count(*d, "Emoji") == 0);
    std::string report = report_path(dst);
    auto skip = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--on-refused-value=skip-row", "--report", report});
    INFO(skip.output);
    CHECK(skip.exit_code == 0);
    CHECK(count(*d, "Emoji", "Name = 'party'") == 1);
    std::filesystem::remove(report);
}

TEST_CASE("a secret that keys a row is masked in the report and in errors", "[e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "sec"), dst(Engine::postgres, "secd");
    fill_sample(src, 50);
    auto s = src.connect();
    const std::string token = "livepasswordrecoverytoken0123456789abcdefghijklmnopqrstuvwxyzABC";
    s->exec("INSERT INTO Tokens (Token, CreateAt, Type, Extra) VALUES ('" + token + "', 1, 'password_recovery', CONCAT('{\"email\":\"a@b.c\"}', CHAR(0)))");
    std::string report = report_path(dst);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--report", report});
    INFO(out.output);
    CHECK(out.exit_code == 0);
    std::ifstream in(report);
    std::string all((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK_THAT(all, Catch::Contains("\"key\":\"Token=" + masked_secret(token) + "\""));
    CHECK_THAT(all + out.output, !Catch::Contains(token));
    std::filesystem::remove(report);
}

TEST_CASE("a materialized view that fails after the rows are in is explained, and --resume finishes the copy", "[e2e][values][resume][mysql][pg]") {
    ScratchDb src(Engine::mysql, "mv"), dst(Engine::postgres, "mvd");
    fill_with_nul_posts(src, 300);
    auto s = src.connect();
    // A property value whose field is gone: AttributeView cannot name it, so refreshing the view fails.
    s->exec("INSERT INTO PropertyValues (ID, TargetID, TargetType, GroupID, FieldID, Value, CreateAt, UpdateAt, DeleteAt) VALUES "
            "('orphanvalue000000000000000', 'target', 'user', 'g0000000000000000000000000', 'nosuchfield000000000000000', '\"x\"', 1, 1, 0)");
    std::set<std::string> expected = posts_with_nul(*s);
    std::string report = report_path(dst);
    std::vector<std::string> args = {"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--report", report};
    auto first = run_mmmove(args);
    INFO(first.output);
    CHECK(first.exit_code == 4);
    CHECK_THAT(first.output, Catch::Contains("Every row is in the destination, but refreshing the materialized view attributeview failed") &&
                                 Catch::Contains("--resume"));
    auto d = dst.connect();
    // The admin's fix on the destination: mark the orphan deleted, as Mattermost does with values it drops.
    d->exec("UPDATE propertyvalues SET deleteat = 1 WHERE id = 'orphanvalue000000000000000'");
    args.push_back("--resume");
    auto second = run_mmmove(args);
    INFO(second.output);
    CHECK(second.exit_code == 0);
    CHECK_THAT(second.output, !Catch::Contains("No value needed changing"));
    CHECK(reported_posts(read_report(report)) == expected);
    CHECK_FALSE(read_catalog(*d).find("mmmove_copy_chunks"));
    std::filesystem::remove(report);
}

TEST_CASE("a 100,000-level JSON value that PostgreSQL refuses is a named value, not a stranded copy", "[e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "deep"), dst(Engine::postgres, "deepd");
    fill_sample(src, 50);
    auto s = src.connect();
    s->exec("ALTER TABLE Posts MODIFY Props longtext");  // MariaDB's json_valid() check stops at 32 levels
    auto id = *s->query("SELECT Id FROM Posts ORDER BY Id LIMIT 1")[0][0];
    std::string deep = std::string(100000, '[') + std::string(100000, ']');
    s->exec("UPDATE Posts SET Props = '" + deep + "' WHERE Id = '" + id + "'");
    auto stop = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema"});
    INFO(stop.output.substr(0, 3000));
    CHECK(stop.exit_code == 6);
    CHECK_THAT(stop.output, Catch::Contains("Table Posts (Id=" + id + "): the destination refused this row") &&
                                Catch::Contains("emptied again"));
    auto d = dst.connect();
    CHECK(count(*d, "posts") == 0);
    std::string report = report_path(dst);
    auto skip = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--on-refused-value=skip-row", "--report", report});
    INFO(skip.output.substr(0, 3000));
    CHECK(skip.exit_code == 0);
    CHECK(count(*d, "posts") + 1 == count(*s, "Posts"));
    CHECK(count(*d, "posts", "id = '" + id + "'") == 0);
    std::filesystem::remove(report);
}

TEST_CASE("the copy's report replaces a symlink planted at its path and never writes through it", "[e2e][values][mysql][pg]") {
    ScratchDb src(Engine::mysql, "lnk"), dst(Engine::postgres, "lnkd");
    fill_with_nul_posts(src, 100);
    std::string victim = "/tmp/" + dst.name() + "-victim", report = report_path(dst);
    { std::ofstream(victim) << "precious\n"; }
    std::filesystem::create_symlink(victim, report);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--report", report});
    INFO(out.output.substr(0, 3000));
    CHECK(out.exit_code == 0);
    std::ifstream in(victim);
    std::string kept((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    CHECK(kept == "precious\n");
    CHECK_FALSE(std::filesystem::is_symlink(report));
    auto s = src.connect(Side::source);
    CHECK(reported_posts(read_report(report)) == posts_with_nul(*s));
    std::filesystem::remove(report);
    std::filesystem::remove(victim);
}

TEST_CASE("copy --quiet still prints the blocking lines its error refers to", "[e2e][values][pg]") {
    ScratchDb src(Engine::postgres, "qb"), dst(Engine::postgres, "qbd");
    fill_sample(src, 20);
    fill_sample(dst, 20);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--quiet"});
    INFO(out.output);
    CHECK(out.exit_code == 4);
    CHECK_THAT(out.output, Catch::Contains("see the blocking problems above") && Catch::Contains("[BLOCKING]") &&
                               Catch::Contains("already holds Mattermost data"));
}

TEST_CASE("the summary names the tables left behind and their rows", "[e2e][values][pg]") {
    ScratchDb src(Engine::postgres, "lb"), dst(Engine::postgres, "lbd");
    fill_sample(src, 20);
    auto s = src.connect();
    s->exec("CREATE TABLE ir_playbook (id varchar(26) PRIMARY KEY)");  // a plugin's table the destination lacks
    s->exec("INSERT INTO ir_playbook VALUES ('a'), ('b'), ('c')");
    auto d = dst.connect();
    create_schema(*d, *find_model(Engine::postgres, 141), false);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--skip-missing-tables", "--skip-table", "Reactions",
                           "--report", report_path(dst)});
    INFO(out.output);
    CHECK(out.exit_code == 0);
    CHECK_THAT(out.output, Catch::Contains("Left behind (--skip-table / --skip-missing-tables): ir_playbook, 3 rows on the source.") &&
                               Catch::Contains("Left behind (--skip-table / --skip-missing-tables): reactions, " +
                                               std::to_string(count(*s, "reactions")) + " rows on the source."));
    CHECK(count(*d, "reactions") == 0);
}
