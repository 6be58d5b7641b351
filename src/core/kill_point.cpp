#include "core/kill_point.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

namespace mmmove {

void kill_point(const char* name) {
    static const char* const wanted = std::getenv("MMMOVE_TEST_KILL_AT");
    if (!wanted) return;
    static std::atomic<unsigned> calls{0};
    const std::string spec = wanted, prefix = std::string(name) + ":";
    if (spec.rfind(prefix, 0) != 0) return;
    // Counted across calls of this name: the n-th call dies, the ones before go on.
    if (std::to_string(++calls) == spec.substr(prefix.size())) std::raise(SIGKILL);
}

}  // namespace mmmove

namespace mmmove {

void pause_point(const char* name) {
    static const char* const wanted = std::getenv("MMMOVE_TEST_PAUSE_AT");
    if (!wanted) return;
    const std::string spec = wanted, prefix = std::string(name) + ":";
    if (spec.rfind(prefix, 0) != 0) return;
    const std::filesystem::path dir = spec.substr(prefix.size());
    std::ofstream(dir / (std::string(name) + ".reached")) << "reached\n";
    for (int i = 0; i < 12000 && !std::filesystem::exists(dir / (std::string(name) + ".go")); ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(10));
}

}  // namespace mmmove
