// Paths mmmove prints come from disks and databases it does not control: control characters and
// invalid UTF-8 must never reach the admin's terminal raw.
#include <catch2/catch.hpp>

#include "files/printable_path.h"

using mmmove::printable_path;

TEST_CASE("printable_path escapes control characters, backslashes and invalid UTF-8", "[unit][files]") {
    CHECK(printable_path("20240131/teams/t/a.png") == "20240131/teams/t/a.png");
    CHECK(printable_path("a\nCopied 9 files.") == "a\\nCopied 9 files.");
    CHECK(printable_path("\x1b[2Jx\r\t") == "\\x1b[2Jx\\r\\t");
    CHECK(printable_path(std::string("a\0b", 3)) == "a\\x00b");
    CHECK(printable_path("back\\slash") == "back\\\\slash");
    CHECK(printable_path("caf\xc3\xa9 \xf0\x9f\x8e\x89") == "caf\xc3\xa9 \xf0\x9f\x8e\x89");  // é and 🎉 stay
    CHECK(printable_path("bad\xff\xc3") == "bad\\xff\\xc3");                                // invalid and cut short
    CHECK(printable_path("\xc0\xaf") == "\\xc0\\xaf");                                      // overlong '/'
    CHECK(printable_path("\xed\xa0\x80") == "\\xed\\xa0\\x80");                             // a UTF-16 surrogate
    CHECK(printable_path("csi\xc2\x9b" "2J") == "csi\\u009b2J");                            // C1 control
    CHECK(printable_path("line\xe2\x80\xa8sep \xe2\x80\xaegnp.exe") == "line\\u2028sep \\u202egnp.exe");
}
