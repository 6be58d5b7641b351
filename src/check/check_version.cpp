// Which Mattermost schema each side holds, and whether the two are the same: the applied migrations
// (db_migrations) by number and name, the diagnosis of databases from before db_migrations existed,
// and what an empty destination can be given.
#include <string>
#include <vector>

#include "catalog/migrations.h"
#include "check/check_steps.h"

namespace mmmove::check_steps {
namespace {

std::string list_numbers(const std::vector<int64_t>& v) {
    std::string s;
    for (size_t i = 0; i < v.size() && i < 8; ++i) s += (i ? ", " : "") + std::to_string(v[i]);
    if (v.size() > 8) s += ", … (" + std::to_string(v.size()) + " in all)";
    return s;
}

// "124 and 141", "124, 141 and 159"
std::string list_levels(Engine engine) {
    std::vector<int> levels = model_levels(engine);
    std::string s;
    for (size_t i = 0; i < levels.size(); ++i)
        s += (i == 0 ? "" : i + 1 == levels.size() ? " and " : ", ") + std::to_string(levels[i]);
    return s.empty() ? "none" : s;
}

// What an old Mattermost database looks like: its tables, the migration record it lacks, and the
// version markers older servers left (go-migrate's schema_migrations table, the Systems Version row).
std::string describe_old_schema(const SideState& s) {
    std::string text = "a Mattermost schema older than v6.4 (it has Mattermost's tables, such as Users, Posts and Channels, but ";
    text += s.catalog.has_migrations_table ? "no applied migrations in db_migrations" : "no db_migrations table, which Mattermost v6.4 introduced";
    if (s.catalog.find("schema_migrations")) text += "; its schema_migrations table is what Mattermost v6.0 to v6.3 kept";
    if (s.version.systems_version) text += "; its Systems table says Version " + *s.version.systems_version;
    return text + ")";
}

bool holds_mattermost_tables(const SideState& s) { return s.catalog.table_case != TableCase::empty; }

}  // namespace

std::string describe_version(const SideState& s) {
    if (s.version.migrations.empty()) return "no applied migrations";
    return "migration " + std::to_string(s.version.highest()) + " (" + std::to_string(s.version.migrations.size()) +
           " applied)";
}

void note_systems_versions(CheckReport& r) {
    for (const SideState* s : {&r.source, &r.dest}) {
        if (!s->version.systems_version) continue;
        info(r, std::string("The ") + (s == &r.source ? "source" : "destination") + "'s Systems table has a Version row (" +
                    *s->version.systems_version + "). It is informational only: Mattermost up to v7.0 kept its schema "
                    "version there, later servers neither update nor read it, so it may be stale; what counts is the set of "
                    "migrations in db_migrations.");
    }
}

bool source_has_schema(CheckReport& r) {
    const SideState& s = r.source;
    if (s.catalog.has_migrations_table && !s.version.migrations.empty()) return true;
    if (!holds_mattermost_tables(s)) {
        block(r, ExitCode::source,
              "The source database holds no Mattermost schema (no db_migrations rows). Check that --from names the "
              "Mattermost database, not an empty one or the server's default database.");
        return false;
    }
    std::string target = r.dest.version.migrations.empty()
                             ? "the version the destination will run"
                             : "the version the destination runs (" + describe_version(r.dest) + ")";
    block(r, ExitCode::source,
          "The source database holds " + describe_old_schema(s) + ". mmmove moves databases whose schema Mattermost v6.4 "
          "or newer has migrated: upgrade the source with Mattermost to " + target + " (start that version against it "
          "once so it applies its migrations, then stop it), and run mmmove again.");
    return false;
}

bool destination_has_schema(CheckReport& r) {
    const SideState& d = r.dest;
    if (d.catalog.has_migrations_table) return true;
    if (holds_mattermost_tables(d))
        block(r, ExitCode::destination,
              "The destination database holds " + describe_old_schema(d) + ". Upgrade it with Mattermost to the source's "
              "version (" + describe_version(r.source) + ") by starting that version against it once, or point --to at "
              "an empty database and pass --create-schema.");
    else
        block(r, ExitCode::destination,
              "The destination database has tables but no Mattermost schema (no db_migrations table). Point --to at a "
              "Mattermost database, or at an empty one with --create-schema.");
    return false;
}

void plan_schema_creation(CheckReport& r, const CheckOptions& o) {
    const std::string engine = engine_name(r.dest.engine);
    const SchemaModel* model = find_model(r.dest.engine, r.source.version.migrations);
    if (!model) {
        // No --create-schema advice here: it would be refused. The admin's way is Mattermost itself.
        block(r, o.create_schema ? ExitCode::mismatch : ExitCode::destination,
              std::string(o.create_schema ? "" : "The destination database has no tables, and ") + "mmmove has no " + engine +
                  " schema model for the source's version (" + describe_version(r.source) + "); on " + engine +
                  " it can create levels " + list_levels(r.dest.engine) + ". Create the destination's schema by starting "
                  "the source's Mattermost version against it once and stopping it, then copy" +
                  (o.create_schema ? " without --create-schema." : "."));
        return;
    }
    if (!o.create_schema) {
        block(r, ExitCode::destination,
              "The destination database has no tables. Create Mattermost's schema there first: pass --create-schema "
              "(mmmove builds the source's schema version, migration " + std::to_string(model->level) + "), or start the "
              "same Mattermost version against it once and stop it before copying.");
        return;
    }
    r.create_model = model;
    info(r, "The destination is empty: mmmove will create the Mattermost schema at migration " +
                std::to_string(model->level) + " (" + std::to_string(model->tables.size()) + " tables).");
}

void compare_versions(CheckReport& r) {
    MigrationDiff d = compare_migrations(r.source.version.migrations, r.dest.version.migrations);
    if (d.same()) return;
    std::string text = "The two sides are at different Mattermost schema versions: the source is at " +
                       describe_version(r.source) + ", the destination at " + describe_version(r.dest) + ".";
    if (!d.only_a.empty()) text += " Only the source has migrations " + list_numbers(d.only_a) + ".";
    if (!d.only_b.empty()) text += " Only the destination has migrations " + list_numbers(d.only_b) + ".";
    if (!d.renamed.empty()) {
        text += " Both sides have migration";
        for (size_t i = 0; i < d.renamed.size() && i < 8; ++i)
            text += std::string(i ? "," : "") + " " + std::to_string(d.renamed[i].version) + " (source: " +
                    d.renamed[i].name_a + ", destination: " + d.renamed[i].name_b + ")";
        if (d.renamed.size() > 8) text += ", … (" + std::to_string(d.renamed.size()) + " in all)";
        text += ", but under different names: they are different migrations, from different Mattermost release "
                "branches that reuse the same numbers.";
    }
    text += " Run the same Mattermost version on both (upgrade the older one, or create the destination's schema "
            "with the source's version), then check again.";
    block(r, ExitCode::mismatch, text);
}

}  // namespace mmmove::check_steps
