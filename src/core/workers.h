#pragma once
// The one worker pool behind every multi-threaded stage (the copy's and the merge's chunk loads,
// verify's chunk comparisons, the index rebuild, files sync). Its promises:
// - n threads each run body(worker, stop), worker in [0, n);
// - the first exception a body throws is kept; the others are dropped, since the first is the cause
//   and what follows is usually its echo (a connection closed under a worker, a queue aborted);
// - once a body throws, `stop` is set and the pool's on_stop runs once, so a body that waits on a
//   queue can be woken; bodies check `stop` between items and return;
// - every thread is joined before the pool is gone, also when its owner throws: no thread outlives
//   the pool, none is detached, and no exception escapes a thread (which would end the process).
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace mmmove {

// Set once the pool stops (a body threw, or its owner called stop()); never cleared.
class StopFlag {
public:
    bool stopped() const { return stopped_.load(std::memory_order_acquire); }

private:
    friend class WorkerPool;
    // True for the one caller that set it.
    bool set() { return !stopped_.exchange(true, std::memory_order_acq_rel); }
    std::atomic<bool> stopped_{false};
};

class WorkerPool {
public:
    using Body = std::function<void(unsigned worker, const StopFlag& stop)>;
    // Starts n threads (n >= 1: zero workers would silently do nothing, so it throws std::invalid_argument).
    // on_stop must not throw; it runs on the thread that stops the pool.
    WorkerPool(unsigned n, Body body, std::function<void()> on_stop = {});
    // Stops (when join() was not called) and joins; never throws: an error join() did not collect is
    // dropped, since the owner is already leaving by an exception of its own.
    ~WorkerPool();
    WorkerPool(const WorkerPool&) = delete;
    WorkerPool& operator=(const WorkerPool&) = delete;

    // Asks the bodies to stop after their current item, as an error does; runs on_stop the first time.
    void stop();
    // Waits for every thread to return, then rethrows the first exception a body threw.
    void join();

private:
    void run(unsigned worker);
    void join_all() noexcept;
    Body body_;
    std::function<void()> on_stop_;
    StopFlag stop_;
    std::mutex m_;
    std::exception_ptr error_;
    std::vector<std::thread> threads_;
};

// A pool of n workers, joined before it returns; rethrows the first exception.
void run_workers(unsigned n, const WorkerPool::Body& body, std::function<void()> on_stop = {});

// Items 0 … count-1, each given once to one of n workers (fn(worker, item)), in increasing order of
// taking; once an fn throws, no further item is taken and the first exception is rethrown.
void for_each_item(unsigned n, size_t count, const std::function<void(unsigned worker, size_t item)>& fn);

// The number of workers a --jobs value means: itself, or the machine's cores for 0 (at least one).
inline unsigned worker_count(unsigned jobs) { return jobs ? jobs : std::max(1u, std::thread::hardware_concurrency()); }

}  // namespace mmmove
