#pragma once
// Files whose contents mmmove obeys, and folders it keeps its own files in. `mmmove run` usually runs
// as root (cron, the systemd unit): a job file says which files it reads as passwords, which file is
// its lock and which its summary, so whoever can change the job file decides what root reads and
// writes. As cron and sudo do, mmmove therefore refuses a job file (and the rules file it names) that an
// account other than root or mmmove's own could change, and keeps its lock and summary in folders only
// those two can write.
//
// "Could change" means, for the file and every folder above it up to /:
//  - owned by an account other than root and the running one (the owner can chmod it), or
//  - writable by its group or by everybody. A folder everybody may write is accepted above a trusted
//    file only with the sticky bit (/tmp): then nobody else can rename or remove what root or the
//    running account put there, and the file below it is itself checked for its owner.
// A symbolic link on the way must belong to root or the running account too; its target is checked
// the same way. Errors name the path and the command that fixes it (chmod go-w …, chown root …).
#include <string>

namespace mmmove {

// Refuses (Error(ExitCode::bad_input), naming `what` and the path) a file that an account other than
// root and the running one could change, through the file itself or any folder above it.
void require_trusted_file(const std::string& path, const std::string& what);

// Refuses a folder mmmove writes its own files into (the lock, the summary) unless only root and the
// running account can write it: the folder itself may not be writable by others, even with the sticky
// bit (another account could take the name first); the folders above it are held to
// require_trusted_file's rule.
void require_private_folder(const std::string& path, const std::string& what);

}  // namespace mmmove
