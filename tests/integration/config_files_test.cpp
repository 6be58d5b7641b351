// config merge and files sync on real files, real folders and real databases.
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "catalog/schema_model.h"
#include "config/config_merge.h"
#include "files/file_sync.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

namespace {

OrderedJson destination_config(const OrderedJson& src) {
    OrderedJson dst = src;
    dst["SqlSettings"]["DriverName"] = "postgres";
    dst["SqlSettings"]["DataSource"] = "postgres://mmuser:newDbSecret@new-db:5432/mattermost?sslmode=disable";
    dst["SqlSettings"]["DataSourceReplicas"] = OrderedJson::array();
    dst["ServiceSettings"]["ListenAddress"] = ":9065";
    dst["ServiceSettings"]["SiteURL"] = "https://chat.new.example.com";
    dst["EmailSettings"]["SMTPPassword"] = "newSmtpSecret";
    dst["TeamSettings"]["MaxUsersPerTeam"] = 999;
    return dst;
}

// A FileSystem whose writes fail after `budget` bytes, like a full disk or a process killed mid-copy.
class FailingWrites : public FileSystem {
public:
    explicit FailingWrites(size_t budget) : budget_(budget) {}
    ssize_t write(int fd, const void* buf, size_t n) override {
        if (budget_ == 0) {
            errno = ENOSPC;
            return -1;
        }
        size_t k = std::min(n, budget_);
        budget_ -= k;
        return FileSystem::write(fd, buf, k);
    }

private:
    size_t budget_;
};

SyncOptions options(const TempFolder& src, const TempFolder& dst) {
    SyncOptions o;
    o.from = src.path / "data";
    o.to = dst.path / "data";
    o.quiet = true;
    o.jobs = 2;
    return o;
}

}  // namespace

TEST_CASE("config merge on files: dry run writes nothing, the merge keeps the destination's database and backs up", "[e2e][config]") {
    TempFolder dir("config");
    OrderedJson src = parse_config_text(slurp(std::string(fixtures_dir()) + "/config-source.json"), "fixture").json;
    OrderedJson dst = destination_config(src);
    spit(dir.path / "old.json", src.dump(4));
    spit(dir.path / "new.json", dst.dump(4));
    ::chmod((dir.path / "new.json").c_str(), 0640);
    std::string before = slurp(dir.path / "new.json");

    auto dry = run_mmmove({"config", "merge", "--from", (dir.path / "old.json").string(), "--to", (dir.path / "new.json").string(), "--dry-run"});
    INFO(dry.output);
    REQUIRE(dry.exit_code == 0);
    CHECK(slurp(dir.path / "new.json") == before);
    CHECK_THAT(dry.output, Catch::Contains("ServiceSettings.SiteURL: \"https://chat.new.example.com\" -> \"https://chat.old.example.com\""));
    CHECK_THAT(dry.output, Catch::Contains("EmailSettings.SMTPPassword: **** -> ****") && Catch::Contains("TeamSettings.MaxUsersPerTeam: 999 -> 50"));
    for (const char* secret : {"newSmtpSecret", "smtpOldSecret", "newDbSecret", "oldSecret"}) CHECK_THAT(dry.output, !Catch::Contains(secret));

    auto run = run_mmmove({"config", "merge", "--from", (dir.path / "old.json").string(), "--to", (dir.path / "new.json").string()});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    OrderedJson merged = OrderedJson::parse(slurp(dir.path / "new.json"));
    CHECK(merged["SqlSettings"]["DataSource"] == dst["SqlSettings"]["DataSource"]);
    CHECK(merged["SqlSettings"]["DriverName"] == "postgres");
    CHECK(merged["SqlSettings"]["DataSourceReplicas"] == OrderedJson::array());
    CHECK(merged["ServiceSettings"]["ListenAddress"] == ":9065");
    CHECK(merged["ServiceSettings"]["SiteURL"] == "https://chat.old.example.com");
    CHECK(merged["EmailSettings"]["SMTPPassword"] == "smtpOldSecret");
    CHECK(merged["SqlSettings"]["AtRestEncryptKey"] == src["SqlSettings"]["AtRestEncryptKey"]);
    struct stat st {};
    ::stat((dir.path / "new.json").c_str(), &st);
    CHECK((st.st_mode & 0777) == 0640);
    int backups = 0;
    for (const auto& e : fs::directory_iterator(dir.path))
        if (e.path().filename().string().rfind("new.json.mmmove-backup-", 0) == 0) {
            ++backups;
            CHECK(slurp(e.path()) == before);
        }
    CHECK(backups == 1);
    CHECK_FALSE(fs::exists(dir.path / "new.json.mmmove-tmp"));

    // A merged config whose DriverName disagrees with its DataSource is not written.
    dst["SqlSettings"]["DriverName"] = "mysql";
    spit(dir.path / "bad.json", dst.dump(4));
    std::string bad_before = slurp(dir.path / "bad.json");
    auto mismatch = run_mmmove({"config", "merge", "--from", (dir.path / "old.json").string(), "--to", (dir.path / "bad.json").string()});
    CHECK(mismatch.exit_code == 2);
    CHECK_THAT(mismatch.output, Catch::Contains("DriverName is \"mysql\" but SqlSettings.DataSource is a PostgreSQL DSN"));
    CHECK(slurp(dir.path / "bad.json") == bad_before);

    spit(dir.path / "broken.json", "{\n  \"SqlSettings\": {\n    \"DriverName\": \"postgres\"\n  \n");
    auto broken = run_mmmove({"config", "merge", "--from", (dir.path / "broken.json").string(), "--to", (dir.path / "new.json").string()});
    CHECK(broken.exit_code == 2);
    CHECK_THAT(broken.output, Catch::Contains("broken.json is not valid JSON: error at line"));
}

