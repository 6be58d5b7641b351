#include "pipeline/follow_start.h"

#include "core/error.h"
#include "pipeline/follow_state.h"

namespace mmmove {
namespace {

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

std::string how_to_drop(const std::string& slot) {
    return "mmmove sync --stop-following, or on the source: " + drop_slot_sql(slot);
}

namespace {

std::optional<FollowStart> start_following_binlog(Database& source, std::ostream& log) {
    try {
        auto conn = Database::connect(source.data_source(), Side::source);
        std::string why = binlog_obstacle(*conn);
        if (why.empty()) why = binlog_dump_refused(*conn);
        if (!why.empty()) {
            log << "  not following the source's changes: its binlog cannot be followed (" << why << "); the copy goes on, "
                   "and syncs will scan\n";
            return std::nullopt;
        }
        log << "  following the source's changes through its binlog (nothing is created on the source; keep binlogs longer "
               "than the time between syncs)\n";
        return FollowStart{kBinlogSlot, "", true};
    } catch (const std::exception& e) {
        log << "  not following the source's changes: the source cannot be followed (" << first_line(e.what())
            << "); the copy goes on, and syncs will scan\n";
        return std::nullopt;
    }
}

}  // namespace

std::optional<FollowStart> start_following(Database& source, std::ostream& log) {
    if (source.engine() != Engine::postgres) return start_following_binlog(source, log);
    try {
        auto conn = Database::connect(source.data_source(), Side::source);
        const std::string name = new_follow_slot_name();
        FollowStart start{name, create_follow_slot(*conn, name)};
        log << "  following the source's changes: created the replication slot " << name << " on the source. It keeps the "
               "source's WAL until it is dropped (a move job drops it after its final pass); drop it with " << how_to_drop(name) << "\n";
        return start;
    } catch (const std::exception& e) {
        log << "  not following the source's changes: the source cannot be followed (" << first_line(e.what())
            << "); the copy goes on, and syncs will scan\n";
        return std::nullopt;
    }
}

void record_following(Database& dest, const FollowStart& start, const XidSnapshot& snapshot, std::ostream& log) {
    record_follow_state(dest, FollowRecord{start.slot, start.lsn, snapshot, std::nullopt});
    log << "  the next sync follows the source's changes through the slot " << start.slot << " (" << how_to_drop(start.slot) << ")\n";
}

void record_following(Database& dest, const BinlogPosition& position, std::ostream& log) {
    record_follow_state(dest, FollowRecord{"", "", XidSnapshot{}, position});
    log << "  the next sync follows the source's binlog from " << position.text() << " (mmmove sync --stop-following to stop)\n";
}

namespace {

// --stop-following on a destination without a follow record: said, with any slot of mmmove's name
// still on a PostgreSQL source (a record lost to an older mmmove, or a sync that gave up following),
// which holds its WAL. Not dropped: another destination may follow through it.
void tell_no_record(Database& source, std::ostream& log) {
    log << "  this destination holds no follow record: mmmove does not follow the source for it\n";
    if (source.engine() != Engine::postgres) return;
    std::vector<std::string> slots;
    try {
        auto conn = Database::connect(source.data_source(), Side::source);
        slots = follow_slots_here(*conn);
    } catch (const std::exception& e) {
        log << "  could not list the source's replication slots (" << first_line(e.what()) << ")\n";
        return;
    }
    for (const auto& slot : slots)
        log << "  the source still has mmmove's replication slot " << slot << ", which keeps its WAL: if no other "
               "destination follows through it, drop it there with " << drop_slot_sql(slot) << "\n";
}

}  // namespace

std::string stop_following(Database& source, Database& dest, std::ostream& log, bool tell_when_none) {
    const FollowRecordRead r = read_follow_state(dest);
    std::string dropped;
    if (!r.slot.empty() && source.engine() == Engine::postgres) {
        auto conn = Database::connect(source.data_source(), Side::source);
        // Only a slot of mmmove's name and of the kind it makes, in this database, standing where this
        // destination's record says: a record naming another follower's slot (a destination restored
        // from another's backup, a planted row) never drops it.
        const SlotState state = follow_slot_state(*conn, r.slot);
        const bool kind = state.why_not.empty() || state.why_not.find("invalidated") != std::string::npos;
        // (Behind the record is this destination's own: a sync killed between recording and moving it.)
        const std::string at = r.record ? follow_slot_position(*conn, r.slot) : "";
        const bool here = lsn_form(at) && lsn_value(at) <= lsn_value(r.record->lsn);
        if (kind && !here) {
            log << "  left the replication slot " << r.slot << " on the source: it is not where this destination's record "
                   "says, so another follower may use it. If nothing does, drop it there with " << drop_slot_sql(r.slot) << "\n";
        } else if (kind && drop_follow_slot(*conn, r.slot)) {
            dropped = r.slot;
            log << "  dropped the replication slot " << r.slot << " on the source: mmmove no longer follows its changes\n";
        } else {
            log << "  no replication slot to drop (" << (state.why_not.empty() ? "none" : state.why_not) << ")\n";
        }
    }
    if (r.record && r.record->binlog) log << "  mmmove no longer follows the source's binlog (nothing to drop on the source)\n";
    if (r.present) forget_follow_state(dest);
    else if (tell_when_none) tell_no_record(source, log);
    return dropped;
}

}  // namespace mmmove
