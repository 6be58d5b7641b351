// Columns whose values the destination may refuse although both sides are the same Mattermost
// version: the two engines' schemas differ (PropertyFields/PropertyValues timestamps are NULL-able on
// MySQL only), or a column was altered by hand. Found from the catalogs alone, without reading rows;
// the copy names each refused value and --on-refused-value decides.
#include "check/check_steps.h"
#include "transform/convert.h"

namespace mmmove::check_steps {
namespace {

std::string join(const std::vector<std::string>& names) {
    std::string s;
    for (size_t i = 0; i < names.size() && i < 12; ++i) s += (i ? ", " : "") + names[i];
    if (names.size() > 12) s += ", and " + std::to_string(names.size() - 12) + " more";
    return s;
}

// True when the destination's integer column cannot hold every value of the source's.
bool narrower(const Column& source, const Column& dest) {
    long double smin = 0, smax = 0, dmin = 0, dmax = 0;
    if (dest.kind != ColumnKind::integer || !integer_range(dest.type, dmin, dmax)) return false;
    return source.kind == ColumnKind::integer && integer_range(source.type, smin, smax) && (smin < dmin || smax > dmax);
}

}  // namespace

void check_value_fit(CheckReport& r, const CheckOptions& o) {
    std::vector<std::string> not_null, narrow, enums;
    for (const auto& t : r.source.catalog.tables) {
        const Table* d = r.dest.catalog.find(t.name);
        if (!d || o.skip_tables.count(lower(t.name))) continue;
        for (const auto& c : t.columns) {
            const Column* dc = d->find_column(c.name);
            if (!dc) continue;
            std::string name = t.name + "." + c.name;
            if (c.nullable && !dc->nullable) not_null.push_back(name);
            if (narrower(c, *dc)) narrow.push_back(name + " (" + c.type + " → " + dc->type + ")");
            if (dc->kind == ColumnKind::enumeration && c.kind != ColumnKind::enumeration) enums.push_back(name + " (" + dc->type + ")");
        }
    }
    const std::string policy = " The copy names any such value (table, key, column); --on-refused-value decides: stop (the "
                               "default, the destination left as found), repair, or skip-row.";
    if (!not_null.empty())
        warn(r, "These columns may be NULL on the source but are NOT NULL on the destination (the two engines' Mattermost "
                "schemas differ here): " + join(not_null) + "." + policy);
    if (!narrow.empty()) warn(r, "These integer columns are narrower on the destination: " + join(narrow) + "." + policy);
    if (!enums.empty())
        warn(r, "These columns are enum types on the destination, free text on the source: " + join(enums) +
                    "; a value outside the enum is refused." + policy);
}

}  // namespace mmmove::check_steps
