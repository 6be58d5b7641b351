#pragma once
// Two runs of one job never overlap. A scheduled refresh that is still running when the next one
// starts (a slow night, a timer and a manual run) must not load into the same destination twice.
//
// Two locks, both released by the kernel or the server when the process dies, so a lock left by a
// killed run is never stale: it is simply free, and the next run says it found one and takes it.
//  - a lock file (flock) on this host, holding the holder's pid and start time for the message;
//  - the destination database's own lock (db/destination_lock.h), keyed by the database, not the
//    job: two jobs, or a job and a copy, from any host never load into one staging database at once.
#include <memory>
#include <string>

#include "core/safe_file.h"
#include "db/database.h"

namespace mmmove {

class RunLock {
public:
    // Takes the lock file at `path` (created 0600 when missing; /run/mmmove is created 0700 for root).
    // Refused (bad_input): a folder others could write (core/trusted_path.h), a symlink, anything but
    // a regular file of the running account with one link, or a file holding something else than an
    // mmmove lock (it is never emptied). Throws Error(ExitCode::lock_held) naming the holder when
    // another run has it. `note` is set when a lock file from a run that ended without removing it was found.
    static RunLock acquire_file(const std::string& path, const std::string& job, std::string& note);

    RunLock(RunLock&&) = default;
    RunLock& operator=(RunLock&&) = default;
    ~RunLock();

private:
    RunLock(std::string path, FileHandle fd) : path_(std::move(path)), fd_(std::move(fd)) {}
    std::string path_;
    FileHandle fd_;
};

// The default lock file of a job, mmmove-<job>.lock in a folder only mmmove's account can write:
// $RUNTIME_DIRECTORY (systemd's RuntimeDirectory=mmmove: /run/mmmove), else /run/mmmove for root,
// else $XDG_RUNTIME_DIR; "" when none applies (acquire_file then asks for `lock:` in the job).
std::string default_lock_path(const std::string& job);

}  // namespace mmmove
