#pragma once
// A job's config step: `config merge` for an unattended run. The destination (a staging server) keeps
// its own database, listen address and SiteURL, and, unless the job says otherwise, has outgoing email,
// push notifications and outgoing webhooks turned off, so a test server never mails, notifies or calls
// out to the real people and services of production. An anonymised job is deny by default: only the
// settings mappings/config.yaml lists as safe come from production (config/config_carry.h); every
// service, credential and address stays the destination's, and LDAP, SAML and search indexing are off.
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "core/ordered_json.h"
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

// The destination's config after the step (r gets what was turned off and the secrets kept): the
// config merge, or in an anonymised job only the settings safe to carry, then the turn-offs.
OrderedJson merge_job_config(const JobConfig& config, const OrderedJson& src, const OrderedJson& dst, bool anonymised,
                             ConfigStepResult& r);

ConfigStepResult run_config_step(const Job& job, bool anonymised, bool dry_run, std::ostream& log);

}  // namespace mmmove
