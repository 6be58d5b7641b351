#include <catch2/catch.hpp>
#include <fstream>
#include <sstream>

#include "config/config_carry.h"
#include "config/config_merge.h"
#include "config/config_secrets.h"
#include "job/job_config.h"
#include "../common/test_paths.h"

using namespace mmmove;

namespace {

OrderedJson fixture() {
    std::ifstream in(std::string(test::fixtures_dir()) + "/config-source.json");
    std::stringstream ss;
    ss << in.rdbuf();
    return parse_config_text(ss.str(), "fixture").json;
}

// Every leaf changed, so each value in the merge shows which side it came from.
void mutate(OrderedJson& j) {
    for (auto it = j.begin(); it != j.end(); ++it) {
        auto& v = it.value();
        if (v.is_object() && !v.empty()) mutate(v);
        else if (v.is_string()) v = v.get<std::string>() + "-new";
        else if (v.is_boolean()) v = !v.get<bool>();
        else if (v.is_number_integer()) v = v.get<int64_t>() + 1;
        else if (v.is_array()) v.push_back("new-item");
        else v = "new";
    }
}

void leaves(const OrderedJson& j, const std::string& prefix, std::map<std::string, OrderedJson>& out) {
    if (j.is_object() && !j.empty()) {
        for (auto it = j.begin(); it != j.end(); ++it) leaves(it.value(), prefix.empty() ? it.key() : prefix + "." + it.key(), out);
    } else {
        out[prefix] = j;
    }
}

}  // namespace

TEST_CASE("config merge keeps exactly the destination's settings and takes every other value from the source", "[unit]") {
    OrderedJson src = fixture();
    OrderedJson dst = src;
    mutate(dst);
    dst["SqlSettings"]["DriverName"] = "postgres";
    dst["SqlSettings"]["DataSource"] = "postgres://mmuser:newSecret@new-db:5432/mattermost?sslmode=disable";
    dst["ServiceSettings"]["NewerSetting"] = true;        // a newer version's setting, only on the destination
    dst["BrandNewSettings"] = {{"Enable", true}};
    src["SqlSettings"].erase("DataSourceSearchReplicas");  // a kept key the source lacks stays the destination's

    std::vector<std::string> keep = kept_settings({"ServiceSettings.SiteURL"});
    OrderedJson merged = merge_configs(src, dst, keep);
    std::map<std::string, OrderedJson> s, d, m;
    leaves(src, "", s);
    leaves(dst, "", d);
    leaves(merged, "", m);
    size_t from_source = 0, from_dest = 0;
    for (const auto& [path, value] : m) {
        INFO(path);
        bool kept = std::find(keep.begin(), keep.end(), path) != keep.end();
        if (kept || !s.count(path)) {
            CHECK(value == d.at(path));
            ++from_dest;
        } else {
            CHECK(value == s.at(path));
            ++from_source;
        }
    }
    for (const auto& [path, value] : s) {
        INFO(path);
        CHECK(m.count(path));
    }
    CHECK(m.size() == d.size());
    CHECK(from_dest == 9);  // six kept settings, SiteURL, and the two destination-only ones
    CHECK(from_source == m.size() - 9);
    CHECK(merged["SqlSettings"]["DataSource"] == dst["SqlSettings"]["DataSource"]);
    CHECK(merged["ServiceSettings"]["ListenAddress"] == dst["ServiceSettings"]["ListenAddress"]);
    CHECK(merged["EmailSettings"]["SMTPPassword"] == "smtpOldSecret");
    // Key order is the destination's.
    std::vector<std::string> order_d, order_m;
    for (auto it = dst.begin(); it != dst.end(); ++it) order_d.push_back(it.key());
    for (auto it = merged.begin(); it != merged.end(); ++it) order_m.push_back(it.key());
    CHECK(order_m == order_d);
}

TEST_CASE("the merged config is written in Mattermost's layout", "[unit]") {
    OrderedJson src = fixture();
    ConfigDocument layout;
    std::string text = render_config(src, layout);
    CHECK(text.rfind("{\n    \"ServiceSettings\": {\n        \"SiteURL\"", 0) == 0);
    CHECK_THAT(text, Catch::Contains("Old Chat \\u003c\\u0026 Co\\u003e"));
    CHECK(OrderedJson::parse(text) == src);
    auto doc = parse_config_text("{\n  \"A\": 1\n}\n", "two-space file");
    CHECK(doc.indent == "  ");
    CHECK(doc.trailing_newline);
    CHECK(render_config(doc.json, doc) == "{\n  \"A\": 1\n}\n");
}

