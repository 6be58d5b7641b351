#pragma once
// The last step of a merge: channel memberships and channel totals. For a channel both sides have,
// a member's unread count is the channel's total minus the member's own count, on each side. After the
// merge the channel's total is the sum of both sides' totals, and each member's count is the sum of
// their counts on both sides (a side they were not a member of counts as read): nobody sees an unread
// badge they did not have before. Memberships of channels only one side had are inserted as they are.
#include <array>

#include "merge/merge_plan.h"
#include "transform/transform.h"
#include "verify/stage_verify.h"

namespace mmmove {

// The merged channels and their totals, saved with the checkpoint.
constexpr const char* kMergedChannels = "mmmove_merge_channels";
// For verify: the merged channels' destination rows as they were before their totals were added up.
constexpr const char* kKeptChannels = "mmmove_kept_channels";
// … and their destination-only members, before the source's posts were counted as read for them.
constexpr const char* kKeptSeenMembers = "mmmove_kept_members_seen";

// Saves the plan's merged channels and their totals on the destination (mmmove_merge_channels), and
// creates kKeptChannels, with the checkpoint: DDL, so before any chunk moves.
void save_channel_totals(Database& dst, const Catalog& dest_catalog, const MergePlan& plan);
// How a membership both sides hold combines (lower-case columns): the counts add up, the last view
// and update are the later; every other column (roles, notification settings) is the destination's.
inline constexpr std::array<const char*, 5> kSummedMemberColumns = {"msgcount", "msgcountroot", "mentioncount", "mentioncountroot",
                                                                    "urgentmentioncount"};
inline constexpr std::array<const char*, 2> kLatestMemberColumns = {"lastviewedat", "lastupdateat"};

// Inside the caller's transaction: settles the memberships held in MergeStage::kHeldMembers, updates
// the merged channels' totals (from kMergedChannels), and empties both, so that running it again
// changes nothing. First saves the destination's own memberships that a held one combines with, as
// they were, in `kept_table` (shaped like ChannelMembers), the merged channels in kKeptChannels and
// their destination-only members in kKeptSeenMembers, for verify.
void settle_memberships(Database& dst, const Catalog& dest_catalog, const std::string& kept_table);
// What settle_memberships meant a held membership (`row`, columns: the destination's) to become: combined
// with `kept`, the destination's membership as it was, or inserted (in a merged `channel`, having read
// the destination's posts).
void expect_membership(const std::vector<std::string>& columns, RowValues& row, const RowValues* kept, const MergedChannel* channel);
// Verify: every channel both sides have holds its row as it was (kKeptChannels) with both sides'
// totals added and the later last post, as settle_memberships meant.
StageVerifyTable verify_merged_channels(Database& dst, const Catalog& dest_catalog, const MergePlan& plan, size_t examples);
// Verify: every destination-only member of a channel both sides have holds their row as it was
// (kKeptSeenMembers), with the source's posts counted as read.
StageVerifyTable verify_seen_members(Database& dst, const Catalog& dest_catalog, const MergePlan& plan, size_t examples);

}  // namespace mmmove
