#pragma once
// Where this checkout keeps the mmmove binary, the test fixtures and its sources. CMake writes the
// definitions into one small generated file (test_paths.cpp in the build folder), not into compile
// flags: every other test object is then the same in every clone of the same sources, so ccache
// serves it to CI's fresh checkout, which lands in a new path each time.

namespace mmmove::test {

const char* mmmove_binary();  // the built mmmove executable
const char* fixtures_dir();   // tests/fixtures
const char* source_dir();     // the top of the source tree (the job tests read config/)

}  // namespace mmmove::test
