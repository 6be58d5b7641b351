#pragma once
// The merge's ID map: for each table (lower case), the source ids that take another value on the
// destination, and the source rows the destination already has (matched: not written again; every
// reference to them follows the map). Ids not in the map keep their value, so the map holds only
// identity matches and collisions, never one entry per post.
//
// The map is kept on the destination (mmmove_merge_ids) with the merge's checkpoint, so a resumed merge
// rewrites references exactly as the interrupted one did.
#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>

#include "db/database.h"

namespace mmmove {

struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
};
using StringMap = std::unordered_map<std::string, std::string, StringHash, std::equal_to<>>;
using StringSet = std::unordered_set<std::string, StringHash, std::equal_to<>>;

// What mmmove writes into the map for a table: its source ids are Mattermost ids (a table of
// Mattermost's own keyed by a varchar(26) id) or, for a key of another form (a token, a hash, a
// plugin's key), text of at most max_chars printable characters. Every destination id is a Mattermost
// id, as the destination's own rows and new_mattermost_id() give them.
struct IdForm {
    bool mattermost_id = true;
    size_t max_chars = 26;
};
using IdForms = std::map<std::string, IdForm>;  // lower-case table → form; no other table may appear

class IdMap {
public:
    // The source row `source` of `table` is the destination's row `dest` (it is not written).
    void match(const std::string& table, const std::string& source, const std::string& dest);
    // The source row keeps being written, under a new id (its id collides with another destination row).
    void renumber(const std::string& table, const std::string& source, const std::string& dest);
    // The destination value for a source id of `table`, or nullptr when it keeps its value.
    const std::string* find(const std::string& table, std::string_view source) const;
    bool matched(const std::string& table, std::string_view source) const;
    // Every id that changes for `table` (nullptr when none), and the matched ones.
    const StringMap* changes(const std::string& table) const;
    const StringSet* matches(const std::string& table) const;
    size_t size() const;

    static constexpr const char* kTable = "mmmove_merge_ids";
    // Writes the map into its table on the destination (created here), inside the caller's transaction.
    void save(Database& dst) const;
    // Reads the map back. What is read back is data: a row naming a table outside `forms`, or a value
    // of another form than mmmove writes, refuses the resume (ExitCode::destination) before anything is
    // written, naming the table and the fix.
    static IdMap load(Database& dst, const IdForms& forms);
    static void drop(Database& dst);

private:
    struct TableIds {
        StringMap to;
        StringSet matched;
    };
    std::unordered_map<std::string, TableIds> tables_;
};

// What Mattermost's NewId makes (and new_mattermost_id): 26 characters of [a-z0-9]. Only such a value
// may name a folder of a data directory.
bool is_mattermost_id(std::string_view s);

// A fresh Mattermost id: 26 characters of Mattermost's base32 alphabet over 16 random bytes.
std::string new_mattermost_id();

}  // namespace mmmove
