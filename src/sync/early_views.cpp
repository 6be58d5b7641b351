#include "sync/early_views.h"

#include <algorithm>
#include <sstream>

#include "catalog/catalog.h"
#include "pipeline/index_rebuild.h"

namespace mmmove::sync_detail {

EarlyViews::EarlyViews(const DataSource& dst, std::vector<std::string> views, std::map<std::string, std::set<std::string>> sources,
                       std::set<std::string> tables)
    : dst_(dst), views_(std::move(views)), sources_(std::move(sources)), pending_(std::move(tables)) {}

EarlyViews::~EarlyViews() = default;  // each pool joins its thread

void EarlyViews::table_done(const std::string& table, bool written) {
    std::lock_guard lock(m_);
    pending_.erase(table);
    if (written) written_.insert(table);
    std::vector<std::string> batch;
    for (auto it = views_.begin(); it != views_.end();) {
        auto s = sources_.find(lower(*it));
        // Unknown sources, or one that is a materialized view itself: left to the end.
        bool now = s != sources_.end() && !s->second.empty();
        bool stale = false;
        for (const auto& t : now ? s->second : std::set<std::string>{}) {
            if (sources_.count(t) || pending_.count(t)) now = false;
            stale = stale || written_.count(t) > 0;
        }
        if (now && stale) {
            batch.push_back(*it);
            started_.insert(lower(*it));
            it = views_.erase(it);
        } else {
            ++it;
        }
    }
    if (batch.empty()) return;
    // Connections of their own (the sync's workers keep theirs), two at most: a refresh is a parallel
    // scan already.
    running_.push_back(std::make_unique<WorkerPool>(1, [this, batch](unsigned, const StopFlag&) {
        std::vector<std::unique_ptr<Database>> own;
        std::vector<Database*> connections;
        for (size_t i = 0; i < std::min<size_t>(2, batch.size()); ++i) connections.push_back((own.emplace_back(open_view_refresher(dst_))).get());
        std::ostringstream quiet;  // names are logged by the sync's thread, once all are done
        refresh_views(batch, connections, quiet, true);
    }));
}

std::set<std::string> EarlyViews::finish() {
    for (auto& r : running_) r->join();
    running_.clear();
    return started_;
}

}  // namespace mmmove::sync_detail
