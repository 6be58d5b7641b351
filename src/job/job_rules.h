#pragma once
// The rules across a job file's keys (which steps need which keys, what a mode refuses), checked once
// every key has been read. Used by job_file.cpp only.
#include "job/job_file.h"
#include "job/job_yaml.h"

namespace mmmove {

// Throws Error(bad_input) through `r`, naming the line of the key the rule is about.
void check_job_rules(const JobReader& r, const Job& job);

}  // namespace mmmove
