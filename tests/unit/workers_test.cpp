// The worker pool every multi-threaded stage runs on: the first error wins, the others stop, every
// thread is joined before the pool returns or is gone. These also run under ThreadSanitizer (CI's
// SANITIZE=thread runs the whole unit suite).
#include <catch2/catch.hpp>

#include <chrono>
#include <condition_variable>
#include <latch>
#include <mutex>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/workers.h"

using namespace mmmove;
using namespace std::chrono_literals;

TEST_CASE("for_each_item gives each item to one worker exactly once", "[unit][workers][threads]") {
    constexpr size_t kItems = 1000;
    std::vector<std::atomic<int>> seen(kItems);
    std::vector<std::atomic<int>> by_worker(4);
    for_each_item(4, kItems, [&](unsigned worker, size_t item) {
        ++seen[item];
        ++by_worker[worker];
    });
    for (size_t i = 0; i < kItems; ++i) REQUIRE(seen[i] == 1);
    int total = 0;
    for (auto& n : by_worker) total += n;
    CHECK(total == static_cast<int>(kItems));
}

TEST_CASE("for_each_item with no items calls nothing, with more workers than items gives each item once", "[unit][workers][threads]") {
    std::atomic<int> calls{0};
    for_each_item(4, 0, [&](unsigned, size_t) { ++calls; });
    CHECK(calls == 0);

    std::vector<std::atomic<int>> seen(3);
    for_each_item(8, 3, [&](unsigned worker, size_t item) {
        CHECK(worker < 8);
        ++seen[item];
    });
    for (auto& n : seen) CHECK(n == 1);
}

TEST_CASE("A pool of zero workers is refused instead of silently doing nothing", "[unit][workers]") {
    CHECK_THROWS_AS(run_workers(0, [](unsigned, const StopFlag&) {}), std::invalid_argument);
    CHECK_THROWS_AS(for_each_item(0, 5, [](unsigned, size_t) {}), std::invalid_argument);
}

TEST_CASE("The first error is rethrown and the other workers stop taking items", "[unit][workers][threads]") {
    constexpr size_t kItems = 100000;
    std::atomic<size_t> processed{0};
    CHECK_THROWS_WITH(for_each_item(4, kItems,
                                    [&](unsigned, size_t item) {
                                        if (item == 20) throw std::runtime_error("chunk 20 failed");
                                        ++processed;
                                        std::this_thread::sleep_for(100us);
                                    }),
                      "chunk 20 failed");
    // Items 0-19, and at most one more per worker that took an item before the flag was set.
    CHECK(processed < 20 + 4 * 2);
    CHECK(processed < kItems);
}

TEST_CASE("Workers that loop until stopped are stopped by another's error", "[unit][workers][threads]") {
    constexpr long kBound = 1L << 40;  // never reached: only the stop ends these loops
    std::atomic<long> rounds{0};
    std::atomic<int> returned{0};
    CHECK_THROWS_WITH(run_workers(4,
                                  [&](unsigned worker, const StopFlag& stop) {
                                      if (worker == 2) {
                                          std::this_thread::sleep_for(5ms);
                                          throw std::runtime_error("worker 2 lost its connection");
                                      }
                                      while (!stop.stopped() && rounds < kBound) ++rounds, std::this_thread::yield();
                                      ++returned;
                                  }),
                      "worker 2 lost its connection");
    CHECK(returned == 3);  // every other worker returned before the error was rethrown
    CHECK(rounds < kBound);
}

TEST_CASE("The error is rethrown only after every worker has returned", "[unit][workers][threads]") {
    std::atomic<int> finished{0};
    CHECK_THROWS_WITH(run_workers(3,
                                  [&](unsigned worker, const StopFlag&) {
                                      if (worker == 0) throw std::runtime_error("first");
                                      std::this_thread::sleep_for(30ms);  // a long item in flight
                                      ++finished;
                                  }),
                      "first");
    CHECK(finished == 2);
}

TEST_CASE("Errors from several workers at once: one is rethrown, the process goes on", "[unit][workers][threads]") {
    constexpr unsigned kWorkers = 8;
    std::latch all_ready(kWorkers);
    std::string message;
    try {
        run_workers(kWorkers, [&](unsigned worker, const StopFlag&) {
            all_ready.arrive_and_wait();  // all throw together
            throw std::runtime_error("worker " + std::to_string(worker));
        });
    } catch (const std::runtime_error& e) {
        message = e.what();
    }
    REQUIRE(message.rfind("worker ", 0) == 0);
    CHECK(std::stoul(message.substr(7)) < kWorkers);
}

TEST_CASE("on_stop wakes a worker waiting on a queue, once, when another fails", "[unit][workers][threads]") {
    std::mutex m;
    std::condition_variable cv;
    bool aborted = false;
    std::atomic<int> stops{0}, woken{0};
    auto abort_queue = [&] {
        ++stops;
        std::lock_guard lock(m);
        aborted = true;
        cv.notify_all();
    };
    CHECK_THROWS_WITH(run_workers(
                          4,
                          [&](unsigned worker, const StopFlag&) {
                              if (worker == 0) throw std::runtime_error("the chunk failed");
                              if (worker == 1) throw std::runtime_error("the chunk failed too");
                              std::unique_lock lock(m);  // a queue with nothing to take: waits until aborted
                              cv.wait(lock, [&] { return aborted; });
                              ++woken;
                          },
                          abort_queue),
                      Catch::Contains("the chunk failed"));
    CHECK(stops == 1);
    CHECK(woken == 2);
}

TEST_CASE("A pool whose owner throws stops and joins its workers on the way out", "[unit][workers][threads]") {
    std::atomic<int> returned{0}, stops{0};
    try {
        WorkerPool pool(
            3,
            [&](unsigned, const StopFlag& stop) {
                while (!stop.stopped()) std::this_thread::sleep_for(1ms);
                ++returned;
            },
            [&] { ++stops; });
        throw std::runtime_error("the owner failed");  // without the pool's destructor: std::terminate
    } catch (const std::runtime_error& e) {
        CHECK(std::string(e.what()) == "the owner failed");
    }
    CHECK(returned == 3);
    CHECK(stops == 1);
}

TEST_CASE("A pool joined normally does not run on_stop, and feeds on what its owner produces", "[unit][workers][threads]") {
    std::mutex m;
    std::condition_variable cv;
    std::vector<int> queue;
    bool closed = false;
    std::atomic<int> sum{0}, stops{0};
    WorkerPool pool(
        2,
        [&](unsigned, const StopFlag& stop) {
            for (;;) {
                std::unique_lock lock(m);
                cv.wait(lock, [&] { return !queue.empty() || closed || stop.stopped(); });
                if (queue.empty() || stop.stopped()) return;
                int v = queue.back();
                queue.pop_back();
                lock.unlock();
                sum += v;
            }
        },
        [&] { ++stops; });
    for (int i = 1; i <= 100; ++i) {
        std::lock_guard lock(m);
        queue.push_back(i);
        cv.notify_one();
    }
    {
        std::lock_guard lock(m);
        closed = true;
        cv.notify_all();
    }
    pool.join();
    CHECK(sum == 5050);
    CHECK(stops == 0);
}
