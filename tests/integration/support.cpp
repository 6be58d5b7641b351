#include "support.h"

#include <catch2/catch.hpp>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>
#include <nlohmann/json.hpp>

#include "catalog/catalog.h"
#include "catalog/schema_model.h"
#include "transform/convert.h"
#include "sample/generator.h"

namespace mmmove::test {

const Servers& servers() {
    static Servers s = [] {
        Servers out;
        const char* pg = std::getenv("MMMOVE_PG_PORT");
        const char* my = std::getenv("MMMOVE_MY_PORT");
        const char* pw = std::getenv("MMMOVE_PASSWORD_FILE");
        if (!pg || !my || !pw)
            FAIL("The integration tests need the throwaway servers: run them through scripts/test, which starts "
                 "PostgreSQL and MariaDB (scripts/servers start) and exports MMMOVE_PG_PORT, MMMOVE_MY_PORT and "
                 "MMMOVE_PASSWORD_FILE.");
        out.pg_port = std::atoi(pg);
        out.my_port = std::atoi(my);
        std::ifstream in(pw);
        std::getline(in, out.password);
        if (out.password.empty()) FAIL("The password file " << pw << " is empty; restart the servers with scripts/servers.");
        setenv("MMMOVE_SOURCE_PASSWORD", out.password.c_str(), 1);
        setenv("MMMOVE_DEST_PASSWORD", out.password.c_str(), 1);
        return out;
    }();
    return s;
}

namespace {

DataSource admin(Engine engine) {
    DataSource ds;
    ds.engine = engine;
    ds.user = "mmuser";
    ds.password = servers().password;
    ds.host = "127.0.0.1";
    ds.port = engine == Engine::postgres ? servers().pg_port : servers().my_port;
    ds.database = engine == Engine::postgres ? "postgres" : "mysql";
    if (engine == Engine::postgres) ds.params["sslmode"] = "disable";
    return ds;
}

std::string unique_name(const std::string& tag) {
    static std::atomic<int> counter{0};
    return "mmt_" + tag + "_" + std::to_string(getpid()) + "_" + std::to_string(counter++);
}

}  // namespace

ScratchDb::ScratchDb(Engine engine, const std::string& tag) : engine_(engine), name_(unique_name(tag)) {
    auto db = Database::connect(admin(engine), Side::destination);
    db->exec("CREATE DATABASE " + name_);
}

namespace {

// Removes what a test left in /tmp under a scratch database's name (its reports, outputs, rule files:
// /tmp/<name>.jsonl, /tmp/mmmove-merge-rules-<name>.yaml…). A name continued by a digit is another
// database's (mmt_t_1_1 and mmt_t_1_10); a link is removed, never followed.
void remove_files_named_after(const std::string& name) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (auto it = fs::directory_iterator("/tmp", ec); !ec && it != fs::directory_iterator(); it.increment(ec)) {
        const std::string file = it->path().filename().string();
        const size_t at = file.find(name);
        if (at == std::string::npos) continue;
        const size_t after = at + name.size();
        if (after < file.size() && std::isdigit(static_cast<unsigned char>(file[after]))) continue;
        std::error_code ignored;
        fs::remove_all(it->path(), ignored);
    }
}

}  // namespace

ScratchDb::~ScratchDb() {
    remove_files_named_after(name_);
    try {
        auto db = Database::connect(admin(engine_), Side::destination);
        if (engine_ == Engine::postgres) db->exec("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
        else db->exec("DROP DATABASE IF EXISTS " + name_);
    } catch (...) {
    }
}

DataSource ScratchDb::data_source() const {
    DataSource ds = admin(engine_);
    ds.database = name_;
    return ds;
}

std::string ScratchDb::dsn() const {
    if (engine_ == Engine::postgres)
        return "postgres://mmuser@127.0.0.1:" + std::to_string(servers().pg_port) + "/" + name_ + "?sslmode=disable";
    return "mmuser@tcp(127.0.0.1:" + std::to_string(servers().my_port) + ")/" + name_ + "?charset=utf8mb4";
}

std::unique_ptr<Database> ScratchDb::connect(Side side) const { return Database::connect(data_source(), side); }

void fill_sample(const ScratchDb& db, uint64_t posts, int level, bool lower_case, uint64_t seed, bool hostile) {
    auto conn = db.connect();
    create_schema(*conn, *find_model(db.engine(), level), lower_case);
    std::ostringstream quiet;
    SampleOptions o;
    o.posts = posts;
    o.seed = seed;
    o.hostile = hostile;
    generate_sample(*conn, o, quiet);
}

namespace {

// Runs `prefix` + the mmmove binary + the arguments (shell-quoted here); stdout and stderr together.
CliRun run_command(const std::string& prefix, const std::vector<std::string>& args) {
    std::string cmd = prefix + mmmove_binary();
    for (const auto& a : args) {
        std::string q = "'";
        for (char c : a) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
        cmd += " " + q + "'";
    }
    cmd += " 2>&1";
    CliRun run;
    FILE* p = popen(cmd.c_str(), "r");
    REQUIRE(p);
    char buf[4096];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, p)) > 0) run.output.append(buf, n);
    int status = pclose(p);
    run.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return run;
}

}  // namespace

