// Printing a merge plan, for people and for scripts.
#include "merge/merge_plan.h"

namespace mmmove {

void print_merge_plan(const MergePlan& plan, std::ostream& out, size_t examples) {
    size_t blocking = 0;
    for (const auto& c : plan.conflicts) blocking += c.blocking;
    out << "Merge plan" << (plan.scope.empty() ? "" : " of one part of the source: " + plan.scope) << "\n";
    out << "  conflicts: " << plan.conflicts.size() << " (" << blocking << " without a policy)\n";
    for (const auto& c : plan.conflicts) {
        out << "    [" << (c.blocking ? "blocks" : "settled") << "] " << c.kind << ": " << c.subject << "\n";
        out << "        " << c.action << "\n";
        out << "        " << (c.blocking ? "fix: " : "rule: ") << c.fix << "\n";
    }
    out << "  matches (the destination's row is kept and the source's rows point at it): " << plan.matches.size() << "\n";
    for (size_t i = 0; i < plan.matches.size() && i < examples; ++i)
        out << "    " << plan.matches[i].table << " " << plan.matches[i].subject << ": " << plan.matches[i].how << "\n";
    if (plan.matches.size() > examples) out << "    … and " << plan.matches.size() - examples << " more (--json lists every one)\n";
    for (const auto& n : plan.notes) out << "  note: " << n << "\n";
    out << "  tables:\n";
    std::string empty, kept;
    for (const auto& t : plan.tables) {
        if (!t.merged && t.how == TableHow::keep_destination) {
            kept += (kept.empty() ? "" : ", ") + t.table;
            continue;
        }
        if (t.merged && t.source_rows == 0 && (plan.scope.empty() || t.total_rows == 0)) {
            empty += (empty.empty() ? "" : ", ") + t.table;
            continue;
        }
        out << "    " << t.table << ": ";
        if (!t.merged) {
            out << table_how_text(t.how);
            if (!plan.scope.empty() && t.total_rows) out << ": all " << t.total_rows << " rows stay";
            out << "\n";
            continue;
        }
        out << t.source_rows << " source rows";
        if (!plan.scope.empty()) out << " of " << t.total_rows << " move (" << t.total_rows - t.source_rows << " stay)";
        out << "; " << table_how_text(t.how);
        if (t.matched) out << "; " << t.matched << " mapped onto existing rows";
        if (t.renumbered) out << "; " << t.renumbered << " get a new id (theirs is taken)";
        out << "\n";
    }
    if (!empty.empty()) out << "    no source rows: " << empty << "\n";
    if (!kept.empty()) out << "    the destination keeps its own rows (tables.keep_destination): " << kept << "\n";
    out << (blocking ? "The merge is refused until the rules settle each conflict marked [blocks] (--rules FILE; see the fix).\n"
                     : "Nothing blocks the merge.\n");
}

nlohmann::json merge_plan_json(const MergePlan& plan) {
    nlohmann::json j;
    j["blocked"] = plan.blocked();
    j["conflicts"] = nlohmann::json::array();
    for (const auto& c : plan.conflicts)
        j["conflicts"].push_back({{"kind", c.kind}, {"subject", c.subject}, {"action", c.action}, {"fix", c.fix}, {"blocking", c.blocking}});
    j["matches"] = nlohmann::json::array();
    for (const auto& m : plan.matches) j["matches"].push_back({{"table", m.table}, {"subject", m.subject}, {"how", m.how}});
    j["notes"] = plan.notes;
    if (!plan.scope.empty()) j["scope"] = plan.scope;
    j["tables"] = nlohmann::json::array();
    for (const auto& t : plan.tables)
        j["tables"].push_back({{"table", t.table}, {"merged", t.merged}, {"how", table_how_text(t.how)}, {"source_rows", t.source_rows},
                               {"matched", t.matched}, {"renumbered", t.renumbered}, {"total_rows", t.total_rows},
                               {"insert", t.merged ? t.source_rows - t.matched : 0}});
    return j;
}

}  // namespace mmmove
