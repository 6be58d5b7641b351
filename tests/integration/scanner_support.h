#pragma once
// The marker scanner behind anonymise_scanner_test.cpp: finds every text, JSON and binary column of
// every table by asking the live server (information_schema, never mmmove's model or mappings/),
// plants a distinct marker in each, and later looks for every marker in everything a refresh leaves
// behind. The only columns left without a marker are those the anonymisation model keeps by design as
// ids, times, counts, flags or types (and the job's own keeps); they are counted and printed, never
// hidden. The "names" and "settings" keep groups get markers like any other column.
#include <filesystem>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "db/database.h"

namespace mmmove::test {

// A column as the live catalog describes it.
struct LiveColumn {
    std::string table, column;
    std::string data_type;    // information_schema's data_type, lower case
    std::string column_type;  // MySQL's column_type (enum values), else the udt name
    long long max_len = 0;    // characters (bytes for MySQL), 0 for unlimited
    bool nullable = true;
    bool generated = false;   // generated or auto-increment: the server fills it
    bool json = false;        // declared JSON, or holding JSON documents
    enum class Family { text, json, binary, array, enumeration, number, boolean, other } family = Family::other;
};

// Every column of every base table of `db`, by introspection.
std::vector<LiveColumn> live_columns(Database& db);

// A planted marker and where it was put ("Posts.Props attachments[].title", "config EmailSettings.SMTPServer").
struct Marker {
    std::string value, where;
};

class Planter {
public:
    // `job_keeps`: lower-case "table.column" the job itself keeps (plugin tables' ids).
    explicit Planter(std::set<std::string> job_keeps) : job_keeps_(std::move(job_keeps)) {}
    // Staging's columns: one that is an enum there can only receive that enum's values from production.
    void set_destination(Database& staging);
    // A fresh marker of at most `width` characters (0: unlimited), or "" when none fits.
    std::string marker(const std::string& where, long long width = 0);
    // Plants markers in every plantable column of every table of `db` (one existing row updated, or a
    // row inserted into an empty table).
    void plant_database(Database& db);
    // The JSON document planted in a JSON column: markers in an unknown member, in attachment-like
    // nested members, in an integration's URL and context, and in JSON inside a string.
    std::string json_document(const std::string& where, long long width, bool array);

    const std::vector<Marker>& markers() const { return markers_; }
    // Why each column without a marker has none ("ids", "times", "narrow", "enum"...), by "Table.Column".
    const std::map<std::string, std::string>& exempt() const { return exempt_; }
    size_t planted_columns() const { return planted_columns_; }
    // A line per reason: how many columns were planted and how many exempt, and the exempt ones.
    std::string report() const;

private:
    std::string exemption(const LiveColumn& c) const;
    std::string value_for(Database& db, const LiveColumn& c);
    std::string filler_for(Database& db, const LiveColumn& c);

    std::set<std::string> job_keeps_;
    std::set<std::string> array_on_staging_;
    std::map<std::string, std::string> destination_enums_;  // lower-case "table.column" → its first value
    std::vector<Marker> markers_;
    std::map<std::string, std::string> exempt_;
    size_t planted_columns_ = 0;
    int next_ = 1;
};

// Where each marker is found in `text` (as it is, or hex-encoded as PostgreSQL shows binary values):
// "marker (where) in <place>" per hit.
void find_markers(const std::vector<Marker>& markers, const std::string& text, const std::string& place,
                  std::vector<std::string>& hits);
// Every row of every base table of `db`, each table as one text, by lower-case table name.
std::map<std::string, std::string> dump_tables(Database& db);
// Every file under `dir`: its path relative to `dir` and its contents, as one text per file.
std::map<std::string, std::string> dump_files(const std::filesystem::path& dir);

}  // namespace mmmove::test
