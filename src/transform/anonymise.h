#pragma once
// Anonymisation as a transform in the stream: personal and secret values are replaced on their way
// from the source to the destination (real values never land there). What to replace, and as what, is
// mappings/anonymise.yaml (catalog/anonymise_model.h), which a job may override per column.
//
// Every replacement is a keyed HMAC-SHA-256 of the original under the job's key: the same value gives
// the same mask in every row, table and run (refreshes are reproducible, a username and the
// @mentions of it stay the same name), nothing leads back to the original without the key, and masks
// are long enough that unique values stay unique. NULL stays NULL and an empty value stays empty.
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/anonymise_model.h"
#include "db/data_source.h"
#include "transform/transform.h"

namespace mmmove {

struct AnonymiseOptions {
    std::string key;                      // the job's HMAC key (raw bytes, at least 16)
    enum class Passwords { disable, test_password } passwords = Passwords::disable;
    std::string password_hash;            // test_password: the hash every user's Password becomes
    bool scramble_messages = true;        // free_text: replace the words (false: keep the text, mask mentions only)
    std::vector<AnonymisedColumn> columns;  // the model's columns with the job's overrides applied
    std::set<std::string> drop_tables;    // lower-case: rows not copied at all (sessions, login tokens)
};

// The model's columns with a job's overrides: {table, column, kind} replaces the model's entry or adds
// one; kind "keep" removes it. An override naming an unknown kind throws Error(bad_input).
struct AnonymiseOverrideSpec { std::string table, column, kind; std::vector<std::string> paths; };
std::vector<AnonymisedColumn> anonymised_columns_with(const std::vector<AnonymiseOverrideSpec>& overrides);
// The model's drop_rows tables, plus `more`, less `keep` (all lower-case).
std::set<std::string> anonymised_drop_tables(const std::vector<std::string>& more, const std::vector<std::string>& keep);

// A bcrypt hash ($2b$, cost 10) of `password`, as Mattermost checks passwords.
std::string test_password_hash(const std::string& password);

// The masks, one function per kind, usable alone (tests, the verify step).
class Masker {
public:
    explicit Masker(std::string key);
    std::string username(std::string_view v) const;   // lower-cased first: Mattermost compares them so
    std::string email(std::string_view v) const;      // lower-cased first
    std::string person_name(std::string_view v) const;
    std::string person_detail(std::string_view v) const;
    std::string free_text(std::string_view v, bool scramble) const;  // @mentions masked as usernames
    std::string secret(std::string_view v) const;     // same length and alphabet
    std::string ip_address(std::string_view v) const;
    std::string file_name(std::string_view v) const;
    std::string url(std::string_view v) const;
    // JSON text: the string values under `paths` (every string when empty) as free_text; members that
    // hold usernames (references.yaml) as usernames. Not JSON: masked as free_text.
    std::string json_text(std::string_view v, const std::vector<std::string>& paths, bool scramble) const;

private:
    std::string key_;
};

// What the anonymiser replaced, per kind, summed over every chunk (thread-safe).
struct AnonymiseCounts {
    std::map<AnonKind, std::atomic<uint64_t>> by_kind;
    std::atomic<uint64_t> dropped_rows{0};
    AnonymiseCounts();
};

// The LoadStage of an anonymised copy: one Anonymise transform per table with columns to mask, rows
// of drop_tables dropped, every table inserted plainly. `source` is the engine the rows are read from
// (booleans are spelled as it spells them).
class AnonymiseStage : public LoadStage {
public:
    AnonymiseStage(AnonymiseOptions options, Engine source);
    TransformChain chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues& issues) const override;
    WritePlan write_plan(const PlannedTable& table) const override;
    // Adds this stage's transform for `table` to an existing chain (after a merge's remap).
    void extend(TransformChain& chain, const PlannedTable& table, const RowColumns& columns) const;
    const AnonymiseCounts& counts() const { return counts_; }

private:
    AnonymiseOptions options_;
    Engine source_;
    Masker masker_;
    mutable AnonymiseCounts counts_;
};

}  // namespace mmmove