TEST_CASE("config merge round-trips a database-stored configuration", "[e2e][config][pg][mysql]") {
    for (Engine engine : {Engine::postgres, Engine::mysql}) {
        DYNAMIC_SECTION(engine_name(engine)) {
            ScratchDb store(engine, "cfg");
            auto db = store.connect();
            bool pg = engine == Engine::postgres;
            // The configuration store's tables, as Mattermost's config migrations create them.
            db->exec(pg ? "CREATE TABLE configurations (id varchar(26) PRIMARY KEY, value text NOT NULL, createat bigint NOT NULL, "
                          "active boolean UNIQUE, sha char(64) DEFAULT '' NOT NULL)"
                        : "CREATE TABLE Configurations (Id varchar(26) PRIMARY KEY, Value mediumtext NOT NULL, CreateAt bigint NOT NULL, "
                          "Active tinyint(1) UNIQUE, SHA char(64) NOT NULL DEFAULT '')");
            OrderedJson src = parse_config_text(slurp(std::string(fixtures_dir()) + "/config-source.json"), "fixture").json;
            OrderedJson dst = destination_config(src);
            db->exec(std::string("INSERT INTO ") + (pg ? "configurations" : "Configurations") +
                     " (id, value, createat, active) VALUES ('oldrow', " + db->quote_literal(dst.dump(4)) + ", 1, TRUE)");
            TempFolder dir("cfgdb");
            spit(dir.path / "old.json", src.dump(4));
            std::string dsn = (pg ? "" : "mysql://") + store.dsn();
            auto run = run_mmmove({"config", "merge", "--from", (dir.path / "old.json").string(), "--to", dsn});
            INFO(run.output);
            REQUIRE(run.exit_code == 0);
            CHECK_THAT(run.output, Catch::Contains("the previous row stays in Configurations, inactive"));
            auto rows = db->query(std::string("SELECT id, value, sha FROM ") + (pg ? "configurations" : "Configurations") + " WHERE active");
            REQUIRE(rows.size() == 1);
            CHECK(*rows[0][0] != "oldrow");
            OrderedJson merged = OrderedJson::parse(*rows[0][1]);
            CHECK(merged["SqlSettings"]["DataSource"] == dst["SqlSettings"]["DataSource"]);
            CHECK(merged["ServiceSettings"]["SiteURL"] == "https://chat.old.example.com");
            CHECK(rows[0][2]->size() == 64);
            auto old = db->query(std::string("SELECT active FROM ") + (pg ? "configurations" : "Configurations") + " WHERE id = 'oldrow'");
            REQUIRE(old.size() == 1);
            CHECK_FALSE(old[0][0].has_value());
            // Reading it back as a source gives the same settings.
            auto back = run_mmmove({"config", "merge", "--from", dsn, "--to", (dir.path / "old.json").string(), "--dry-run"});
            INFO(back.output);
            CHECK(back.exit_code == 0);
        }
    }
}

