// mmmove merge of LinkMetadata, Mattermost's cache of link previews, when a rules file merges it
// instead of keeping the destination's (the built-in rules keep it). Its primary key Hash is a bigint
// Mattermost computes from the URL and timestamp, not an id: the same Hash on both sides is the same
// preview and is kept once (the destination's row), a new Hash would be a row no server looks up, and
// every other source row joins under its own Hash.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

struct Preview {
    std::string hash, url, title;
};

void put_previews(Database& db, const std::vector<Preview>& rows) {
    const bool pg = db.engine() == Engine::postgres;
    const std::string table = db.quote_ident(pg ? "linkmetadata" : "LinkMetadata");
    db.exec("DELETE FROM " + table);
    for (const auto& r : rows)
        db.exec("INSERT INTO " + table + " (" + db.quote_ident(pg ? "hash" : "Hash") + ", " + db.quote_ident(pg ? "url" : "URL") + ", " +
                db.quote_ident(pg ? "timestamp" : "Timestamp") + ", " + db.quote_ident(pg ? "type" : "Type") + ", " +
                db.quote_ident(pg ? "data" : "Data") + ") VALUES (" + r.hash + ", " + db.quote_literal(r.url) +
                ", 1700000000000, 'opengraph', " + db.quote_literal("{\"title\": \"" + r.title + "\"}") + ")");
}

// "hash url title" per row, in Hash order.
std::vector<std::string> previews(Database& db) {
    const bool pg = db.engine() == Engine::postgres;
    std::vector<std::string> out;
    const std::string title = pg ? "data->>'title'" : "JSON_UNQUOTE(JSON_EXTRACT(Data, '$.title'))";
    for (auto& r : db.query("SELECT Hash, URL, " + title + " FROM " + db.quote_ident(pg ? "linkmetadata" : "LinkMetadata") + " ORDER BY Hash"))
        out.push_back(r[0].value_or("NULL") + " " + r[1].value_or("NULL") + " " + r[2].value_or("NULL"));
    return out;
}

void merge_link_metadata(Engine from, Engine to) {
    ScratchDb src(from, "mls"), dst(to, "mld");
    fill_sample(src, 300, 141, false, 1, false);
    fill_sample(dst, 200, 141, false, 2, false);
    auto s = src.connect(), d = dst.connect();
    // The destination and the source cached the same preview (same Hash, same row), and the same URL at
    // the same time fetched twice (same Hash, other content); the source has two previews of its own,
    // one with a negative Hash (Mattermost's hash is a signed 64-bit number).
    put_previews(*d, {{"1001", "https://example.com/a", "A"}, {"1002", "https://example.com/b", "B as the destination fetched it"}});
    put_previews(*s, {{"1001", "https://example.com/a", "A"},
                      {"1002", "https://example.com/b", "B as the source fetched it"},
                      {"1003", "https://example.com/c", "C"},
                      {"-7046029254386353131", "https://example.com/d", "D"}});
    // The built-in list without LinkMetadata: this merge moves the source's previews.
    const std::string rules = "/tmp/mmmove-merge-rules-" + dst.name() + ".yaml";
    std::ofstream(rules) << "tables:\n  keep_destination: [Systems, Jobs, Sessions, ClusterDiscovery, db_lock, db_migrations, UploadSessions,\n"
                            "    PluginKeyValueStore, Licenses, TermsOfService, UserTermsOfService, Tokens, DesktopTokens, NotifyAdmin,\n"
                            "    RetentionIdsForDeletion, Compliances, RemoteClusters, SharedChannels, SharedChannelRemotes,\n"
                            "    SharedChannelUsers, SharedChannelAttachments, TemporaryPosts, Status]\n";
    auto run = run_mmmove({"merge", "--from", src.dsn(), "--to", dst.dsn(), "--rules", rules, "--quiet", "--verify"});
    std::filesystem::remove(rules);
    INFO(run.output);
    REQUIRE(run.exit_code == 0);
    CHECK(previews(*d) == std::vector<std::string>{"-7046029254386353131 https://example.com/d D", "1001 https://example.com/a A",
                                                   "1002 https://example.com/b B as the destination fetched it",
                                                   "1003 https://example.com/c C"});
}

}  // namespace

TEST_CASE("merge keeps a LinkMetadata Hash both PostgreSQL instances hold once and adds the source's other previews", "[e2e][merge]") {
    merge_link_metadata(Engine::postgres, Engine::postgres);
}

TEST_CASE("merge keeps a LinkMetadata Hash both MySQL instances hold once and adds the source's other previews", "[e2e][merge][long]") {
    merge_link_metadata(Engine::mysql, Engine::mysql);
}
