#include "merge/merge_stage.h"

#include <functional>
#include <set>

#include "catalog/catalog.h"
#include "catalog/references.h"
#include "merge/members.h"
#include "pipeline/planner.h"
#include "transform/id_values.h"

namespace mmmove {

// One rewrite of one column. The ops of a table are found once, from the reference model and the
// plan; a chunk's transform only looks their columns up in its rows.
struct ColumnOp {
    enum class Kind { own_id, ref, json, json_names, rename, text, value_name, category_id, preference };
    Kind kind;
    std::string column;
    std::string target;  // lower-case table whose ids (or names) the column holds
    std::vector<const std::vector<JsonStep>*> paths;
    const PreferenceReference* preference = nullptr;
    const std::unordered_map<std::string, std::string>* names = nullptr;  // json_names, value_name: old name → new
    const DerivedName* derived = nullptr;                                  // category_id: the id's pattern
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
                case ColumnOp::Kind::value_name: {
                    auto it = b.op->names->find(std::string(f.view()));
                    to = it == b.op->names->end() ? nullptr : &it->second;
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
    // A default sidebar category's id is <type>_<user id>_<team id> (the `pattern` rule of the derived
    // section, its inputs the user and the team): the id follows both ids. Others are plain ids.
    const std::string* remap_category(Bound& b, std::string_view v) {
        if (v.size() < 55 || v[v.size() - 27] != '_' || v[v.size() - 54] != '_') return plan_.ids.find(b.op->target, v);
        const DerivedName& d = *b.op->derived;
        std::string_view type = v.substr(0, v.size() - 54), user = v.substr(v.size() - 53, 26), team = v.substr(v.size() - 26);
        const std::string *u = plan_.ids.find(lower(d.inputs.at(0).table), user), *t = plan_.ids.find(lower(d.inputs.at(1).table), team);
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

// The identity entry that renames `t` (Users.Username, Channels.Name…), or nullptr: a reference to a
// row's name rather than its id.
const IdentityKey* renaming(const RefTarget& t) {
    for (const auto& id : references().identities)
        if (lower(id.table) == lower(t.table) && !id.rename.empty() && lower(id.rename) == lower(t.column)) return &id;
    return nullptr;
}

// What the merge renames of the target's names (nullptr when it renames none of them): every source
// name that becomes another on the destination, renamed or mapped onto a row of another name. Each
// kind of name has its own list because text names them in its own form (@user, ~channel, :emoji:).
const std::unordered_map<std::string, std::string>* renamed(const TextRenames& r, const RefTarget& t) {
    const IdentityKey* id = renaming(t);
    if (!id) return nullptr;
    using M = IdentityKey::Matcher;
    switch (id->matcher) {
        case M::users: return &r.users;
        case M::teams: return &r.teams;
        case M::channels: return &r.channels;
        case M::emoji: return &r.emoji;
        default: return nullptr;
    }
}

using Writes = std::map<std::string, WritePlan::Kind>;
using RemapOf = std::function<TableRemap&(const std::string&)>;

// Renamed rows get their new name in the identity's rename column, and so do the rows that mirror them
// (the derived section's `mirror` rule: PublicChannels copies open Channels rows).
void add_renames(const MergePlan& plan, const References& refs, const Writes& writes, const RemapOf& remap) {
    for (const auto& id : refs.identities) {
        const std::string t = lower(id.table);
        if (id.rename.empty() || !plan.new_names.count(t)) continue;
        if (writes.count(t)) remap(t).ops.push_back({ColumnOp::Kind::rename, id.rename, t, {}, nullptr});
        for (const auto& d : refs.derived)
            if (d.rule == DerivedRule::mirror && lower(d.inputs.at(0).table) == t && writes.count(lower(d.table)))
                remap(d.table).ops.push_back({ColumnOp::Kind::rename, id.rename, t, {}, nullptr});
    }
}

// Names in text follow the renames: one text op per column that holds text naming rows, and one per
// column whose whole value is a renamed name (Reactions.EmojiName).
void add_text(const MergePlan& plan, const References& refs, const Writes& writes, const RemapOf& remap) {
    std::set<std::string> done;  // "<table>\n<column>": the text op rewrites every form at once
    for (const auto& tr : refs.text) {
        if (!writes.count(lower(tr.table))) continue;
        if (tr.form == TextForm::value) {
            const auto* names = renamed(plan.renames, tr.targets.at(0));
            if (names && !names->empty())
                remap(tr.table).ops.push_back({ColumnOp::Kind::value_name, tr.column, lower(tr.targets.at(0).table), {}, nullptr, names});
        } else if (done.insert(lower(tr.table) + "\n" + lower(tr.column)).second) {
            remap(tr.table).ops.push_back({ColumnOp::Kind::text, tr.column, "", {}, nullptr});
        }
    }
}

// Ids built from other ids (the derived section's `pattern` rule: default sidebar categories) follow
// them, in their own column and in the columns that point at them.
void add_categories(const MergePlan& plan, const References& refs, const Writes& writes, const RemapOf& remap) {
    for (const auto& d : refs.derived) {
        if (d.rule != DerivedRule::pattern) continue;
        bool moved = false;
        for (const auto& in : d.inputs) moved = moved || plan.ids.changes(lower(in.table));
        if (!moved) continue;
        std::vector<std::pair<std::string, std::string>> columns{{d.table, d.column}};
        for (const auto* r : references_to(d.table))
            if (lower(r->target.column) == lower(d.column)) columns.push_back({r->table, r->column});
        for (const auto& [table, column] : columns) {
            if (!writes.count(lower(table))) continue;
            auto& ops = remap(table).ops;
            std::erase_if(ops, [&](const ColumnOp& o) { return lower(o.column) == lower(column); });
            ops.push_back({ColumnOp::Kind::category_id, column, lower(d.table), {}, nullptr, nullptr, &d});
        }
    }
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
        if (renaming(j.target)) {  // a name: it follows the renames (one op per kind of name)
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
    add_renames(plan, refs, writes_, remap);
    if (!plan.renames.empty()) add_text(plan, refs, writes_, remap);
    add_categories(plan, refs, writes_, remap);
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