TEST_CASE("the diff masks every secret", "[unit]") {
    OrderedJson src = fixture();
    OrderedJson dst = src;
    mutate(dst);
    OrderedJson merged = merge_configs(src, dst, kept_settings({}));
    auto changes = diff_configs(dst, merged);
    CHECK(changes.size() > 200);
    std::string all;
    for (const auto& c : changes) all += c.path + " " + c.before + " -> " + c.after + "\n";
    for (const char* secret : {"smtpOldSecret", "ldapOldSecret", "esOldSecret", "gitlabOldSecret", "oldPublicLinkSalt",
                               "oldAtRestKey", "oldSecret@"})
        CHECK_THAT(all, !Catch::Contains(secret));
    CHECK_THAT(all, Catch::Contains("EmailSettings.SMTPPassword **** -> ****"));
    CHECK_THAT(all, Catch::Contains("TeamSettings.MaxUsersPerTeam 51 -> 50"));
    CHECK_THAT(all, !Catch::Contains("SqlSettings.DataSource "));  // kept: not changed
    CHECK(is_secret_setting("ElasticsearchSettings.Password"));
    CHECK(is_secret_setting("SqlSettings.DataSourceReplicas"));
    CHECK_FALSE(is_secret_setting("TeamSettings.SiteName"));
}

TEST_CASE("the diff masks secrets by path, inside arrays, plugin settings and URLs", "[unit]") {
    OrderedJson before = OrderedJson::parse(R"({
        "SqlSettings": {"ReplicaLagSettings": []},
        "ElasticsearchSettings": {"ConnectionURL": "http://localhost:9200"},
        "CacheSettings": {"RedisAddress": "localhost:6379"},
        "LogSettings": {"AdvancedLoggingConfig": "", "AdvancedLoggingJSON": {}},
        "ImageProxySettings": {"RemoteImageProxyOptions": ""},
        "PasswordSettings": {"MinimumLength": 8, "Symbol": false},
        "PluginSettings": {"Plugins": {}}
    })");
    OrderedJson after = OrderedJson::parse(R"({
        "SqlSettings": {"ReplicaLagSettings": [{"DataSource": "postgres://mmuser:replicaSecret@replica-1:5432/mm",
                                                "QueryAbsoluteLag": "SELECT 1", "QueryTimeLag": "SELECT 2"}]},
        "ElasticsearchSettings": {"ConnectionURL": "https://elastic:esUrlSecret@search.example.com:9200"},
        "CacheSettings": {"RedisAddress": "redis://:redisUrlSecret@cache.example.com:6379"},
        "LogSettings": {"AdvancedLoggingConfig": "{\"db\": {\"Options\": {\"Conn\": \"logConfigSecret\"}}}",
                        "AdvancedLoggingJSON": {"db": {"Type": "sql", "Options": {"Conn": "logJsonSecret"}}}},
        "ImageProxySettings": {"RemoteImageProxyOptions": "camoSecret"},
        "PasswordSettings": {"MinimumLength": 12, "Symbol": true},
        "PluginSettings": {"Plugins": {"com.example.bridge": {
            "WebhookSecret": "pluginSecret1",
            "EncryptionKey": "pluginSecret2",
            "servers": [{"name": "primary", "ApiToken": "pluginSecret3", "url": "https://bot:pluginSecret4@chat.example.com/hook"},
                        {"name": "backup", "connection": "mmuser:pluginSecret5@tcp(db.example.com:3306)/bridge"},
                        "https://pluginSecret6@git.example.com/repo.git"],
            "EnableSync": true}}}
    })");
    std::string all;
    for (const auto& c : diff_configs(before, after)) all += c.path + ": " + c.before + " -> " + c.after + "\n";
    INFO(all);
    for (const char* secret : {"replicaSecret", "esUrlSecret", "redisUrlSecret", "logConfigSecret", "logJsonSecret", "camoSecret",
                               "pluginSecret1", "pluginSecret2", "pluginSecret3", "pluginSecret4", "pluginSecret5", "pluginSecret6"})
        CHECK_THAT(all, !Catch::Contains(secret));
    CHECK_THAT(all, Catch::Contains("SqlSettings.ReplicaLagSettings: [] -> ****"));
    CHECK_THAT(all, Catch::Contains("ElasticsearchSettings.ConnectionURL: \"http://localhost:9200\" -> \"https://elastic:****@search.example.com:9200\""));
    CHECK_THAT(all, Catch::Contains("\"redis://:****@cache.example.com:6379\""));
    CHECK_THAT(all, Catch::Contains("ImageProxySettings.RemoteImageProxyOptions: \"\" -> ****"));
    CHECK_THAT(all, Catch::Contains("PasswordSettings.MinimumLength: 8 -> 12") && Catch::Contains("PasswordSettings.Symbol: false -> true"));
    CHECK_THAT(all, Catch::Contains("PluginSettings.Plugins.com.example.bridge.WebhookSecret: (absent) -> ****"));
    CHECK_THAT(all, Catch::Contains("PluginSettings.Plugins.com.example.bridge.EnableSync: (absent) -> true"));
    CHECK_THAT(all, Catch::Contains("\"name\":\"primary\"") && Catch::Contains("\"ApiToken\":\"****\"") &&
                        Catch::Contains("https://bot:****@chat.example.com/hook") && Catch::Contains("mmuser:****@tcp(db.example.com:3306)/bridge") &&
                        Catch::Contains("https://****@git.example.com/repo.git"));
    CHECK(is_secret_setting("SqlSettings.ReplicaLagSettings"));
    CHECK(is_secret_setting("NotificationLogSettings.AdvancedLoggingJSON"));
    CHECK_FALSE(is_secret_setting("ServiceSettings.SiteURL"));
    CHECK(mask_credentials_in_text("see admin@example.com at 10:30") == "see admin@example.com at 10:30");
}

