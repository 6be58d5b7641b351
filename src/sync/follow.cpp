#include "sync/follow.h"

#include <algorithm>

#include "core/error.h"
#include "core/kill_point.h"
#include "sync/follow_binlog.h"

namespace mmmove {
namespace {

// Past this many keys of one table in a pass, the table is scanned: the key set stays bounded.
constexpr size_t kMaxKeysPerTable = 200000;
// Keys per share (one destination transaction): so that the changed rows of one table spread over the
// workers, while a commit still carries enough rows to be cheap. A share's keys are read in statements
// of keys_per_statement() keys (chunk_apply.h): the whole share at once between PostgreSQL servers.
constexpr size_t kKeysPerShare = 2000;

std::string first_line(const std::string& s) { return s.substr(0, s.find('\n')); }

}  // namespace

namespace sync_detail {

StreamChangeFinder::StreamChangeFinder(const verify_detail::TableComparer& comparer, std::vector<std::string> keys, size_t shares)
    : comparer_(comparer), keys_(std::move(keys)),
      chunks_(shares ? shares : std::max<size_t>(1, (keys_.size() + kKeysPerShare - 1) / kKeysPerShare)) {}

bool StreamChangeFinder::unchanged(Database&, Database&, uint64_t& source_rows) const {
    source_rows = 0;
    return keys_.empty();
}

ChunkChanges StreamChangeFinder::find(Database& source, Database& dest, size_t chunk) const {
    ChunkChanges c;
    const size_t from = keys_.size() * chunk / chunks_, to = keys_.size() * (chunk + 1) / chunks_;
    if (from >= to) return c;
    const auto source_keys = comparer_.key_columns(Side::source), dest_keys = comparer_.key_columns(Side::destination);
    std::vector<const std::string*> keys;
    for (size_t i = from; i < to; ++i) keys.push_back(&keys_[i]);
    verify_detail::ChunkDiff diff;
    // The rows the comparison reads are kept for the write (apply_chunk): on a PostgreSQL destination a
    // key names exactly one row, so the share's differing keys are exactly the rows to write.
    bool keep = dest.engine() == Engine::postgres && comparer_.literal_keys() && !comparer_.staged();
    if (keep) diff.source_rows.emplace();
    // One statement per side for the whole share when both are PostgreSQL (keys_per_statement).
    const size_t per_read = std::min(keys_per_statement(source), keys_per_statement(dest));
    const Table &source_table = *comparer_.table().source, &dest_table = *comparer_.table().dest;
    for (size_t k = 0; k < keys.size(); k += per_read) {
        const size_t end = std::min(keys.size(), k + per_read);
        auto part = comparer_.diff_where(source, dest, key_predicate(source, source_table, source_keys, keys, k, end),
                                         key_predicate(dest, dest_table, dest_keys, keys, k, end), keep);
        for (auto& d : part.differs) diff.differs.push_back(std::move(d));
        for (auto& d : part.missing) diff.missing.push_back(std::move(d));
        for (auto& d : part.extra) diff.extra.push_back(std::move(d));
        if (!keep) continue;
        if (!part.source_rows) diff.source_rows.reset(), keep = false;  // not kept after all: the write reads them
        else for (auto& r : *part.source_rows) diff.source_rows->push_back(std::move(r));
    }
    c.source_rows = c.rows_read = keys.size();
    if (!diff.differs.empty() || !diff.missing.empty() || !diff.extra.empty()) c.diff = std::move(diff);
    return c;
}

}  // namespace sync_detail

FollowPass::FollowPass(Database& source, Database& dest, bool use_stream, bool quiet, std::ostream& log)
    : log_(log), quiet_(quiet), use_stream_(use_stream) {
    const FollowRecordRead r = read_follow_state(dest);
    if (!r.present) return;
    named_slot_ = r.slot;
    if (!r.record) {
        give_up(r.why_not, false);
        return;
    }
    if (r.record->binlog) {
        follow_binlog(source, *r.record);
        return;
    }
    if (source.engine() != Engine::postgres) {
        give_up("the source is not PostgreSQL", false);
        return;
    }
    try {
        conn_ = Database::connect(source.data_source(), Side::source);
        const SlotState state = follow_slot_state(*conn_, r.record->slot);
        if (!state.why_not.empty()) {
            give_up(state.why_not, false);
            return;
        }
        // Behind the record is ours: a pass killed between recording its position and moving the slot
        // there (finish). Every transaction in between was one the recorded snapshot saw, so reading it
        // again only compares keys already equal. Past the record, another reader consumed the stream.
        if (lsn_value(state.confirmed_lsn) > lsn_value(r.record->lsn)) {
            give_up("the slot " + r.record->slot + " moved since the last pass (another reader consumed it, or it was made "
                           "again), so its stream may lack changes",
                    false);
            return;
        }
        record_ = r.record;
        slot_at_ = state.confirmed_lsn;
    } catch (const std::exception& e) {
        give_up("the slot could not be read: " + first_line(e.what()), true);
    }
}

// A MariaDB source's record (sync/follow_binlog.h): its server must still write a row binlog.
void FollowPass::follow_binlog(Database& source, const FollowRecord& record) {
    if (source.engine() != Engine::mysql) return give_up("the record names a binlog position, and the source is not MariaDB", false);
    try {
        conn_ = Database::connect(source.data_source(), Side::source);
        if (const std::string why = binlog_obstacle(*conn_); !why.empty()) return give_up(why, false);
        record_ = record;
    } catch (const std::exception& e) {
        give_up("the binlog could not be read: " + first_line(e.what()), true);
    }
}

FollowPass::~FollowPass() = default;

// `keep_following`: a passing problem (the record stays as it is, which stays correct: the slot keeps
// every transaction the recorded snapshot did not see); else the record is removed at finish().
void FollowPass::give_up(const std::string& why, bool keep_following) {
    note_ = why;
    hints_.reset();
    if (!keep_following) forget_ = true, record_.reset();
    log_ << "  not using the source's change stream (" << why << "): scanning"
         << (keep_following ? "" : "; mmmove no longer follows this source (copy --follow again to)") << "\n";
    if (!keep_following && !named_slot_.empty() && why.find("no longer exists") == std::string::npos)
        log_ << "  a replication slot " << named_slot_ << " may remain on the source and keep its WAL: drop it there with "
             << drop_slot_sql(named_slot_) << "\n";
}

void FollowPass::read(Database& snapshot, const std::map<std::string, std::vector<std::string>>& key_columns) {
    if (!record_) return;
    if (record_->binlog) return read_binlog(snapshot, key_columns);
    try {
        current_ = current_xid_snapshot(snapshot);
        if (record_->snapshot.xmax > current_->xmax) {
            current_.reset();
            give_up("the recorded snapshot is later than the source's", false);
            return;
        }
        if (!use_stream_) {
            note_ = "this pass compares every row";
            return;
        }
        const std::string upto = upto_ = flushed_lsn_now(*conn_);
        const auto schema = conn_->query("SELECT current_schema()");
        const std::string schema_name = schema.empty() ? "" : schema[0][0].value_or("");
        hints_ = sync_detail::read_follow_stream(*conn_, record_->slot, upto, record_->snapshot, *current_, schema_name, key_columns,
                                                 kMaxKeysPerTable);
        keyed_ = key_columns;
        // Peeking reads from the slot's position at that moment: it must still be the recorded one, or
        // another reader consumed transactions the recorded snapshot did not see.
        if (follow_slot_state(*conn_, record_->slot).confirmed_lsn != slot_at_) {
            current_.reset();
            give_up("the slot " + record_->slot + " moved while this pass read it (another reader consumes it)", false);
            return;
        }
        for (auto& [table, why] : sync_detail::tables_stream_cannot_tell(*conn_, schema_name, key_columns)) {
            sync_detail::TableHints& t = hints_->tables[table];
            if (t.scan) continue;
            t.scan = true, t.why = why;
            std::set<std::string>().swap(t.keys);
        }
        report_hints();
    } catch (const std::exception& e) {
        hints_.reset();
        note_ = "the stream could not be read: " + first_line(e.what());
        log_ << "  not using the source's change stream (" << note_ << "): scanning\n";
    }
}

void FollowPass::report_hints() {
    if (hints_->unusable) {
        note_ = hints_->why;
        log_ << "  not using the source's change stream (" << note_ << "): scanning every table\n";
        return;
    }
    for (const auto& [table, h] : hints_->tables)
        if (h.scan && !quiet_) log_ << "  " << table << ": the change stream cannot tell its changes (" << h.why << "): scanning it\n";
}

// The binlog from the recorded position to this snapshot's. Whatever stands in the way, the pass scans;
// its snapshot's position is recorded all the same (finish): a complete pass leaves the destination
// equal to that snapshot, however it found the changes.
void FollowPass::read_binlog(Database& snapshot, const std::map<std::string, std::vector<std::string>>& key_columns) {
    auto scan = [&](const std::string& why) {
        hints_.reset();
        note_ = why;
        log_ << "  not using the source's binlog (" << why << "): scanning\n";
    };
    try {
        current_binlog_ = binlog_snapshot_position(snapshot);
        if (!current_binlog_) return give_up("the source gave no binlog position for the snapshot", false);
        const auto order = compare_binlog_positions(*record_->binlog, *current_binlog_);
        if (!order || *order > 0) return scan("the recorded binlog position " + record_->binlog->text() + " is not before the source's");
        if (!use_stream_) {
            note_ = "this pass compares every row";
            return;
        }
        if (const std::string why = binlog_position_problem(*conn_, *record_->binlog); !why.empty()) return scan(why);
        upto_ = current_binlog_->text();
        auto dump = Database::connect(snapshot.data_source(), Side::source);
        hints_ = sync_detail::read_binlog_hints(snapshot, *dump, *record_->binlog, *current_binlog_, key_columns, kMaxKeysPerTable);
        keyed_ = key_columns;
        report_hints();
    } catch (const std::exception& e) {
        scan("the binlog could not be read: " + first_line(e.what()));
    }
}

std::unique_ptr<sync_detail::ChangeFinder> FollowPass::finder_for(const verify_detail::TableComparer& comparer) const {
    if (!hints_ || hints_->unusable) return nullptr;
    const std::string& name = comparer.table().source->name;
    if (!keyed_.count(name)) return nullptr;
    std::vector<std::string> keys;
    if (auto it = hints_->tables.find(name); it != hints_->tables.end()) {
        if (it->second.scan) return nullptr;
        keys.assign(it->second.keys.begin(), it->second.keys.end());
    }
    return std::make_unique<sync_detail::StreamChangeFinder>(comparer, std::move(keys));
}

void FollowPass::finish(Database& dest, bool advance) {
    if (forget_) {
        forget_follow_state(dest);
        return;
    }
    if (record_ && record_->binlog) return finish_binlog(dest);
    if (!record_ || !current_) return;
    try {
        // Only once the pass is complete: every transaction before advance_to is one its snapshot saw.
        std::string target = slot_at_;
        if (hints_ && !hints_->advance_to.empty() && lsn_value(hints_->advance_to) > lsn_value(target)) target = hints_->advance_to;
        // Recorded first, then moved: a kill in between leaves the slot behind its record, which the
        // next pass accepts (it reads a little again); the other order left it past, and the next pass
        // stopped following.
        record_follow_state(dest, FollowRecord{record_->slot, target, *current_, std::nullopt});
        kill_point("follow-advance");
        // Moving the slot decodes the WAL up to the target (about a second after 1 % of 1 M posts): a
        // final pass, inside the downtime, skips it; the slot stays where this pass found it.
        if (!advance) target = slot_at_;
        std::string lsn = target != slot_at_ ? advance_follow_slot(*conn_, record_->slot, target)
                                             : follow_slot_state(*conn_, record_->slot).confirmed_lsn;
        if (lsn.empty()) return give_up("the slot " + record_->slot + " is gone", false), forget_follow_state(dest);
        // The slot must stand where this pass put it (or found it): past it, another reader consumed
        // transactions the next pass would need (two destinations sharing one record, one slot).
        if (lsn != target)
            return give_up("the slot " + record_->slot + " moved while this pass ran (another reader consumes it)", false),
                   forget_follow_state(dest);
        log_ << "  following the source's changes through the slot " << record_->slot << (advance ? "" : ", left where it stood")
             << " (" << how_to_drop(record_->slot) << ")\n";
    } catch (const std::exception& e) {
        // The record still names the earlier snapshot and position: the next pass finds the slot moved
        // (and scans) or reads the same transactions again; either is correct.
        log_ << "  could not record the follow position (" << first_line(e.what()) << "): the next sync may scan\n";
    }
}

void FollowPass::finish_binlog(Database& dest) {
    if (!current_binlog_) return;
    try {
        record_follow_state(dest, FollowRecord{"", "", XidSnapshot{}, current_binlog_});
        log_ << "  following the source's binlog: the next sync reads it from " << current_binlog_->text()
             << " (mmmove sync --stop-following to stop)\n";
    } catch (const std::exception& e) {
        log_ << "  could not record the binlog position (" << first_line(e.what()) << "): the next sync may scan\n";
    }
}

}  // namespace mmmove
