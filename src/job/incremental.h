#pragma once
// An incremental refresh (`copy: incremental: true` in a refresh job): instead of emptying the
// destination and copying everything, the job runs a sync through its anonymise stage (sync/sync.h
// with CatchUpOptions::stage): the source's rows are masked before they are compared and before they
// are written, so only rows whose masked form changed are written, and the destination ends as a full
// refresh of the same source under the same key would leave it.
//
// Only when that is certain; otherwise the run is a full refresh, as without the option, so a cron
// stays unattended and every run ends with the same data:
//   - the destination holds a finished refresh by this job (mmmove_refresh) and no unfinished run;
//   - its record (mmmove_sync_state) has the form mmmove writes, came from this source (DiagnosticId),
//     and says it holds rows written through a stage whose keyed fingerprint (LoadStage::fingerprint:
//     HMAC of the rules under the key, never the key) equals this job's — another key or other rules
//     mask differently, so every row would differ. A record that does not read back as mmmove's (a
//     tampered one) is treated the same way: the full refresh replaces it and every row.
//   - copy.skip_tables leaves behind the tables the last refresh left behind: a change either way
//     would leave a table empty, stale or holding an older refresh's rows.
//   - a job without the anonymise step syncs only a destination whose record says it holds the
//     source's own rows, and an anonymising one only a destination holding masked rows.
#include <string>

#include "catalog/catalog.h"
#include "db/database.h"
#include "job/job_file.h"
#include "transform/transform.h"

namespace mmmove {

// "" when this run may be incremental; else why it is a full refresh (one line, no secret).
// The catalogs: both sides', as the run read them before writing anything.
std::string full_refresh_reason(Database& src, const Catalog& src_catalog, Database& dst, const Catalog& dst_catalog, const Job& job,
                                const LoadStage* stage);

}  // namespace mmmove
