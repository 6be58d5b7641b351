#include "core/kill_point.h"

#include <atomic>
#include <csignal>
#include <cstdlib>
#include <string>

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
