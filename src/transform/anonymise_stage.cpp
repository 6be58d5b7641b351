// The anonymise stage: which columns of which table get which mask (the model with the job's
// overrides), the transform that applies them to a chunk's rows, and the tables left out.
#include <crypt.h>

#include <algorithm>
#include <regex>
#include <unordered_map>

#include "catalog/catalog.h"
#include "core/error.h"
#include "transform/planned_table.h"
#include "transform/convert.h"
#include "transform/anonymise.h"
#include "transform/keyed_hash.h"

namespace mmmove {

// One masked column of a table, prepared once for every chunk.
struct MaskedColumn {
    std::string column;
    AnonKind kind;
    JsonMask json;  // json_text
    std::shared_ptr<const std::regex> form;  // token: the form of a word kept as it is
    Masker::JsonNames names;    // json_text: members naming channels, teams and emoji (references.yaml)
};

struct AnonymisedTable {
    std::vector<MaskedColumn> columns;
};

namespace {

bool same_name(const std::string& a, const std::string& b) { return lower(a) == lower(b); }

// What a chunk's transforms share: read-only but for the counts.
struct MaskContext {
    const Masker& masker;
    const AnonymiseOptions& options;
    Engine source, dest;
    AnonymiseCounts& counts;
};

// What the destination's column holds at most, as the copy's overlong check reads it.
ColumnRoom room_of(const PlannedTable& planned, const std::string& column, Engine dest) {
    const Column* c = planned.dest ? planned.dest->find_column(column) : nullptr;
    if (!c) return {};
    ColumnRoom room;
    room.chars = c->max_chars > 0 ? static_cast<size_t>(c->max_chars) : 0;
    if (dest == Engine::mysql && c->kind == ColumnKind::text) room.bytes = mysql_text_bytes(c->type);
    return room;
}

// Rows of a table the copy leaves out (sessions, login tokens).
class DropRows : public Transform {
public:
    explicit DropRows(AnonymiseCounts& counts) : counts_(counts) {}
    ~DropRows() override { counts_.dropped_rows += dropped_; }
    Result apply(FieldRow&) override {
        ++dropped_;
        return Result::drop;
    }

private:
    AnonymiseCounts& counts_;
    uint64_t dropped_ = 0;
};

// The Systems rows that make the source server itself: its licence and keys are dropped, its
// identity takes the destination's (options.server_id). Row names compare case-insensitively.
class SystemsRow : public Transform {
public:
    SystemsRow(const AnonymiseOptions& options, AnonymiseCounts& counts, int name, int value)
        : options_(options), counts_(counts), name_(name), value_(value), keep_values_(options.systems.keep_values) {}
    ~SystemsRow() override { counts_.dropped_rows += dropped_; }
    Result apply(FieldRow& row) override {
        const Field& name = row[name_];
        if (name.null) return Result::unchanged;
        const std::string n = lower(std::string(name.view()));
        bool drop = false;
        for (const std::string& d : options_.systems.drop) drop = drop || lower(d) == n;
        if (n == lower(options_.systems.identity)) {
            if (!options_.server_id.empty()) {
                row[value_] = Field::of(options_.server_id);
                return Result::changed;
            }
            drop = true;
        }
        // Deny by default: a value not of the form of server state (a plugin's or a newer server's
        // row holding a key, an address or a text) is not copied; Mattermost makes what it needs.
        const Field& value = row[value_];
        if (!drop && !options_.systems.keep_values.empty() && !value.null &&
            !std::regex_match(value.data, value.data + value.size, keep_values_))
            drop = true;
        if (!drop) return Result::unchanged;
        ++dropped_;
        return Result::drop;
    }

private:
    const AnonymiseOptions& options_;
    AnonymiseCounts& counts_;
    int name_, value_;
    std::regex keep_values_;
    uint64_t dropped_ = 0;
};

// Masks the columns of one table that the chunk's rows have. Counts are kept per chunk and added to
// the shared atomics once, when the chunk is done: workers never contend on them row by row.
class MaskRow : public Transform {
public:
    MaskRow(const MaskContext& ctx, const AnonymisedTable& table, const PlannedTable& planned, const RowColumns& columns)
        : ctx_(ctx), counts_(anon_kinds().size(), 0) {
        for (const MaskedColumn& c : table.columns) {
            const int i = columns.find(c.column);
            if (i < 0) continue;
            const Column* source = planned.source ? planned.source->find_column(columns.names()[i]) : nullptr;
            bound_.push_back({&c, i, source ? source->kind : ColumnKind::text, room_of(planned, columns.names()[i], ctx.dest), {}, {}});
        }
    }
    ~MaskRow() override {
        for (AnonKind k : anon_kinds())
            if (counts_[static_cast<size_t>(k)]) ctx_.counts.by_kind.at(k) += counts_[static_cast<size_t>(k)];
    }
    bool empty() const { return bound_.empty(); }

