#pragma once
// Transactions and savepoints that cannot be left open by an early return or an exception: each
// guard rolls back in its destructor unless it was committed (released). The destructors never
// throw (a connection already lost has ended the transaction on the server anyway); commit() and
// release() do, with the server's words, so a failed COMMIT is never taken for success.
#include <string>

#include "db/database.h"

namespace mmmove {

class Transaction {
public:
    explicit Transaction(Database& db);  // BEGIN / START TRANSACTION
    ~Transaction();                      // ROLLBACK unless committed
    void commit();
    Transaction(const Transaction&) = delete;
    Transaction& operator=(const Transaction&) = delete;

private:
    Database& db_;
    bool open_ = true;
};

// A savepoint inside an open transaction. `name` is mmmove's own identifier (never a value read back).
class Savepoint {
public:
    Savepoint(Database& db, std::string name);  // SAVEPOINT name
    ~Savepoint();                               // ROLLBACK TO it unless released
    // Undoes what followed the savepoint, which stays set: the work can be tried again under it.
    void rollback();
    void release();                             // RELEASE SAVEPOINT: keeps what followed it
    Savepoint(const Savepoint&) = delete;
    Savepoint& operator=(const Savepoint&) = delete;

private:
    Database& db_;
    std::string name_;
    bool open_ = true;
};

}  // namespace mmmove
