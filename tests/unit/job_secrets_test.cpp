// Where a job's secrets come from: an environment variable or a private file, never the job file.
#include <catch2/catch.hpp>

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>

#include "core/error.h"
#include "job/secrets_source.h"

using namespace mmmove;

namespace {

std::string temp_file(const std::string& name, const std::string& contents, mode_t mode) {
    std::string path = "/tmp/mmmove-secret-test-" + std::to_string(getpid()) + "-" + name;
    ::unlink(path.c_str());
    std::ofstream(path) << contents;
    ::chmod(path.c_str(), mode);
    return path;
}

}  // namespace

TEST_CASE("read_secret takes a secret from a variable or a private file, never printing it", "[job]") {
    ::setenv("MMMOVE_JOB_TEST_KEY", "s3cret-value\n", 1);
    CHECK(read_secret("MMMOVE_JOB_TEST_KEY", "", "the key") == "s3cret-value");
    ::unsetenv("MMMOVE_JOB_TEST_KEY");
    CHECK_THROWS_WITH(read_secret("MMMOVE_JOB_TEST_KEY", "", "the anonymisation key (anonymise.key_env)"),
                      Catch::Contains("the anonymisation key") && Catch::Contains("MMMOVE_JOB_TEST_KEY is not set"));

    std::string file = temp_file("key", "from-a-file\r\n", 0600);
    CHECK(read_secret("", file, "the key") == "from-a-file");
    ::chmod(file.c_str(), 0644);
    CHECK_THROWS_WITH(read_secret("", file, "the key"), Catch::Contains("chmod 600 " + file) && !Catch::Contains("from-a-file"));
    std::string empty = temp_file("empty", "\n", 0600);
    CHECK_THROWS_WITH(read_secret("", empty, "the key"), Catch::Contains(empty + " is empty"));
    ::unlink(file.c_str());
    ::unlink(empty.c_str());
    CHECK_THROWS_WITH(read_secret("", file, "the key"), Catch::Contains("does not exist"));
    CHECK_THROWS_AS(read_secret("", "", "the key"), Error);
}