    Result apply(FieldRow& row) override {
        Result r = Result::unchanged;
        for (Bound& b : bound_) {
            Field& f = row[b.index];
            if (f.null || f.size == 0) continue;  // NULL stays NULL, '' stays '', whatever the kind
            if (!mask(b, f.view())) continue;
            f = Field::of(b.scratch);
            ++counts_[static_cast<size_t>(b.column->kind)];
            r = Result::changed;
        }
        return r;
    }

private:
    struct Bound {
        const MaskedColumn* column;
        int index;
        ColumnKind source_kind;  // how the source stores it (cleared: false, 0 or '')
        ColumnRoom room;         // the destination column's limit: every mask is made to fit it
        std::string scratch;     // the mask, alive until the next row
        // token: words already matched against the column's form, and whether they had it. Role and
        // preference names repeat across millions of rows; std::regex costs microseconds a word.
        std::unordered_map<std::string, bool> form_of_word;
    };

    // The mask of v in b.scratch, fitted to the destination's column (a mask may be longer than its
    // value: a refresh must not fail on its own masks); false when it equals v (nothing counted).
    bool mask(Bound& b, std::string_view v) {
        if (!masked(b, v)) return false;
        if (b.room.limited()) ctx_.masker.fit(b.column->kind, v, b.room, b.scratch);
        return b.scratch != v;
    }

    // The mask of v in b.scratch; false when it equals v.
    bool masked(Bound& b, std::string_view v) {
        const Masker& m = ctx_.masker;
        const TextMode mode = ctx_.options.messages;
        switch (b.column->kind) {
            case AnonKind::username: b.scratch = m.username(v); break;
            case AnonKind::email: b.scratch = m.email(v); break;
            case AnonKind::person_name: b.scratch = m.person_name(v); break;
            case AnonKind::person_detail: b.scratch = m.person_detail(v); break;
            case AnonKind::free_text: return m.free_text_into(v, mode, b.scratch);
            case AnonKind::json_text: return json_text(b, v);
            case AnonKind::secret: b.scratch = m.secret(v); break;
            case AnonKind::ip_address: b.scratch = m.ip_address(v); break;
            case AnonKind::file_name: b.scratch = m.file_name(v); break;
            case AnonKind::url: b.scratch = m.url(v); break;
            case AnonKind::password:
                b.scratch = ctx_.options.passwords == AnonymiseOptions::Passwords::disable ? std::string(disabled_password)
                                                                                          : ctx_.options.password_hash;
                break;
            case AnonKind::cleared: b.scratch = cleared_value(b.source_kind, ctx_.source); break;
            case AnonKind::token: tokens(b, v); break;
            case AnonKind::team_name: b.scratch = m.team_name(v); break;
            case AnonKind::channel_name: b.scratch = m.channel_name(v); break;
            case AnonKind::emoji_name: b.scratch = m.emoji_name(v); break;
            case AnonKind::emoji_ref: b.scratch = m.emoji_ref(v); break;
            case AnonKind::hashtags: return m.hashtags_into(v, mode, b.scratch);
            case AnonKind::display_name: return m.display_name_into(v, mode, b.scratch);
        }
        return b.scratch != v;
    }

    // Space-separated words (a role list, or one name): each word of the column's form stays, any
    // other becomes a keyed word of its length; the spaces stay.
    void tokens(Bound& b, std::string_view v) const {
        std::string& out = b.scratch;
        out.clear();
        size_t start = 0;
        while (start <= v.size()) {
            const size_t end = std::min(v.find(' ', start), v.size());
            const std::string_view word = v.substr(start, end - start);
            if (word.empty() || has_form(b, word)) out += word;
            else out += ctx_.masker.token(word);
            if (end == v.size()) break;
            out += ' ';
            start = end + 1;
        }
    }

    static bool has_form(Bound& b, std::string_view word) {
        constexpr size_t remembered = 4096;  // a chunk's distinct names; past that, match each anew
        if (auto it = b.form_of_word.find(std::string(word)); it != b.form_of_word.end()) return it->second;
        const bool has = std::regex_match(word.begin(), word.end(), *b.column->form);
        if (b.form_of_word.size() < remembered) b.form_of_word.emplace(word, has);
        return has;
    }

