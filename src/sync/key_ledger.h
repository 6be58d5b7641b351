#pragma once
// The key ledger (internal to sync's change-column path): the whole-table key digests a sync leaves in
// its record on the destination, so the next scanning pass digests only the source's keys.
//
// Premise: between passes only mmmove writes the destination (the premise the change-column path
// already stands on: an unstamped destination row is taken as what the last pass wrote). A pass that
// ends leaves every table's key set equal to the source's as of its snapshot, so the digest of the
// source's keys it computed on that snapshot is also the destination's. The next pass then compares the
// source's digest now with the recorded one plus the digest of the stamped keys the destination lacks:
// equal, and the key sets are equal with no destination digest; anything else (a hard delete, a row
// inserted with an old stamp, a digest in another form) compares both sides as without a ledger.
//
// The digests are trusted only as long as nothing else wrote the destination: sync empties them
// (committed) before its first write and records new ones only when the pass ended; copy and merge
// write a record without them or none. The record is data read back: an entry not in the form below
// is ignored, and the whole ledger with it. A digest planted in the right form can at worst make a
// pass trust a destination that someone edited by hand after the last pass (a row deleted there stays
// deleted until its source row is stamped again): the same trust as the change-column path's. The
// final pass's --verify compares every row, and --full compares both sides in full.
#include <cstdint>
#include <map>
#include <optional>
#include <string>

namespace mmmove::sync_detail {

// One table's key digest, in the form the pass computed it (both passes must compute it the same way
// for a comparison to mean anything): "pg", PostgreSQL's server-side hash sum (sync/key_digest.h), with
// `sum` the decimal sum ("" for no keys); "xx", xxhash of the canonical keys summed client-side, with
// `sum` the two 64-bit halves' sums as "LOW:HIGH".
struct TableKeyDigest {
    std::string form;
    uint64_t rows = 0;
    std::string sum;
    bool operator==(const TableKeyDigest&) const = default;
};

// The digests of every table a pass digested, by the source table's lower-case name.
class KeyLedger {
public:
    void set(const std::string& table, TableKeyDigest digest);
    const TableKeyDigest* find(const std::string& table) const;
    bool empty() const { return tables_.empty(); }
    // As stored: a JSON object of "FORM:ROWS:SUM" texts, "" when empty.
    std::string text() const;
    // The ledger read back from the record (data): nullopt unless every entry has exactly the form
    // text() writes (then no digest of it is used). "" is an empty ledger.
    static std::optional<KeyLedger> parse(const std::string& text);

private:
    std::map<std::string, TableKeyDigest> tables_;
};

}  // namespace mmmove::sync_detail
