#pragma once
// copy --follow's part of following a PostgreSQL source's change stream (see sync/follow.h): the slot
// is created before the copy's snapshot, and recorded with that snapshot once the copy completed.
#include <optional>
#include <ostream>
#include <string>

#include "db/binlog_reader.h"
#include "db/database.h"
#include "db/replication_slot.h"

namespace mmmove {

struct FollowStart {
    std::string slot, lsn;
    bool binlog = false;  // a MariaDB source: its binlog is followed (nothing is created on the source)
};
// Creates the slot, on a connection of its own, before the copy's snapshot; nullopt when the source
// cannot be followed (said in one line on `log`: the copy carries on without following). A MariaDB
// source: checks that its binlog can be followed (ROW format, the account may dump it), creates nothing.
std::optional<FollowStart> start_following(Database& source, std::ostream& log);
// After the copy completed: records the slot and the copy's snapshot in the destination, and names the slot.
void record_following(Database& dest, const FollowStart& start, const XidSnapshot& snapshot, std::ostream& log);
// The same for a MariaDB source: the binlog position of the copy's snapshot.
void record_following(Database& dest, const BinlogPosition& position, std::ostream& log);
// Drops the slot the destination's follow record names (when it has mmmove's form and exists on the
// source) and removes the record. Returns the slot dropped, "" when none. `tell_when_none` (the admin's
// --stop-following): a destination without a record is said so, with the slots of mmmove's name left
// on a PostgreSQL source and how to drop them.
std::string stop_following(Database& source, Database& dest, std::ostream& log, bool tell_when_none = false);
// How to drop a slot, for messages.
std::string how_to_drop(const std::string& slot);

}  // namespace mmmove
