#include "job/incremental.h"

#include "catalog/catalog.h"
#include "core/error.h"
#include "job/refresh_target.h"
#include "pipeline/checkpoint.h"
#include "pipeline/sync_state.h"

namespace mmmove {

std::string full_refresh_reason(Database& src, const Catalog& src_catalog, Database& dst, const Job& job, const LoadStage* stage) {
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
    return "";
}

}  // namespace mmmove
