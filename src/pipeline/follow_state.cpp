#include "pipeline/follow_state.h"

#include <array>

#include "core/error.h"
#include "pipeline/record_table.h"

namespace mmmove {

namespace {

// The record's values as the table holds them, of the form read_follow_state accepts (else throws).
std::array<std::string, 3> record_values(const FollowRecord& r) {
    if (r.binlog) {
        if (!BinlogPosition::parse(r.binlog->text())) throw Error(ExitCode::source, "not a binlog position mmmove reads: " + r.binlog->text());
        return {kBinlogSlot, r.binlog->text(), ""};
    }
    if (!follow_slot_name(r.slot) || !lsn_form(r.lsn)) throw Error(ExitCode::source, "not a slot mmmove makes: " + r.slot);
    return {r.slot, r.lsn, r.snapshot.text()};
}

}  // namespace

// Replaced as pipeline/record_table.h says: a kill anywhere leaves the earlier record or the new one,
// never none. The slot a record names holds the source's WAL until someone drops it, and without the
// record nobody is told. The record's form is the one an earlier mmmove wrote: its records read as before.
void record_follow_state(Database& dst, const FollowRecord& r) {
    const auto v = record_values(r);  // before anything changes: a refused record leaves the earlier one
    auto create = [&](const std::string& table) {
        dst.exec("CREATE TABLE " + table + " (id integer NOT NULL PRIMARY KEY, slot varchar(64) NOT NULL, lsn varchar(128) NOT NULL, "
                 "snapshot text NOT NULL)");
    };
    auto insert = [&](const std::string& table) {
        dst.exec("INSERT INTO " + table + " (id, slot, lsn, snapshot) VALUES (1, " + dst.quote_literal(v[0]) + ", " +
                 dst.quote_literal(v[1]) + ", " + dst.quote_literal(v[2]) + ")");
    };
    replace_record_table(dst, kFollowStateTable, "follow-state", {create, insert});
}

void forget_follow_state(Database& dst) { drop_record_table(dst, kFollowStateTable); }

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