TEST_CASE("files sync copies new and changed files, keeps mtimes and modes, and skips unchanged ones", "[threads][e2e][files]") {
    TempFolder src("sync-src"), dst("sync-dst");
    spit(src.path / "data/20240131/teams/t1/channels/c1/users/u1/f1/report.pdf", std::string(300000, 'p'));
    spit(src.path / "data/users/u1/profile.png", "png-bytes");
    spit(src.path / "data/emoji/e1/image", "gif");
    ::chmod((src.path / "data/users/u1/profile.png").c_str(), 0600);
    SyncOptions o = options(src, dst);
    std::ostringstream log;
    SyncResult r = sync_files(o, real_file_system(), log);
    CHECK(r.copied == 3);
    CHECK(r.failed.empty());
    CHECK(slurp(dst.path / "data/users/u1/profile.png") == "png-bytes");
    struct stat a {}, b {};
    ::stat((src.path / "data/users/u1/profile.png").c_str(), &a);
    ::stat((dst.path / "data/users/u1/profile.png").c_str(), &b);
    CHECK((b.st_mode & 0777) == 0600);
    CHECK(b.st_mtim.tv_sec == a.st_mtim.tv_sec);
    CHECK(b.st_mtim.tv_nsec == a.st_mtim.tv_nsec);

    SyncResult again = sync_files(o, real_file_system(), log);
    CHECK(again.copied == 0);
    CHECK(again.unchanged == 3);

    // Same size, same mtime, other content: only --checksum sees it.
    fs::path f = src.path / "data/emoji/e1/image";
    auto mtime = fs::last_write_time(f);
    spit(f, "GIF");
    fs::last_write_time(f, mtime);
    CHECK(sync_files(o, real_file_system(), log).copied == 0);
    o.checksum = true;
    CHECK(sync_files(o, real_file_system(), log).copied == 1);
    CHECK(slurp(dst.path / "data/emoji/e1/image") == "GIF");

    // --delete removes only what the source lacks, and only when asked.
    spit(dst.path / "data/stray.txt", "x");
    o.checksum = false;
    CHECK(sync_files(o, real_file_system(), log).deleted == 0);
    CHECK(fs::exists(dst.path / "data/stray.txt"));
    o.remove_extra = true;
    CHECK(sync_files(o, real_file_system(), log).deleted == 1);
    CHECK_FALSE(fs::exists(dst.path / "data/stray.txt"));
    CHECK(fs::exists(dst.path / "data/users/u1/profile.png"));
}

TEST_CASE("an interrupted sync never leaves a truncated or emptied file, and the next run finishes it", "[e2e][files]") {
    TempFolder src("int-src"), dst("int-dst");
    std::string big(3 << 20, 'n'), old_version(1 << 20, 'o');
    spit(src.path / "data/big.bin", big);
    spit(dst.path / "data/big.bin", old_version);
    SyncOptions o = options(src, dst);
    std::ostringstream log;
    FailingWrites faulty(1 << 20);  // dies a third of the way through
    SyncResult r = sync_files(o, faulty, log);
    REQUIRE(r.failed.size() == 1);
    CHECK_THAT(r.failed[0], Catch::Contains("big.bin") && Catch::Contains("the destination file is unchanged"));
    CHECK(slurp(dst.path / "data/big.bin") == old_version);
    for (const auto& e : fs::recursive_directory_iterator(dst.path)) CHECK_THAT(e.path().string(), !Catch::Contains("mmmove-tmp"));

    // A temporary file a killed run left behind is removed, never promoted.
    spit(dst.path / "data/.big.bin.mmmove-tmp-1-1", big.substr(0, 1000));
    SyncResult done = sync_files(o, real_file_system(), log);
    CHECK(done.copied == 1);
    CHECK(slurp(dst.path / "data/big.bin") == big);
    CHECK_FALSE(fs::exists(dst.path / "data/.big.bin.mmmove-tmp-1-1"));
}

