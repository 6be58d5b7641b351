// The key digests a sync records on the destination (sync/key_ledger.h): the next scanning pass with
// nothing changed proves the key sets equal from the source's digest alone, and still finds a hard
// delete on the source (its digest then differs, and both sides are compared). The ledger is trusted
// only from the pass that ended last: a pass killed after its first write leaves none, and a planted
// value not in mmmove's form is ignored. A row deleted on the destination by hand between passes is
// what the ledger trusts away, as documented: the final pass's --verify finds it, --full puts it back.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

CliRun copy_into(const ScratchDb& src, const ScratchDb& dst) {
    return run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--chunk-rows", "300"});
}

// sync() that must succeed, as JSON.
nlohmann::json synced(const ScratchDb& src, const ScratchDb& dst, std::vector<std::string> extra = {}) {
    auto out = sync(src, dst, std::move(extra));
    INFO(out.output.substr(0, 4000));
    REQUIRE(out.exit_code == 0);
    return json_of(out);
}

std::string posts_use(const nlohmann::json& j) { return table_of(j, "posts")["key_ledger"].get<std::string>(); }
uint64_t posts_count(const nlohmann::json& j, const char* field) { return table_of(j, "posts")[field].get<uint64_t>(); }

// The posts table and its key column as `db` names them.
std::string posts_table(const ScratchDb& db) { return db.engine() == Engine::postgres ? "posts" : "Posts"; }
std::string id_column(const ScratchDb& db) { return db.engine() == Engine::postgres ? "id" : "Id"; }

// Deletes the post with the `n`-th smallest id outright (no stamp moves), returns its id.
std::string delete_post(const ScratchDb& db, Database& conn, int n) {
    const std::string id = query_one(conn, "SELECT " + id_column(db) + " FROM " + posts_table(db) + " ORDER BY " + id_column(db) +
                                               " LIMIT 1 OFFSET " + std::to_string(n));
    conn.exec("DELETE FROM " + posts_table(db) + " WHERE " + id_column(db) + " = " + conn.quote_literal(id));
    return id;
}

std::string recorded_digests(Database& d) { return query_one(d, "SELECT key_digests FROM mmmove_sync_state"); }

// Nothing changed: trusted; a hard delete on the source: differed, found, written.
void trusts_and_finds_hard_deletes(const ScratchDb& src, const ScratchDb& dst, const std::string& form) {
    REQUIRE(copy_into(src, dst).exit_code == 0);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    CHECK(recorded_digests(*d).empty());  // a copy records none
    auto j = synced(src, dst);
    CHECK(posts_use(j).empty());
    CHECK(recorded_digests(*d).find("\"posts\":\"" + form + ":900:") != std::string::npos);

    j = synced(src, dst);
    CHECK(posts_use(j) == "trusted");
    CHECK(table_of(j, "channels")["key_ledger"] == "trusted");  // a table of one chunk too
    CHECK(posts_count(j, "source_rows") == 900);
    CHECK(j["inserted"] == 0);
    CHECK(j["deleted"] == 0);

    delete_post(src, *s, 400);
    j = synced(src, dst);
    CHECK(posts_use(j) == "differed");
    CHECK(posts_count(j, "deleted") == 1);
    CHECK(recorded_digests(*d).find("\"posts\":\"" + form + ":899:") != std::string::npos);
    // A hard delete in a table of one chunk (its rows keyed by a single id on both engines).
    const std::string channels = src.engine() == Engine::postgres ? "channels" : "Channels";
    const std::string channel = query_one(*s, "SELECT " + id_column(src) + " FROM " + channels + " ORDER BY " + id_column(src) + " LIMIT 1");
    s->exec("DELETE FROM " + channels + " WHERE " + id_column(src) + " = " + s->quote_literal(channel));
    j = synced(src, dst);
    CHECK(table_of(j, "channels")["key_ledger"] == "differed");
    CHECK(table_of(j, "channels")["deleted"] == 1);
    CHECK(verify(src, dst).exit_code == 0);
    CHECK(posts_use(synced(src, dst)) == "trusted");
}

}  // namespace

