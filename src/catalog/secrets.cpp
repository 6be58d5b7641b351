#include "catalog/secrets.h"

#include <openssl/sha.h>

#include <set>

#include "catalog/catalog.h"
#include "catalog/embedded_schema.h"

namespace mmmove {
namespace {

const std::set<std::string>& secret_columns() {
    static const std::set<std::string> columns = [] {
        std::set<std::string> out;
        const YAML::Node yaml = load_embedded_yaml("secrets.yaml");
        for (const char* section : {"columns", "never_shown"})
            for (const auto& c : yaml[section]) out.insert(lower(c.as<std::string>()));
        return out;
    }();
    return columns;
}

}  // namespace

bool is_secret_column(const std::string& table, const std::string& column) {
    return secret_columns().count(lower(table) + "." + lower(column)) > 0;
}

std::string masked_secret(std::string_view value) {
    unsigned char digest[SHA256_DIGEST_LENGTH];
    SHA256(reinterpret_cast<const unsigned char*>(value.data()), value.size(), digest);
    static const char* hex = "0123456789abcdef";
    std::string out = "#";
    for (int i = 0; i < 6; ++i) {
        out.push_back(hex[digest[i] >> 4]);
        out.push_back(hex[digest[i] & 15]);
    }
    return out;
}

}  // namespace mmmove
