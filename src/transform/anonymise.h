#pragma once
// Anonymisation as a transform in the stream: personal and secret values are replaced on their way
// from the source to the destination (real values never land there). What to replace, and as what, is
// mappings/anonymise.yaml (catalog/anonymise_model.h), which a job may override per column.
//
// Every replacement is a keyed HMAC-SHA-256 of the original under the job's key: the same value gives
// the same mask in every row, table and run (refreshes are reproducible, a username and the
// @mentions of it stay the same name), nothing leads back to the original without the key, and masks
// are long enough that unique values stay unique. NULL stays NULL and an empty value stays empty.
//
// Uniqueness, honestly: usernames and e-mail addresses carry 64 bits of the HMAC, so among n distinct
// values two share a mask with probability below n^2 / 2^65 (3e-8 for a million users), also in the
// shorter forms a narrow column gets (Masker::fit) down to 14 and 23 characters. Secrets keep
// their length, so a hash could not promise that for short ones; they go through a keyed permutation
// instead: two distinct secrets of the same length, alphabet and separators never share a mask (of
// different alphabets, they meet only by chance, as two hashes would).
#include <atomic>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "catalog/anonymise_model.h"
#include "catalog/references.h"
#include "db/data_source.h"
#include "transform/transform.h"

namespace mmmove {

class KeyedHash;

// How free text is masked (the job's `messages:`). Every mode masks @mentions as usernames and
// ~channels as channel names; keep and scramble also mask every :emoji: but a system emoji's, the
// team and channel names of Mattermost links and e-mail addresses (mask_text.cpp).
//   keep:     the text stays but for those names and addresses.
//   scramble: each word becomes a pseudo-word of the same length, a #tag a mask of the tag alone;
//             spacing, punctuation, line breaks and system :emoji: stay (word lengths survive).
//   replace:  the whole text becomes its @mentions and ~channels, then keyed filler words of random
//             lengths on one line; only the text's length survives, rounded up to a multiple of 16
//             characters (replaced_text_bucket).
enum class TextMode { keep, scramble, replace };
constexpr size_t replaced_text_bucket = 16;

// The room a destination column has: declared characters (varchar(n)) and bytes (MySQL's text types
// count bytes); 0 is no limit. A mask never outgrows it (Masker::fit).
struct ColumnRoom {
    size_t chars = 0, bytes = 0;
    bool fits(std::string_view v) const;
    bool limited() const { return chars || bytes; }
};

struct AnonymiseOptions {
    std::string key;                      // the job's HMAC key (raw bytes, at least 16)
    enum class Passwords { disable, test_password } passwords = Passwords::disable;
    std::string password_hash;            // test_password: the hash every user's Password becomes
    TextMode messages = TextMode::scramble;  // how free_text (and JSON's free-text strings) are masked
    std::vector<AnonymisedColumn> columns;  // the model's columns with the job's overrides applied
    std::set<std::string> drop_tables;    // lower-case: rows not copied at all (sessions, login tokens)
    // Systems rows: production's licence and keys are left out, and its identity row takes server_id,
    // the destination's own (a Mattermost id the caller chose: the stage has no source of randomness,
    // and copy and verify must agree). Empty server_id: the identity row is left out too, and
    // Mattermost makes a new one on start.
    AnonymisedSystems systems = anonymised_systems();
    std::string server_id;
};

// The model's columns with a job's overrides: {table, column, kind} replaces the model's entry or adds
// one; kind "keep" removes it. keep_paths (json_text only) are kept besides the model's own kept members
// of that column. An unknown kind, keep_paths on a kind other than json_text and a malformed path throw
// Error(bad_input) naming the override's table.column.
struct AnonymiseOverrideSpec { std::string table, column, kind; std::vector<std::string> keep_paths; };
std::vector<AnonymisedColumn> anonymised_columns_with(const std::vector<AnonymiseOverrideSpec>& overrides);
// The model's drop_rows tables, plus `more`, less `keep` (all lower-case).
std::set<std::string> anonymised_drop_tables(const std::vector<std::string>& more, const std::vector<std::string>& keep);

// A bcrypt hash ($2b$, cost 10) of `password`, as Mattermost checks passwords. bcrypt reads at most 72
// bytes of a password. The salt is a keyed hash of the password under the job's `key`: the same job
// gives the same hash every night, so an incremental refresh (and its verify) finds the rows it left
// alone equal, and the fingerprint can tell another password from this one. Throws Error(internal)
// when libxcrypt cannot make one.
std::string test_password_hash(const std::string& password, std::string_view key);
// What Users.Password becomes under Passwords::disable: not a bcrypt (or any) hash, so no password
// matches it, and not empty, which would read as "no password" (an SSO account).
constexpr std::string_view disabled_password = "mmmove-anonymised:login-disabled";
// The value of kind `cleared` for a column of `kind`, spelled as `source` spells it in a row
// ('f' or '0' for false, "0" for a number, '' for text).
std::string_view cleared_value(ColumnKind kind, Engine source);

// What a json_text column keeps, prepared once per column. Deny by default: every string value is
// masked as free text unless a kept path leads to it, a username path leads to it (then it takes the
// username mask), or it has a form that cannot carry text (json_value_kept). Member names, numbers,
// booleans, null and the structure always stay.
struct JsonMask {
    // The paths as a tree of steps; node 0 is the document itself. A node where a kept path ends keeps
    // everything beneath it; one where a username path ends masks its string as a username.
    struct Node {
        std::vector<std::pair<std::string, int>> members;  // member name -> node
        int any = -1, each = -1;                           // `*` and `[]` -> node
        bool kept = false, username = false;
    };
    std::vector<Node> tree{Node{}};
    std::vector<std::string> keep_values;  // whole string values kept wherever they stand (sorted)
    // A member name of each username path, quoted ("\"username\""): a text holding none of them and no
    // string of a maskable form has nothing to mask and is not parsed (Posts.Props is in every post).
    std::vector<std::string> username_needles;
    // Throws Error(bad_input) for a malformed path. `{key}` steps name member names, which stay anyway.
    static JsonMask of(const std::vector<std::string>& keep_paths, const std::vector<std::string>& username_paths = {},
                       std::vector<std::string> keep_values = {});
};

// Whether a JSON string value (or a whole value that is no JSON) has a form that cannot carry text a
// person wrote: empty, true/false, a Mattermost id, a colour, or one of mask.keep_values. A whole value
// (`whole`) may also be ids joined by commas (Preferences teams_order).
bool json_value_kept(std::string_view v, const JsonMask& mask, bool whole = false);

// The masks, one function per kind, usable alone (tests, the verify step).
class Masker {
public:
    explicit Masker(const std::string& key);  // Error(bad_input) when the key is under 16 bytes
    std::string username(std::string_view v) const;   // lower-cased first: Mattermost compares them so
    std::string email(std::string_view v) const;      // lower-cased first
    std::string person_name(std::string_view v) const;
    std::string person_detail(std::string_view v) const;
    std::string free_text(std::string_view v, TextMode mode) const;  // @mentions masked as usernames
    std::string free_text(std::string_view v, bool scramble) const { return free_text(v, mode_of(scramble)); }
    std::string secret(std::string_view v) const;     // same length, alphabet and separators
    std::string ip_address(std::string_view v) const;
    std::string file_name(std::string_view v) const;
    std::string url(std::string_view v) const;
    // One word of a token column that does not have its column's form: a keyed word of a-z and 0-9 of
    // its length in characters, so a role name and the role lists naming it stay alike.
    std::string token(std::string_view word) const;
    // Names other rows point at (mask_names.cpp), each a valid name of its kind for Mattermost and
    // unique as usernames are (64 bits), so that every reference to it can follow:
    std::string team_name(std::string_view v) const;     // "team-" + 13: no reserved name is its prefix
    std::string channel_name(std::string_view v) const;  // "channel-" + 13; D/G and Mattermost's own stay
    std::string emoji_name(std::string_view v) const;    // "emoji-" + 13: no system emoji has the form
    // An emoji a row names (a reaction, a bookmark's ":name:"): a system emoji's name stays
    // (mappings/system_emoji.yaml: :smile:, +1, thumbsup_medium_skin_tone); any other name, a custom
    // emoji's or not, takes emoji_name, so it matches the masked Emoji.Name and every other mention.
    std::string emoji_ref(std::string_view v) const;
    // Posts.Hashtags ("#a #b"): each tag as free text masks it in the message, so hashtag search in
    // the copy finds the masked message; under replace no word is left, so no tag is.
    bool hashtags_into(std::string_view v, TextMode mode, std::string& out) const;
    std::string hashtag(std::string_view body) const;  // the masked tag without its '#'
    // A channel's DisplayName: a group channel's ("alice, bob, carol": every part a valid username)
    // takes the username masks, any other is free text.
    bool display_name_into(std::string_view v, TextMode mode, std::string& out) const;
    // A Mattermost path at s[i] (a '/'): /<team>/pl/<post id>, /<team>/channels/<channel>,
    // /<team>/messages/@<user> or /<team>/threads/<post id>. Appends it with its names masked (ids
    // stay) and returns its end; npos (nothing appended) when s[i] starts none.
    size_t app_path(std::string_view s, size_t i, std::string& out) const;
    // The names a JSON text's members hold (references.yaml json: Channels.Name, Teams.Name, also as
    // member names with {key}; Emoji.Name, also inside a string of JSON such as customStatus) masked
    // as channel_name / team_name / emoji_ref. False when nothing changed.
    struct JsonNames {
        std::vector<const std::vector<JsonStep>*> channels, teams, emoji;
        std::vector<std::string> needles;  // a text holding none of these quoted member names is not read
    };
    bool json_names_into(std::string_view v, const JsonNames& names, std::string& out) const;
    // JSON text: every string value as free_text but those under `keep_paths` and those of a kept form
    // (JsonMask); a string that holds JSON itself is masked inside, keeping its JSON. A text whose
    // every string value has a kept form is left as it is, unparsed; a text that is no JSON is masked
    // as free_text unless its whole value has a kept form. The members that hold usernames
    // (references.yaml) come in through JsonMask, which the stage builds.
    std::string json_text(std::string_view v, const std::vector<std::string>& keep_paths, TextMode mode) const;
    std::string json_text(std::string_view v, const std::vector<std::string>& keep_paths, bool scramble) const {
        return json_text(v, keep_paths, mode_of(scramble));
    }