TEST_CASE("config merge keeps the destination's replica lag settings, which name its databases", "[unit]") {
    OrderedJson src = {{"SqlSettings", {{"ReplicaLagSettings", {{{"DataSource", "postgres://u:old@old-replica/mm"}}}}, {"Trace", true}}}};
    OrderedJson dst = {{"SqlSettings", {{"ReplicaLagSettings", OrderedJson::array()}, {"Trace", false}}}};
    OrderedJson merged = merge_configs(src, dst, kept_settings({}));
    CHECK(merged["SqlSettings"]["ReplicaLagSettings"] == OrderedJson::array());
    CHECK(merged["SqlSettings"]["Trace"] == true);
}

TEST_CASE("malformed config JSON is refused with its line and column", "[unit]") {
    CHECK_THROWS_WITH(parse_config_text("{\n  \"A\": 1,\n  \"B\": [1, 2,,]\n}", "The destination config file x.json"),
                      Catch::Contains("x.json is not valid JSON: error at line 3, column 14") && Catch::Contains("nothing was written"));
    CHECK_THROWS_WITH(parse_config_text("[1]", "y.json"), Catch::Contains("not a Mattermost configuration"));
}

TEST_CASE("a config nested 100,000 levels deep is refused with its line and column, not a crash", "[unit]") {
    std::string deep;
    for (int i = 0; i < 100000; ++i) deep += "{\"a\":";
    deep += "1" + std::string(100000, '}');
    CHECK_THROWS_WITH(parse_config_text(deep, "The source config file deep.json"),
                      Catch::Contains("deep.json nests settings more than 64 levels deep (at line 1, column 321)") &&
                          Catch::Contains("nothing was written"));
    std::string arrays = "{\"A\": " + std::string(65, '[') + std::string(65, ']') + "}";
    CHECK_THROWS_WITH(parse_config_text(arrays, "arrays.json"), Catch::Contains("more than 64 levels"));
    std::string ok = "{\"A\": " + std::string(63, '[') + std::string(63, ']') + "}";
    CHECK(parse_config_text(ok, "ok.json").json.size() == 1);
}

TEST_CASE("a repeated config key keeps its first place and its last value, as Mattermost reads it", "[unit]") {
    auto doc = parse_config_text(R"({"A": 1, "B": {"X": 1, "X": 2}, "A": 3})", "repeated.json");
    CHECK(doc.json.dump() == R"({"A":3,"B":{"X":2}})");
}

TEST_CASE("a DriverName that disagrees with the DataSource is caught", "[unit]") {
    OrderedJson c = {{"SqlSettings", {{"DriverName", "mysql"}, {"DataSource", "postgres://u:p@h:5432/mm"}}}};
    auto problem = driver_mismatch(c);
    REQUIRE(problem);
    CHECK_THAT(*problem, Catch::Contains("DriverName is \"mysql\"") && Catch::Contains("PostgreSQL DSN") && !Catch::Contains(":p@"));
    c["SqlSettings"]["DriverName"] = "postgres";
    CHECK_FALSE(driver_mismatch(c));
}

