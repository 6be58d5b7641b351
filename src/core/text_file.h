#pragma once
#include <fstream>
#include <sstream>
#include <string>

namespace mmmove {

// The whole file, bytes as they are ("" when it cannot be read; callers check existence first).
inline std::string read_text_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

}  // namespace mmmove
