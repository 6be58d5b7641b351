#include "job/incremental.h"

#include <set>

#include "catalog/catalog.h"
#include "core/error.h"
#include "core/printable.h"
#include "job/refresh_target.h"
#include "pipeline/checkpoint.h"
#include "pipeline/sync_state.h"

namespace mmmove {
namespace {

// How copy.skip_tables changed since the refresh the record describes, "" when it did not: a table
// skipped then and copied now would stay empty or stale, one copied then and skipped now would keep
// rows of an older refresh. The record's left_behind holds the tables skipped then, and those the
// destination lacked (which stay behind whatever the list says).
std::string skip_list_change(const SyncState& state, const Job& job, const Catalog& source, const Catalog& dest) {
    std::set<std::string> skipped, left(state.left_behind.begin(), state.left_behind.end());
    for (const auto& t : job.copy.skip_tables) skipped.insert(lower(t));
    for (const auto& t : source.tables) {
        const std::string name = lower(t.name);
        if (skipped.count(name) && !left.count(name))
            return "copy.skip_tables now skips " + printable(t.name) + ", which the last refresh copied";
        if (!skipped.count(name) && left.count(name) && dest.find(name))
            return "copy.skip_tables no longer skips " + printable(t.name) + ", which the last refresh left behind";
    }
    return "";
}

}  // namespace

std::string full_refresh_reason(Database& src, const Catalog& src_catalog, Database& dst, const Catalog& dst_catalog, const Job& job,
                                const LoadStage* stage) {
    if (Checkpoint(dst).exists()) return "the destination holds an unfinished run";
    if (!holds_finished_refresh_by(dst, job.name)) return "the destination holds no finished refresh by this job";
    std::optional<SyncState> state;
    try {
        state = read_sync_state(dst);
    } catch (const Error&) {
        return "the destination's record of what it holds is not one mmmove writes";
    }
    if (!state) return "the destination holds no record of what it holds";
    if (stage && !state->transformed) return "the destination holds a plain copy, not an anonymised refresh";
    if (!stage && state->transformed) return "the destination holds an anonymised refresh and this job does not anonymise";
    if (stage && (state->fingerprint.empty() || state->fingerprint != stage->fingerprint()))
        return "the anonymisation key or rules differ from those the destination's rows were masked with";
    const std::string id = source_diagnostic_id(src, src_catalog);
    if (!state->diagnostic_id.empty() && !id.empty() && id != state->diagnostic_id)
        return "the destination was refreshed from another Mattermost instance";
    return skip_list_change(*state, job, src_catalog, dst_catalog);
}

}  // namespace mmmove
