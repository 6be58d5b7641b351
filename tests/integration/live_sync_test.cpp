// A copy of a live Mattermost, in every engine direction: a writer thread plays the server on the source
// from before the copy starts until it has returned (new posts, edits that bump UpdateAt, soft deletes,
// hard deletes of Reactions and Preferences, ChannelMembers rows read), so changes land before, during
// and after the copy's snapshot. The copy must warn that the source moved on, a sync must make the
// destination equal (verify exits 0), and a second sync must find nothing to write.
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <thread>

#include "catalog/catalog.h"
#include "support.h"
#include "sync_support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

int64_t now_ms() {
    return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

// The rows the writer changes and the SQL it needs, looked up before the writer starts: Catch2's
// macros are not thread-safe, so the writer's thread only runs statements and counts what they changed.
// Hard deletes use up rows: all but the first few wait until the copy has noted its snapshot's moment
// on the destination, so however long the copy takes to get there, some land after its snapshot.
class LiveWriter {
public:
    static constexpr unsigned kKinds = 6;         // new post, edit, soft delete, reaction, preference, membership
    static constexpr unsigned kMinChanges = 60;   // at least 10 of each kind, however fast the copy is
    static constexpr size_t kEarlyDeletes = 5;    // hard deletes of each table before the snapshot

    LiveWriter(const ScratchDb& src, const ScratchDb& dst) : src_(src), dst_(dst) {
        auto db = src.connect(Side::source);
        Catalog cat = read_catalog(*db);
        const Table* posts = cat.find("posts");
        REQUIRE(posts);
        for (const auto& c : posts->columns) cols_.push_back({db->quote_ident(c.name), lower(c.name)});
        t_posts_ = db->quote_ident(posts->name);
        t_reactions_ = name(cat, *db, "reactions");
        t_prefs_ = name(cat, *db, "preferences");
        t_members_ = name(cat, *db, "channelmembers");
        post_keys_ = keys(cat, *db, "posts", {"id"}, 150);
        reaction_keys_ = keys(cat, *db, "reactions", {"postid", "userid", "emojiname"}, 0);
        pref_keys_ = keys(cat, *db, "preferences", {"userid", "category", "name"}, 0);
        member_keys_ = keys(cat, *db, "channelmembers", {"channelid", "userid"}, 60);
        auto col = [&](const std::string& table, const std::string& column) {
            const Column* c = cat.find(table)->find_column(column);
            REQUIRE(c);
            return db->quote_ident(c->name);
        };
        c_message_ = col("posts", "message"), c_updateat_ = col("posts", "updateat"), c_editat_ = col("posts", "editat");
        c_deleteat_ = col("posts", "deleteat"), c_msgcount_ = col("channelmembers", "msgcount");
        c_lastviewed_ = col("channelmembers", "lastviewedat"), c_lastupdate_ = col("channelmembers", "lastupdateat");
    }

    // Starts writing; keeps on until stop() was called and at least kMinChanges statements changed a row.
    void start() {
        thread_ = std::thread([this] { run(); });
    }
    void stop() {
        stop_ = true;
        thread_.join();
    }
    unsigned changes() const { return changes_; }
    const std::string& error() const { return error_; }

private:
    struct Col {
        std::string quoted, lower;
    };

    static std::string name(const Catalog& cat, Database& db, const std::string& table) {
        const Table* t = cat.find(table);
        REQUIRE(t);
        return db.quote_ident(t->name);
    }

    // The first `count` rows (0: every row, at least 60) of `table` by `key`, each as "a = 'x' AND b = 'y'".
    static std::vector<std::string> keys(const Catalog& cat, Database& db, const std::string& table, const std::vector<std::string>& key,
                                         size_t count) {
        const Table* t = cat.find(table);
        REQUIRE(t);
        std::vector<std::string> cols;
        std::string list;
        for (const auto& k : key) {
            cols.push_back(db.quote_ident(t->find_column(k)->name));
            list += (list.empty() ? "" : ", ") + cols.back();
        }
        std::vector<std::string> out;
        for (const auto& r : db.query("SELECT " + list + " FROM " + db.quote_ident(t->name) + " ORDER BY " + list + (count ? " LIMIT " + std::to_string(count) : ""))) {
            std::string where;
            for (size_t i = 0; i < cols.size(); ++i) where += (i ? " AND " : "") + cols[i] + " = " + db.quote_literal(*r[i]);
            out.push_back(where);
        }
        REQUIRE(out.size() >= (count ? count : 60));
        return out;
    }

    void run() {
        try {
            auto db = src_.connect(Side::source);
            auto dst = dst_.connect();
            for (unsigned i = 0; !stop_ || changes_ < kMinChanges; ++i) {
                if (!noted_ && i % kKinds == 0) noted_ = stop_ || snapshot_noted(*dst);
                if (step(*db, i)) ++changes_;
                std::this_thread::sleep_for(std::chrono::milliseconds(5));
            }
        } catch (const std::exception& e) {
            error_ = e.what();
        }
    }

    // Whether the copy has noted, on the destination, the moment just before its snapshot.
    static bool snapshot_noted(Database& dst) {
        try {
            auto r = dst.query("SELECT COUNT(*) FROM mmmove_copy_state WHERE name = 'source_clock_ms'");
            return !r.empty() && r[0][0] && *r[0][0] != "0";
        } catch (const std::exception&) {
            return false;  // the copy has not created its checkpoint yet
        }
    }

    // The next of `keys` deleted from `table`; false when none is due (or left).
    bool hard_delete(Database& db, const std::string& table, const std::vector<std::string>& keys, size_t& next) {
        if (next >= keys.size() || (next >= kEarlyDeletes && !noted_)) return false;
        return db.exec_count("DELETE FROM " + table + " WHERE " + keys[next++]) == 1;
    }

    // One change as Mattermost makes it, stamped with now; false when the kind has run out of rows.
    bool step(Database& db, unsigned i) {
        const unsigned k = i / kKinds;
        const std::string stamp = std::to_string(now_ms());
        const auto nth = [&](const std::vector<std::string>& v) { return v[k % v.size()]; };
        switch (i % kKinds) {
            case 0: return db.exec_count(new_post(k, stamp)) == 1;
            case 1:
                return db.exec_count("UPDATE " + t_posts_ + " SET " + c_message_ + " = 'edited while copying " + std::to_string(k) + "', " +
                                     c_editat_ + " = " + stamp + ", " + c_updateat_ + " = " + stamp + " WHERE " + nth(post_keys_)) == 1;
            case 2:  // soft deletes from the other end of the posts, so edits and deletes do not meet at once
                return db.exec_count("UPDATE " + t_posts_ + " SET " + c_deleteat_ + " = " + stamp + ", " + c_updateat_ + " = " + stamp +
                                     " WHERE " + post_keys_[post_keys_.size() - 1 - k % post_keys_.size()]) == 1;
            case 3: return hard_delete(db, t_reactions_, reaction_keys_, next_reaction_);
            case 4: return hard_delete(db, t_prefs_, pref_keys_, next_pref_);
            default:  // a member reads the channel
                return db.exec_count("UPDATE " + t_members_ + " SET " + c_msgcount_ + " = " + c_msgcount_ + " + 1, " + c_lastviewed_ + " = " +
                                     stamp + ", " + c_lastupdate_ + " = " + stamp + " WHERE " + nth(member_keys_)) == 1;
        }
    }

    // A copy of one of the first posts under a new id, created now.
    std::string new_post(unsigned k, const std::string& stamp) const {
        char id[32];
        std::snprintf(id, sizeof id, "zzzzlive%018u", k);
        std::string names, values;
        for (const auto& c : cols_) {
            std::string sep = names.empty() ? "" : ", ";
            names += sep + c.quoted;
            values += sep + (c.lower == "id" ? "'" + std::string(id) + "'" : c.lower == "createat" || c.lower == "updateat" ? stamp : c.quoted);
        }
        return "INSERT INTO " + t_posts_ + " (" + names + ") SELECT " + values + " FROM " + t_posts_ + " WHERE " +
               post_keys_[k % post_keys_.size()];
    }

    const ScratchDb &src_, &dst_;
    std::vector<Col> cols_;
    std::string t_posts_, t_reactions_, t_prefs_, t_members_;
    std::string c_message_, c_updateat_, c_editat_, c_deleteat_, c_msgcount_, c_lastviewed_, c_lastupdate_;
    std::vector<std::string> post_keys_, reaction_keys_, pref_keys_, member_keys_;
    size_t next_reaction_ = 0, next_pref_ = 0;  // the writer's thread only
    bool noted_ = false;                        // the writer's thread only
    std::thread thread_;
    std::atomic<bool> stop_{false};
    std::atomic<unsigned> changes_{0};
    std::string error_;  // written by the writer's thread, read after stop() joined it
};

void live_copy_then_sync(Engine from, Engine to) {
    ScratchDb src(from, "lvs"), dst(to, "lvd");
    fill_sample(src, 300, 141, false, 1, false);  // about 2,000 rows
    const std::string report = report_path(dst);
    LiveWriter writer(src, dst);
    writer.start();
    auto copied = run_mmmove({"copy", "--from", src.dsn(), "--to", dst.dsn(), "--create-schema", "--quiet", "--json", "--chunk-rows", "300",
                              "--report", report});
    const unsigned during = writer.changes();
    writer.stop();
    std::filesystem::remove(report);
    INFO(copied.output.substr(0, 4000));
    INFO("changes while the copy ran: " << during << ", in all: " << writer.changes());
    REQUIRE(writer.error().empty());
    REQUIRE(copied.exit_code == 0);  // complete as of its snapshot
    CHECK(during > 0);
    auto moved = json_of(copied)["source_moved_on"];
    CHECK(moved["moved_on"] == true);
    // Each kind of change landed after the snapshot too (the writer makes dozens while a copy runs).
    std::map<std::string, nlohmann::json> named;
    for (const auto& t : moved["tables"]) named[lower(t["table"].get<std::string>())] = t;
    for (const char* table : {"posts", "reactions", "preferences", "channelmembers"}) CHECK(named.count(table) == 1);

    const std::vector<std::string> both = {"--from", src.dsn(), "--to", dst.dsn(), "--quiet", "--chunk-rows", "300"};
    auto cmd = [&](std::vector<std::string> args) {
        args.insert(args.end(), both.begin(), both.end());
        return run_mmmove(args);
    };
    auto synced = cmd({"sync", "--json"});
    INFO(synced.output.substr(0, 4000));
    REQUIRE(synced.exit_code == 0);
    // The sync wrote at least what the copy saw move on (the writer went on a little after that), so
    // the destination lacked it.
    auto s = json_of(synced);
    auto synced_rows = [&](const std::string& table, const char* field) { return table_of(s, table)[field].get<int64_t>(); };
    auto moved_rows = [&](const std::string& table, const char* field) {
        auto t = named.find(table);
        return t == named.end() ? int64_t{0} : t->second[field].get<int64_t>();
    };
    CHECK(synced_rows("posts", "inserted") >= moved_rows("posts", "rows_now") - moved_rows("posts", "rows_at_snapshot"));
    CHECK(synced_rows("posts", "inserted") + synced_rows("posts", "updated") >= moved_rows("posts", "new_or_changed"));
    CHECK(synced_rows("channelmembers", "updated") >= moved_rows("channelmembers", "new_or_changed"));
    for (const char* table : {"reactions", "preferences"})
        CHECK(synced_rows(table, "deleted") >= moved_rows(table, "rows_at_snapshot") - moved_rows(table, "rows_now"));
    auto checked = cmd({"verify"});
    INFO(checked.output.substr(0, 4000));
    CHECK(checked.exit_code == 0);

    auto again = cmd({"sync", "--json"});  // the source stood still since: nothing to write
    INFO(again.output.substr(0, 4000));
    REQUIRE(again.exit_code == 0);
    auto a = json_of(again);
    CHECK(a["inserted"] == 0);
    CHECK(a["updated"] == 0);
    CHECK(a["deleted"] == 0);
}

}  // namespace

TEST_CASE("a copy of a live source warns and a sync makes it equal: PostgreSQL to PostgreSQL", "[threads][e2e][sync][live][pg]") {
    live_copy_then_sync(Engine::postgres, Engine::postgres);
}

TEST_CASE("a copy of a live source warns and a sync makes it equal: MySQL to PostgreSQL", "[e2e][sync][live][mysql][pg][long]") {
    live_copy_then_sync(Engine::mysql, Engine::postgres);
}

TEST_CASE("a copy of a live source warns and a sync makes it equal: PostgreSQL to MySQL", "[e2e][sync][live][mysql][pg][long]") {
    live_copy_then_sync(Engine::postgres, Engine::mysql);
}

TEST_CASE("a copy of a live source warns and a sync makes it equal: MySQL to MySQL", "[e2e][sync][live][mysql][long]") {
    live_copy_then_sync(Engine::mysql, Engine::mysql);
}
