#include "sync/seen_rows.h"

#include <algorithm>
#include <charconv>

#include "db/replication_slot.h"

namespace mmmove::sync_detail {
namespace {

constexpr uint64_t kXidSpace = uint64_t(1) << 32;
constexpr uint32_t kFirstNormalXid = 3;  // 0 invalid, 1 bootstrap, 2 frozen

// A decimal number of 1 to `digits` digits, no sign, that fits `out`.
template <class T>
bool number(std::string_view s, size_t digits, T& out) {
    if (s.empty() || s.size() > digits || !std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; })) return false;
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size();
}

}  // namespace

std::string SnapshotHorizon::text() const { return cluster + ":" + std::to_string(xmin); }

std::optional<SnapshotHorizon> SnapshotHorizon::parse(const std::string& text) {
    const size_t slash = text.find('/'), colon = text.find(':');
    if (slash == std::string::npos || colon == std::string::npos || colon < slash) return std::nullopt;
    const std::string_view all(text);
    uint64_t system = 0, xmin = 0;
    uint32_t timeline = 0;
    if (!number(all.substr(0, slash), 20, system) || !number(all.substr(slash + 1, colon - slash - 1), 10, timeline) ||
        !number(all.substr(colon + 1), 20, xmin))
        return std::nullopt;
    SnapshotHorizon h;
    h.cluster = std::to_string(system) + "/" + std::to_string(timeline);
    h.xmin = xmin;
    if (h.text() != text) return std::nullopt;  // leading zeros and the like: not what mmmove writes
    return h;
}

std::optional<std::string> source_cluster(Database& conn) {
    if (conn.engine() != Engine::postgres) return std::nullopt;
    try {
        const auto rows = conn.query(
            "SELECT s.system_identifier::text, c.timeline_id::text, current_setting('server_version_num') "
            "FROM pg_control_system() s, pg_control_checkpoint() c");
        if (rows.size() != 1 || rows[0].size() != 3) return std::nullopt;
        uint64_t system = 0;
        uint32_t timeline = 0, version = 0;
        // Read back as data: whole numbers, and pg_current_snapshot() exists (PostgreSQL 13).
        if (!rows[0][0] || !rows[0][1] || !rows[0][2] || !number(*rows[0][0], 20, system) || !number(*rows[0][1], 10, timeline) ||
            !number(*rows[0][2], 10, version) || version < 130000)
            return std::nullopt;
        return std::to_string(system) + "/" + std::to_string(timeline);
    } catch (const std::exception&) {
        return std::nullopt;  // a role not allowed to read the control data: every stamped row is compared
    }
}

std::optional<SnapshotHorizon> snapshot_horizon(const std::optional<std::string>& cluster, Database& snapshot) {
    if (!cluster || snapshot.engine() != Engine::postgres) return std::nullopt;
    const XidSnapshot s = current_xid_snapshot(snapshot);
    return SnapshotHorizon{*cluster, s.xmin, s.xmax};
}

std::optional<SeenRows> SeenRows::make(const SnapshotHorizon& previous, const SnapshotHorizon& current) {
    if (previous.cluster.empty() || previous.cluster != current.cluster) return std::nullopt;
    if (previous.xmin > current.xmax || current.xmax - previous.xmin >= kXidSpace / 2) return std::nullopt;
    return SeenRows(previous.xmin, current.xmax);
}

bool SeenRows::seen(uint32_t xmin) const {
    if (xmin < kFirstNormalXid) return false;
    // Widened to the 64-bit xid below this snapshot's xmax nearest it: every version this snapshot reads
    // was written below its xmax, and within 2^31 of it unless frozen (see the header).
    uint64_t full = (current_xmax_ & ~(kXidSpace - 1)) | xmin;
    if (full >= current_xmax_) {
        if (full < kXidSpace) return false;
        full -= kXidSpace;
    }
    return full < previous_xmin_;
}

bool SeenRows::seen(const char* text, size_t size) const {
    uint32_t xmin = 0;
    return number(std::string_view(text, size), 10, xmin) && seen(xmin);
}

}  // namespace mmmove::sync_detail
