// Merge's identity matching comes from the reference model's `identity:` entries: a table only a
// YAML line names (a plugin's) is matched by its key columns on real servers, changing the key in the
// YAML changes the match, and a key column the databases lack is refused, naming the entry.
#include <catch2/catch.hpp>

#include <array>

#include "catalog/references.h"
#include "check/check.h"
#include "core/error.h"
#include "merge/merge_plan.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

const std::string kA(26, 'a'), kB(26, 'b'), kC(26, 'c'), kD(26, 'd');

// Both sides hold a plugin's table that no schema model knows: slug w1 is on both sides (titles
// differ), title "Two" is on both sides (slugs differ).
void create_widgets(Database& db, const std::vector<std::array<std::string, 3>>& rows) {
    db.exec("CREATE TABLE plugin_widgets (id varchar(26) PRIMARY KEY, slug text, title text)");
    for (const auto& r : rows)
        db.exec("INSERT INTO plugin_widgets VALUES (" + db.quote_literal(r[0]) + ", " + db.quote_literal(r[1]) + ", " +
                db.quote_literal(r[2]) + ")");
}

MergePlan plan_with(Database& src, Database& dst, const std::string& identity) {
    CheckReport check;
    check.source = read_side(src);
    check.dest = read_side(dst);
    const References model = load_references(YAML::Load("identity:\n  - " + identity));
    return plan_merge(src, dst, check, MergeRules::defaults(), MergeScope(), model);
}

std::string match_of(const MergePlan& plan, const std::string& id) {
    const std::string* to = plan.ids.matched("plugin_widgets", id) ? plan.ids.find("plugin_widgets", id) : nullptr;
    return to ? *to : "";
}

}  // namespace

TEST_CASE("merge matches a table that only an identity line of the reference model names, by the key the line gives", "[e2e][merge]") {
    ScratchDb src_db(Engine::postgres, "mids"), dst_db(Engine::postgres, "midd");
    auto src = src_db.connect(Side::source);
    auto dst = dst_db.connect();
    create_widgets(*src, {{kA, "w1", "One"}, {kB, "w2", "Two"}});
    create_widgets(*dst, {{kC, "w1", "Uno"}, {kD, "w3", "Two"}});

    MergePlan by_slug = plan_with(*src, *dst, "{table: plugin_widgets, keys: [[slug]], matcher: name}");
    CHECK(match_of(by_slug, kA) == kC);
    CHECK(match_of(by_slug, kB).empty());

    // The same rows keyed by title in the YAML: the other pair is one row.
    MergePlan by_title = plan_with(*src, *dst, "{table: plugin_widgets, keys: [[title]], matcher: name}");
    CHECK(match_of(by_title, kA).empty());
    CHECK(match_of(by_title, kB) == kD);

    // Any key agreeing is enough; a key of two columns needs both.
    MergePlan either = plan_with(*src, *dst, "{table: plugin_widgets, keys: [[slug], [title]], matcher: name}");
    CHECK(match_of(either, kA) == kC);
    CHECK(match_of(either, kB) == kD);
    MergePlan both = plan_with(*src, *dst, "{table: plugin_widgets, keys: [[slug, title]], matcher: name}");
    CHECK(match_of(both, kA).empty());
    CHECK(match_of(both, kB).empty());

    // A key column the table does not have: refused before anything is matched, naming the entry.
    try {
        plan_with(*src, *dst, "{table: plugin_widgets, keys: [[colour]], matcher: name}");
        FAIL("a key column the databases lack was accepted");
    } catch (const Error& e) {
        CHECK_THAT(e.what(), Catch::Contains("plugin_widgets") && Catch::Contains("colour"));
    }
}

TEST_CASE("merge's teams step matches by the key column its identity line gives", "[e2e][merge]") {
    ScratchDb src_db(Engine::postgres, "midts"), dst_db(Engine::postgres, "midtd");
    auto src = src_db.connect(Side::source);
    auto dst = dst_db.connect();
    for (Database* db : {src.get(), dst.get()})
        db->exec("CREATE TABLE teams (id varchar(26) PRIMARY KEY, name varchar(64), displayname varchar(64))");
    src->exec("INSERT INTO teams VALUES ('" + kA + "', 'alpha', 'Sales'), ('" + kB + "', 'beta', 'Support')");
    dst->exec("INSERT INTO teams VALUES ('" + kC + "', 'alpha', 'Marketing'), ('" + kD + "', 'gamma', 'Support')");
    auto team_match = [](const MergePlan& plan, const std::string& id) {
        return plan.ids.matched("teams", id) ? *plan.ids.find("teams", id) : std::string();
    };
    MergePlan by_name = plan_with(*src, *dst, "{table: Teams, keys: [[Name]], matcher: teams, rename: Name}");
    CHECK(team_match(by_name, kA) == kC);
    CHECK(team_match(by_name, kB).empty());
    MergePlan by_display = plan_with(*src, *dst, "{table: Teams, keys: [[DisplayName]], matcher: teams, rename: Name}");
    CHECK(team_match(by_display, kA).empty());
    CHECK(team_match(by_display, kB) == kD);
}
