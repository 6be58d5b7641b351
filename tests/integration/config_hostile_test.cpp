// config merge in a config folder another account owns: planted symlinks, a symlinked
// config.json, a folder mmmove may not write to. These tests run as root, as mmmove does in production.
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include <sys/stat.h>
#include <unistd.h>

#include <ctime>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "config/config_merge.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

namespace {

constexpr uid_t kNobody = 65534;

OrderedJson source_config() {
    return parse_config_text(slurp(std::string(fixtures_dir()) + "/config-source.json"), "fixture").json;
}

// The old server's config, and a new server's config that differs from it (its own database).
void write_pair(const fs::path& old_json, const fs::path& new_json) {
    OrderedJson src = source_config();
    OrderedJson dst = src;
    dst["SqlSettings"]["DriverName"] = "postgres";
    dst["SqlSettings"]["DataSource"] = "postgres://mmuser:newDbSecret@new-db:5432/mattermost?sslmode=disable";
    dst["ServiceSettings"]["SiteURL"] = "https://chat.new.example.com";
    spit(old_json, src.dump(4));
    spit(new_json, dst.dump(4));
}

CliRun merge(const fs::path& from, const fs::path& to) {
    return run_mmmove({"config", "merge", "--from", from.string(), "--to", to.string()});
}

}  // namespace

