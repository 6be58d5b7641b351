#pragma once
#include <ctime>
#include <string>

namespace mmmove {

// The current UTC time in strftime's `format`.
inline std::string utc_timestamp(const char* format) {
    std::time_t t = std::time(nullptr);
    char buf[64];
    std::strftime(buf, sizeof buf, format, std::gmtime(&t));
    return buf;
}

}  // namespace mmmove
