// Planning a merge: users (and their bots) and teams.
#include <set>

#include "catalog/catalog.h"
#include "core/error.h"
#include "merge/matching.h"

namespace mmmove::matching {

std::string Sides::src_table(const std::string& name) const {
    const Table* t = check.source.catalog.find(name);
    return t ? t->name : "";
}
std::string Sides::dst_table(const std::string& name) const {
    const Table* t = check.dest.catalog.find(name);
    return t ? t->name : "";
}

std::string Sides::src_scope(const std::string& table, const std::string& glue) const {
    const std::string w = scope.where(table);
    return w.empty() ? "" : glue + "(" + w + ")";
}

namespace {
const Table& stored(const Sides& s, Database& db, const std::string& name) {
    const Table* t = (&db == &s.src ? s.check.source : s.check.dest).catalog.find(name);
    if (!t) throw Error(ExitCode::internal, "The merge reads table " + name + ", which the " + (&db == &s.src ? "source" : "destination") +
                                                " does not have. This is a bug in mmmove; please report it.");
    return *t;
}
}  // namespace

std::string Sides::table(Database& db, const std::string& name) const { return db.quote_ident(stored(*this, db, name).name); }

std::string Sides::column(Database& db, const std::string& table, const std::string& column) const {
    const Table& t = stored(*this, db, table);
    const Column* c = t.find_column(column);
    if (!c)
        throw Error(ExitCode::internal, "The merge reads column " + t.name + "." + column + ", which the " + (&db == &src ? "source" : "destination") +
                                            " does not have (mappings/references.yaml names it). This is a bug in mmmove; please report it.");
    return db.quote_ident(c->name);
}

std::string Sides::id_column(Database& db, const std::string& table) const {
    const Table& t = stored(*this, db, table);
    if (t.primary_key.size() != 1)
        throw Error(ExitCode::internal, "The merge matches rows of table " + t.name + " by identity, but its primary key is not one id "
                                        "column. This is a bug in mmmove's mappings/references.yaml; please report it.");
    return column(db, table, t.primary_key[0]);
}

std::string unused_name(const std::string& name, const std::string& suffix, const std::function<bool(const std::string&)>& taken) {
    for (int n = 1;; ++n) {
        std::string tail = suffix + (n == 1 ? "" : std::to_string(n));
        std::string candidate = name.substr(0, 64 - tail.size()) + tail;
        if (!taken(candidate)) return candidate;
    }
}

namespace {

struct UserRow {
    std::string id, username, email, roles;
    bool bot = false;
};

// The users entry's columns (username key, email key, id), a bot's user column, and the column that
// holds a user's roles by name (the `names` reference of the users table).
struct UserColumns {
    std::string table, username, email, bots_table, bots_user, roles;
};

UserColumns user_columns(const Sides& s, const IdentityKey& users) {
    UserColumns c{users.table, users.keys[0][0], users.keys[1][0], "", "", ""};
    const IdentityKey* bots = identity_with(s.model, IdentityKey::Matcher::bots);
    if (bots && !s.src_table(bots->table).empty() && !s.dst_table(bots->table).empty())
        c.bots_table = bots->table, c.bots_user = bots->keys[0][0];
    for (const auto& r : s.model.columns)
        if (lower(r.table) == lower(users.table) && r.kind == ColumnRefKind::names) c.roles = r.column;
    return c;
}

std::vector<UserRow> read_users(const Sides& s, Database& db, const UserColumns& c, const std::string& scope = "") {
    auto col = [&](const std::string& name) { return "u." + s.column(db, c.table, name); };
    const std::string id = "u." + s.id_column(db, c.table);
    std::string sql = "SELECT " + id + ", " + col(c.username) + ", " + col(c.email) + ", " + (c.roles.empty() ? "''" : col(c.roles)) + ", ";
    if (c.bots_table.empty()) {
        sql += "0 FROM " + s.table(db, c.table) + " u";
    } else {
        const std::string bot_user = "b." + s.column(db, c.bots_table, c.bots_user);
        sql += "CASE WHEN " + bot_user + " IS NULL THEN 0 ELSE 1 END FROM " + s.table(db, c.table) + " u LEFT JOIN " +
               s.table(db, c.bots_table) + " b ON " + bot_user + " = " + id;
    }
    std::vector<UserRow> out;
    for (auto& r : db.query(sql + scope))
        out.push_back({r[0].value_or(""), r[1].value_or(""), lower(r[2].value_or("")), r[3].value_or(""), r[4].value_or("0") == "1"});
    return out;
}

bool has_role(const std::string& roles, const std::string& role) {
    return (" " + roles + " ").find(" " + role + " ") != std::string::npos;
}

struct UserIndex {
    std::string table;  // lower case: the plan's key for the users' ids and names
    std::vector<UserRow> rows;
    std::map<std::string, size_t> by_username, by_email;
    std::set<std::string> names;  // lower-case usernames on both sides, for renames
};

void note_roles(MergePlan& plan, const UserRow& s, const UserRow& d) {
    if (has_role(d.roles, "system_admin") && !has_role(s.roles, "system_admin"))
        plan.notes.push_back("user " + d.username + " stays a system admin: the destination's roles are kept (a plain user on the source)");
    else if (has_role(s.roles, "system_admin") && !has_role(d.roles, "system_admin"))
        plan.notes.push_back("user " + d.username + " is a system admin on the source only: the destination's roles are kept");
}

void rename_user(const Sides& s, MergePlan& plan, UserIndex& dest, const UserRow& u) {
    std::string renamed = unused_name(u.username, s.rules.user_suffix, [&](const std::string& c) { return dest.names.count(lower(c)) > 0; });
    dest.names.insert(lower(renamed));
    plan.new_names[dest.table][u.id] = renamed;
    plan.renames.users[lower(u.username)] = renamed;
    plan.conflicts.push_back({"same username, other email",
                              "user " + u.username + " (source " + u.email + ", destination " + dest.rows[dest.by_username[lower(u.username)]].email + ")",
                              "the source's user joins as " + renamed + "; @" + u.username + " in moved messages becomes @" + renamed,
                              "users.same_username_other_email: rename-source (set)", false});
}

void refuse_user(MergePlan& plan, const UserRow& u, const UserRow* du, const UserRow* de) {
    if (du && de)
        plan.conflicts.push_back({"username and email of two destination users",
                                  "user " + u.username + " <" + u.email + ">: destination user " + du->username + " has the username, " +
                                      de->username + " the email",
                                  "the merge is refused", "users.other_username_same_email: map-by-email (the email decides)", true});
    else if (du)
        plan.conflicts.push_back({"same username, other email",
                                  "user " + u.username + " (source " + u.email + ", destination " + du->email + ")", "the merge is refused",
                                  "users.same_username_other_email: rename-source, or trust-username when they are one person", true});
    else if (de)
        plan.conflicts.push_back({"other username, same email",
                                  "user " + u.username + " <" + u.email + "> is destination user " + de->username, "the merge is refused",
                                  "users.other_username_same_email: map-by-email when they are one person", true});
}

void match_user(const Sides& s, MergePlan& plan, UserIndex& dest, const UserRow& u, const std::string& label) {
    using R = MergeRules;
    auto un = dest.by_username.find(lower(u.username));
    auto em = dest.by_email.find(u.email);
    const UserRow* du = un == dest.by_username.end() ? nullptr : &dest.rows[un->second];
    const UserRow* de = em == dest.by_email.end() ? nullptr : &dest.rows[em->second];
    auto match = [&](const UserRow& d, const std::string& how) {
        plan.ids.match(dest.table, u.id, d.id);
        // The source's name for this person is no account on the destination (or another person's):
        // @name in moved messages and usernames in system messages follow to the account they join.
        if (lower(u.username) != lower(d.username)) plan.renames.users[lower(u.username)] = d.username;
        plan.matches.push_back({label, u.username == d.username ? u.username : u.username + " → " + d.username, how});
        note_roles(plan, u, d);
    };
    if (du && (du == de || (u.bot && du->bot))) return match(*du, u.bot ? "bot with the same username" : "same username and email");
    if (du && s.rules.same_username_other_email == R::UsernameClash::trust_username)
        return match(*du, "same username, other email (trust-username)");
    if (de && s.rules.other_username_same_email == R::EmailClash::map_by_email)
        return match(*de, "same email, other username (map-by-email)");
    if (du && !de && s.rules.same_username_other_email == R::UsernameClash::rename_source) return rename_user(s, plan, dest, u);
    refuse_user(plan, u, du, de);
}

}  // namespace

// The users entry's first key is the username (renames, @mentions), the second the email.
void match_users(const Sides& s, MergePlan& plan, const IdentityKey& users) {
    if (s.src_table(users.table).empty() || s.dst_table(users.table).empty()) return;
    const UserColumns c = user_columns(s, users);
    UserIndex dest;
    dest.table = lower(users.table);
    dest.rows = read_users(s, s.dst, c);
    for (size_t i = 0; i < dest.rows.size(); ++i) {
        dest.by_username[lower(dest.rows[i].username)] = i;
        if (!dest.rows[i].email.empty()) dest.by_email[dest.rows[i].email] = i;
        dest.names.insert(lower(dest.rows[i].username));
    }
    std::vector<UserRow> source = read_users(s, s.src, c, s.src_scope(users.table, " WHERE "));
    for (const auto& u : source) dest.names.insert(lower(u.username));
    for (const auto& u : source) match_user(s, plan, dest, u, users.table);
}

void match_teams(const Sides& s, MergePlan& plan, const IdentityKey& teams) {
    if (s.src_table(teams.table).empty() || s.dst_table(teams.table).empty()) return;
    const std::string key = teams.keys[0][0], table = lower(teams.table);
    auto read = [&](Database& db, const std::string& scope) {
        return db.query("SELECT " + s.id_column(db, table) + ", " + s.column(db, table, key) + " FROM " + s.table(db, table) + scope);
    };
    std::map<std::string, std::string> dest;  // lower key → Id
    std::set<std::string> names;
    for (auto& r : read(s.dst, "")) {
        dest[lower(r[1].value_or(""))] = r[0].value_or("");
        names.insert(lower(r[1].value_or("")));
    }
    for (auto& r : read(s.src, s.src_scope(table, " WHERE "))) {
        const std::string id = r[0].value_or(""), name = r[1].value_or("");
        auto rename = s.rules.team_renames.find(lower(name));
        if (rename != s.rules.team_renames.end()) {
            if (names.count(lower(rename->second))) {
                plan.conflicts.push_back({"team rename onto a used name", "team " + name + " → " + rename->second,
                                          "the merge is refused", "teams.rename: choose a name the destination does not use", true});
                continue;
            }
            names.insert(lower(rename->second));
            plan.new_names[table][id] = rename->second;
            plan.renames.teams[lower(name)] = rename->second;
            plan.notes.push_back("team " + name + " joins as a new team, " + rename->second + " (teams.rename)");
        } else if (auto d = dest.find(lower(name)); d != dest.end()) {
            plan.ids.match(table, id, d->second);
            plan.matches.push_back({teams.table, name, "same name: the source's channels and members join it"});
        }
    }
}

}  // namespace mmmove::matching
