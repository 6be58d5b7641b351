#include "core/workers.h"

#include <stdexcept>

namespace mmmove {

WorkerPool::WorkerPool(unsigned n, Body body, std::function<void()> on_stop) : body_(std::move(body)), on_stop_(std::move(on_stop)) {
    if (n == 0) throw std::invalid_argument("a worker pool needs at least one worker");
    threads_.reserve(n);
    try {
        for (unsigned w = 0; w < n; ++w) threads_.emplace_back([this, w] { run(w); });
    } catch (...) {  // a thread the system would not start: those started stop, then the error goes on
        stop();
        join_all();
        throw;
    }
}

WorkerPool::~WorkerPool() {
    if (threads_.empty()) return;
    stop();
    join_all();
}

void WorkerPool::run(unsigned worker) {
    try {
        body_(worker, stop_);
    } catch (...) {
        {
            std::lock_guard lock(m_);
            if (!error_) error_ = std::current_exception();
        }
        stop();
    }
}

void WorkerPool::stop() {
    if (stop_.set() && on_stop_) on_stop_();
}

void WorkerPool::join_all() noexcept {
    for (auto& t : threads_)
        if (t.joinable()) t.join();
    threads_.clear();
}

void WorkerPool::join() {
    join_all();
    // Every thread has returned: error_ is no longer written.
    if (error_) std::rethrow_exception(error_);
}

void run_workers(unsigned n, const WorkerPool::Body& body, std::function<void()> on_stop) {
    WorkerPool pool(n, body, std::move(on_stop));
    pool.join();
}

void for_each_item(unsigned n, size_t count, const std::function<void(unsigned worker, size_t item)>& fn) {
    std::atomic<size_t> next{0};
    run_workers(n, [&](unsigned worker, const StopFlag& stop) {
        for (size_t item; !stop.stopped() && (item = next++) < count;) fn(worker, item);
    });
}

}  // namespace mmmove
