// files sync's workers on the shared worker pool: an exception in one worker (not a file that could
// not be copied, which is a reported failure, but a fault the copy cannot report) ends the sync with
// that error instead of ending the process, and the walk stops queueing files.
#include <catch2/catch.hpp>

#include "../common/test_files.h"

#include <atomic>
#include <filesystem>
#include <sstream>
#include <stdexcept>

#include "files/file_sync.h"

using namespace mmmove;
using mmmove::test::spit;
using mmmove::test::TempFolder;
namespace fs = std::filesystem;

namespace {

// Throws from the first look at a source file, as a fault deeper down (an allocation, a library) would.
class ThrowingStat : public FileSystem {
public:
    bool stat(int dir, const std::string& name, struct stat& st) override {
        if (calls_++ == 0) throw std::runtime_error("the file system went away under " + name);
        return FileSystem::stat(dir, name, st);
    }

private:
    std::atomic<int> calls_{0};
};

}  // namespace

TEST_CASE("files sync: a worker's exception ends the sync with that error, and the others stop", "[unit][workers][files][threads]") {
    constexpr int kFiles = 2000;  // many more than the queue holds: the walk waits for the workers
    TempFolder dir("sync-workers");
    for (int i = 0; i < kFiles; ++i) spit(dir.path / "data" / "files" / ("f" + std::to_string(i)), "x");
    SyncOptions o;
    o.from = dir.path / "data";
    o.to = dir.path / "copy";
    o.quiet = true;
    o.jobs = 2;
    ThrowingStat fsys;
    std::ostringstream log;
    CHECK_THROWS_WITH(sync_files(o, fsys, log), Catch::Contains("the file system went away under f"));
    size_t copied = 0;
    for (const auto& e : fs::recursive_directory_iterator(o.to))
        if (e.is_regular_file()) ++copied;
    CHECK(copied < kFiles / 2);  // the walk stopped queueing, the other worker stopped copying
}
