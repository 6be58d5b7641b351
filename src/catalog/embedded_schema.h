#pragma once
#include <yaml-cpp/yaml.h>

#include <string>
#include <vector>

namespace mmmove {
struct EmbeddedFile {
    std::string name;
    std::string content;
};
// schema/*.yaml as they were when mmmove was built.
const std::vector<EmbeddedFile>& embedded_schema_files();
// One embedded file (schema/ or mappings/) by name, parsed; a null node when there is none.
YAML::Node load_embedded_yaml(const std::string& name);
}  // namespace mmmove
