#pragma once
// A job's config step: `config merge` for an unattended run. The destination (a staging server) keeps
// its own database, listen address and SiteURL, and, unless the job says otherwise, has outgoing email,
// push notifications and outgoing webhooks turned off, so a test server never mails, notifies or calls
// out to the real people and services of production. An anonymised job also keeps the destination's
// own secrets (SMTP and S3 passwords, OAuth client secrets…): production's never reach staging.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "db/data_source.h"
#include "job/job_file.h"

namespace mmmove {

struct ConfigStepResult {
    size_t changed = 0;                  // settings that now differ from the destination's before
    std::vector<std::string> turned_off; // "EmailSettings.SendEmailNotifications", …
    size_t secrets_kept = 0;             // anonymised: secret settings kept from the destination
    std::string written;                 // what write_config did; "" on a dry run or with no change
};

// Where each side's configuration is: `config:`, else the database given as a config.json path.
std::string config_location_of(const JobSide& side);

// ServiceSettings.SiteURL of a configuration, or nullopt when it has none (or cannot be read).
std::optional<std::string> site_url_of(const std::string& location, Side side);

ConfigStepResult run_config_step(const Job& job, bool anonymised, bool dry_run, std::ostream& log);

}  // namespace mmmove
