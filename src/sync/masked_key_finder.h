#pragma once
// An incremental refresh's fast path for a table whose primary key the stage masks (Reactions, whose
// EmojiName takes its emoji_ref mask), internal to sync. The digest path reads every row of every
// chunk on both sides, masks all of the source's, and reads them again where a chunk differs; this one
// reads only what the change-column path reads, with the source's keys masked on the way:
//   - the chunk's keys on both sides (the key columns alone), the source's put through the stage: a
//     key only the source holds is an insert (whatever its stamp), one only the destination holds a
//     hard delete;
//   - the source's rows stamped since the previous snapshot (less the margin), masked whole and
//     compared with the destination's rows under their masked keys.
// Exact only because the stage says (LoadStage::masks_keys_alone) that a row's masked key is a function
// of its own key columns: masking the key columns alone gives the key the whole row is written under.
// The same limit as the change-column path: an update that bumps no change column is not seen.
#include <memory>
#include <optional>

#include "sync/chunk_apply.h"

namespace mmmove::sync_detail {

// The finder for `comparer`'s table, or null when the path does not apply: no stage, keys the stage
// keeps (the change-column path serves those), keys the stage does not mask alone or rows it drops, no
// change column, no previous snapshot moment, or an edge conversion that changes the rows (the masked
// key would not be the written one).
std::unique_ptr<ChangeFinder> masked_key_finder_for(const verify_detail::TableComparer& comparer, const LoadStage* stage, Engine from,
                                                    Engine to, const ConvertPolicy& policy, std::optional<int64_t> snapshot_ms);
bool is_masked_key_finder(const ChangeFinder& finder);

}  // namespace mmmove::sync_detail
