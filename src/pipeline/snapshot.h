#pragma once
// N connections to one side that all read one consistent snapshot, inside read-only transactions: the
// copy's readers of the source, and verify's readers of both sides.
// PostgreSQL: a coordinator exports its snapshot and every worker imports it. MySQL/MariaDB: the
// coordinator blocks writes for a moment (FLUSH TABLES WITH READ LOCK, or LOCK TABLES … READ when the
// account lacks RELOAD), every worker starts WITH CONSISTENT SNAPSHOT, then the lock is released.
// Without either privilege a MySQL source is read by one connection.
#include <functional>
#include <memory>
#include <ostream>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"

namespace mmmove {

// n connections, each made by `open`, opened at once (a connection's round trips and authentication
// are a fixed cost of every run, which n connections need not pay n times over). The first error is
// rethrown once every attempt has returned; the connections opened are then closed.
std::vector<std::unique_ptr<Database>> connect_all(unsigned n, const std::function<std::unique_ptr<Database>()>& open);

class ReadSnapshot {
public:
    ReadSnapshot(Database& coordinator, const Catalog& catalog, unsigned workers, std::ostream& log);
    // The coordinator's side (source or destination) is the side of every worker.
    ~ReadSnapshot();
    size_t size() const { return workers_.size(); }
    Database& worker(size_t i) { return *workers_.at(i); }

private:
    Database& coordinator_;
    std::vector<std::unique_ptr<Database>> workers_;
};

}  // namespace mmmove
