#pragma once
// What a refresh must know about its destination before it empties it: that it is not the source
// (the same database reached under another name, or a server with the source's SiteURL), and whether
// it holds an earlier refresh (whose data a refresh replaces) or data nobody said could go.
#include <string>
#include <vector>

#include "catalog/catalog.h"
#include "db/database.h"
#include "db/database_identity.h"
#include "job/job_file.h"

namespace mmmove {

// Refuses (ExitCode::destination) a destination that is the source's database, always, and one with
// the source's SiteURL (not in a move, whose new server takes over the old one's address) unless
// `force`, with which that finding becomes a warning.
void refuse_source_as_destination(Database& src, Database& dst, const Job& job, bool force, std::vector<std::string>& warnings);

// The refresh record on the destination (mmmove_refresh): a row per job that has refreshed it,
// written when a refresh starts and completed when it finishes.
bool holds_earlier_refresh(Database& dst);
void record_refresh_start(Database& dst, const std::string& job, const std::string& source_label);
void record_refresh_end(Database& dst, const std::string& job);
// True when the record holds a finished refresh by `job` (read as data: only a row mmmove wrote counts).
bool holds_finished_refresh_by(Database& dst, const std::string& job);

// The identity (Systems DiagnosticId, as mappings/anonymise.yaml names it) an anonymised refresh gives
// the destination: the one it had before, read back as data and kept only when it is a Mattermost id
// and not the source's (staging keeps one identity night after night), else a fresh random one. The
// catalogs are both sides' as read before anything was written.
std::string staging_identity(Database& src, const Catalog& src_catalog, Database& dst, const Catalog& dst_catalog);

}  // namespace mmmove
