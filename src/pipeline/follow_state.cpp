#include "pipeline/follow_state.h"

#include "core/error.h"

namespace mmmove {

void record_follow_state(Database& dst, const FollowRecord& r) {
    forget_follow_state(dst);
    dst.exec(std::string("CREATE TABLE ") + kFollowStateTable +
             " (id integer NOT NULL PRIMARY KEY, slot varchar(64) NOT NULL, lsn varchar(128) NOT NULL, snapshot text NOT NULL)");
    // Only values of the form read_follow_state accepts go in.
    std::string slot = r.slot, lsn = r.lsn, snapshot = r.snapshot.text();
    if (r.binlog) {
        if (!BinlogPosition::parse(r.binlog->text())) throw Error(ExitCode::source, "not a binlog position mmmove reads: " + r.binlog->text());
        slot = kBinlogSlot, lsn = r.binlog->text(), snapshot = "";
    } else if (!follow_slot_name(r.slot) || !lsn_form(r.lsn)) {
        throw Error(ExitCode::source, "not a slot mmmove makes: " + r.slot);
    }
    dst.exec(std::string("INSERT INTO ") + kFollowStateTable + " (id, slot, lsn, snapshot) VALUES (1, " + dst.quote_literal(slot) +
             ", " + dst.quote_literal(lsn) + ", " + dst.quote_literal(snapshot) + ")");
}

void forget_follow_state(Database& dst) { dst.exec(std::string("DROP TABLE IF EXISTS ") + kFollowStateTable); }

FollowRecordRead read_follow_state(Database& dst) {
    FollowRecordRead out;
    if (!table_exists(dst, kFollowStateTable)) return out;
    out.present = true;
    std::vector<QueryRow> rows;
    try {
        rows = dst.query(std::string("SELECT slot, lsn, snapshot FROM ") + kFollowStateTable);
    } catch (const Error&) {
        out.why_not = std::string("the destination's ") + kFollowStateTable + " has other columns than mmmove writes";
        return out;
    }
    if (rows.size() != 1 || rows[0].size() != 3 || !rows[0][0] || !rows[0][1] || !rows[0][2]) {
        out.why_not = std::string("the destination's ") + kFollowStateTable + " does not hold one complete row";
        return out;
    }
    if (*rows[0][0] == kBinlogSlot) {
        auto position = BinlogPosition::parse(*rows[0][1]);
        if (!position || !rows[0][2]->empty()) out.why_not = "the recorded binlog position is not one mmmove writes";
        else out.record = FollowRecord{"", "", XidSnapshot{}, position};
        return out;
    }
    if (follow_slot_name(*rows[0][0])) out.slot = *rows[0][0];
    auto snapshot = XidSnapshot::parse(*rows[0][2]);
    if (out.slot.empty()) out.why_not = "the recorded slot name is not one mmmove makes";
    else if (!lsn_form(*rows[0][1])) out.why_not = "the recorded slot position is not one PostgreSQL prints";
    else if (!snapshot) out.why_not = "the recorded snapshot is not one PostgreSQL prints";
    else out.record = FollowRecord{out.slot, *rows[0][1], *snapshot, std::nullopt};
    return out;
}

}  // namespace mmmove
