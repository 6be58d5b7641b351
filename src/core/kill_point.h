#pragma once
// Crash points for the tests that prove a step survives a kill: when the environment names this point
// and count (MMMOVE_TEST_KILL_AT=name:n), the n-th call to kill_point(name) ends the process with
// SIGKILL, exactly as `kill -9` would, between two statements mmmove has sent. Only tests set the
// variable; without it a call costs one lookup.
namespace mmmove {

void kill_point(const char* name);

}  // namespace mmmove
