#pragma once
// What the unit tests of DataSource parsing share: the message of a DSN that must be refused as bad input.
#include <catch2/catch.hpp>

#include <string>

#include "db/data_source.h"

namespace mmmove::test {

inline std::string refusal(const std::string& dsn) {
    try {
        parse_data_source(dsn, Side::source);
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        return e.what();
    }
    FAIL("accepted " << dsn);
    return "";
}

}  // namespace mmmove::test
