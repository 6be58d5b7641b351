// Whole-database copies on real servers, in all four directions and both MySQL table cases, checked
// by comparing the full content of every table, and the source before and after.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <sstream>
#include <vector>
#include <sys/wait.h>

#include "catalog/schema_model.h"
#include "copy/copy.h"
#include "sample/generator.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

struct Direction {
    const char* name;
    Engine from, to;
    bool from_lower, to_lower;
};


void require_same_content(const Content& a, const Content& b) {
    REQUIRE(a.size() == b.size());
    for (const auto& [table, rows] : a) {
        INFO("table " << table);
        REQUIRE(b.count(table));
        REQUIRE(rows.size() == b.at(table).size());
        for (size_t i = 0; i < rows.size(); ++i) {
            if (rows[i] != b.at(table)[i]) {
                INFO("source row:      " << rows[i].substr(0, 600));
                INFO("destination row: " << b.at(table)[i].substr(0, 600));
                FAIL("rows differ");
            }
        }
    }
}

}  // namespace

namespace {

// Copies a 3,000-post sample in each direction (a section each) and compares every row of every table.
void copy_every_row(const std::vector<Direction>& directions) {
    for (const auto& d : directions) {
        DYNAMIC_SECTION(d.name) {
            ScratchDb src(d.from, "src"), dst(d.to, "dst");
            fill_sample(src, 3000, 141, d.from_lower);
            auto s = src.connect(Side::source);
            bool strip = d.to == Engine::postgres;  // PostgreSQL cannot hold NUL bytes: they are removed (and reported)
            Content before = read_content(*s, strip);

            // The destination's schema comes from --create-schema (lower case for Bitnami).
            auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--report",
                                   "/tmp/" + dst.name() + ".jsonl"} );
            if (d.to_lower) {
                // Bitnami destinations are created separately, as their own Mattermost would.
                ScratchDb dst2(d.to, "dstlc");
                auto conn = dst2.connect();
                create_schema(*conn, *find_model(d.to, 141), true);
                auto out2 = run_mmmove({"copy", "--from", src.dsn(), "--to", dst2.dsn(), "--report", "/tmp/" + dst2.name() + ".jsonl"});
                INFO(out2.output);
                REQUIRE(out2.exit_code == 0);
                CHECK(read_catalog(*conn).table_case == TableCase::lower);
                require_same_content(before, read_content(*conn, strip));
            }
            INFO(out.output);
            REQUIRE(out.exit_code == 0);
            CHECK_THAT(out.output, Catch::Contains("Row counts match on every table."));
            auto t = dst.connect();
            Content after = read_content(*t, strip);
            require_same_content(before, after);
            CHECK(before.at("posts").size() == 3000);

            // The source is exactly as it was.
            auto s2 = src.connect(Side::source);
            require_same_content(before, read_content(*s2, strip));
            if (d.from == Engine::mysql && d.to == Engine::postgres)
                CHECK_THAT(out.output, Catch::Contains("NUL byte (PostgreSQL cannot store it), removed"));
        }
    }
}

}  // namespace

TEST_CASE("copy moves every row of every table, in all four directions and into Bitnami's lower-case tables",
          "[threads][e2e][pg][mysql]") {
    copy_every_row({
        {"PostgreSQL to PostgreSQL", Engine::postgres, Engine::postgres, false, false},
        {"MySQL to MySQL", Engine::mysql, Engine::mysql, false, false},
        {"MySQL to PostgreSQL", Engine::mysql, Engine::postgres, false, false},
        {"PostgreSQL to MySQL", Engine::postgres, Engine::mysql, false, false},
        {"PostgreSQL to Bitnami MySQL (lower case)", Engine::postgres, Engine::mysql, false, true},
    });
}

// [long]: the case above writes lower-case tables and verify's and merge's Bitnami cases read them
// (under ASan too); these further table-case pairs run in the plain and TSan suites.
TEST_CASE("copy moves every row of every table between Bitnami's lower-case and standard MySQL tables",
          "[threads][e2e][pg][mysql][long]") {
    copy_every_row({
        {"Bitnami MySQL (lower case) to PostgreSQL", Engine::mysql, Engine::postgres, true, false},
        {"Bitnami MySQL to standard MySQL (CamelCase)", Engine::mysql, Engine::mysql, true, false},
        {"standard MySQL to Bitnami MySQL", Engine::mysql, Engine::mysql, false, true},
    });
}

TEST_CASE("a same-engine MySQL copy keeps NUL bytes, and PostgreSQL to PostgreSQL moves raw COPY lines", "[e2e][mysql][pg]") {
    ScratchDb src(Engine::mysql, "nul"), dst(Engine::mysql, "nuld");
    fill_sample(src, 1200, 141, false);
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema"});
    INFO(out.output);
    REQUIRE(out.exit_code == 0);
    auto t = dst.connect();
    auto rows = t->query("SELECT COUNT(*) FROM Posts WHERE LOCATE(CHAR(0), Message) > 0");
    CHECK(std::stoi(*rows[0][0]) > 0);
    CHECK_THAT(out.output, Catch::Contains("No value needed changing."));

    ScratchDb psrc(Engine::postgres, "raw"), pdst(Engine::postgres, "rawd");
    fill_sample(psrc, 500, 141, false);
    auto pout = run_mmmove({"copy", "--from", psrc.dsn(), "--to", pdst.dsn(), "--create-schema"});
    INFO(pout.output);
    REQUIRE(pout.exit_code == 0);
    CHECK_THAT(pout.output, Catch::Contains("(raw COPY)"));
}

