#pragma once
// The last step of a merge: channel memberships and channel totals. For a channel both sides have,
// a member's unread count is the channel's total minus the member's own count, on each side. After the
// merge the channel's total is the sum of both sides' totals, and each member's count is the sum of
// their counts on both sides (a side they were not a member of counts as read): nobody sees an unread
// badge they did not have before. Memberships of channels only one side had are inserted as they are.
#include "merge/merge_plan.h"

namespace mmmove {

// The merged channels and their totals, saved with the checkpoint.
constexpr const char* kMergedChannels = "mmmove_merge_channels";

// Saves the plan's merged channels and their totals on the destination (mmmove_merge_channels), with
// the checkpoint: DDL, so before any chunk moves.
void save_channel_totals(Database& dst, const MergePlan& plan);
// Inside the caller's transaction: settles the memberships held in MergeStage::kHeldMembers, updates
// the merged channels' totals (from kMergedChannels), and empties both, so that running it again
// changes nothing.
void settle_memberships(Database& dst, const Catalog& dest_catalog);

}  // namespace mmmove
