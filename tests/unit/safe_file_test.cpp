// Files created in folders another account owns: never through a link, never over an existing file.
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "core/safe_file.h"

using namespace mmmove;
using mmmove::test::slurp;
using mmmove::test::spit;
using mmmove::test::TempFolder;
namespace fs = std::filesystem;

TEST_CASE("create_new_file refuses a planted symlink and an existing file, and creates a new one", "[unit]") {
    TempFolder dir("create-new");
    std::ofstream(dir.path / "victim") << "victim";
    fs::create_symlink(dir.path / "victim", dir.path / "report.jsonl");
    CHECK_THROWS_WITH(create_new_file((dir.path / "report.jsonl").string(), 0600),
                      Catch::Contains("report.jsonl is a symlink; mmmove never writes through a link"));
    fs::create_symlink(dir.path / "nowhere", dir.path / "dangling.jsonl");
    CHECK_THROWS_WITH(create_new_file((dir.path / "dangling.jsonl").string(), 0600), Catch::Contains("is a symlink"));
    CHECK_FALSE(fs::exists(dir.path / "nowhere"));
    CHECK(slurp(dir.path / "victim") == "victim");
    try {
        create_new_file((dir.path / "victim").string(), 0600);
        FAIL("an existing file was opened");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        CHECK_THAT(e.what(), Catch::Contains("victim already exists; mmmove never overwrites a file"));
    }
    FileHandle fd(create_new_file((dir.path / "new.jsonl").string(), 0640));
    write_all(fd.get(), "line\n", "new.jsonl");
    CHECK(slurp(dir.path / "new.jsonl") == "line\n");
    CHECK_THROWS_WITH(create_new_file((dir.path / "no-such-folder/x").string(), 0600), Catch::Contains("mmmove cannot create"));
}

TEST_CASE("replace_file_atomically swaps the contents in place and leaves no temporary file", "[unit]") {
    TempFolder dir("replace");
    std::ofstream(dir.path / "config.json") << "old";
    FileHandle folder = open_folder_without_links(fs::canonical(dir.path).string());
    FileAttributes attrs;
    attrs.mode = 0640;
    replace_file_atomically(folder.get(), dir.path.string(), "config.json", "new contents", attrs);
    CHECK(slurp(dir.path / "config.json") == "new contents");
    struct stat st {};
    REQUIRE(::lstat((dir.path / "config.json").c_str(), &st) == 0);
    CHECK(S_ISREG(st.st_mode));
    CHECK((st.st_mode & 0777) == 0640);
    int entries = 0;
    for ([[maybe_unused]] const auto& e : fs::directory_iterator(dir.path)) ++entries;
    CHECK(entries == 1);
}

TEST_CASE("open_folder_without_links refuses a folder that is a symlink", "[unit]") {
    TempFolder dir("nolinks");
    fs::create_directories(dir.path / "real");
    fs::create_symlink(dir.path / "real", dir.path / "link");
    std::string base = fs::canonical(dir.path).string();
    CHECK(open_folder_without_links(base + "/real"));
    CHECK_THROWS_WITH(open_folder_without_links(base + "/link"), Catch::Contains("was replaced by a symlink"));
}
