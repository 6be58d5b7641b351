#pragma once
// Verifying a load that changed rows on purpose (`mmmove merge --verify`, an anonymised refresh's
// verify step): every row the load wrote is in the destination, as the load meant to write it. Each
// source row (on the snapshot the load read) is put through the same stage — a merge's ids through the
// ID map and its renames, a refresh's masks — and the edge conversion, then compared value by value with
// the destination's row under the same key. Rows the stage dropped (a merge: the destination had them
// already; a refresh: sessions) are not compared. Tables keyed by one column and written plainly are
// compared row for row; tables whose rows the destination may already hold (a merge's memberships,
// preferences…) are not.
#include <string>
#include <vector>

#include "transform/transform.h"
#include "pipeline/planner.h"
#include "transform/convert.h"

namespace mmmove {

class ReadSnapshot;

struct StageVerifyTable {
    std::string table;
    uint64_t compared = 0, missing = 0, differ = 0;
    uint64_t kept = 0;                  // keys the destination held already (its row kept, or combined with)
    std::string not_compared;           // why the table could not be compared (no primary key)
    std::vector<std::string> examples;  // "Id=…: missing", "Id=…: Message differs"
};

struct StageVerifyResult {
    std::vector<StageVerifyTable> tables;
    bool equal() const;
};

StageVerifyResult verify_through_stage(const CopyPlan& chunks, ReadSnapshot& snapshot, Database& dst, const LoadStage& stage,
                               const ConvertPolicy& policy, size_t examples);
// "verify: every <verb> row is in the destination as <verb> (…)" (verb: "merged", "masked").
void print_stage_verify(const StageVerifyResult& result, std::ostream& out, const std::string& verb);

}  // namespace mmmove
