#include "pipeline/snapshot.h"

#include "core/workers.h"

namespace mmmove {

std::vector<std::unique_ptr<Database>> connect_all(unsigned n, const std::function<std::unique_ptr<Database>()>& open) {
    std::vector<std::unique_ptr<Database>> out(n);
    if (n == 0) return out;
    for_each_item(n, n, [&](unsigned, size_t i) { out[i] = open(); });
    return out;
}

ReadSnapshot::ReadSnapshot(Database& coordinator, const Catalog& catalog, unsigned workers, std::ostream& log)
    : coordinator_(coordinator) {
    const DataSource& ds = coordinator.data_source();
    if (coordinator.engine() == Engine::postgres) {
        coordinator.begin_snapshot_read();
        std::string id = coordinator.export_snapshot();
        workers_ = connect_all(workers, [&] { return Database::connect(ds, coordinator.side()); });
        for (auto& w : workers_) w->import_snapshot(id);
        return;
    }
    bool locked = false;
    try {
        // FLUSH TABLES WITH READ LOCK waits for running statements; never stall the server's writers long.
        coordinator.exec("SET SESSION lock_wait_timeout = 60");
        coordinator.exec("FLUSH TABLES WITH READ LOCK");
        locked = true;
    } catch (const Error&) {
        if (workers > 1 && !catalog.tables.empty()) {
            std::string list;
            for (const auto& t : catalog.tables) list += (list.empty() ? "" : ", ") + coordinator.quote_ident(t.name) + " READ";
            try {
                coordinator.exec("LOCK TABLES " + list);
                locked = true;
            } catch (const Error&) {
            }
        }
    }
    if (!locked && workers > 1) {
        log << "  [warning] The " << (coordinator.side() == Side::source ? "source" : "destination") << " account may neither FLUSH TABLES WITH READ LOCK (RELOAD) nor LOCK TABLES, so "
               "parallel readers could not share one snapshot: reading with one connection. GRANT RELOAD or LOCK TABLES "
               "to read in parallel.\n";
        workers = 1;
    }
    try {
        for (unsigned i = 0; i < workers; ++i) {
            workers_.push_back(Database::connect(ds, coordinator.side()));
            workers_.back()->begin_snapshot_read();
        }
    } catch (...) {
        if (locked) coordinator.exec("UNLOCK TABLES");
        throw;
    }
    if (locked) coordinator.exec("UNLOCK TABLES");
}

ReadSnapshot::~ReadSnapshot() {
    for (auto& w : workers_) {
        try {
            w->rollback();
        } catch (...) {
        }
    }
    if (coordinator_.engine() == Engine::postgres) {
        try {
            coordinator_.rollback();
        } catch (...) {
        }
    }
}

}  // namespace mmmove
