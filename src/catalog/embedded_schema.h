#pragma once
#include <string>
#include <vector>

namespace mmmove {
struct EmbeddedFile {
    std::string name;
    std::string content;
};
// schema/*.yaml as they were when mmmove was built.
const std::vector<EmbeddedFile>& embedded_schema_files();
}  // namespace mmmove
