// The transaction and savepoint guards of src/db, on real servers: what a guard does not commit is
// rolled back, whether the scope ends normally or by an exception, and a failed COMMIT is an error.
#include <catch2/catch.hpp>
#include <stdexcept>

#include "core/error.h"
#include "db/transaction.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string rows(Database& db) {
    std::string out;
    for (const auto& r : db.query("SELECT x FROM t ORDER BY x")) out += r[0].value_or("NULL") + " ";
    return out;
}

}  // namespace

TEST_CASE("a transaction guard rolls back unless committed, a savepoint guard undoes only its part", "[e2e][pg][mysql]") {
    for (Engine engine : {Engine::postgres, Engine::mysql}) {
        DYNAMIC_SECTION("engine " << engine_name(engine)) {
            ScratchDb scratch(engine, "tx");
            auto db = scratch.connect();
            db->exec(engine == Engine::postgres ? "CREATE TABLE t (x int)" : "CREATE TABLE t (x int) ENGINE=InnoDB");
            {
                Transaction tx(*db);
                db->exec("INSERT INTO t VALUES (1)");
            }  // left without commit
            CHECK(rows(*db).empty());
            try {
                Transaction tx(*db);
                db->exec("INSERT INTO t VALUES (2)");
                throw std::runtime_error("a failure half-way");
            } catch (const std::runtime_error&) {
            }
            CHECK(rows(*db).empty());
            {
                Transaction tx(*db);
                db->exec("INSERT INTO t VALUES (3)");
                {
                    Savepoint kept(*db, "mmmove_kept");
                    db->exec("INSERT INTO t VALUES (4)");
                    kept.release();
                }
                {
                    Savepoint undone(*db, "mmmove_undone");
                    db->exec("INSERT INTO t VALUES (5)");
                }  // left unreleased
                {
                    Savepoint retried(*db, "mmmove_retried");
                    db->exec("INSERT INTO t VALUES (6)");
                    retried.rollback();
                    db->exec("INSERT INTO t VALUES (7)");
                    retried.release();
                }
                tx.commit();
            }
            CHECK(rows(*db) == "3 4 7 ");
        }
    }
}

TEST_CASE("a COMMIT the server refuses is an error, and the connection stays usable", "[e2e][pg]") {
    ScratchDb scratch(Engine::postgres, "txc");
    auto db = scratch.connect();
    db->exec("CREATE TABLE t (x int, CONSTRAINT t_x UNIQUE (x) DEFERRABLE INITIALLY DEFERRED)");
    {
        Transaction tx(*db);
        db->exec("INSERT INTO t VALUES (1), (1)");  // refused only at COMMIT
        CHECK_THROWS_AS(tx.commit(), Error);
    }
    CHECK(rows(*db).empty());
    Transaction tx(*db);
    db->exec("INSERT INTO t VALUES (8)");
    tx.commit();
    CHECK(rows(*db) == "8 ");
}
