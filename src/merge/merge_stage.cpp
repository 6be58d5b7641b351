#include "merge/merge_stage.h"

#include "catalog/catalog.h"
#include "catalog/references.h"
#include "merge/members.h"
#include "pipeline/planner.h"
#include "transform/id_values.h"

namespace mmmove {

// One rewrite of one column. The ops of a table are found once, from the reference model and the
// plan; a chunk's transform only looks their columns up in its rows.
struct ColumnOp {
    enum class Kind { own_id, ref, json, json_names, rename, text, emoji_name, category_id, preference };
    Kind kind;
    std::string column;
    std::string target;  // lower-case table whose ids (or names) the column holds
    std::vector<const std::vector<JsonStep>*> paths;
    const PreferenceReference* preference = nullptr;
    const std::unordered_map<std::string, std::string>* names = nullptr;  // json_names: old name → new
};

struct TableRemap {
    std::string table;  // lower case
    std::vector<ColumnOp> ops;
};

namespace {

class RemapRow : public Transform {
public:
    RemapRow(const MergePlan& plan, const TableRemap& remap, const RowColumns& columns) : plan_(plan), remap_(remap) {
        for (const auto& op : remap.ops) {
            int i = columns.find(op.column);
            if (i >= 0) bound_.push_back({&op, i, {}});
        }
        own_ = columns.find("id");
        name_ = columns.find("name");
        category_ = columns.find("category");
    }
    Result apply(FieldRow& row) override {
        Result r = Result::unchanged;
        for (auto& b : bound_) {
            Field& f = row[b.index];
            if (f.null) continue;
            const std::string* to = nullptr;
            switch (b.op->kind) {
                case ColumnOp::Kind::own_id:
                    if (plan_.ids.matched(remap_.table, f.view())) return Result::drop;
                    to = plan_.ids.find(remap_.table, f.view());
                    break;
                case ColumnOp::Kind::ref: to = plan_.ids.find(b.op->target, f.view()); break;
                case ColumnOp::Kind::rename: to = own_ >= 0 && !row[own_].null ? plan_.new_name(b.op->target, row[own_].view()) : nullptr; break;
                case ColumnOp::Kind::json: to = remap_json(b, f, lookup(b.op->target)); break;
                case ColumnOp::Kind::json_names: to = remap_json(b, f, lookup_name(*b.op->names)); break;
                case ColumnOp::Kind::text:
                    to = rewrite_text_references(f.view(), plan_.renames, b.scratch) ? &b.scratch : nullptr;
                    break;
                case ColumnOp::Kind::emoji_name: {
                    auto it = plan_.renames.emoji.find(std::string(f.view()));
                    to = it == plan_.renames.emoji.end() ? nullptr : &it->second;
                    break;
                }
                case ColumnOp::Kind::category_id: to = remap_category(b, f.view()); break;
                case ColumnOp::Kind::preference: to = remap_preference(b, row, f); break;
            }
            if (!to) continue;
            if (to != &b.scratch) b.scratch = *to;
            f = Field::of(b.scratch);
            r = Result::changed;
        }
        return r;
    }

private:
    struct Bound {
        const ColumnOp* op;
        int index;
        std::string scratch;
    };
    IdLookup lookup(const std::string& table) const {
        return [this, table](std::string_view id) { return plan_.ids.find(table, id); };
    }
    // Names in JSON are looked up as stored: Mattermost keeps usernames, team and channel names in
    // lower case, the case the renames are keyed by; a value in another case is no such name.
    static IdLookup lookup_name(const std::unordered_map<std::string, std::string>& names) {
        return [&names](std::string_view name) -> const std::string* {
            auto it = names.find(std::string(name));
            return it == names.end() ? nullptr : &it->second;
        };
    }
    const std::string* remap_json(Bound& b, const Field& f, const IdLookup& lookup) {
        std::string out;
        if (!remap_json_ids(f.view(), b.op->paths, lookup, out)) return nullptr;
        b.scratch = std::move(out);
        return &b.scratch;
    }
    // Default sidebar categories are named <type>_<user id>_<team id>: the name follows both ids.
    const std::string* remap_category(Bound& b, std::string_view v) {
        if (v.size() < 55 || v[v.size() - 27] != '_' || v[v.size() - 54] != '_') return plan_.ids.find("sidebarcategories", v);
        std::string_view type = v.substr(0, v.size() - 54), user = v.substr(v.size() - 53, 26), team = v.substr(v.size() - 26);
        const std::string *u = plan_.ids.find("users", user), *t = plan_.ids.find("teams", team);
        if (!u && !t) return nullptr;
        b.scratch = std::string(type) + "_" + (u ? *u : std::string(user)) + "_" + (t ? *t : std::string(team));
        return &b.scratch;
    }
    const std::string* remap_preference(Bound& b, const FieldRow& row, const Field& f) {
        const PreferenceReference& p = *b.op->preference;
        if (category_ < 0 || row[category_].null || row[category_].view() != p.category) return nullptr;
        if (!p.name.empty() && (name_ < 0 || row[name_].view() != p.name)) return nullptr;
        std::string out;
        if (!remap_joined_ids(f.view(), p.separator, lookup(b.op->target), out)) return nullptr;
        b.scratch = std::move(out);
        return &b.scratch;
    }

