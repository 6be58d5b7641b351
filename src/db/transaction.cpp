#include "db/transaction.h"

namespace mmmove {

Transaction::Transaction(Database& db) : db_(db) { db_.begin(); }

Transaction::~Transaction() {
    if (!open_) return;
    try {
        db_.rollback();
    } catch (...) {
        // Nothing to add to the error that is unwinding: the server ends the transaction with the connection.
    }
}

void Transaction::commit() {
    db_.commit();  // on failure the transaction stays "open" here, and the destructor's ROLLBACK is harmless
    open_ = false;
}

Savepoint::Savepoint(Database& db, std::string name) : db_(db), name_(std::move(name)) { db_.exec("SAVEPOINT " + name_); }

Savepoint::~Savepoint() {
    if (!open_) return;
    try {
        db_.exec("ROLLBACK TO SAVEPOINT " + name_);
    } catch (...) {
        // The enclosing transaction is rolled back by its own guard, or ended with the connection.
    }
}

void Savepoint::rollback() { db_.exec("ROLLBACK TO SAVEPOINT " + name_); }

void Savepoint::release() {
    db_.exec("RELEASE SAVEPOINT " + name_);
    open_ = false;
}

}  // namespace mmmove
