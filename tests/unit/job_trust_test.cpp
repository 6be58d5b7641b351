// What `mmmove run` trusts, as root runs it from cron or the systemd unit: a job file (and the merge
// rules it names) that an account other than root or mmmove's own could change is refused, as cron and
// sudo refuse such files; secret files must be private regular files of mmmove's account or root; the
// lock and the summary live in folders only mmmove's account can write and are never someone else's
// file or a link. The hostile cases are made with chown nobody and chmod o+w (the tests run as root).
#include <catch2/catch.hpp>

#include "../common/test_files.h"
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sstream>

#include "core/error.h"
#include "job/job_file.h"
#include "job/run_job.h"
#include "job/run_lock.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

constexpr uid_t nobody = 65534;

const std::string plain_job = "job: trusted\nmode: copy\nsource: {database: a.json}\ndestination: {database: b.json}\n";

// The refusal's message, or a failed check when `f` succeeds.
template <class F>
std::string refusal_of(F f) {
    try {
        f();
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        return e.what();
    }
    FAIL_CHECK("accepted");
    return "";
}

struct Folder {
    TempFolder tmp;
    std::string path;
    explicit Folder(const std::string& tag) : tmp("trust-" + tag), path(tmp.path.string()) { ::chmod(path.c_str(), 0755); }
    std::string file(const std::string& name, const std::string& contents, mode_t mode = 0600) const {
        std::string p = path + "/" + name;
        spit(p, contents);
        ::chmod(p.c_str(), mode);
        return p;
    }
};

}  // namespace

TEST_CASE("a job file that another account could change is refused, naming the path and the fix", "[job][trust]") {
    REQUIRE(::geteuid() == 0);
    Folder dir("job");
    std::string job = dir.file("job.yaml", plain_job);
    CHECK(load_job(job).name == "trusted");  // root's own file in root's own folder (under sticky /tmp)

    SECTION("writable by others or by its group") {
        ::chmod(job.c_str(), 0606);
        CHECK_THAT(refusal_of([&] { load_job(job); }), Catch::Contains(job) && Catch::Contains("chmod go-w " + job));
        ::chmod(job.c_str(), 0620);
        CHECK_THAT(refusal_of([&] { load_job(job); }), Catch::Contains("chmod go-w " + job));
    }
    SECTION("owned by another account") {
        REQUIRE(::chown(job.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { load_job(job); }), Catch::Contains(job) && Catch::Contains("chown root " + job));
    }
    SECTION("in a folder everybody may write, without the sticky bit") {
        ::chmod(dir.path.c_str(), 0777);
        CHECK_THAT(refusal_of([&] { load_job(job); }), Catch::Contains("chmod go-w " + dir.path));
    }
    SECTION("in a sticky folder everybody may write: root's file stays root's, another account's is refused") {
        ::chmod(dir.path.c_str(), 01777);
        CHECK(load_job(job).name == "trusted");
        REQUIRE(::chown(job.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { load_job(job); }), Catch::Contains("chown root " + job));
    }
    SECTION("in a folder another account owns") {
        Folder sub("job-sub");
        std::string inner = sub.path + "/jobs";
        std::filesystem::create_directories(inner);
        std::string moved = inner + "/job.yaml";
        spit(moved, plain_job);
        REQUIRE(::chown(inner.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { load_job(moved); }), Catch::Contains("chown root " + inner));
    }
    SECTION("through a link another account owns") {
        std::string link = dir.path + "/link.yaml";
        REQUIRE(::symlink(job.c_str(), link.c_str()) == 0);
        CHECK(load_job(link).name == "trusted");
        REQUIRE(::lchown(link.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { load_job(link); }), Catch::Contains(link));
    }
    SECTION("the merge rules it names are held to the same rule") {
        std::string rules = dir.file("rules.yaml", "{}\n", 0666);
        std::string merge = dir.file("merge.yaml", "job: m\nmode: merge\nsource: {database: a.json}\ndestination: {database: b.json}\n"
                                                   "merge_rules: " + rules + "\n");
        CHECK_THAT(refusal_of([&] { load_job(merge); }), Catch::Contains("chmod go-w " + rules));
    }
}

TEST_CASE("a job another account wrote cannot make root read a root-only file as a password", "[job][trust]") {
    REQUIRE(::geteuid() == 0);
    Folder dir("shadow");
    std::string shadow = dir.file("shadow", "root:$6$secrethash:19000:0:99999:7:::\n", 0640);
    std::string job = dir.file("job.yaml", "job: steal\nmode: copy\n"
                                           "source: {database: 'postgres://u@127.0.0.1:9/db?sslmode=disable', password_file: " + shadow + "}\n"
                                           "destination: {database: 'postgres://u@127.0.0.1:9/db2?sslmode=disable'}\n", 0644);
    REQUIRE(::chown(job.c_str(), nobody, nobody) == 0);
    std::string message = refusal_of([&] {
        Job j = load_job(job);
        JobResult r = run_job(j, RunOptions{}, std::cerr);  // what the hole did: send the file as the password
        if (r.exit_code) throw Error(static_cast<ExitCode>(r.exit_code), r.error);
    });
    CHECK_THAT(message, Catch::Contains(job) && !Catch::Contains("secrethash"));
}