TEST_CASE("a sync with nothing changed trusts the recorded key digest and still finds a hard delete: PostgreSQL to PostgreSQL",
          "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "sylgs"), dst(Engine::postgres, "sylgd");
    fill_sample(src, 900, 141, false, 1, false);  // three chunks of 300: the table-wide pass runs
    trusts_and_finds_hard_deletes(src, dst, "pg");

    // A row deleted on the destination by hand: the ledger takes the destination as the last pass left
    // it, so the row stays missing; the final pass's --verify finds it, --full writes it again.
    auto d = dst.connect();
    delete_post(dst, *d, 100);
    auto j = synced(src, dst);
    CHECK(posts_use(j) == "trusted");
    CHECK(posts_count(j, "inserted") == 0);
    auto checked = sync(src, dst, {"--verify"});
    CHECK(checked.exit_code != 0);
    CHECK(json_of(checked)["verify"]["equal"] == false);
    j = synced(src, dst, {"--full"});
    CHECK(posts_count(j, "inserted") == 1);
    CHECK(verify(src, dst).exit_code == 0);
}

TEST_CASE("a sync from MySQL trusts the recorded client-side key digest and still finds a hard delete", "[e2e][sync][mysql][pg]") {
    ScratchDb src(Engine::mysql, "sylms"), dst(Engine::postgres, "sylmd");
    fill_sample(src, 900, 141, false, 1, false);
    trusts_and_finds_hard_deletes(src, dst, "xx");
}

TEST_CASE("a recorded key digest not in mmmove's form, or not the destination's, is not trusted", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "sylps"), dst(Engine::postgres, "sylpd");
    fill_sample(src, 900, 141, false, 1, false);
    REQUIRE(copy_into(src, dst).exit_code == 0);
    synced(src, dst);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    // Malformed: the whole ledger is ignored, both sides compared as without one, the delete found.
    d->exec("UPDATE mmmove_sync_state SET key_digests = '{\"posts\":\"pg:899:abc\"}'");
    delete_post(src, *s, 10);
    auto j = synced(src, dst);
    CHECK(posts_use(j).empty());
    CHECK(posts_count(j, "deleted") == 1);
    // In mmmove's form but not the destination's digest: it differs from the source's, both sides compared.
    d->exec("UPDATE mmmove_sync_state SET key_digests = '{\"posts\":\"pg:899:12345\"}'");
    delete_post(src, *s, 20);
    j = synced(src, dst);
    CHECK(posts_use(j) == "differed");
    CHECK(posts_count(j, "deleted") == 1);
    CHECK(verify(src, dst).exit_code == 0);
}

TEST_CASE("a sync killed after its first write leaves no key digest the next pass trusts", "[e2e][sync][pg]") {
    ScratchDb src(Engine::postgres, "sylks"), dst(Engine::postgres, "sylkd");
    fill_sample(src, 900, 141, false, 1, false);
    REQUIRE(copy_into(src, dst).exit_code == 0);
    synced(src, dst);
    auto s = src.connect(Side::source);
    auto d = dst.connect();
    REQUIRE_FALSE(recorded_digests(*d).empty());
    // A post the killed pass writes to the destination, then deleted outright on the source: the
    // previous pass's digest (without it) would match the source again and hide the destination's copy.
    const std::string id = query_one(*s, "SELECT id FROM posts ORDER BY id LIMIT 1 OFFSET 5");
    s->exec("CREATE TEMP TABLE newpost AS SELECT * FROM posts WHERE id = " + s->quote_literal(id));
    s->exec("UPDATE newpost SET id = 'zzzzledgerkilled0000000001', updateat = (extract(epoch FROM clock_timestamp()) * 1000)::bigint");
    s->exec("INSERT INTO posts SELECT * FROM newpost");
    auto killed_run = sync_killed_at(src, dst, "sync-chunk-written:1");
    INFO(killed_run.output.substr(0, 3000));
    REQUIRE(killed(killed_run));
    CHECK(query_one(*d, "SELECT COUNT(*) FROM posts WHERE id = 'zzzzledgerkilled0000000001'") == "1");
    CHECK(recorded_digests(*d).empty());
    s->exec("DELETE FROM posts WHERE id = 'zzzzledgerkilled0000000001'");
    auto j = synced(src, dst);
    CHECK(posts_use(j).empty());
    CHECK(posts_count(j, "deleted") == 1);
    CHECK(verify(src, dst).exit_code == 0);
}
