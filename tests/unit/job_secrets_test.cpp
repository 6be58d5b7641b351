// Where a job's secrets come from: an environment variable or a private file, never the job file.
#include <catch2/catch.hpp>

#include "../common/test_files.h"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "core/error.h"
#include "job/job_file.h"
#include "job/run_job.h"
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

TEST_CASE("a secret file is a private regular file of mmmove's account or root, read without following a link", "[job][trust]") {
    REQUIRE(::geteuid() == 0);
    std::string file = temp_file("owned", "theirs-secret\n", 0600);
    REQUIRE(::chown(file.c_str(), 65534, 65534) == 0);  // another account's file: it could swap the secret
    CHECK_THROWS_WITH(read_secret("", file, "the key"), Catch::Contains(file) && Catch::Contains("chown") && !Catch::Contains("theirs-secret"));
    ::unlink(file.c_str());

    std::string target = temp_file("target", "linked-secret\n", 0600);
    std::string link = "/tmp/mmmove-secret-test-" + std::to_string(getpid()) + "-link";
    ::unlink(link.c_str());
    REQUIRE(::symlink(target.c_str(), link.c_str()) == 0);
    CHECK_THROWS_WITH(read_secret("", link, "the key"), Catch::Contains(link) && Catch::Contains("link"));
    ::unlink(link.c_str());
    ::unlink(target.c_str());

    CHECK_THROWS_WITH(read_secret("", "/dev/zero", "the key"), Catch::Contains("/dev/zero") && Catch::Contains("not a regular file"));
}

TEST_CASE("a job's password_file that is a device or a FIFO is refused at once, not read forever", "[job][trust]") {
    mmmove::test::TempFolder dir("secret-fifo");  // removed however the test ends
    std::string fifo = (dir.path / "fifo").string();
    REQUIRE(::mkfifo(fifo.c_str(), 0600) == 0);
    for (const std::string& path : {std::string("/dev/zero"), fifo}) {
        INFO(path);
        Job job = parse_job("job: j\nmode: copy\nsource: {database: 'postgres://u@127.0.0.1:9/a?sslmode=disable', password_file: " + path +
                                "}\ndestination: {database: 'postgres://u@127.0.0.1:9/b?sslmode=disable'}\n",
                            "job.yaml");
        RunOptions o;
        o.dry_run = true;
        std::ostringstream log;
        JobResult r = run_job(job, o, log);  // before anything connects: the secrets are read first
        CHECK(r.exit_code == static_cast<int>(ExitCode::bad_input));
        CHECK_THAT(r.error, Catch::Contains(path) && Catch::Contains("not a regular file"));
    }
}
