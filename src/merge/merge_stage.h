#pragma once
// The merge's part of the pipeline: for each table, the transform that rewrites a source row for the
// destination (ids through the ID map, wherever mappings/references.yaml says they hide; renamed
// users, channels, teams and emoji; names in messages), drops rows the destination already has, and
// says where the rows go (insert, skip existing keys, or the memberships held for combining).
#include <map>
#include <memory>
#include <string>

#include "merge/merge_plan.h"
#include "transform/transform.h"

namespace mmmove {

struct TableRemap;  // what to do to one table's rows (merge_stage.cpp)

class MergeStage : public LoadStage {
public:
    static constexpr const char* kHeldMembers = "mmmove_merge_members";
    explicit MergeStage(const MergePlan& plan);
    ~MergeStage() override;
    TransformChain chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues& issues) const override;
    WritePlan write_plan(const PlannedTable& table) const override;
    void expect(const PlannedTable& table, const std::vector<std::string>& columns, RowValues& row, const RowValues* kept) const override;
    // Where the destination's own rows under the keys of a table the merge writes with skip_existing or
    // hold are saved for verify (WritePlan::kept_table): one per table, dropped with the merge's state.
    static std::string kept_table(const std::string& table);

private:
    const MergePlan& plan_;
    std::map<std::string, std::unique_ptr<TableRemap>> remaps_;  // lower-case table → its remap
    std::map<std::string, WritePlan::Kind> writes_;
    std::map<std::string, const MergedChannel*> merged_channels_;  // destination channel id → its totals
};

}  // namespace mmmove