    // The stage's forms: false when the value stays as it is (out is then of no use), so a message
    // without a mention (keep mode) or a Props holding nothing to mask costs no copy.
    bool free_text_into(std::string_view v, TextMode mode, std::string& out) const;
    bool json_text_into(std::string_view v, const JsonMask& mask, TextMode mode, std::string& out) const;
    bool free_text_into(std::string_view v, bool scramble, std::string& out) const { return free_text_into(v, mode_of(scramble), out); }
    bool json_text_into(std::string_view v, const JsonMask& mask, bool scramble, std::string& out) const {
        return json_text_into(v, mask, mode_of(scramble), out);
    }

    // Makes `mask` (the mask of `original` as kind `kind`) fit `room`, when it does not already:
    //   username: "u" and 13 base-36 characters of its own hash (64 bits, 14 characters), or as many
    //             of them as room leaves (fewer bits: uniqueness only by chance below 14 characters);
    //   email:    the hash part shortened before "@x.invalid" (64 bits down to 23 characters);
    //   url:      "https://<hash>.invalid", then "https://x.invalid"; a JSON list of URLs becomes [];
    //   json_text: {} or [] (as the mask was an object or an array), so valid JSON stays valid;
    //   the rest (free text, names, secrets…): cut at a character boundary (UTF-8 never split).
    // A room too small for the placeholder gets its prefix. The result is valid UTF-8 when mask was.
    void fit(AnonKind kind, std::string_view original, const ColumnRoom& room, std::string& mask) const;
    const KeyedHash& hash() const { return *hash_; }

private:
    static TextMode mode_of(bool scramble) { return scramble ? TextMode::scramble : TextMode::keep; }
    std::shared_ptr<const KeyedHash> hash_;  // shared by copies: immutable, and read by every worker
};

// What the anonymiser replaced, per kind, summed over every chunk (thread-safe).
// A value counts when its mask differs from it; a chunk's transform adds its counts when the chunk is
// done, so a chunk copied again after a failure counts again.
struct AnonymiseCounts {
    std::map<AnonKind, std::atomic<uint64_t>> by_kind;  // every kind present from the start
    std::atomic<uint64_t> dropped_rows{0};
    AnonymiseCounts();
    uint64_t masked() const;  // over every kind
};

struct AnonymisedTable;

// The LoadStage of an anonymised copy: one Anonymise transform per table with columns to mask, rows
// of drop_tables dropped, every table inserted plainly. `source` is the engine the rows are read from
// (booleans are spelled as it spells them).
class AnonymiseStage : public LoadStage {
public:
    // Throws Error(bad_input) for a key under 16 bytes, a test_password without its hash or a malformed
    // json_text path.
    // `dest` is the engine written to: MySQL's text types limit bytes, which masks must respect.
    AnonymiseStage(AnonymiseOptions options, Engine source, Engine dest = Engine::postgres);
    ~AnonymiseStage() override;
    TransformChain chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues& issues) const override;
    WritePlan write_plan(const PlannedTable& table) const override;
    // HMAC under the job's key of the rules (the model's columns with the job's overrides, dropped
    // tables, Systems rows, password and message modes, engines) and of the masks' version: another
    // key or other rules give another fingerprint. The destination's server id is not in it: its
    // Systems row is compared row by row anyway.
    std::string fingerprint() const override;
    bool keeps_keys(const PlannedTable& table) const override;   // false: a masked key column (IncomingWebhooks.Id)
    bool keeps_column(const PlannedTable& table, const std::string& column) const override;
    bool keeps_rows(const PlannedTable& table) const override;   // false: dropped tables and Systems
    // MaskRow masks column by column, each mask a function of the value (and the column's room) only.
    bool masks_keys_alone(const PlannedTable& table) const override { return keeps_rows(table); }
    // Adds this stage's transform for `table` to an existing chain (after a merge's remap).
    void extend(TransformChain& chain, const PlannedTable& table, const RowColumns& columns) const;
    const AnonymiseCounts& counts() const { return counts_; }
    const Masker& masker() const { return masker_; }  // the files step masks file names as FileInfo's paths

private:
    AnonymiseOptions options_;
    Engine source_, dest_;
    Masker masker_;
    std::map<std::string, std::unique_ptr<AnonymisedTable>> tables_;  // lower-case name → its masks
    mutable AnonymiseCounts counts_;
};

}  // namespace mmmove
