// An incremental refresh of a table whose key the stage masks (Reactions.EmojiName), cut into several
// chunks: the masked-key path's whole-table shortcut (nothing stamped since the last refresh, and the
// same masked keys on both sides: the table is as the last refresh left it) must not hide a reaction
// deleted outright or one added with an old stamp, neither of which stamps a row.
#include <catch2/catch.hpp>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

constexpr int kChunkRows = 10;

// An incremental refresh job with a verify step (every row compared through the masks: exit 7 when
// the refresh left one different) and small chunks; its summary is summary.json.
void write_job(const TempFolder& dir, const ScratchDb& src, const ScratchDb& dst) {
    spit(dir.path / "job.yaml", "job: test-masked-keys\nmode: refresh\n"
                                "source:\n  database: " + src.dsn() + "\n"
                                "destination:\n  database: " + dst.dsn() + "\n"
                                "steps: [check, copy, anonymise, verify]\n"
                                "copy:\n  create_schema: true\n  jobs: 1\n  incremental: true\n  chunk_rows: " +
                                std::to_string(kChunkRows) + "\n"
                                "anonymise:\n  key_env: MMMOVE_TEST_ANON_KEY\n"
                                "lock: " + (dir.path / "job.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
                                "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
}

nlohmann::json run_job(const TempFolder& dir) {
    setenv("MMMOVE_TEST_ANON_KEY", "test-key-0123456789abcdef-not-for-production", 1);
    CliRun r = run_mmmove({"run", (dir.path / "job.yaml").string(), "--quiet"});
    INFO(r.output.substr(0, 4000));
    REQUIRE(r.exit_code == 0);
    auto j = nlohmann::json::parse(slurp(dir.path / "summary.json"), nullptr, false);
    REQUIRE_FALSE(j.is_discarded());
    return j;
}

uint64_t table_rows(const nlohmann::json& summary, const std::string& table) {
    for (const auto& t : summary["tables"])
        if (t["table"] == table) return t["rows"].get<uint64_t>();
    return 0;
}

}  // namespace

TEST_CASE("an incremental refresh finds unstamped reaction changes in a table of several chunks", "[e2e][run][incremental][pg]") {
    ScratchDb src(Engine::postgres, "imk"), dst(Engine::postgres, "imd");
    fill_sample(src, 150, 141, false, 1, false);
    auto s = src.connect(Side::source);
    REQUIRE(std::stoi(query_one(*s, "SELECT COUNT(*) FROM reactions")) > 3 * kChunkRows);  // several chunks
    TempFolder dir("incremental-masked-keys");
    write_job(dir, src, dst);
    CHECK(run_job(dir)["incremental"] == false);  // the first: a full refresh

    // Neither change stamps a row: a reaction deleted outright, and one added with the old stamps of
    // the row it copies (its emoji is new, so its masked key is too).
    s->exec("DELETE FROM reactions WHERE (postid, userid, emojiname) IN (SELECT postid, userid, emojiname FROM reactions "
            "ORDER BY postid DESC, userid, emojiname LIMIT 1)");
    s->exec("INSERT INTO reactions SELECT userid, postid, 'masked_keys_old_stamp', createat, updateat, deleteat, remoteid, channelid "
            "FROM reactions ORDER BY postid, userid, emojiname LIMIT 1");

    auto second = run_job(dir);  // its verify step fails (exit 7) if the refresh left a reaction behind
    CHECK(second["incremental"] == true);
    CHECK(table_rows(second, "reactions") == 2);
    CHECK(query_one(*dst.connect(), "SELECT COUNT(*) FROM reactions") == query_one(*s, "SELECT COUNT(*) FROM reactions"));
}
