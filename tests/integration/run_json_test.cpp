// An anonymised refresh, deny by default inside JSON: values planted in members nobody listed (an
// attachment's author and button, a button's integration URL and context, a plugin's member of
// Posts.Props, the auto-reply and a plugin's member of Users.NotifyProps, a plugin's member of
// ChannelMembers.NotifyProps) do not reach staging, while the members staging needs (flags, colours,
// action ids and types, notification settings) arrive byte for byte.
#include <catch2/catch.hpp>
#include <cstdlib>
#include <nlohmann/json.hpp>

#include "../common/test_files.h"
#include "catalog/catalog.h"
#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
using nlohmann::json;

namespace {

const std::string post_props = R"({"from_webhook":"true","disable_group_highlight":true,"override_icon_url":"https://zyxicon.example/i.png",)"
    R"("attachments":[{"color":"#36a64f","author_name":"Zyxauthor Quist","footer":"Zyxfooter",)"
    R"("actions":[{"id":"approve7","type":"button","style":"danger","name":"Zyxbutton",)"
    R"("integration":{"url":"https://zyxhost.example/hook?token=zyxtoken","context":{"patient":"Zyxcontext"}}}]}],)"
    R"("playbook_summary":"Zyxplaybook"})";
const std::string user_notify = R"({"desktop":"mention","push":"all","email":"false","push_status":"away",)"
    R"("auto_responder_active":"true","auto_responder_message":"Zyxresponder on leave","mention_keys":"zyxkey","plugin_pager":"Zyxplugin"})";
const std::string member_notify = R"({"desktop":"default","push":"mention","mark_unread":"all","ignore_channel_mentions":"off",)"
    R"("plugin_note":"Zyxmember"})";

// Plants the three documents into the first row of each table, and returns those rows' keys.
struct Planted { std::string post, user, channel, member; };
Planted plant(Database& db) {
    const bool pg = db.engine() == Engine::postgres;
    auto t = [pg](const char* name) { return pg ? lower(name) : std::string(name); };
    auto first = [&db](const std::string& sql) { return db.query(sql).at(0).at(0).value_or(""); };
    Planted p;
    p.post = first("SELECT MIN(Id) FROM " + t("Posts"));
    p.user = first("SELECT MIN(Id) FROM " + t("Users"));
    p.channel = first("SELECT MIN(ChannelId) FROM " + t("ChannelMembers"));
    p.member = first("SELECT MIN(UserId) FROM " + t("ChannelMembers") + " WHERE ChannelId = " + db.quote_literal(p.channel));
    db.exec("UPDATE " + t("Posts") + " SET Props = " + db.quote_literal(post_props) + " WHERE Id = " + db.quote_literal(p.post));
    db.exec("UPDATE " + t("Users") + " SET NotifyProps = " + db.quote_literal(user_notify) + " WHERE Id = " + db.quote_literal(p.user));
    db.exec("UPDATE " + t("ChannelMembers") + " SET NotifyProps = " + db.quote_literal(member_notify) +
            " WHERE ChannelId = " + db.quote_literal(p.channel) + " AND UserId = " + db.quote_literal(p.member));
    return p;
}

json fetch(Database& db, const std::string& sql) {
    const auto rows = db.query(sql);
    REQUIRE(rows.size() == 1);
    return json::parse(rows[0][0].value_or("null"));
}

void refresh_json(Engine source_engine) {
    const std::string tag = source_engine == Engine::postgres ? "pg" : "my";
    ScratchDb src(source_engine, "jsonsrc"), dst(Engine::postgres, "jsondst");
    fill_sample(src, 120, 141);
    Planted p;
    {
        auto s = src.connect(Side::source);
        p = plant(*s);
    }
    TempFolder dir("json-" + tag);
    const std::string job = bare_refresh_job(dir, "json-" + tag, src, dst);
    CliRun r = run_mmmove({"run", job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    CHECK(r.output.find("zyx") == std::string::npos);
    auto d = dst.connect();
    // No planted value anywhere in the three columns of any row.
    for (const char* sql : {"SELECT COUNT(*) FROM posts WHERE LOWER(props::text) LIKE '%zyx%'",
                            "SELECT COUNT(*) FROM users WHERE LOWER(notifyprops::text) LIKE '%zyx%'",
                            "SELECT COUNT(*) FROM channelmembers WHERE LOWER(notifyprops::text) LIKE '%zyx%'"}) {
        INFO(sql);
        CHECK(d->query(sql).at(0).at(0).value_or("") == "0");
    }
    // What staging needs, as the source had it.
    const json props = fetch(*d, "SELECT props FROM posts WHERE id = " + d->quote_literal(p.post));
    CHECK(props["from_webhook"] == "true");
    CHECK(props["disable_group_highlight"] == true);
    CHECK(props["attachments"][0]["color"] == "#36a64f");
    const json action = props["attachments"][0]["actions"][0];
    CHECK(action["id"] == "approve7");
    CHECK(action["type"] == "button");
    CHECK(action["style"] == "danger");
    CHECK_THAT(action["integration"]["url"].get<std::string>(), Catch::Contains(".example.invalid/"));
    CHECK(props.contains("playbook_summary"));  // member names stay
    const json notify = fetch(*d, "SELECT notifyprops FROM users WHERE id = " + d->quote_literal(p.user));
    const json notify_source = json::parse(user_notify);
    for (const char* k : {"desktop", "push", "email", "push_status", "auto_responder_active"}) CHECK(notify[k] == notify_source[k]);
    const json member = fetch(*d, "SELECT notifyprops FROM channelmembers WHERE channelid = " + d->quote_literal(p.channel) +
                                      " AND userid = " + d->quote_literal(p.member));
    const json member_source = json::parse(member_notify);
    for (const char* k : {"desktop", "push", "mark_unread", "ignore_channel_mentions"}) CHECK(member[k] == member_source[k]);
}

}  // namespace

TEST_CASE("an anonymised refresh masks JSON members nobody kept and keeps the rest, PostgreSQL to PostgreSQL", "[e2e][run][json]") {
    refresh_json(Engine::postgres);
}

TEST_CASE("an anonymised refresh masks JSON members nobody kept and keeps the rest, MySQL to PostgreSQL", "[e2e][run][json][long]") {
    refresh_json(Engine::mysql);
}