TEST_CASE("files sync refuses symlinks that escape, and never writes through a destination symlink", "[e2e][files]") {
    TempFolder src("sym-src"), dst("sym-dst"), outside("sym-outside");
    spit(src.path / "data/users/u1/profile.png", "ok");
    spit(outside.path / "secret.txt", "outside");
    fs::create_symlink(outside.path / "secret.txt", src.path / "data/users/u1/escape.png");
    fs::create_symlink(outside.path, src.path / "data/linkdir");
    spit(src.path / "data/teams/t1/teamIcon.png", "icon");
    fs::create_directories(dst.path / "data");
    fs::create_symlink(outside.path, dst.path / "data/teams");  // a planted link in the destination
    SyncOptions o = options(src, dst);
    std::ostringstream log;
    SyncResult r = sync_files(o, real_file_system(), log);
    std::string refused;
    for (const auto& s : r.refused) refused += s + "\n";
    CHECK_THAT(refused, Catch::Contains("users/u1/escape.png: a symlink that reaches outside the source directory (refused)"));
    CHECK_THAT(refused, Catch::Contains("linkdir: a symlink that reaches outside"));
    CHECK_THAT(refused, Catch::Contains("teams/t1/teamIcon.png: the destination folder") && Catch::Contains("is a symlink"));
    CHECK_FALSE(fs::exists(outside.path / "t1"));
    CHECK_FALSE(fs::exists(dst.path / "data/users/u1/escape.png"));
    CHECK(slurp(dst.path / "data/users/u1/profile.png") == "ok");
    CHECK(unsafe_relative_path("../../etc/passwd"));
    CHECK(unsafe_relative_path("/etc/passwd"));
    CHECK_FALSE(unsafe_relative_path("20240131/teams/x/a..b.png"));
}

TEST_CASE("files sync --db reports every referenced file missing on either side and refuses hostile paths", "[e2e][files][pg]") {
    ScratchDb db(Engine::postgres, "filesdb");
    auto conn = db.connect();
    create_schema(*conn, *find_model(Engine::postgres, 141), false);
    conn->exec("INSERT INTO fileinfo (id, creatorid, postid, createat, updateat, deleteat, path, thumbnailpath, previewpath, name) VALUES "
               "('f1', 'u1', 'p1', 1, 1, 0, '20240131/teams/t/channels/c/users/u1/f1/a.png', '20240131/teams/t/channels/c/users/u1/f1/a_thumb.jpg', '', 'a.png'),"
               "('f2', 'u1', 'p2', 1, 1, 0, '20240131/teams/t/channels/c/users/u1/f2/gone.pdf', '', '', 'gone.pdf'),"
               "('f3', 'u1', 'p3', 1, 1, 0, '../../etc/passwd', '/etc/shadow', '', 'x'),"
               "('f4', 'u1', 'p4', 1, 1, 5, 'deleted/long/ago.txt', '', '', 'y')");
    conn->exec("INSERT INTO users (id, username, email, lastpictureupdate) VALUES ('u1', 'a', 'a@x', 1700000000000), ('u2', 'b', 'b@x', 0)");
    conn->exec("INSERT INTO emoji (id, name, createat, updateat, deleteat, creatorid) VALUES ('e1', 'party', 1, 1, 0, 'u1')");
    TempFolder src("refs-src"), dst("refs-dst");
    spit(src.path / "data/20240131/teams/t/channels/c/users/u1/f1/a.png", "a");
    spit(src.path / "data/20240131/teams/t/channels/c/users/u1/f1/a_thumb.jpg", "t");
    spit(src.path / "data/users/u1/profile.png", "p");
    auto run = run_mmmove({"files", "sync", "--from", (src.path / "data").string(), "--to", (dst.path / "data").string(), "--db", db.dsn(), "--quiet"});
    INFO(run.output);
    CHECK(run.exit_code == 5);
    CHECK_THAT(run.output, Catch::Contains("Copied 3 files") && Catch::Contains("The database references 7 files."));
    CHECK_THAT(run.output, Catch::Contains("missing in the source directory: 2") && Catch::Contains("f2/gone.pdf") &&
                               Catch::Contains("emoji/e1/image"));
    CHECK_THAT(run.output, Catch::Contains("refused paths in the database: 2") && Catch::Contains("../../etc/passwd climbs out") &&
                               Catch::Contains("/etc/shadow is absolute"));
    CHECK_THAT(run.output, !Catch::Contains("deleted/long/ago.txt"));
    CHECK(slurp(dst.path / "data/users/u1/profile.png") == "p");
}

TEST_CASE("sample data with its files syncs with no referenced file missing", "[e2e][files][mysql]") {
    ScratchDb db(Engine::mysql, "samplefiles");
    TempFolder src("sf-src"), dst("sf-dst");
    auto run = run_mmmove({"sample", "--to", db.dsn(), "--posts", "2000", "--create-schema", "141", "--files", (src.path / "data").string()});
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    auto sync = run_mmmove({"files", "sync", "--from", (src.path / "data").string(), "--to", (dst.path / "data").string(), "--db", db.dsn()});
    INFO(sync.output);
    CHECK(sync.exit_code == 0);
    CHECK_THAT(sync.output, Catch::Contains("The database references") && !Catch::Contains("missing"));
}
