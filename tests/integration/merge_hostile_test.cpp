// mmmove merge against what it reads back, on real servers: an ID map planted in a killed merge's
// checkpoint (a path where an id belongs, an unknown table, a bad flag), or a table treatment planted
// in its saved plan, refuses the resume before anything is written, wherever the files would have
// gone; a symlink beneath --files-to is never followed.
#include <catch2/catch.hpp>

#include <filesystem>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

namespace {

size_t files_under(const fs::path& dir) {
    size_t n = 0;
    std::error_code ec;
    for (auto it = fs::recursive_directory_iterator(dir, ec); it != fs::recursive_directory_iterator(); it.increment(ec))
        if (it->is_regular_file(ec)) ++n;
    return n;
}

}  // namespace

TEST_CASE("a resumed merge refuses an ID map that would steer its file writes and follows no symlink beneath --files-to",
          "[e2e][merge][resume]") {
    ScratchDb src(Engine::postgres, "mhs"), dst(Engine::postgres, "mhd");
    fill_sample(src, 10000, 141, false, 1, false);
    fill_sample(dst, 2000, 141, false, 2, false);
    auto s = src.connect();
    auto d = dst.connect();
    const std::string nine_src = query_one(*s, "SELECT Id FROM users WHERE Username = 'user9'");
    const std::string nine_dst = query_one(*d, "SELECT Id FROM users WHERE Username = 'user9'");
    REQUIRE(nine_src != nine_dst);
    std::string theirs;  // a person only the source has: their folder is new to the destination
    for (auto& r : d->query("SELECT Username FROM users")) theirs += (theirs.empty() ? "" : ", ") + s->quote_literal(*r[0]);
    const std::string newcomer = query_one(*s, "SELECT MIN(Id) FROM users WHERE Username NOT IN (" + theirs + ")");
    REQUIRE(newcomer.size() == 26);
    TempFolder files_src("mh-files-src"), files_dst("mh-files-dst"), outside("mh-outside");
    spit(files_src.path / "users" / nine_src / "profile.png", "source nine");
    spit(files_src.path / "users" / newcomer / "profile.png", "newcomer");
    spit(files_src.path / "20240131/teams/t/channels/c/users/u/f1/a.txt", "source a");
    // Short enough for a users.id column (26 characters with "../../../../tmp/"), so the rows take it as
    // they would take any id and only the files show where it leads.
    const fs::path marker = fs::path("/tmp") / ("mmpl" + std::to_string(getpid() % 1000000));
    fs::remove_all(marker);

    std::vector<std::string> args{"merge", "--from", src.dsn(), "--to", dst.dsn(), "--jobs", "1", "--chunk-rows", "250", "--quiet",
                                  "--files-from", files_src.path.string(), "--files-to", files_dst.path.string()};
    kill_mid_run(args, dst, 3);
    fs::remove("/tmp/" + dst.name() + ".out");
    const std::string where = " WHERE table_name = 'users' AND source_id = " + d->quote_literal(nine_src);
    REQUIRE(query_one(*d, "SELECT dest_id FROM mmmove_merge_ids" + where) == nine_dst);
    const std::string before = merge_counts(*d);
    const uint64_t chunks = committed_chunks(*d);
    auto resume = args;
    resume.push_back("--resume");

    // Each planted value, and what the refusal says. The first is the attack: a person only the source
    // has, "renumbered" to a path, whose profile folder would be made where the path leads.
    const std::string path = d->quote_literal("../../../../tmp/" + marker.filename().string());
    const std::string update = "UPDATE mmmove_merge_ids SET ";
    const std::vector<std::pair<std::string, std::string>> planted = {
        {"INSERT INTO mmmove_merge_ids (table_name, source_id, dest_id, matched) VALUES ('users', " + d->quote_literal(newcomer) + ", " +
             path + ", 0)",
         "whose dest_id \"../../../../tmp/"},
        {update + "dest_id = " + path + where, "whose dest_id"},
        {update + "source_id = " + path + where, "whose source_id"},
        {update + "table_name = '../../etc'" + where, "for table \"../../etc\", which this merge does not map"},
        {update + "matched = 7" + where, "whose matched flag is \"7\""},
        {update + "dest_id = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ'" + where, "is not a Mattermost id"},
        {update + "dest_id = 'ab/cdefghijklmnopqrstuvwxy'" + where, "is not a Mattermost id"}};
    for (const auto& [sql, says] : planted) {
        INFO(sql);
        d->exec(sql);
        auto run = run_mmmove(resume);
        INFO(run.output);
        CHECK(run.exit_code == 4);
        CHECK_THAT(run.output, Catch::Contains("mmmove_merge_ids") && Catch::Contains(says) &&
                                   Catch::Contains("Start the merge again on a destination restored from its backup"));
        CHECK_FALSE(fs::exists(fs::symlink_status(marker)));
        CHECK(files_under(files_dst.path) == 0);  // nothing written, not even the files it may write
        CHECK(merge_counts(*d) == before);
        CHECK(committed_chunks(*d) == chunks);
        fs::remove_all(marker);
        d->exec("DELETE FROM mmmove_merge_ids WHERE source_id IN (" + d->quote_literal(nine_src) + ", " + d->quote_literal(newcomer) +
                ", " + path + ")");
        d->exec("INSERT INTO mmmove_merge_ids (table_name, source_id, dest_id, matched) VALUES ('users', " + d->quote_literal(nine_src) +
                ", " + d->quote_literal(nine_dst) + ", 1)");
    }

    // The saved plan is read back as data too: a table treatment mmmove does not write refuses the resume.
    const std::string plan = "UPDATE mmmove_copy_state SET value = REPLACE(value, ";
    d->exec(plan + "'\"skip_existing_keys\"', '\"DROP TABLE posts\"') WHERE name = 'plan'");
    REQUIRE_THAT(query_one(*d, "SELECT value FROM mmmove_copy_state WHERE name = 'plan'"), Catch::Contains("DROP TABLE posts"));
    {
        auto refused = run_mmmove(resume);
        INFO(refused.output);
        CHECK(refused.exit_code == 4);
        CHECK_THAT(refused.output, Catch::Contains("the treatment \"DROP TABLE posts\", which this mmmove does not write"));
        CHECK(files_under(files_dst.path) == 0);
        CHECK(merge_counts(*d) == before);
        CHECK(committed_chunks(*d) == chunks);
    }
    d->exec(plan + "'\"DROP TABLE posts\"', '\"skip_existing_keys\"') WHERE name = 'plan'");

    // The map as mmmove wrote it resumes; the destination's users folder, swapped for a symlink to a
    // folder outside, is not followed: what would land there is refused, and the rest arrives.
    fs::create_symlink(outside.path, files_dst.path / "users");
    auto run = run_mmmove(resume);
    INFO(run.output);
    CHECK(run.exit_code == 0);
    CHECK_THAT(run.output, Catch::Contains("Merged (resumed)"));
    CHECK(files_under(outside.path) == 0);
    CHECK(fs::is_symlink(files_dst.path / "users"));
    CHECK(slurp(files_dst.path / "20240131/teams/t/channels/c/users/u/f1/a.txt") == "source a");
    CHECK_THAT(run.output, Catch::Contains("1 refused"));
    CHECK_FALSE(fs::exists(fs::symlink_status(marker)));
}