// Production's config names its services: S3, Elasticsearch, LDAP, SAML, SMTP, push, support
// addresses, cluster, a plugin's webhook and secret. Staging has its own (or none).
namespace {

OrderedJson production_config() {
    return OrderedJson::parse(R"({
 "ServiceSettings": {"SiteURL": "https://chat.prod.example.com", "EnablePostUsernameOverride": true, "EnableOutgoingWebhooks": true,
                     "GoogleDeveloperKey": "prod-google-key", "AllowCorsFrom": "https://prod-partner.example.com"},
 "TeamSettings": {"SiteName": "Prod Chat", "MaxUsersPerTeam": 500},
 "PasswordSettings": {"MinimumLength": 12},
 "FileSettings": {"DriverName": "amazons3", "Directory": "/prod/data", "AmazonS3Bucket": "prod-bucket", "AmazonS3Endpoint": "s3.prod.example.com",
                  "AmazonS3AccessKeyId": "PRODACCESSKEY", "AmazonS3SecretAccessKey": "prod-s3-secret", "AmazonS3Region": "eu-prod-1",
                  "MaxFileSize": 104857600},
 "ElasticsearchSettings": {"ConnectionURL": "https://es-user:es-pass@search.prod.example.com:9200", "Username": "prod-es-user",
                           "Password": "prod-es-password", "IndexPrefix": "prodidx_", "EnableIndexing": true, "EnableSearching": true},
 "LdapSettings": {"Enable": true, "EnableSync": true, "LdapServer": "ldap.prod.example.com", "BindUsername": "cn=prod-bind", "BindPassword": "prod-ldap-pw"},
 "SamlSettings": {"Enable": true, "IdpURL": "https://idp.prod.example.com/sso", "IdpDescriptorURL": "https://idp.prod.example.com/meta"},
 "EmailSettings": {"SendEmailNotifications": true, "SendPushNotifications": true, "SMTPServer": "smtp.prod.example.com", "SMTPPort": "2525",
                   "SMTPUsername": "prod-smtp-user", "SMTPPassword": "prod-smtp-pw", "PushNotificationServer": "https://push.prod.example.com",
                   "FeedbackEmail": "feedback@prod.example.com", "ReplyToAddress": "noreply@prod.example.com", "EnableSignUpWithEmail": false},
 "SupportSettings": {"SupportEmail": "support@prod.example.com", "HelpLink": "https://help.prod.example.com"},
 "ClusterSettings": {"Enable": true, "ClusterName": "prod-cluster", "AdvertiseAddress": "10.0.0.5", "GossipPort": 8074},
 "PluginSettings": {"Enable": true, "Plugins": {"com.github.prod.hook": {"webhookurl": "https://hooks.prod.example.com/T000/B000",
                                                                        "signingsecret": "prod-plugin-secret", "notes": "ring prod ops"}}},
 "NewServiceSettings": {"Endpoint": "https://new.prod.example.com"}
})");
}

OrderedJson staging_config() {
    return OrderedJson::parse(R"({
 "ServiceSettings": {"SiteURL": "https://staging.example.com", "EnablePostUsernameOverride": false, "EnableOutgoingWebhooks": false},
 "TeamSettings": {"SiteName": "Staging", "MaxUsersPerTeam": 50},
 "PasswordSettings": {"MinimumLength": 8},
 "FileSettings": {"DriverName": "local", "Directory": "/staging/data", "MaxFileSize": 1000},
 "ElasticsearchSettings": {"ConnectionURL": "http://localhost:9200", "IndexPrefix": "", "EnableIndexing": true},
 "LdapSettings": {"Enable": false},
 "EmailSettings": {"SendEmailNotifications": false, "SMTPServer": "localhost", "SMTPPort": "10025", "EnableSignUpWithEmail": true},
 "PluginSettings": {"Enable": true, "Plugins": {}}
})");
}

}  // namespace

