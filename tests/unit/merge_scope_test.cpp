// A scoped merge copies the data-directory folders of the rows it moved and nothing else: a moved
// channel's dated file folders (DMs under "noteam"), moved users', teams' and emoji's pictures.
#include <catch2/catch.hpp>

#include "merge/scope.h"

using namespace mmmove;

TEST_CASE("a scoped merge copies only the file folders of moved rows", "[merge_scope]") {
    ScopeFolders f;
    f.users = {"u1"}, f.teams = {"t1"}, f.channels = {"c1", "dm1"}, f.emoji = {"e1"};
    for (const char* yes : {"users", "teams", "emoji", "20240131", "users/u1", "teams/t1", "emoji/e1", "20240131/teams", "20240131/teams/t1",
                            "20240131/teams/noteam", "20240131/teams/t1/channels", "20240131/teams/t1/channels/c1",
                            "20240131/teams/noteam/channels/dm1", "20240131/teams/t1/channels/c1/users/u9/f1"})
        CHECK(f.moves(yes));
    for (const char* no : {"plugins", "brand", "exports", "users/u2", "teams/t2", "emoji/e2", "20240131/other", "20240131/teams/t2",
                           "20240131/teams/t1/other", "20240131/teams/t1/channels/c2", "20240131/teams/noteam/channels/dm2"})
        CHECK_FALSE(f.moves(no));
}
