#pragma once
// Whole-file reads and writes the unit and integration tests share.
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace mmmove::test {

inline std::string slurp(const std::filesystem::path& p) {
    std::ifstream in(p, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

// Writes `s` to `p`, creating the folders above it.
inline void spit(const std::filesystem::path& p, const std::string& s) {
    std::filesystem::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << s;
}

}  // namespace mmmove::test