TEST_CASE("an anonymised refresh's config step keeps none of production's services, credentials or addresses", "[unit][config]") {
    const OrderedJson prod = production_config(), staging = staging_config();
    ConfigStepResult r;
    const OrderedJson merged = merge_job_config(JobConfig{}, prod, staging, true, r);
    const std::string text = merged.dump();
    INFO(merged.dump(2));
    // No value that names production's services, accounts or addresses is in staging's config.
    for (const char* v : {"prod.example.com", "prod-bucket", "PRODACCESSKEY", "prod-s3-secret", "eu-prod-1", "/prod/data", "prod-es", "prodidx_",
                          "es-user:es-pass", "cn=prod-bind", "prod-ldap-pw", "prod-smtp", "2525", "prod-plugin-secret", "ring prod ops",
                          "prod-cluster", "10.0.0.5", "prod-google-key", "amazons3"}) {
        INFO(v);
        CHECK(text.find(v) == std::string::npos);
    }
    // Staging's own services stay; what staging lacks stays absent (Mattermost's default).
    CHECK(merged["FileSettings"]["DriverName"] == "local");
    CHECK(merged["FileSettings"]["Directory"] == "/staging/data");
    CHECK(merged["ElasticsearchSettings"]["ConnectionURL"] == "http://localhost:9200");
    CHECK(merged["EmailSettings"]["SMTPServer"] == "localhost");
    CHECK(merged["EmailSettings"]["SMTPPort"] == "10025");
    CHECK(merged["PluginSettings"]["Plugins"].empty());
    CHECK_FALSE(merged.contains("ClusterSettings"));
    CHECK_FALSE(merged.contains("SupportSettings"));
    CHECK_FALSE(merged.contains("SamlSettings"));
    CHECK_FALSE(merged.contains("NewServiceSettings"));  // unclassified: never carried
    CHECK_FALSE(merged["EmailSettings"].contains("PushNotificationServer"));
    // LDAP, SAML and search indexing are off; so are email, push and outgoing webhooks.
    CHECK(merged["LdapSettings"]["Enable"] == false);
    CHECK(merged["ElasticsearchSettings"]["EnableIndexing"] == false);
    CHECK(merged["EmailSettings"]["SendEmailNotifications"] == false);
    CHECK(merged["ServiceSettings"]["EnableOutgoingWebhooks"] == false);
    // How the server behaves does come from production.
    CHECK(merged["ServiceSettings"]["SiteURL"] == "https://staging.example.com");
    CHECK(merged["ServiceSettings"]["EnablePostUsernameOverride"] == true);
    CHECK(merged["TeamSettings"]["SiteName"] == "Staging");  // text for people to read stays staging's
    CHECK(merged["TeamSettings"]["MaxUsersPerTeam"] == 500);
    CHECK(merged["PasswordSettings"]["MinimumLength"] == 12);
    CHECK(merged["FileSettings"]["MaxFileSize"] == 104857600);
    CHECK(merged["EmailSettings"]["EnableSignUpWithEmail"] == false);

    // A job that turns search on keeps staging's own indexing.
    JobConfig search;
    search.search = true;
    ConfigStepResult r2;
    CHECK(merge_job_config(search, prod, staging, true, r2)["ElasticsearchSettings"]["EnableIndexing"] == true);
}

TEST_CASE("settings carried in a refresh: patterns, keeps, secrets and URLs with credentials", "[unit][config]") {
    const std::vector<std::string> patterns = {"TeamSettings", "ServiceSettings.Enable*", "*.SiteName"};
    CHECK(carried_in_refresh({"TeamSettings", "MaxUsersPerTeam"}, patterns));
    CHECK(carried_in_refresh({"teamsettings", "maxusersperteam"}, patterns));
    CHECK(carried_in_refresh({"ServiceSettings", "EnableCommands"}, patterns));
    CHECK(carried_in_refresh({"Other", "SiteName"}, patterns));
    CHECK_FALSE(carried_in_refresh({"ServiceSettings", "SiteURL"}, patterns));
    CHECK_FALSE(carried_in_refresh({"TeamSettingsX", "A"}, patterns));
    CHECK_FALSE(carried_in_refresh({"Other", "SiteNameX"}, patterns));

    const OrderedJson src = OrderedJson::parse(R"({"TeamSettings": {"A": 1, "Link": "https://u:p@x.example.com/", "Token": "t", "B": {"C": 2}}})");
    const OrderedJson dst = OrderedJson::parse(R"({"TeamSettings": {"A": 0, "Link": "https://x.example.com/", "Token": "mine"}, "Z": 1})");
    OrderedJson m = merge_carried_only(src, dst, {"TeamSettings"}, {"TeamSettings.B"});
    CHECK(m["TeamSettings"]["A"] == 1);
    CHECK(m["TeamSettings"]["Link"] == "https://x.example.com/");  // a URL with credentials is never carried
    CHECK(m["TeamSettings"]["Token"] == "mine");                   // nor a secret
    CHECK_FALSE(m["TeamSettings"].contains("B"));                  // kept: the destination's (none)
    CHECK(m["Z"] == 1);
}