TEST_CASE("the lock lives in mmmove's own folder and is never another file", "[job][trust]") {
    REQUIRE(::geteuid() == 0);
    Folder dir("lock");
    std::string note;

    SECTION("by default not in /run/lock or /tmp, which every account may write") {
        ::unsetenv("RUNTIME_DIRECTORY");
        std::string path = default_lock_path("nightly");
        CHECK(path.rfind("/run/lock/", 0) != 0);
        CHECK(path.rfind("/tmp/", 0) != 0);
        ::setenv("RUNTIME_DIRECTORY", dir.path.c_str(), 1);  // systemd's RuntimeDirectory=mmmove
        CHECK(default_lock_path("nightly") == dir.path + "/mmmove-nightly.lock");
        ::unsetenv("RUNTIME_DIRECTORY");
    }
    SECTION("a folder others may write is refused, sticky or not") {
        ::chmod(dir.path.c_str(), 01777);
        std::string lock = dir.path + "/job.lock";
        CHECK_THAT(refusal_of([&] { RunLock::acquire_file(lock, "j", note); }), Catch::Contains(dir.path) && Catch::Contains("chmod go-w"));
        CHECK(::access(lock.c_str(), F_OK) != 0);  // nothing created there
    }
    SECTION("a link is refused and its target left alone") {
        std::string victim = dir.file("victim", "precious\n");
        std::string lock = dir.path + "/job.lock";
        REQUIRE(::symlink(victim.c_str(), lock.c_str()) == 0);
        CHECK_THAT(refusal_of([&] { RunLock::acquire_file(lock, "j", note); }), Catch::Contains(lock));
        CHECK(slurp(victim) == "precious\n");
    }
    SECTION("another account's file is refused") {
        std::string lock = dir.file("job.lock", "");
        REQUIRE(::chown(lock.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { RunLock::acquire_file(lock, "j", note); }), Catch::Contains(lock));
    }
    SECTION("a file that is not a lock file is refused, never truncated") {
        std::string lock = dir.file("passwd", "root:x:0:0:root:/root:/bin/bash\n");
        CHECK_THAT(refusal_of([&] { RunLock::acquire_file(lock, "j", note); }), Catch::Contains(lock));
        CHECK(slurp(lock) == "root:x:0:0:root:/root:/bin/bash\n");
    }
    SECTION("mmmove's own lock file is taken") {
        std::string lock = dir.file("job.lock", "pid 999999\nstarted 2026-01-01 03:00:00 UTC\njob j\n");
        { RunLock held = RunLock::acquire_file(lock, "j", note); }
        CHECK(note.find("pid 999999") != std::string::npos);
    }
}

TEST_CASE("the summary replaces only mmmove's own summary, in a folder only mmmove's account can write", "[job][trust]") {
    REQUIRE(::geteuid() == 0);
    Folder dir("summary");
    JobResult r;
    r.job = "nightly";
    std::string summary = dir.path + "/summary.json";

    SECTION("a link to a victim file is refused; the victim and the link stay") {
        std::string victim = dir.file("victim", "precious\n");
        REQUIRE(::symlink(victim.c_str(), summary.c_str()) == 0);
        CHECK_THAT(refusal_of([&] { write_job_summary(r, summary); }), Catch::Contains(summary));
        CHECK(slurp(victim) == "precious\n");
        struct stat st {};
        CHECK((::lstat(summary.c_str(), &st) == 0 && S_ISLNK(st.st_mode)));
    }
    SECTION("a file that is not a summary is refused and unchanged") {
        std::string other = dir.file("summary.json", "root:x:0:0:root:/root:/bin/bash\n");
        CHECK_THAT(refusal_of([&] { write_job_summary(r, other); }), Catch::Contains(other));
        CHECK(slurp(other) == "root:x:0:0:root:/root:/bin/bash\n");
    }
    SECTION("another account's summary is refused") {
        dir.file("summary.json", "{\"job\": \"nightly\"}\n");
        REQUIRE(::chown(summary.c_str(), nobody, nobody) == 0);
        CHECK_THAT(refusal_of([&] { write_job_summary(r, summary); }), Catch::Contains(summary));
    }
    SECTION("a folder others may write is refused") {
        ::chmod(dir.path.c_str(), 01777);
        CHECK_THAT(refusal_of([&] { write_job_summary(r, summary); }), Catch::Contains("chmod go-w " + dir.path));
        CHECK(::access(summary.c_str(), F_OK) != 0);
    }
    SECTION("mmmove's own summary is replaced") {
        write_job_summary(r, summary);
        r.exit_code = 7;
        write_job_summary(r, summary);
        CHECK(nlohmann::json::parse(slurp(summary))["exit_code"] == 7);
    }
}

TEST_CASE("a summary written while the run is going says so", "[job][trust]") {
    JobResult r;
    r.job = "nightly";
    auto done = nlohmann::json::parse(job_summary_json(r));
    CHECK(done["status"] == "ok");
    CHECK(done["ok"] == true);
    r.running = true;
    auto running = nlohmann::json::parse(job_summary_json(r));
    CHECK(running["status"] == "running");
    CHECK(running["ok"] == false);
}
