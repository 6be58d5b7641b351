#include "merge/merge_plan.h"

#include <set>

#include "catalog/catalog.h"
#include "catalog/references.h"
#include "catalog/schema_model.h"
#include "core/error.h"
#include "core/printable.h"
#include "merge/matching.h"

namespace mmmove {

bool MergePlan::blocked() const {
    for (const auto& c : conflicts)
        if (c.blocking) return true;
    return false;
}

const std::string* MergePlan::new_name(const std::string& table, std::string_view source_id) const {
    auto t = new_names.find(table);
    if (t == new_names.end()) return nullptr;
    auto it = t->second.find(source_id);
    return it == t->second.end() ? nullptr : &it->second;
}

namespace {

struct HowSpelling {
    TableHow how;
    const char* name;  // in the checkpoint: never change one, a resumed merge reads it back
    const char* text;  // in the plan people read
};
constexpr HowSpelling kHows[] = {
    {TableHow::insert, "insert", "insert"},
    {TableHow::skip_existing_keys, "skip_existing_keys", "insert, skip existing keys"},
    {TableHow::combine_members, "combine_members", "combine memberships"},
    {TableHow::keep_destination, "keep_destination", "keep the destination's rows"},
    {TableHow::outside_scope, "outside_scope", "stays on the source (outside the scope)"},
    {TableHow::skip, "skip", "skip (rules)"},
    {TableHow::copy_as_is, "copy_as_is", "copy as is (rules)"},
};

const HowSpelling& spelling(TableHow how) {
    for (const auto& h : kHows)
        if (h.how == how) return h;
    throw Error(ExitCode::internal, "a table treatment without a name");
}

}  // namespace

const char* table_how_text(TableHow how) { return spelling(how).text; }
const char* table_how_name(TableHow how) { return spelling(how).name; }

std::optional<TableHow> table_how_from_name(std::string_view name) {
    for (const auto& h : kHows)
        if (name == h.name) return h.how;
    return std::nullopt;
}

nlohmann::json MergePlan::state() const {
    nlohmann::json j;
    for (const auto& [table, names] : new_names)
        for (const auto& [id, name] : names) j["new_names"][table][id] = name;
    auto map_json = [](const std::unordered_map<std::string, std::string>& m) {
        nlohmann::json o = nlohmann::json::object();
        for (const auto& [k, v] : m) o[k] = v;
        return o;
    };
    j["renames"] = {{"users", map_json(renames.users)}, {"channels", map_json(renames.channels)}, {"emoji", map_json(renames.emoji)},
                    {"teams", map_json(renames.teams)}, {"posts", map_json(renames.posts)}};
    j["tables"] = nlohmann::json::array();
    for (const auto& t : tables) j["tables"].push_back({t.table, table_how_name(t.how), t.merged});
    j["channels"] = nlohmann::json::array();
    for (const auto& c : merged_channels)
        j["channels"].push_back({c.dest_id, c.dest_total, c.dest_total_root, c.source_total, c.source_total_root, c.source_last_post,
                                 c.source_last_root_post});
    return j;
}

void MergePlan::restore(const nlohmann::json& j) {
    if (j.contains("new_names"))
        for (const auto& [table, names] : j["new_names"].items())
            for (const auto& [id, name] : names.items()) new_names[table][id] = name.get<std::string>();
    auto map_from = [&](const char* key, std::unordered_map<std::string, std::string>& m) {
        for (const auto& [k, v] : j["renames"][key].items()) m[k] = v.get<std::string>();
    };
    map_from("users", renames.users);
    map_from("channels", renames.channels);
    map_from("emoji", renames.emoji);
    map_from("teams", renames.teams);
    map_from("posts", renames.posts);
    for (const auto& t : j["tables"]) {
        TablePlan tp;
        tp.table = t.at(0).get<std::string>(), tp.merged = t.at(2).get<bool>();
        const std::string how = t.at(1).get<std::string>();
        const std::optional<TableHow> known = table_how_from_name(how);
        if (!known)  // data read back, not an instruction: only the names state() writes are accepted
            throw Error(ExitCode::destination, "The saved plan of the interrupted merge gives table " + printable(tp.table) +
                                                   " the treatment \"" + printable(how) + "\", which this mmmove does not write. "
                                                   "Resume with the mmmove that started the merge, or restore the destination from its backup and merge again.");
        tp.how = *known;
        tables.push_back(tp);
    }
    for (const auto& c : j["channels"])
        merged_channels.push_back({c.at(0).get<std::string>(), c.at(1).get<int64_t>(), c.at(2).get<int64_t>(), c.at(3).get<int64_t>(),
                                   c.at(4).get<int64_t>(), c.at(5).get<int64_t>(), c.at(6).get<int64_t>()});
}

namespace {

std::set<std::string> known_tables(Engine engine) {
    std::set<std::string> known;
    for (const auto& m : builtin_models())
        if (m.engine == engine)
            for (const auto& t : m.tables) known.insert(lower(t.name));
    return known;
}

// True when the table's primary key is its own id, one a colliding source row can be given anew:
// neither a reference to another table's row nor built from other ids (a default sidebar category's
// id is <type>_<user>_<team>: the destination's category of a user both sides know is the same row,
// not a collision), nor a number. LinkMetadata's Hash is a bigint Mattermost computes from the URL and
// timestamp: the same Hash on both sides is the same cached preview (the destination keeps its own),
// and a new Hash would be one no server ever looks up. Such tables skip the keys the destination holds.
bool keyed_by_own_id(const Table& t) {
    if (t.primary_key.size() != 1) return false;
    const Column* key_column = t.find_column(t.primary_key[0]);
    if (!key_column || key_column->kind != ColumnKind::text) return false;
    const std::string key = lower(t.primary_key[0]);
    for (const auto* ref : references_from(t.name))
        if (lower(ref->column) == key) return false;
    for (const auto& d : references().derived)
        if (lower(d.table) == lower(t.name) && lower(d.column) == key) return false;
    return true;
}

void plan_tables(const matching::Sides& s, MergePlan& plan) {
    const std::set<std::string> known = known_tables(s.check.source.engine);
    for (const auto& t : s.check.source.catalog.tables) {
        const std::string name = lower(t.name);
        if (table_role(t.name) == TableRole::schema_version || table_role(t.name) == TableRole::per_instance) continue;
        if (!s.check.dest.catalog.find(t.name)) continue;  // the check names tables only one side has
        TablePlan tp{t.name, 0, 0, 0, TableHow::insert, true};
        if (s.rules.keep_destination.count(name)) {
            tp.how = TableHow::keep_destination, tp.merged = false;
        } else if (s.scope.active() && !s.scope.moves(t.name)) {
            tp.how = TableHow::outside_scope, tp.merged = false;
        } else if (s.rules.skip.count(name)) {
            tp.how = TableHow::skip, tp.merged = false;
        } else if (!known.count(name)) {
            if (s.rules.copy_as_is.count(name)) {
                tp.how = TableHow::copy_as_is;
            } else {
                tp.merged = false;
                plan.conflicts.push_back({"unknown table", "table " + t.name + " (a plugin's, or a newer Mattermost's)",
                                          "the merge is refused: mmmove does not know which of its columns hold ids",
                                          "tables.copy_as_is: [" + t.name + "] or tables.skip: [" + t.name + "]", true});
            }
        } else if (s.rules.combine_members.count(name)) {
            tp.how = TableHow::combine_members;
        } else if (!keyed_by_own_id(t)) {
            tp.how = TableHow::skip_existing_keys;
        }
        plan.tables.push_back(tp);
    }
}

void count_rows(const matching::Sides& s, MergePlan& plan) {
    auto count = [&](const std::string& table, const std::string& where) {
        return std::stoull(s.src.query("SELECT COUNT(*) FROM " + s.src.quote_ident(table) + where).at(0).at(0).value_or("0"));
    };
    for (auto& tp : plan.tables) {
        if (s.scope.active() && (tp.merged || tp.how == TableHow::outside_scope)) tp.total_rows = count(tp.table, "");
        if (!tp.merged) continue;
        tp.source_rows = count(tp.table, s.src_scope(tp.table, " WHERE "));
        const std::string t = lower(tp.table);
        if (const StringSet* m = plan.ids.matches(t)) tp.matched = m->size();
        if (const StringMap* c = plan.ids.changes(t))
            for (const auto& [from, to] : *c)
                if (!plan.ids.matched(t, from)) ++tp.renumbered;
    }
}

}  // namespace

IdForms merge_id_forms(const CheckReport& check) {
    const std::set<std::string> known = known_tables(check.source.engine);
    IdForms forms;
    for (const auto& t : check.source.catalog.tables) {
        if (t.primary_key.size() != 1 || !check.dest.catalog.find(t.name)) continue;
        const Column* key = t.find_column(t.primary_key[0]);
        if (!key) continue;
        IdForm form;
        form.mattermost_id = known.count(lower(t.name)) && key->max_chars == 26;
        form.max_chars = form.mattermost_id ? 26 : static_cast<size_t>(key->max_chars > 0 && key->max_chars < 128 ? key->max_chars : 128);
        forms[lower(t.name)] = form;
    }
    return forms;
}

// The identity entries of tables both sides have, checked against their columns there: a table the
// schema models do not know (a plugin's) is checked only here.
static void check_identities_against(const CheckReport& check, const References& model) {
    for (const auto* side : {&check.source.catalog, &check.dest.catalog}) {
        std::map<std::string, std::vector<std::string>> columns;  // lower table → lower columns
        for (const auto& t : side->tables)
            for (const auto& c : t.columns) columns[lower(t.name)].push_back(lower(c.name));
        check_identity_columns(model, [&](const std::string& table) -> const std::vector<std::string>* {
            auto it = columns.find(lower(table));
            bool both = check.source.catalog.find(table) && check.dest.catalog.find(table);
            return both && it != columns.end() ? &it->second : nullptr;
        });
    }
}

MergePlan plan_merge(Database& src, Database& dst, const CheckReport& check, const MergeRules& rules, const MergeScope& scope) {
    return plan_merge(src, dst, check, rules, scope, references());
}

MergePlan plan_merge(Database& src, Database& dst, const CheckReport& check, const MergeRules& rules, const MergeScope& scope,
                     const References& model) {
    check_identities_against(check, model);
    MergePlan plan;
    plan.scope = scope.label();
    matching::Sides s{src, dst, check, rules, scope, model};
    plan_tables(s, plan);
    matching::match_identities(s, plan);
    for (const auto& tp : plan.tables) {
        const Table* t = check.source.catalog.find(tp.table);
        if (tp.merged && t && keyed_by_own_id(*t)) matching::renumber_collisions(s, plan, tp.table, t->primary_key[0]);
    }
    std::string linked;  // the table whose ids permalinks name (the text section's permalink target)
    for (const auto& tr : model.text)
        if (tr.form == TextForm::permalink) linked = lower(tr.targets.at(1).table);
    if (const StringMap* posts = linked.empty() ? nullptr : plan.ids.changes(linked))
        for (const auto& [from, to] : *posts) plan.renames.posts[from] = to;  // permalinks to renumbered posts follow
    count_rows(s, plan);
    return plan;
}

}  // namespace mmmove
