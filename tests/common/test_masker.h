#pragma once
// The anonymisation keys the mask tests use, and one masker under the first of them.
#include <string>

#include "transform/anonymise.h"

namespace mmmove::test {

inline const std::string key1 = "an anonymisation key of 32 bytes";
inline const std::string key2 = "another key, also long enough!!!";

inline const Masker& masker() {
    static const Masker m(key1);
    return m;
}

}  // namespace mmmove::test
