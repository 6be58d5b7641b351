#include "job/job_config.h"

#include "config/config_carry.h"
#include "config/config_merge.h"
#include "core/error.h"

namespace mmmove {

namespace {

bool ends_with(const std::string& s, const std::string& tail) {
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

OrderedJson::json_pointer pointer_of(const std::string& dotted) {
    std::string p;
    for (size_t start = 0, dot; start <= dotted.size(); start = dot + 1) {
        dot = dotted.find('.', start);
        if (dot == std::string::npos) dot = dotted.size();
        std::string key = dotted.substr(start, dot - start);
        for (size_t i = 0; (i = key.find('~', i)) != std::string::npos; i += 2) key.replace(i, 1, "~0");
        for (size_t i = 0; (i = key.find('/', i)) != std::string::npos; i += 2) key.replace(i, 1, "~1");
        p += "/" + key;
    }
    return OrderedJson::json_pointer(p);
}

// Turns a boolean setting off where the configuration has it (a server of another version may lack it).
bool turn_off(OrderedJson& config, const std::string& path) {
    auto ptr = pointer_of(path);
    if (!config.contains(ptr) || !config[ptr].is_boolean()) return false;
    if (!config[ptr].get<bool>()) return false;
    config[ptr] = false;
    return true;
}

// The destination's value for every secret setting the merge took from the source (or an empty one
// where the destination has none): production's passwords and keys stay in production.
size_t keep_destination_secrets(OrderedJson& merged, const OrderedJson& dest) {
    size_t kept = 0;
    for (const auto& change : diff_configs(dest, merged)) {
        if (!is_secret_setting(change.path)) continue;
        auto ptr = pointer_of(change.path);
        if (merged.contains(ptr) && (merged[ptr].is_boolean() || merged[ptr].is_number())) continue;  // flags and numbers are no secrets
        if (dest.contains(ptr))
            merged[ptr] = dest[ptr];
        else if (merged.contains(ptr) && merged[ptr].is_string())
            merged[ptr] = "";
        else
            continue;
        ++kept;
    }
    return kept;
}

}  // namespace

std::string config_location_of(const JobSide& side) {
    if (!side.config.empty()) return side.config;
    return ends_with(side.database, ".json") ? side.database : "";
}

std::optional<std::string> site_url_of(const std::string& location, Side side) {
    if (location.empty()) return std::nullopt;
    ConfigDocument doc = load_config(parse_config_location(location, side), side);
    auto ptr = pointer_of("ServiceSettings.SiteURL");
    if (!doc.json.contains(ptr) || !doc.json[ptr].is_string()) return std::nullopt;
    std::string url = doc.json[ptr].get<std::string>();
    while (!url.empty() && url.back() == '/') url.pop_back();
    if (url.empty()) return std::nullopt;
    return url;
}

OrderedJson merge_job_config(const JobConfig& config, const OrderedJson& src, const OrderedJson& dst, bool anonymised,
                             ConfigStepResult& r) {
    std::vector<std::string> extra = config.keep;
    if (config.keep_site_url) extra.push_back("ServiceSettings.SiteURL");
    // An anonymised refresh carries only what mappings/config.yaml says is safe (deny by default).
    OrderedJson merged = anonymised ? merge_carried_only(src, dst, refresh_carried_patterns(), kept_settings(extra))
                                    : merge_configs(src, dst, kept_settings(extra));
    if (anonymised) r.secrets_kept = keep_destination_secrets(merged, dst);
    std::vector<std::string> off;
    if (anonymised) {
        off = refresh_turned_off_settings();
        if (!config.search) off.insert(off.end(), refresh_search_flags().begin(), refresh_search_flags().end());
    }
    if (!config.email) off.push_back("EmailSettings.SendEmailNotifications");
    if (!config.push) off.push_back("EmailSettings.SendPushNotifications");
    if (!config.outgoing_webhooks) off.push_back("ServiceSettings.EnableOutgoingWebhooks");
    for (const auto& path : off)
        if (turn_off(merged, path)) r.turned_off.push_back(path);
    return merged;
}

ConfigStepResult run_config_step(const Job& job, bool anonymised, bool dry_run, std::ostream& log) {
    ConfigLocation src_loc = parse_config_location(config_location_of(job.source), Side::source);
    ConfigLocation dst_loc = parse_config_location(config_location_of(job.destination), Side::destination);
    ConfigDocument src = load_config(src_loc, Side::source);
    ConfigDocument dst = load_config(dst_loc, Side::destination);
    ConfigStepResult r;
    OrderedJson merged = merge_job_config(job.config, src.json, dst.json, anonymised, r);

    if (auto problem = driver_mismatch(merged)) throw Error(ExitCode::bad_input, *problem + " The configuration was not written.");
    r.changed = diff_configs(dst.json, merged).size();
    log << "  config: " << r.changed << " settings of " << dst_loc.describe() << " change";
    if (!r.turned_off.empty()) {
        log << "; turned off:";
        for (const auto& p : r.turned_off) log << " " << p;
    }
    if (r.secrets_kept) log << "; " << r.secrets_kept << " secret settings kept from the destination";
    log << "\n";
    if (!dry_run && r.changed) r.written = write_config(dst_loc, render_config(merged, dst));
    return r;
}

}  // namespace mmmove
