#pragma once
// `mmmove merge --verify`: every row the merge wrote is in the destination, as the merge meant to
// write it. Each source row (on the snapshot the merge read) is put through the merge's own stage —
// ids through the ID map, names renamed — and the edge conversion, then compared value by value with
// the destination's row under the same key. Rows the destination already had (matched) are not
// compared: the destination's row wins by design. Tables keyed by their own id are compared row for
// row; tables whose rows the destination may already hold (memberships, preferences…) are not.
#include <string>
#include <vector>

#include "merge/merge_stage.h"
#include "pipeline/planner.h"
#include "transform/convert.h"

namespace mmmove {

class ReadSnapshot;

struct MergeVerifyTable {
    std::string table;
    uint64_t compared = 0, missing = 0, differ = 0;
    std::vector<std::string> examples;  // "Id=…: missing", "Id=…: Message differs"
};

struct MergeVerifyResult {
    std::vector<MergeVerifyTable> tables;
    bool equal() const;
};

MergeVerifyResult verify_merge(const CopyPlan& chunks, ReadSnapshot& snapshot, Database& dst, const MergeStage& stage,
                               const ConvertPolicy& policy, size_t examples);
void print_merge_verify(const MergeVerifyResult& result, std::ostream& out);

}  // namespace mmmove
