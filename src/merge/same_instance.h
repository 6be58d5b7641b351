#pragma once
// A merge adds every source row the destination does not match by identity; merged into itself or
// into a copy of itself, an instance would get every post, reaction, file row and webhook twice.
// Before anything is written, the merge refuses two sides that are one instance: the same database
// (as the servers describe themselves, whatever the DSNs), the same DiagnosticId (a clone), or most
// sampled ids shared (a clone whose DiagnosticId was changed).
#include <string>

#include "catalog/catalog.h"
#include "check/check.h"
#include "db/database.h"

namespace mmmove {

// The instance's DiagnosticId (Systems), or "" when it has none.
std::string diagnostic_id(Database& db, const Catalog& catalog);

// Adds a blocking finding (exit 4, the destination) to the merge's check when the two sides are one
// instance. A resumed merge has already written source rows under their own ids, so there the
// sampled ids are not compared.
void check_distinct_instances(Database& src, Database& dst, CheckReport& check, bool resumed);

}  // namespace mmmove