    // The JSON's personal strings masked, then the channel and team names its members hold.
    bool json_text(Bound& b, std::string_view v) {
        const bool masked = ctx_.masker.json_text_into(v, b.column->json, ctx_.options.messages, b.scratch);
        if (masked) names_in_ = b.scratch;
        if (!ctx_.masker.json_names_into(masked ? std::string_view(names_in_) : v, b.column->names, b.scratch)) {
            if (masked) b.scratch = std::move(names_in_);
            return masked;
        }
        return true;
    }

    MaskContext ctx_;
    std::string names_in_;  // json_text: the masked JSON the names pass reads
    std::vector<Bound> bound_;
    std::vector<uint64_t> counts_;  // by AnonKind
};

// The members of table.column that references.yaml says hold usernames (Posts.Props username,
// addedUsername…): they take the username mask, as Users.Username does.
std::vector<std::string> username_paths(const std::string& table, const std::string& column) {
    std::vector<std::string> out;
    for (const JsonReference& j : references().json)
        if (same_name(j.table, table) && same_name(j.column, column) && same_name(j.target.table, "Users") &&
            same_name(j.target.column, "Username"))
            out.push_back(j.path);
    return out;
}

// The members of table.column that references.yaml says hold channel, team or emoji names
// (channel_mentions.{key}, team_name, customStatus.emoji): they take the channel_name / team_name /
// emoji_ref masks, as the names do.
Masker::JsonNames json_names(const std::string& table, const std::string& column, const std::vector<std::string>& keep_paths) {
    Masker::JsonNames out;
    for (const JsonReference& j : references().json) {
        if (!same_name(j.table, table) || !same_name(j.column, column) || !same_name(j.target.column, "Name")) continue;
        // Only names the JSON pass left as they were: member names ({key}) and kept members. Any other
        // string was masked as free text already (channel_mentions display names), and a name mask of
        // that mask would be neither.
        const bool key = !j.steps.empty() && j.steps.back().kind == JsonStep::Kind::member_name;
        if (!key && std::find(keep_paths.begin(), keep_paths.end(), j.path) == keep_paths.end()) continue;
        if (same_name(j.target.table, "Channels")) out.channels.push_back(&j.steps);
        else if (same_name(j.target.table, "Teams")) out.teams.push_back(&j.steps);
        else if (same_name(j.target.table, "Emoji")) out.emoji.push_back(&j.steps);
        else continue;
        auto named = std::find_if(j.steps.begin(), j.steps.end(), [](const JsonStep& s) { return s.kind == JsonStep::Kind::member; });
        if (named != j.steps.end()) out.needles.push_back("\"" + named->name + "\"");
    }
    return out;
}

}  // namespace

std::string_view cleared_value(ColumnKind kind, Engine source) {
    switch (kind) {
        case ColumnKind::boolean: return source == Engine::postgres ? "f" : "0";
        case ColumnKind::integer:
        case ColumnKind::floating: return "0";
        default: return "";
    }
}

AnonymiseCounts::AnonymiseCounts() {
    for (AnonKind k : anon_kinds()) by_kind.try_emplace(k, 0);
}

uint64_t AnonymiseCounts::masked() const {
    uint64_t n = 0;
    for (const auto& [kind, count] : by_kind) n += count.load();
    return n;
}

AnonymiseStage::AnonymiseStage(AnonymiseOptions options, Engine source, Engine dest)
    : options_(std::move(options)), source_(source), dest_(dest), masker_(options_.key) {
    if (options_.passwords == AnonymiseOptions::Passwords::test_password && options_.password_hash.empty())
        throw Error(ExitCode::bad_input,
                    "Anonymised passwords are to become the test password, but no hash of it was given. "
                    "Give the test password (anonymise.test_password_env or _file).");
    std::set<std::string> drop;  // whatever case the caller wrote them in
    for (const std::string& t : options_.drop_tables) drop.insert(lower(t));
    options_.drop_tables = std::move(drop);
    auto add = [this](const AnonymisedColumn& c) {
        auto& t = tables_[lower(c.table)];
        if (!t) t = std::make_unique<AnonymisedTable>();
        for (const MaskedColumn& m : t->columns)
            if (same_name(m.column, c.column)) return;
        const bool json = c.kind == AnonKind::json_text;
        JsonMask mask = json ? JsonMask::of(c.keep_paths, username_paths(c.table, c.column), c.keep_values) : JsonMask{};
        Masker::JsonNames names = json ? json_names(c.table, c.column, c.keep_paths) : Masker::JsonNames{};
        auto regex = c.kind == AnonKind::token ? std::make_shared<const std::regex>(c.form) : nullptr;
        t->columns.push_back({c.column, c.kind, std::move(mask), std::move(regex), std::move(names)});
    };
    for (const AnonymisedColumn& c : options_.columns) add(c);
    // A masked key must be masked alike wherever another column names it, or the link breaks. Today
    // no column names a masked one (IncomingWebhooks.Id, the one masked key, is referenced nowhere in
    // references.yaml); this keeps it so if the model or a job's overrides ever mask one that is.
    for (const ColumnReference& ref : references().columns)
        for (const AnonymisedColumn& c : options_.columns)
            if ((c.kind == AnonKind::secret || c.kind == AnonKind::username || c.kind == AnonKind::email) &&
                same_name(c.table, ref.target.table) && same_name(c.column, ref.target.column))
                add(AnonymisedColumn{ref.table, ref.column, c.kind, {}, {}, ""});
}

AnonymiseStage::~AnonymiseStage() = default;

TransformChain AnonymiseStage::chain(const PlannedTable& table, const RowColumns& columns, ChunkIssues&) const {
    TransformChain c;
    extend(c, table, columns);
    return c;
}

// Nothing is added for a table without masked columns in this row: an empty chain keeps the copy's
// fast paths (PostgreSQL to PostgreSQL streams COPY data untouched).
void AnonymiseStage::extend(TransformChain& chain, const PlannedTable& table, const RowColumns& columns) const {
    if (!table.source) return;
    const std::string name = lower(table.source->name);
    if (options_.drop_tables.count(name)) {
        chain.add(std::make_unique<DropRows>(counts_));
        return;
    }
    const AnonymisedSystems& sys = options_.systems;
    if (!sys.table.empty() && name == lower(sys.table)) {
        const int n = columns.find(sys.name_column), v = columns.find(sys.value_column);
        if (n < 0 || v < 0)  // never pass production's keys on for want of a column
            throw Error(ExitCode::source, "The source's " + table.source->name + " table has no " + (n < 0 ? sys.name_column : sys.value_column) +
                                              " column: mmmove cannot leave production's licence and keys out of it. Nothing more was copied.");
        chain.add(std::make_unique<SystemsRow>(options_, counts_, n, v));
    }
    auto it = tables_.find(name);
    if (it == tables_.end()) return;
    auto t = std::make_unique<MaskRow>(MaskContext{masker_, options_, source_, dest_, counts_}, *it->second, table, columns);
    if (!t->empty()) chain.add(std::move(t));
}

WritePlan AnonymiseStage::write_plan(const PlannedTable&) const { return WritePlan{}; }

// Bump kMaskVersion whenever a mask of the same value under the same key changes (masker.cpp,
// mask_*.cpp): an incremental refresh then starts over with a full one instead of keeping old masks.
std::string AnonymiseStage::fingerprint() const {
    static constexpr std::string_view kMaskVersion = "mmmove masks 1";
    std::string rules;
    auto part = [&rules](std::string_view v) { rules += std::to_string(v.size()) + ":" + std::string(v) + ";"; };
    part(kMaskVersion);
    part(engine_name(source_)), part(engine_name(dest_));
    part(options_.passwords == AnonymiseOptions::Passwords::disable ? "disable" : "test-password");
    // Another test password gives another hash, which the rows an incremental refresh leaves alone would
    // not take: a changed password makes the next refresh a full one.
    if (options_.passwords == AnonymiseOptions::Passwords::test_password) part(options_.password_hash);
    part(options_.messages == TextMode::keep ? "keep" : options_.messages == TextMode::replace ? "replace" : "scramble");
    for (const AnonymisedColumn& c : options_.columns) {
        part(c.table), part(c.column), part(anon_kind_name(c.kind)), part(c.form);
        for (const auto& p : c.keep_paths) part("path"), part(p);
        for (const auto& v : c.keep_values) part("value"), part(v);
    }
    for (const auto& t : options_.drop_tables) part("drop"), part(t);
    const AnonymisedSystems& sys = options_.systems;
    part(sys.table), part(sys.name_column), part(sys.value_column), part(sys.identity), part(sys.keep_values);
    for (const auto& d : sys.drop) part(d);
    const Digest d = masker_.hash()("mmmove refresh fingerprint", rules);
    static constexpr char hex[] = "0123456789abcdef";
    std::string out;
    for (unsigned char b : d) out += hex[b >> 4], out += hex[b & 15];
    return out;
}

bool AnonymiseStage::keeps_keys(const PlannedTable& table) const {
    if (!table.source || !keeps_column(table, table.key_column)) return false;
    for (const auto& k : table.source->primary_key)
        if (!keeps_column(table, k)) return false;
    return true;
}

bool AnonymiseStage::keeps_column(const PlannedTable& table, const std::string& column) const {
    if (column.empty()) return true;
    if (!table.source) return false;
    auto it = tables_.find(lower(table.source->name));
    if (it != tables_.end())
        for (const MaskedColumn& m : it->second->columns)
            if (same_name(m.column, column)) return false;
    const AnonymisedSystems& sys = options_.systems;
    return !(same_name(table.source->name, sys.table) && same_name(column, sys.value_column));
}

bool AnonymiseStage::keeps_rows(const PlannedTable& table) const {
    if (!table.source) return false;
    const std::string name = lower(table.source->name);
    return !options_.drop_tables.count(name) && !(!options_.systems.table.empty() && name == lower(options_.systems.table));
}

std::vector<AnonymisedColumn> anonymised_columns_with(const std::vector<AnonymiseOverrideSpec>& overrides) {
    std::vector<AnonymisedColumn> out = anonymised_columns();
    for (const AnonymiseOverrideSpec& o : overrides) {
        const std::string where = "The job's anonymise column " + o.table + "." + o.column;
        if (o.table.empty() || o.column.empty())
            throw Error(ExitCode::bad_input, where + " needs both a table and a column.");
        auto same = [&o](const AnonymisedColumn& c) { return same_name(c.table, o.table) && same_name(c.column, o.column); };
        if (o.kind == "keep") {
            std::erase_if(out, same);
            continue;
        }
        AnonKind kind{};
        if (!anon_kind_named(o.kind, kind)) {
            std::string kinds;
            for (AnonKind k : anon_kinds()) kinds += std::string(anon_kind_name(k)) + ", ";
            throw Error(ExitCode::bad_input,
                        where + " has an unknown kind '" + o.kind + "'. Use one of " + kinds + "or keep.");
        }
        if (!o.keep_paths.empty() && kind != AnonKind::json_text)
            throw Error(ExitCode::bad_input, where + " has keep_paths, but only kind json_text takes keep_paths.");
        if (kind == AnonKind::token)  // its form is the model's knowledge of what Mattermost writes there
            throw Error(ExitCode::bad_input, where + " has kind token, which only mmmove's model uses. Use secret or free_text.");
        try {
            JsonMask::of(o.keep_paths);
        } catch (const Error& e) {
            throw Error(ExitCode::bad_input, where + ": " + e.what());
        }
        AnonymisedColumn c{o.table, o.column, kind, o.keep_paths, {}, ""};
        auto it = std::find_if(out.begin(), out.end(), same);
        // A JSON column stays JSON: the job's kept members come on top of the model's, which staging
        // needs to work (flags, settings, ids).
        if (it != out.end() && kind == AnonKind::json_text && it->kind == AnonKind::json_text) {
            c.keep_paths.insert(c.keep_paths.begin(), it->keep_paths.begin(), it->keep_paths.end());
            c.keep_values = it->keep_values;
        }
        if (it != out.end()) *it = std::move(c);
        else out.push_back(std::move(c));
    }
    return out;
}

std::set<std::string> anonymised_drop_tables(const std::vector<std::string>& more, const std::vector<std::string>& keep) {
    std::set<std::string> out;
    for (const std::string& t : anonymised_drop_rows()) out.insert(lower(t));
    for (const std::string& t : more) out.insert(lower(t));
    for (const std::string& t : keep) out.erase(lower(t));
    return out;
}

// The salt is the job's, not the system's random source: a keyed hash of the test password under the
// anonymisation key (never of a real password), so each run writes the same hash and an incremental
// refresh leaves unchanged users alone. crypt_data is large, so it lives on the heap.
std::string test_password_hash(const std::string& password, std::string_view key) {
    // bcrypt takes 16 bytes of salt: the first 16 of a keyed hash of the password.
    const Digest salt = KeyedHash(key)("mmmove test password salt", password);
    char setting[CRYPT_GENSALT_OUTPUT_SIZE];
    if (!crypt_gensalt_rn("$2b$", 10, reinterpret_cast<const char*>(salt.data()), 16, setting, sizeof setting))
        throw Error(ExitCode::internal, "libxcrypt could not make a bcrypt salt for the test password.");
    auto data = std::make_unique<crypt_data>();
    const char* hash = crypt_rn(password.c_str(), setting, data.get(), sizeof *data);
    if (!hash || hash[0] == '*') throw Error(ExitCode::internal, "libxcrypt could not hash the test password with bcrypt.");
    return hash;
}

}  // namespace mmmove
