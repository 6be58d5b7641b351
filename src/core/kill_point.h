#pragma once
// Crash points for the tests that prove a step survives a kill: when the environment names this point
// and count (MMMOVE_TEST_KILL_AT=name:n), the n-th call to kill_point(name) ends the process with
// SIGKILL, exactly as `kill -9` would, between two statements mmmove has sent. Only tests set the
// variable; without it a call costs one lookup.
namespace mmmove {

void kill_point(const char* name);

}  // namespace mmmove

namespace mmmove {

// Stop points for the tests that act between two steps (a write between a final pass's snapshot and its
// proof): when MMMOVE_TEST_PAUSE_AT=name:DIR, the call to pause_point(name) creates DIR/name.reached and
// waits (at most 120 s) for DIR/name.go. Without the variable a call costs one lookup.
void pause_point(const char* name);

}  // namespace mmmove
