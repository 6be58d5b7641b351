#pragma once
// The follow record on the destination (table mmmove_follow_state, one row), beside mmmove's sync
// record: the source's replication slot a copy --follow created, the slot's confirmed position after
// the last pass, and the transaction snapshot that pass read (see sync/follow.h). A MariaDB source's
// record holds instead the binlog position of the last pass's snapshot (sync/follow_binlog.h), as the
// slot "binlog" (no slot name mmmove makes), the position "FILE:POS" and an empty snapshot.
//
// Read back as data: whoever can write the destination can write it. A value without the exact form
// mmmove writes makes the record unusable, never an error: the sync then scans, as without following.
#include <optional>
#include <string>

#include "db/database.h"
#include "db/binlog_reader.h"
#include "db/replication_slot.h"

namespace mmmove {

constexpr const char* kFollowStateTable = "mmmove_follow_state";

struct FollowRecord {
    std::string slot;      // follow_slot_name()
    std::string lsn;       // the slot's confirmed position when the record was written
    XidSnapshot snapshot;  // the snapshot the pass (copy or sync) read
    std::optional<BinlogPosition> binlog;  // a MariaDB source's: then slot, lsn and snapshot are empty
};
constexpr const char* kBinlogSlot = "binlog";

struct FollowRecordRead {
    bool present = false;                // the table exists
    std::optional<FollowRecord> record;  // when every value has mmmove's form
    std::string slot;                    // the slot name when it has a slot's form, even if other values do not
    std::string why_not;                 // when present without a usable record
};

void record_follow_state(Database& dst, const FollowRecord& record);
void forget_follow_state(Database& dst);
FollowRecordRead read_follow_state(Database& dst);

}  // namespace mmmove
