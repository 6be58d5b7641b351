// The reference model (mappings/references.yaml): known Mattermost facts are in it, lookups ignore
// case, and malformed entries are refused with a message that names them.
#include <catch2/catch.hpp>

#include <algorithm>

#include "catalog/references.h"
#include "core/error.h"

using namespace mmmove;

namespace {

const ColumnReference* column_ref(const std::string& table, const std::string& column) {
    for (const ColumnReference* r : references_from(table))
        if (r->column == column) return r;
    return nullptr;
}

bool targets(const RefTarget& t, const std::string& table, const std::string& column) {
    return t.table == table && t.column == column;
}

void require_refused(const std::string& yaml, const std::string& entry, const std::string& problem) {
    INFO(yaml);
    try {
        parse_references(YAML::Load(yaml));
        FAIL("the malformed model was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::internal);
        CHECK_THAT(std::string(e.what()), Catch::Contains(entry) && Catch::Contains(problem));
    }
}

}  // namespace

TEST_CASE("column references carry Mattermost's links between rows", "[unit][references]") {
    const ColumnReference* author = column_ref("Posts", "UserId");
    REQUIRE(author);
    CHECK(targets(author->target, "Users", "Id"));
    CHECK(author->kind == ColumnRefKind::column);
    CHECK_FALSE(author->optional);

    const ColumnReference* member = column_ref("ChannelMembers", "UserId");
    REQUIRE(member);
    CHECK(member->kind == ColumnRefKind::key_part);
    CHECK(targets(member->target, "Users", "Id"));

    const ColumnReference* roles = column_ref("Users", "Roles");
    REQUIRE(roles);
    CHECK(roles->kind == ColumnRefKind::names);
    CHECK(targets(roles->target, "Roles", "Name"));

    const ColumnReference* root = column_ref("posts", "RootId");  // any case
    REQUIRE(root);
    CHECK(root->optional);
    CHECK(targets(root->target, "Posts", "Id"));
}

TEST_CASE("references to Users come from posts, memberships, bots and reactions", "[unit][references]") {
    std::vector<std::string> found;
    for (const ColumnReference* r : references_to("Users")) found.push_back(r->table + "." + r->column);
    for (const char* expected : {"Posts.UserId", "ChannelMembers.UserId", "TeamMembers.UserId", "Bots.UserId", "Reactions.UserId"}) {
        INFO(expected);
        CHECK(std::count(found.begin(), found.end(), expected) == 1);
    }
    CHECK(references_to("users").size() == references_to("Users").size());
    CHECK(references_to("NoSuchTable").empty());
}

TEST_CASE("ids inside JSON are found by their path", "[unit][references]") {
    const JsonReference* mention = nullptr;
    for (const auto& j : references().json)
        if (j.table == "Posts" && j.column == "Props" && j.path == "channel_mentions.*.id") mention = &j;
    REQUIRE(mention);
    CHECK(targets(mention->target, "Channels", "Id"));
    REQUIRE(mention->steps.size() == 3);
    CHECK(mention->steps[0].kind == JsonStep::Kind::member);
    CHECK(mention->steps[0].name == "channel_mentions");
    CHECK(mention->steps[1].kind == JsonStep::Kind::any_member);
    CHECK(mention->steps[2].name == "id");

    bool file_ids = false;
    for (const auto& j : references().json)
        file_ids = file_ids || (j.table == "Posts" && j.column == "FileIds" && targets(j.target, "FileInfo", "Id"));
    CHECK(file_ids);
}

TEST_CASE("JSON paths parse into steps, and bad paths are refused", "[unit][references]") {
    auto steps = parse_json_path("gmMembersDuringConversionIDs[]");
    REQUIRE(steps.size() == 2);
    CHECK(steps[0].name == "gmMembersDuringConversionIDs");
    CHECK(steps[1].kind == JsonStep::Kind::each_element);
    steps = parse_json_path("[]");
    REQUIRE(steps.size() == 1);
    CHECK(steps[0].kind == JsonStep::Kind::each_element);
    for (const char* bad : {"", "a..b", ".a", "a.", "a b", "a[", "a]", "a[0]"}) {
        INFO(bad);
        CHECK_THROWS_AS(parse_json_path(bad), Error);
    }
}

TEST_CASE("preferences, derived names and text references hold the known rules", "[unit][references]") {
    const References& model = references();
    auto flagged = std::find_if(model.preferences.begin(), model.preferences.end(),
                                [](const PreferenceReference& p) { return p.category == "flagged_post"; });
    REQUIRE(flagged != model.preferences.end());
    CHECK(flagged->field == PreferenceField::name);
    CHECK(targets(flagged->target, "Posts", "Id"));
    auto order = std::find_if(model.preferences.begin(), model.preferences.end(),
                              [](const PreferenceReference& p) { return p.category == "teams_order"; });
    REQUIRE(order != model.preferences.end());
    CHECK(order->field == PreferenceField::value);
    CHECK(order->separator == ",");

    auto dm = std::find_if(model.derived.begin(), model.derived.end(),
                           [](const DerivedName& d) { return d.name == "dm-channel-name"; });
    REQUIRE(dm != model.derived.end());
    CHECK(dm->table == "Channels");
    CHECK(dm->column == "Name");
    CHECK(dm->rule == DerivedRule::sorted_join);
    CHECK(dm->separator == "__");
    auto category = std::find_if(model.derived.begin(), model.derived.end(),
                                 [](const DerivedName& d) { return d.rule == DerivedRule::pattern; });
    REQUIRE(category != model.derived.end());
    CHECK(category->pattern_columns == std::vector<std::string>{"Type", "UserId", "TeamId"});

    auto reaction = std::find_if(model.text.begin(), model.text.end(),
                                 [](const TextReference& t) { return t.table == "Reactions"; });
    REQUIRE(reaction != model.text.end());
    CHECK(reaction->form == TextForm::value);
    CHECK(targets(reaction->targets.at(0), "Emoji", "Name"));
}

TEST_CASE("identity keys say how rows are recognised across instances", "[unit][references]") {
    const IdentityKey* channels = identity_of("channels");
    REQUIRE(channels);
    CHECK(channels->keys == std::vector<std::vector<std::string>>{{"TeamId", "Name"}});
    const IdentityKey* users = identity_of("Users");
    REQUIRE(users);
    CHECK(users->keys == std::vector<std::vector<std::string>>{{"Username"}, {"Email"}});
    REQUIRE(identity_of("Emoji"));
    CHECK(identity_of("Emoji")->live_only);
    CHECK(identity_of("Posts") == nullptr);  // posts have no natural key: they are always new rows
    // The merge matches these by Name alone; Teams and the others have steps of their own.
    std::vector<std::string> by_name;
    for (const auto& id : references().identities)
        if (id.matcher == IdentityKey::Matcher::name) by_name.push_back(id.table);
    CHECK(by_name == std::vector<std::string>{"Roles", "Schemes", "UserGroups", "PropertyGroups"});
}

TEST_CASE("identity entries name the merge step that matches them, the column it renames and the one it shows", "[unit][references]") {
    using M = IdentityKey::Matcher;
    CHECK(identity_of("Users")->matcher == M::users);
    CHECK(identity_of("Users")->rename == "Username");
    CHECK(identity_of("Users")->shown() == "Username");
    CHECK(identity_of("Teams")->rename == "Name");
    CHECK(identity_of("Channels")->matcher == M::channels);
    const IdentityKey* direct = identity_with(references(), M::direct_channels);
    REQUIRE(direct);
    CHECK(direct->table == "Channels");
    CHECK(direct->rename.empty());  // a D/G channel's name is rebuilt from its members, never suffixed
    CHECK(identity_of("Bots")->matcher == M::bots);
    CHECK(identity_of("TeamMembers")->matcher == M::joined);
    // The steps run in the listed order: users before the channels whose members they are.
    std::vector<M> order;
    for (const auto& id : references().identities) order.push_back(id.matcher);
    auto at = [&](M m) { return std::find(order.begin(), order.end(), m) - order.begin(); };
    CHECK(at(M::users) < at(M::direct_channels));
    CHECK(at(M::teams) < at(M::channels));
}

TEST_CASE("an identity line for a plugin's table needs no code: the generic matcher reads its keys", "[unit][references]") {
    const References m = load_references(YAML::Load(
        "identity:\n  - {table: focalboard_boards, keys: [[Slug], [TeamId, Title]], matcher: name, display: Title}"));
    REQUIRE(m.identities.size() == 1);
    const IdentityKey& id = m.identities[0];
    CHECK(id.matcher == IdentityKey::Matcher::name);
    CHECK(id.keys == std::vector<std::vector<std::string>>{{"Slug"}, {"TeamId", "Title"}});
    CHECK(id.shown() == "Title");
    CHECK(schema_columns("focalboard_boards") == nullptr);  // checked against the databases when a merge meets it
}

namespace {
void require_refused_at_load(const std::string& yaml, const std::string& entry, const std::string& problem) {
    INFO(yaml);
    try {
        load_references(YAML::Load(yaml));
        FAIL("the model was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::internal);
        CHECK_THAT(e.what(), Catch::Contains(entry) && Catch::Contains(problem));
    }
}
}  // namespace

TEST_CASE("an identity line with an unknown matcher, keys its matcher cannot read or a column the schema lacks is refused at load",
          "[unit][references]") {
    require_refused("identity:\n  - {table: Roles, keys: [[Name]], matcher: names}", "identity entry 1 (Roles)",
                    "unknown matcher 'names' (one of 'name', 'users'");
    require_refused("identity:\n  - {table: Users, keys: [[Username]], matcher: users, rename: Username}", "identity entry 1 (Users)",
                    "matcher 'users', which reads 2 key(s)");
    require_refused("identity:\n  - {table: Channels, keys: [[Name]], matcher: channels, rename: Name}", "identity entry 1 (Channels)",
                    "keys have 2 column(s)");
    require_refused("identity:\n  - {table: Teams, keys: [[Name]], matcher: teams}", "identity entry 1 (Teams)", "needs 'rename'");
    require_refused("identity:\n  - {table: Roles, keys: [[Name]], matcher: name, rename: Name}", "identity entry 1 (Roles)",
                    "'rename', which matcher 'name' never does");
    require_refused("identity:\n  - {table: Emoji, keys: [[Name]], matcher: emoji, rename: Name}", "identity entry 1 (Emoji)",
                    "needs live_only");
    require_refused("identity:\n  - {table: Teams, keys: [[Name]], matcher: teams, rename: Name}\n"
                    "  - {table: UserGroups, keys: [[Name]], matcher: teams, rename: Name}",
                    "identity entry 2 (UserGroups)", "repeats matcher 'teams'");
    // Columns are checked against mmmove's schema models when the model loads.
    require_refused_at_load("identity:\n  - {table: Teams, keys: [[Nmae]], matcher: teams, rename: Name}", "identity entry 1 (Teams)", "column Nmae");
    require_refused_at_load("identity:\n  - {table: Users, keys: [[Username], [Email]], matcher: users, rename: Login}", "identity entry 1 (Users)",
                            "column Login");
    require_refused_at_load("identity:\n  - {table: Roles, keys: [[Name]], matcher: name, display: Label}", "identity entry 1 (Roles)", "column Label");
    CHECK_NOTHROW(load_references(YAML::Load("identity:\n  - {table: teams, keys: [[name]], matcher: teams, rename: NAME}")));
}

TEST_CASE("each column is listed once", "[unit][references]") {
    std::vector<std::string> seen;
    for (const auto& r : references().columns) seen.push_back(r.table + "." + r.column);
    std::sort(seen.begin(), seen.end());
    CHECK(std::adjacent_find(seen.begin(), seen.end()) == seen.end());
}

TEST_CASE("a malformed reference model is refused, naming the entry", "[unit][references]") {
    require_refused("columns:\n  - {table: Posts, column: UserId}", "columns entry 1 (Posts.UserId)", "no 'target'");
    require_refused("columns:\n  - {table: Posts, column: UserId, target: Users.Id}\n"
                    "  - {table: Posts, column: RootId, target: Posts.Id, kind: pointer}",
                    "columns entry 2 (Posts.RootId)", "unknown kind 'pointer'");
    require_refused("columns:\n  - {table: Posts, column: UserId, target: Users}", "Posts.UserId", "not Table.Column");
    require_refused("columns:\n  - {table: Posts, column: UserId, target: Users.Id, optinal: true}", "Posts.UserId",
                    "unknown field 'optinal'");
    require_refused("json:\n  - {table: Posts, column: Props, path: '', target: Users.Id}", "json entry 1 (Posts.Props)", "empty");
    require_refused("json:\n  - {table: Posts, column: Props, path: 'a..b', target: Users.Id}", "json entry 1", "empty step");
    require_refused("preferences:\n  - {category: flagged_post, field: body, target: Posts.Id}", "category flagged_post",
                    "unknown field 'body'");
    require_refused("derived:\n  - {name: dm, table: Channels, column: Name, rule: sorted-join, inputs: [Users.Id]}",
                    "derived entry 1 (Channels.Name)", "no 'separator'");
    require_refused("text:\n  - {table: Posts, column: Message, form: permalink, targets: [Posts.Id]}", "text entry 1",
                    "two targets");
    require_refused("identity:\n  - {table: Users, keys: []}", "identity entry 1 (Users)", "keys");
    require_refused("identity:\n  - {table: Roles, keys: [[Name]], matcher: names}", "identity entry 1 (Roles)", "unknown matcher 'names'");
    require_refused("colums: []", "the document", "unknown field 'colums'");
    CHECK_NOTHROW(parse_references(YAML::Load("columns: []")));
}
