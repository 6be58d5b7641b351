#include "sync/final_pass.h"

#include "core/printable.h"

namespace mmmove {

void measure_final_pass(ReadSnapshot& snapshot, const Catalog& source, const CopyPlan& plan, int64_t snapshot_ms, CatchUpResult& result) {
    std::vector<std::string> tables;
    for (const auto& t : plan.tables) tables.push_back(t.source->name);
    try {
        result.source_moved = measure_source_moved(snapshot.worker(0), source, tables, snapshot_ms, false, false);
    } catch (const std::exception& e) {
        // The sync's writes stand; only the proof is missing, and a cut-over must not go on without it.
        result.source_moved_error = e.what();
    }
}

bool source_stood_still(const CatchUpResult& r) { return r.source_moved && !r.source_moved->moved_on(); }

void print_final_pass(const CatchUpResult& r, std::ostream& out) {
    if (source_stood_still(r)) {
        out << "Final sync: the source stood still during the final sync (" << r.source_moved->tables_checked
            << " tables measured; " << r.source_moved->count_only.size()
            << " without change columns by row count only). The destination holds everything the source holds.\n";
        return;
    }
    out << final_pass_failure(r) << "\n";
}

std::string final_pass_failure(const CatchUpResult& r) {
    if (!r.source_moved)
        return "Final sync: whether the source was written to during the final sync could not be measured (" +
               printable(r.source_moved_error) + "). The destination is equal to the sync's snapshot, but nothing proves the "
               "source stood still. Make sure Mattermost is stopped (or read-only) and run the final sync again.";
    std::string text = "Final sync: THE SOURCE MOVED while the final sync ran; the destination lacks what follows:\n";
    for (const auto& t : r.source_moved->moved) text += "    " + source_moved_line(t) + "\n";
    return text + "Mattermost still writes to the source: stop it (or set it read-only) and run the final sync again. Do not "
                  "point Mattermost at the destination yet.";
}

nlohmann::json final_pass_json(const CatchUpResult& r) {
    nlohmann::json j;
    j["source_stood_still"] = source_stood_still(r);
    if (r.source_moved) j["source_moved"] = source_moved_json(*r.source_moved);
    if (!r.source_moved_error.empty()) j["error"] = r.source_moved_error;
    return j;
}

}  // namespace mmmove
