// What merge --verify expects of a channel membership the merge held: the rule settle_memberships
// applies, column by column (members.h).
#include <catch2/catch.hpp>

#include "merge/members.h"

using namespace mmmove;

namespace {

const std::vector<std::string> kColumns = {"ChannelId", "UserId", "Roles", "LastViewedAt", "MsgCount", "MentionCount", "MsgCountRoot",
                                           "LastUpdateAt", "NotifyProps"};

RowValues source_member() {
    return {"c", "u", "channel_user", "500", "7", "2", std::nullopt, "90", R"({"desktop":"all"})"};
}

}  // namespace

TEST_CASE("a membership both sides hold is expected combined: counts added, the later view, the destination's settings", "[merge_members]") {
    const RowValues kept = {"c", "u", "channel_user channel_admin", "800", "10", std::nullopt, "4", "60", R"({"desktop":"none"})"};
    RowValues row = source_member();
    expect_membership(kColumns, row, &kept, nullptr);
    const RowValues want = {"c", "u", "channel_user channel_admin", "800", "17", "2", "4", "90", R"({"desktop":"none"})"};
    CHECK(row == want);
}

TEST_CASE("a membership only the source had is expected with the merged channel's destination posts read", "[merge_members]") {
    MergedChannel channel{"c", 40, 30, 0, 0, 0, 0};
    RowValues row = source_member();
    expect_membership(kColumns, row, nullptr, &channel);
    const RowValues want = {"c", "u", "channel_user", "500", "47", "2", "30", "90", R"({"desktop":"all"})"};
    CHECK(row == want);

    RowValues alone = source_member();  // a channel only the source had: as held, a missing count as 0
    expect_membership(kColumns, alone, nullptr, nullptr);
    CHECK(alone[4] == "7");
    CHECK(alone[6] == "0");
}