std::string report_path(const ScratchDb& db) {
    std::string p = "/tmp/" + db.name() + "-report.jsonl";
    std::filesystem::remove(p);
    return p;
}

CliRun run_mmmove(const std::vector<std::string>& args) {
    servers();
    return run_command("", args);
}

CliRun run_mmmove_as_nobody(const std::vector<std::string>& args) { return run_command("setpriv --reuid=65534 --regid=65534 --clear-groups ", args); }

namespace {

std::string canonical(const Field& f, const Column& c, Engine engine, bool strip) {
    if (f.null) return "NULL";
    std::string v(f.view());
    switch (c.kind) {
        case ColumnKind::boolean: return v == "t" || v == "1" ? "true" : "false";
        case ColumnKind::binary: return engine == Engine::postgres ? v : bytes_to_pg_hex(v);
        case ColumnKind::text_array: {
            if (engine == Engine::mysql) return nlohmann::json::parse(v).dump();
            std::string json;
            pg_array_to_json_array(v, json);
            return json;
        }
        case ColumnKind::json: {
            std::string cleaned;
            if (strip) strip_json_nul_escapes(strip_nul(v), cleaned);
            else cleaned = v;
            auto j = nlohmann::json::parse(cleaned, nullptr, false);
            return j.is_discarded() ? cleaned : j.dump();
        }
        default: return strip ? strip_nul(v) : v;
    }
}

}  // namespace

Content read_content(Database& db, bool strip) {
    Content content;
    Catalog cat = read_catalog(db);
    for (const auto& t : cat.tables) {
        TableRole role = table_role(t.name);
        if (role == TableRole::per_instance || role == TableRole::schema_version) continue;
        std::vector<const Column*> cols;
        std::vector<std::string> names;
        for (const auto& c : t.columns) cols.push_back(&c), names.push_back(c.name);
        // Columns in name order so both engines line up however each orders them.
        std::vector<size_t> order(cols.size());
        for (size_t i = 0; i < order.size(); ++i) order[i] = i;
        std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return lower(names[a]) < lower(names[b]); });
        auto reader = db.read_table(t.name, names);
        FieldRow row;
        auto& rows = content[lower(t.name)];
        while (reader->next(row)) {
            std::string line;
            for (size_t i : order) line += lower(names[i]) + "=" + canonical(row[i], *cols[i], db.engine(), strip) + "\x1f";
            rows.push_back(std::move(line));
        }
        std::sort(rows.begin(), rows.end());
    }
    return content;
}

pid_t spawn_mmmove(const std::vector<std::string>& args, const std::string& output) {
    servers();
    pid_t pid = fork();
    if (pid == 0) {
        int fd = ::open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        dup2(fd, 2);
        std::vector<char*> argv{const_cast<char*>(mmmove_binary())};
        for (const auto& a : args) argv.push_back(const_cast<char*>(a.c_str()));
        argv.push_back(nullptr);
        execv(mmmove_binary(), argv.data());
        _exit(127);
    }
    return pid;
}

uint64_t committed_chunks(Database& dst) {
    try {
        auto r = dst.query("SELECT COUNT(*) FROM mmmove_copy_chunks");
        return std::stoull(r[0][0].value_or("0"));
    } catch (const Error&) {
        return 0;  // not created yet
    }
}

// Waits until the running copy has committed a few chunks.
void wait_for_chunks(Database& dst, pid_t pid, uint64_t n) {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
    while (committed_chunks(dst) < n) {
        int status;
        REQUIRE(waitpid(pid, &status, WNOHANG) == 0);  // still running
        REQUIRE(std::chrono::steady_clock::now() < deadline);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
}

// Starts mmmove (a copy or a merge), waits until it has committed `chunks` chunks, and kills it with SIGKILL.
void kill_mid_run(const std::vector<std::string>& args, const ScratchDb& dst, uint64_t chunks) {
    pid_t pid = spawn_mmmove(args, "/tmp/" + dst.name() + ".out");
    auto d = dst.connect();
    wait_for_chunks(*d, pid, chunks);
    kill(pid, SIGKILL);
    int status;
    waitpid(pid, &status, 0);
    REQUIRE(WIFSIGNALED(status));
}

std::string query_one(Database& db, const std::string& sql) {
    auto r = db.query(sql);
    return r.empty() ? "" : r[0][0].value_or("NULL");
}

std::string query_text(Database& db, const std::string& sql) {
    auto r = db.query(sql);
    return r.empty() || r[0].empty() ? "" : r[0][0].value_or("");
}

std::string merge_counts(Database& db) {
    return query_one(db, "SELECT (SELECT COUNT(*) FROM posts) || '/' || (SELECT COUNT(*) FROM reactions) || '/' || "
                         "(SELECT COUNT(*) FROM fileinfo) || '/' || (SELECT COUNT(*) FROM users) || '/' || "
                         "(SELECT COUNT(*) FROM channels)");
}

}  // namespace mmmove::test
