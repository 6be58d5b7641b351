#pragma once
// An incremental refresh's materialized views, refreshed while the sync still writes other tables:
// a view is refreshed as soon as every table it reads is done (its level of the sync finished, so
// nothing in this run writes it again) and one of them was written. At 1 M posts the views reading
// Posts take seconds; the tables after Posts (Reactions…) then sync meanwhile. What is left (views
// reading a table of a later level, or another materialized view) is refreshed at the end, as before.
// The views end as a refresh at the end would leave them: each reads only finished tables.
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include "core/workers.h"
#include "db/database.h"

namespace mmmove::sync_detail {

class EarlyViews {
public:
    // `views`: the destination's materialized views (the catalog's); `sources`: what each reads
    // (view_sources); `tables`: the tables (lower case) this run syncs, none done yet. `dst`: the
    // destination, for the refreshes' own connections.
    EarlyViews(const DataSource& dst, std::vector<std::string> views, std::map<std::string, std::set<std::string>> sources,
               std::set<std::string> tables);
    EarlyViews(const EarlyViews&) = delete;
    EarlyViews& operator=(const EarlyViews&) = delete;
    ~EarlyViews();  // joins what still runs (an error then is dropped: the run is leaving by its own)

    // `table` (lower case) is done: nothing in this run writes it again; `written`: whether this run
    // wrote it. Starts the refresh of the views now ready: none of their tables still to do, one of
    // them written. Any thread may call it.
    void table_done(const std::string& table, bool written);
    // Waits for every refresh started, rethrows the first error; returns the views refreshed. Called
    // once no table_done can come any more.
    std::set<std::string> finish();

private:
    const DataSource& dst_;
    std::mutex m_;
    std::vector<std::string> views_;  // not yet started
    std::map<std::string, std::set<std::string>> sources_;
    std::set<std::string> pending_, written_;
    std::set<std::string> started_;
    std::vector<std::unique_ptr<WorkerPool>> running_;
};

}  // namespace mmmove::sync_detail