TEST_CASE("rows a freshly started server wrote are replaced by the source's", "[e2e][pg][mysql]") {
    ScratchDb src(Engine::mysql, "boot"), dst(Engine::postgres, "bootd");
    fill_sample(src, 300, 141, false);
    auto t = dst.connect();
    create_schema(*t, *find_model(Engine::postgres, 141), false);
    t->exec("INSERT INTO systems (name, value) VALUES ('DiagnosticId', 'destination-own-id')");
    t->exec("INSERT INTO roles (id, name, displayname, description, createat, updateat, deleteat, permissions, schememanaged, builtin) "
            "VALUES ('r1', 'system_user', 'x', '', 0, 0, 0, '', true, true)");
    auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn()});
    INFO(out.output);
    REQUIRE(out.exit_code == 0);
    auto s = src.connect(Side::source);
    auto want = s->query("SELECT Value FROM Systems WHERE Name = 'DiagnosticId'");
    auto got = t->query("SELECT value FROM systems WHERE name = 'DiagnosticId'");
    REQUIRE(got.size() == 1);
    CHECK(*got[0][0] == *want[0][0]);
    CHECK(t->query("SELECT 1 FROM roles WHERE id = 'r1'").empty());
}

TEST_CASE("secondary indexes dropped for the load come back exactly as defined", "[threads][e2e][pg][mysql]") {
    for (Engine to : {Engine::postgres, Engine::mysql}) {
        DYNAMIC_SECTION("destination " << engine_name(to)) {
            ScratchDb src(Engine::postgres, "idx"), dst(to, "idxd"), fresh(to, "idxf");
            fill_sample(src, 25000, 141, false);
            auto s = src.connect();
            s->exec("ANALYZE");  // row estimates decide which tables defer their indexes
            auto out = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--chunk-rows", "5000",
                                   "--report", "/tmp/" + dst.name() + ".jsonl"});
            INFO(out.output);
            REQUIRE(out.exit_code == 0);
            CHECK_THAT(out.output, Catch::Contains("rebuilt ") && Catch::Contains(" secondary indexes in ") && !Catch::Contains("rebuilt 0 "));
            auto d = dst.connect();
            auto f = fresh.connect();
            create_schema(*f, *find_model(to, 141), false);
            std::string got = model_to_yaml(dump_model(*d)), want = model_to_yaml(dump_model(*f));
            CHECK(got.substr(got.find("tables:")) == want.substr(want.find("tables:")));
            require_same_content(read_content(*s, false), read_content(*d, false));
        }
    }
}

TEST_CASE("progress: plain lines in a pipe, a live display on a terminal, JSON for scripts", "[threads][e2e][pg]") {
    ScratchDb src(Engine::postgres, "prog"), piped(Engine::postgres, "progp"), tty(Engine::postgres, "progt"), js(Engine::postgres, "progj");
    fill_sample(src, 20000, 141, false);
    setenv("MMMOVE_PROGRESS_SECONDS", "0.05", 1);
    auto plain = run_mmmove({"copy", "--from", src.dsn(), "--to", piped.dsn(), "--create-schema", "--jobs", "1", "--chunk-rows", "2000"});
    // `script` gives mmmove a pseudo-terminal, as an admin's shell would.
    std::string cmd = std::string(mmmove_binary()) + " copy --from '" + src.dsn() + "' --to '" + tty.dsn() +
                      "' --create-schema --jobs 1 --chunk-rows 2000";
    FILE* p = popen(("script -qec \"" + cmd + "\" /dev/null 2>&1").c_str(), "r");
    std::string screen;
    char buf[4096];
    for (size_t n; (n = fread(buf, 1, sizeof buf, p)) > 0;) screen.append(buf, n);
    int status = pclose(p);
    unsetenv("MMMOVE_PROGRESS_SECONDS");
    INFO(plain.output);
    REQUIRE(plain.exit_code == 0);
    CHECK_THAT(plain.output, Catch::Contains("progress: ") && Catch::Contains(" rows/s, ETA ") && !Catch::Contains("\033["));
    INFO(screen);
    CHECK(WEXITSTATUS(status) == 0);
    CHECK_THAT(screen, Catch::Contains("\033[K") && Catch::Contains("rows/s  ETA") && Catch::Contains("%  "));

    auto json = run_mmmove({"copy", "--from", src.dsn(), "--to", js.dsn(), "--create-schema", "--quiet", "--json"});
    INFO(json.output);
    REQUIRE(json.exit_code == 0);
    auto j = nlohmann::json::parse(json.output);
    CHECK(j["counts_match"] == true);
    CHECK(j["rows"].get<uint64_t>() > 20000);
    bool posts = false;
    for (const auto& t : j["tables"])
        if (t["table"] == "posts") posts = t["rows"] == 20000 && t["rows_in_destination"] == 20000;
    CHECK(posts);
}