TEST_CASE("config merge never writes through a symlink planted at a temporary or backup name", "[e2e][config]") {
    TempFolder dir("cfg-planted"), elsewhere("cfg-victim");
    write_pair(dir.path / "old.json", dir.path / "config.json");
    const fs::path victim = elsewhere.path / "victim";
    spit(victim, "root's file");
    ::chmod(victim.c_str(), 0600);
    // The names the old code used, the next seconds' backups, and plausible random-looking ones.
    std::vector<std::string> names = {"config.json.mmmove-tmp", "config.json.mmmove-tmp-", "config.json.mmmove-backup-"};
    std::time_t now = std::time(nullptr);
    for (int s = -1; s <= 5; ++s) {
        std::time_t t = now + s;
        char stamp[32];
        std::strftime(stamp, sizeof stamp, "%Y%m%dT%H%M%SZ", std::gmtime(&t));
        names.push_back(std::string("config.json.mmmove-backup-") + stamp);
        names.push_back(std::string("config.json.mmmove-backup-") + stamp + "-");
    }
    for (const char* suffix : {"000000000000", "aaaaaaaaaaaa", "XXXXXX", "1", "tmp"}) {
        names.push_back(std::string("config.json.mmmove-tmp-") + suffix);
        names.push_back(std::string(".config.json.mmmove-tmp-") + suffix);
    }
    for (const auto& n : names) fs::create_symlink(victim, dir.path / n);

    auto run = merge(dir.path / "old.json", dir.path / "config.json");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(slurp(victim) == "root's file");
    struct stat st {};
    REQUIRE(::stat(victim.c_str(), &st) == 0);
    CHECK(st.st_uid == 0);
    CHECK((st.st_mode & 0777) == 0600);
    REQUIRE(::lstat((dir.path / "config.json").c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    OrderedJson merged = OrderedJson::parse(slurp(dir.path / "config.json"));
    CHECK(merged["ServiceSettings"]["SiteURL"] == "https://chat.old.example.com");
    for (const auto& n : names) CHECK(fs::read_symlink(dir.path / n) == victim);
    int backups = 0;
    for (const auto& e : fs::directory_iterator(dir.path))
        if (!fs::is_symlink(e.symlink_status()) && e.path().filename().string().rfind("config.json.mmmove-backup-", 0) == 0) ++backups;
    CHECK(backups == 1);
}

TEST_CASE("config merge on a symlinked config.json replaces the file the link points to and keeps the link", "[e2e][config]") {
    TempFolder dir("cfg-link");
    write_pair(dir.path / "old.json", dir.path / "managed/config.json");
    ::chmod((dir.path / "managed/config.json").c_str(), 0640);
    fs::create_directories(dir.path / "config");
    fs::create_symlink("../managed/config.json", dir.path / "config/config.json");
    std::string before = slurp(dir.path / "managed/config.json");

    auto run = merge(dir.path / "old.json", dir.path / "config/config.json");
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK_THAT(run.output, Catch::Contains("the file the symlink " + (dir.path / "config/config.json").string() + " points to"));
    REQUIRE(fs::is_symlink(dir.path / "config/config.json"));
    CHECK(fs::read_symlink(dir.path / "config/config.json") == "../managed/config.json");
    OrderedJson merged = OrderedJson::parse(slurp(dir.path / "managed/config.json"));
    CHECK(merged["ServiceSettings"]["SiteURL"] == "https://chat.old.example.com");
    CHECK(merged["SqlSettings"]["DataSource"] == "postgres://mmuser:newDbSecret@new-db:5432/mattermost?sslmode=disable");
    struct stat st {};
    REQUIRE(::stat((dir.path / "managed/config.json").c_str(), &st) == 0);
    CHECK((st.st_mode & 0777) == 0640);
    int backups = 0;
    for (const auto& e : fs::directory_iterator(dir.path / "managed"))
        if (e.path().filename().string().rfind("config.json.mmmove-backup-", 0) == 0) {
            ++backups;
            CHECK(slurp(e.path()) == before);
        }
    CHECK(backups == 1);
}

TEST_CASE("config merge refuses a config.json link that another account pointed at a file it does not own", "[e2e][config]") {
    TempFolder dir("cfg-hostile-link"), elsewhere("cfg-root-json");
    write_pair(dir.path / "old.json", elsewhere.path / "settings.json");  // root's own JSON file
    ::chmod((elsewhere.path / "settings.json").c_str(), 0600);
    std::string before = slurp(elsewhere.path / "settings.json");
    fs::create_symlink(elsewhere.path / "settings.json", dir.path / "config.json");
    REQUIRE(::lchown((dir.path / "config.json").c_str(), kNobody, kNobody) == 0);  // planted by the Mattermost account

    for (const char* flag : {"--to", "--from"}) {
        auto run = std::string(flag) == "--to" ? merge(dir.path / "old.json", dir.path / "config.json")
                                               : merge(dir.path / "config.json", dir.path / "old.json");
        INFO(run.output);
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.output, Catch::Contains("is a symlink to " + (elsewhere.path / "settings.json").string()) &&
                                   Catch::Contains("does not own") && !Catch::Contains("internal error"));
    }
    CHECK(slurp(elsewhere.path / "settings.json") == before);
    CHECK(std::distance(fs::directory_iterator(elsewhere.path), fs::directory_iterator()) == 1);
}

TEST_CASE("config merge into a folder mmmove may not write names the folder and says what to do", "[e2e][config]") {
    TempFolder dir("cfg-readonly");
    write_pair(dir.path / "old.json", dir.path / "config/config.json");
    ::chmod((dir.path / "config").c_str(), 0755);  // root's folder: others may read, not write
    ::chmod((dir.path / "config/config.json").c_str(), 0644);
    std::string before = slurp(dir.path / "config/config.json");

    auto run = run_mmmove_as_nobody({"config", "merge", "--from", (dir.path / "old.json").string(), "--to", (dir.path / "config/config.json").string()});
    INFO(run.output);
    CHECK(run.exit_code == 4);
    CHECK_THAT(run.output, Catch::Contains("may not create files in " + (dir.path / "config").string()) &&
                               Catch::Contains("run mmmove as root or as the account that owns that folder") &&
                               Catch::Contains("is unchanged") && !Catch::Contains("internal error"));
    CHECK(slurp(dir.path / "config/config.json") == before);
    CHECK(std::distance(fs::directory_iterator(dir.path / "config"), fs::directory_iterator()) == 1);
}

TEST_CASE("config merge refuses a config.json nested 100,000 levels deep instead of crashing", "[e2e][config]") {
    TempFolder dir("cfg-deep");
    write_pair(dir.path / "old.json", dir.path / "config.json");
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "{\"PluginSettings\":";
    spit(dir.path / "deep.json", deep + "{}" + std::string(100000, '}'));
    std::string before = slurp(dir.path / "config.json");
    for (bool deep_is_source : {true, false}) {
        auto run = deep_is_source ? merge(dir.path / "deep.json", dir.path / "config.json") : merge(dir.path / "old.json", dir.path / "deep.json");
        INFO(run.output);
        CHECK(run.exit_code == 2);
        CHECK_THAT(run.output, Catch::Contains((dir.path / "deep.json").string() + " nests settings more than 64 levels deep"));
    }
    CHECK(slurp(dir.path / "config.json") == before);
}

TEST_CASE("config merge carries a config with 200,000 plugin settings (about 20 MB) correctly", "[e2e][config][long]") {
    TempFolder dir("cfg-large");
    OrderedJson src = source_config(), dst = src;
    dst["SqlSettings"]["DataSource"] = "postgres://mmuser:newDbSecret@new-db:5432/mattermost?sslmode=disable";
    dst["SqlSettings"]["DriverName"] = "postgres";
    dst["PluginSettings"]["Plugins"] = {{"com.example.only-on-new", {{"Enable", true}}}};
    std::string plugins;
    for (int i = 0; i < 200000; ++i) {
        std::string id = "com.example.plugin-" + std::to_string(i);
        plugins += (i ? ",\n" : "") + std::string("\"") + id + "\": {\"Enable\": true, \"ChannelId\": \"" + std::string(26, 'c') +
                   "\", \"Webhook\": \"https://hooks.example.com/" + id + "\", \"Index\": " + std::to_string(i) + "}";
    }
    std::string src_text = src.dump(4);
    const std::string marker = "\"com.mattermost.calls\": {";
    size_t at = src_text.find(marker);
    REQUIRE(at != std::string::npos);
    src_text.insert(at, plugins + ",\n");
    REQUIRE(src_text.size() > 20'000'000);
    spit(dir.path / "old.json", src_text);
    spit(dir.path / "config.json", dst.dump(4));

    auto run = merge(dir.path / "old.json", dir.path / "config.json");
    INFO(run.output.substr(run.output.size() > 2000 ? run.output.size() - 2000 : 0));
    REQUIRE(run.exit_code == 0);
    OrderedJson merged = parse_config_text(slurp(dir.path / "config.json"), "merged").json;
    const OrderedJson& merged_plugins = merged["PluginSettings"]["Plugins"];
    CHECK(merged_plugins.size() == 200002);  // the destination's own plugin, then the source's, in its order
    CHECK(merged_plugins.begin().key() == "com.example.only-on-new");
    CHECK((++merged_plugins.begin()).key() == "com.example.plugin-0");
    CHECK(merged_plugins.back() == OrderedJson{{"defaultenabled", true}});
    CHECK(merged_plugins.at("com.example.plugin-123456")["Index"] == 123456);
    CHECK(merged_plugins.at("com.example.plugin-199999")["Webhook"] == "https://hooks.example.com/com.example.plugin-199999");
    CHECK(merged["SqlSettings"]["DataSource"] == dst["SqlSettings"]["DataSource"]);
    CHECK(merged["ServiceSettings"]["SiteURL"] == src["ServiceSettings"]["SiteURL"]);
}