    const MergePlan& plan_;
    const TableRemap& remap_;
    std::vector<Bound> bound_;
    int own_ = -1, category_ = -1, name_ = -1;
};

std::string target_of(const RefTarget& t) { return lower(t.table); }

// A reference to a row's name (Users.Username, Channels.Name…) rather than its id.
bool names_row(const RefTarget& t) { return lower(t.column) == "name" || lower(t.column) == "username"; }

// What the merge renames of the target's names (empty when it renames none of them): every source
// name that becomes another on the destination, renamed or mapped onto a row of another name.
const std::unordered_map<std::string, std::string>* renamed(const TextRenames& r, const RefTarget& t) {
    const std::string table = lower(t.table);
    if (table == "users" && lower(t.column) == "username") return &r.users;
    if (lower(t.column) != "name") return nullptr;
    return table == "teams" ? &r.teams : table == "channels" ? &r.channels : table == "emoji" ? &r.emoji : nullptr;
}

}  // namespace

MergeStage::MergeStage(const MergePlan& plan) : plan_(plan) {
    for (const auto& c : plan.merged_channels) merged_channels_[c.dest_id] = &c;
    const References& refs = references();
    auto remap = [&](const std::string& table) -> TableRemap& {
        auto& r = remaps_[lower(table)];
        if (!r) r = std::make_unique<TableRemap>(TableRemap{lower(table), {}});
        return *r;
    };
    for (const auto& t : plan.tables) {
        if (!t.merged || t.how == TableHow::copy_as_is) continue;
        const std::string name = lower(t.table);
        writes_[name] = t.how == TableHow::combine_members      ? WritePlan::Kind::hold
                        : t.how == TableHow::skip_existing_keys ? WritePlan::Kind::skip_existing
                                                                : WritePlan::Kind::insert;
        if (plan.ids.matches(name) || plan.ids.changes(name)) remap(name).ops.push_back({ColumnOp::Kind::own_id, "Id", name, {}, nullptr});
        for (const auto* ref : references_from(t.table))
            if (ref->kind != ColumnRefKind::names && plan.ids.changes(target_of(ref->target)))
                remap(name).ops.push_back({ColumnOp::Kind::ref, ref->column, target_of(ref->target), {}, nullptr});
    }
    std::map<std::pair<std::string, std::string>, ColumnOp> json;  // (table, column) per target: one op each
    for (const auto& j : refs.json) {
        if (!writes_.count(lower(j.table))) continue;
        ColumnOp wanted{ColumnOp::Kind::json, j.column, target_of(j.target), {}, nullptr};
        if (names_row(j.target)) {  // a name: it follows the renames (one op per kind of name)
            const auto* names = renamed(plan.renames, j.target);
            if (!names || names->empty()) continue;
            wanted.kind = ColumnOp::Kind::json_names, wanted.target += ".names", wanted.names = names;
        } else if (!plan.ids.changes(target_of(j.target))) {
            continue;
        }
        ColumnOp& op = json.try_emplace({lower(j.table) + "\n" + lower(j.column), wanted.target}, wanted).first->second;
        op.paths.push_back(&j.steps);
    }
    for (auto& [key, op] : json) remap(key.first.substr(0, key.first.find('\n'))).ops.push_back(op);
    for (const auto& p : refs.preferences)
        if (plan.ids.changes(target_of(p.target)) && writes_.count("preferences"))
            remap("preferences").ops.push_back({ColumnOp::Kind::preference, p.field == PreferenceField::name ? "Name" : "Value",
                                                target_of(p.target), {}, &p});
    for (const char* t : {"users", "teams", "channels", "emoji"}) {
        if (!plan.new_names.count(t)) continue;
        const char* column = std::string(t) == "users" ? "Username" : "Name";
        if (writes_.count(t)) remap(t).ops.push_back({ColumnOp::Kind::rename, column, t, {}, nullptr});
        if (std::string(t) == "channels" && writes_.count("publicchannels"))
            remap("publicchannels").ops.push_back({ColumnOp::Kind::rename, "Name", "channels", {}, nullptr});
    }
    if (!plan.renames.empty())
        for (const auto& tr : refs.text) {
            if (!writes_.count(lower(tr.table))) continue;
            if (tr.form == TextForm::value && lower(tr.column) == "emojiname") {
                if (!plan.renames.emoji.empty()) remap(tr.table).ops.push_back({ColumnOp::Kind::emoji_name, tr.column, "emoji", {}, nullptr});
            } else if (tr.form == TextForm::mention && tr.targets.at(0).table == "Users") {  // one text op per column
                remap(tr.table).ops.push_back({ColumnOp::Kind::text, tr.column, "", {}, nullptr});
            }
        }
    if (plan.ids.changes("users") || plan.ids.changes("teams"))
        for (const char* t : {"sidebarcategories", "sidebarchannels"})
            if (writes_.count(t)) {
                auto& ops = remap(t).ops;
                const char* column = std::string(t) == "sidebarcategories" ? "Id" : "CategoryId";
                std::erase_if(ops, [&](const ColumnOp& o) { return lower(o.column) == lower(column); });
                ops.push_back({ColumnOp::Kind::category_id, column, "sidebarcategories", {}, nullptr});
            }
}

MergeStage::~MergeStage() = default;

std::string MergeStage::kept_table(const std::string& table) { return "mmmove_kept_" + lower(table); }

TransformChain MergeStage::chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues&) const {
    TransformChain chain;
    auto it = remaps_.find(lower(table.source->name));
    if (it != remaps_.end() && !it->second->ops.empty()) chain.add(std::make_unique<RemapRow>(plan_, *it->second, columns));
    return chain;
}

WritePlan MergeStage::write_plan(const PlannedTable& table) const {
    auto it = writes_.find(lower(table.source->name));
    WritePlan w;
    w.kind = it == writes_.end() ? WritePlan::Kind::insert : it->second;
    if (w.kind == WritePlan::Kind::hold) w.hold_table = kHeldMembers;
    if (w.kind != WritePlan::Kind::insert) w.kept_table = kept_table(table.dest->name);
    return w;
}

void MergeStage::expect(const PlannedTable& table, const std::vector<std::string>& columns, RowValues& row, const RowValues* kept) const {
    if (write_plan(table).kind != WritePlan::Kind::hold) return LoadStage::expect(table, columns, row, kept);
    const MergedChannel* channel = nullptr;
    for (size_t i = 0; i < columns.size(); ++i)
        if (lower(columns[i]) == "channelid" && row[i]) {
            auto it = merged_channels_.find(*row[i]);
            if (it != merged_channels_.end()) channel = it->second;
        }
    expect_membership(columns, row, kept, channel);
}

}  // namespace mmmove
