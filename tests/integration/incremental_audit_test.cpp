// The incremental anonymised refresh (`copy: incremental: true`) as a privacy auditor would try it, on
// real servers: staging must end as a full refresh under the job's current settings would leave it.
#include <catch2/catch.hpp>
#include <crypt.h>

#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

// A refresh job with everybody's password set to the test password from MMMOVE_TEST_AUDIT_PW.
struct PasswordRefresh {
    TempFolder dir{"incremental-audit"};
    std::string job = (dir.path / "refresh.yaml").string();

    PasswordRefresh(const ScratchDb& src, const ScratchDb& dst) {
        spit(job, "job: test-incremental-audit\nmode: refresh\nsource:\n  database: " + src.dsn() + "\ndestination:\n  database: " +
                      dst.dsn() + "\nsteps: [check, copy, anonymise, verify]\ncopy:\n  create_schema: true\n  jobs: 1\n"
                      "  chunk_rows: 1000\n  incremental: true\nanonymise:\n  key_env: MMMOVE_TEST_AUDIT_KEY\n"
                      "  passwords: test-password\n  test_password_env: MMMOVE_TEST_AUDIT_PW\nlock: " +
                      (dir.path / "refresh.lock").string() + "\nsummary: " + (dir.path / "summary.json").string() +
                      "\nreport: " + (dir.path / "report.jsonl").string() + "\n");
    }
    nlohmann::json run(const char* password) {
        setenv("MMMOVE_TEST_AUDIT_KEY", "audit-key-0123456789abcdef-not-for-production", 1);
        setenv("MMMOVE_TEST_AUDIT_PW", password, 1);
        CliRun r = run_mmmove({"run", job, "--quiet"});
        unsetenv("MMMOVE_TEST_AUDIT_PW");
        unsetenv("MMMOVE_TEST_AUDIT_KEY");
        INFO(r.output.substr(0, 6000));
        REQUIRE(r.exit_code == 0);
        return nlohmann::json::parse(slurp(dir.path / "summary.json"));
    }
};

// How many of the hashes `password` logs into.
size_t matching(const std::vector<std::string>& hashes, const std::string& password) {
    size_t n = 0;
    for (const auto& h : hashes) {
        crypt_data data{};
        const char* out = crypt_r(password.c_str(), h.c_str(), &data);
        n += out && h == out;
    }
    return n;
}

}  // namespace

TEST_CASE("an incremental refresh after the test password changed leaves no account on the old one", "[e2e][run][incremental][pg][audit]") {
    ScratchDb src(Engine::postgres, "iapws"), dst(Engine::postgres, "iapwd");
    fill_sample(src, 50, 141, false, 1, false);
    PasswordRefresh job(src, dst);
    job.run("the-first-test-password");
    auto again = job.run("the-first-test-password");
    CHECK(again["incremental"] == true);  // the same password: nothing to rewrite

    // The test password leaked and was changed: every account takes the new one.
    job.run("the-second-test-password");
    auto db = dst.connect();
    std::vector<std::string> hashes;
    for (const auto& r : db->query("SELECT password FROM users WHERE password <> ''")) hashes.push_back(r[0].value_or(""));
    REQUIRE(hashes.size() > 10);
    CHECK(matching(hashes, "the-first-test-password") == 0);
    CHECK(matching(hashes, "the-second-test-password") == hashes.size());
}

TEST_CASE("an incremental refresh stops on a column the source gained since the last refresh, writing nothing",
          "[e2e][run][incremental][pg][audit]") {
    ScratchDb src(Engine::postgres, "iacols"), dst(Engine::postgres, "iacold");
    fill_sample(src, 50, 141, false, 1, false);
    PasswordRefresh job(src, dst);
    job.run("a-test-password");
    // A plugin or a newer Mattermost adds a column nobody classified, and fills it.
    auto from = src.connect(), to = dst.connect();
    from->exec("ALTER TABLE users ADD COLUMN secretnote text");
    from->exec("UPDATE users SET secretnote = 'production secret', updateat = (EXTRACT(EPOCH FROM clock_timestamp()) * 1000)::bigint");
    setenv("MMMOVE_TEST_AUDIT_KEY", "audit-key-0123456789abcdef-not-for-production", 1);
    setenv("MMMOVE_TEST_AUDIT_PW", "a-test-password", 1);
    CliRun r = run_mmmove({"run", job.job, "--quiet"});
    unsetenv("MMMOVE_TEST_AUDIT_PW");
    unsetenv("MMMOVE_TEST_AUDIT_KEY");
    INFO(r.output);
    CHECK(r.exit_code == 10);
    CHECK_THAT(r.output, Catch::Contains("secretnote"));
    CHECK(to->query("SELECT COUNT(*) FROM information_schema.columns WHERE table_name = 'users' AND column_name = 'secretnote'").at(0).at(0) == "0");
}
