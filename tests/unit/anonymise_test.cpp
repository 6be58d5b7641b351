// The anonymisation masks, one kind at a time: deterministic under one key, different under another,
// the shape each kind promises (valid usernames, same-length secrets, documentation IP ranges…), and
// the things messages and JSON documents must keep (mentions that still name the same user, ~channels,
// :emoji:, line breaks, JSON structure).
#include "transform/anonymise.h"

#include <arpa/inet.h>

#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>
#include <sstream>
#include <unordered_set>

#include "core/error.h"
#include "transform/keyed_hash.h"
#include "../common/test_masker.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string hex(const Digest& d) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned char c : d) out += {digits[c >> 4], digits[c & 15]};
    return out;
}

// The words (runs of letters and digits) of a text.
std::vector<std::string> words(const std::string& text) {
    std::vector<std::string> out;
    std::string w;
    for (char c : text + " ") {
        if (std::isalnum(static_cast<unsigned char>(c))) {
            w += c;
        } else if (!w.empty()) {
            out.push_back(w);
            w.clear();
        }
    }
    return out;
}

bool only_chars_of(const std::string& s, std::string_view alphabet) {
    return s.find_first_not_of(alphabet) == std::string::npos;
}

}  // namespace

TEST_CASE("the keyed hash is HMAC-SHA-256 (RFC 4231)", "[unit][anonymise]") {
    CHECK(hex(KeyedHash("Jefe").mac({"what do ya want ", "for nothing?"})) ==
          "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
    // A key longer than SHA-256's block is hashed first.
    CHECK(hex(KeyedHash(std::string(131, '\xaa'))
                  .mac({"Test Using Larger Than Block-Size Key - Hash Key First"})) ==
          "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

TEST_CASE("masks are deterministic under one key and differ under another", "[unit][anonymise]") {
    const Masker same(key1), other(key2);
    const Masker& m = masker();
    CHECK(m.username("alice") == same.username("alice"));
    CHECK(m.username("alice") != other.username("alice"));
    CHECK(m.username("alice") != m.username("bob"));
    CHECK(m.email("alice@example.com") == same.email("alice@example.com"));
    CHECK(m.email("alice@example.com") != other.email("alice@example.com"));
    CHECK(m.secret("8xk3ouq5h3gp8qjtpz4ayydh1a") == same.secret("8xk3ouq5h3gp8qjtpz4ayydh1a"));
    CHECK(m.secret("8xk3ouq5h3gp8qjtpz4ayydh1a") != other.secret("8xk3ouq5h3gp8qjtpz4ayydh1a"));
    CHECK(m.free_text("See you at the meeting", true) == same.free_text("See you at the meeting", true));
    CHECK(m.free_text("See you at the meeting", true) != other.free_text("See you at the meeting", true));
    CHECK(m.person_name("Alice") == same.person_name("Alice"));
    CHECK(m.ip_address("10.1.2.3") == same.ip_address("10.1.2.3"));
    CHECK(m.url("https://intranet.acme.com/x") == same.url("https://intranet.acme.com/x"));
    CHECK(m.url("https://intranet.acme.com/x") != other.url("https://intranet.acme.com/x"));
}

TEST_CASE("a key shorter than 16 bytes is refused", "[unit][anonymise]") {
    try {
        Masker m("short");
        FAIL("a 5-byte key was accepted");
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::bad_input);
        CHECK_THAT(std::string(e.what()), Catch::Contains("16"));
    }
}

TEST_CASE("masked usernames are valid Mattermost usernames, lower-cased first", "[unit][anonymise]") {
    const std::regex valid("[a-z][a-z0-9._-]*");
    for (const char* name : {"alice", "Bob.Smith", "x", "élodie",
                             "a-very-long-name-that-goes-on-and-on-past-sixty-four-characters-in-all"}) {
        const std::string u = masker().username(name);
        INFO(name << " -> " << u);
        CHECK(std::regex_match(u, valid));
        CHECK(u.size() <= 64);
        CHECK(u.find(name) == std::string::npos);
    }
    CHECK(masker().username("ALICE") == masker().username("alice"));
    CHECK(masker().email("Alice@Example.COM") == masker().email("alice@example.com"));
    const std::string e = masker().email("alice@example.com");
    CHECK(e.size() > 16);
    CHECK(e.substr(e.size() - 16) == "@example.invalid");
}

TEST_CASE("200,000 distinct usernames and e-mails get 200,000 distinct masks", "[unit][anonymise]") {
    std::unordered_set<std::string> users, emails;
    for (int i = 0; i < 200000; ++i) {
        const std::string name = "user" + std::to_string(i);
        users.insert(masker().username(name));
        emails.insert(masker().email(name + "@example.com"));
    }
    CHECK(users.size() == 200000);
    CHECK(emails.size() == 200000);
}

TEST_CASE("mentions take the username mask, trailing punctuation kept", "[unit][anonymise]") {
    const std::string alice = masker().username("alice");
    for (bool scramble : {true, false}) {
        INFO("scramble " << scramble);
        const std::string out = masker().free_text("Thanks @Alice.", scramble);
        CHECK(out.substr(out.size() - alice.size() - 2) == "@" + alice + ".");
        CHECK(masker().free_text("@alice_- hi", scramble).substr(0, alice.size() + 3) == "@" + alice + "_-");
        CHECK(masker().free_text("(@alice)", scramble) == "(@" + alice + ")");
        // A mail address is no mention (its @ follows a word): it takes the email mask.
        CHECK(masker().free_text("mail bob@example.com", scramble).substr(5) == masker().email("bob@example.com"));
    }
    CHECK(masker().free_text("@here @channel @all @everyone @Here", true) ==
          "@here @channel @all @everyone @Here");
    CHECK(masker().free_text("@here and @channel", false) == "@here and @channel");
}

TEST_CASE("scrambled text keeps ~channels, :emoji:, line breaks and lengths, but no word",
          "[unit][anonymise]") {
    const std::string text =
        "Morning team! Please review the Quarterly Report before Friday.\n"
        "Meet in ~town-square :smile: then lunch at 12:30\n\n"
        "- first item, with **bold** words\n- second item";
    const std::string out = masker().free_text(text, true);
    CHECK(out.size() == text.size());
    for (size_t i = 0; i < text.size(); ++i)
        if (!std::isalnum(static_cast<unsigned char>(text[i]))) CHECK(out[i] == text[i]);
    CHECK(out.find("~town-square :smile:") != std::string::npos);
    std::set<std::string> masked_words;
    for (const auto& w : words(out)) masked_words.insert(w);
    for (const auto& w : words(text)) {
        if (w.size() < 3 || w == "town" || w == "square" || w == "smile") continue;
        INFO(w);
        CHECK_FALSE(masked_words.count(w));
    }
    CHECK(std::isupper(static_cast<unsigned char>(out[0])));  // "Morning" starts with a capital
    CHECK(masker().free_text("Résumé", true).size() == 6);    // one letter per character
}

TEST_CASE("links inside text become masked URLs", "[unit][anonymise]") {
    const std::string out =
        masker().free_text("see https://wiki.acme.com/page?id=7, or (http://x.acme.com/a)", true);
    CHECK(out.find("acme") == std::string::npos);
    CHECK(out.find("https://") == 4);
    CHECK(out.find(".example.invalid/") != std::string::npos);
    // The query goes, the comma after the link stays outside it.
    CHECK(out.find(", ") == out.find(".example.invalid/") + std::string(".example.invalid/page").size());
    CHECK(out.find(" (http://") != std::string::npos);
    CHECK(out.back() == ')');
}

TEST_CASE("kept messages change only in their names and addresses", "[unit][anonymise]") {
    const std::string text = "Ask @bob about the Quarterly Report, ~town-square";
    CHECK(masker().free_text(text, false) ==
          "Ask @" + masker().username("bob") + " about the Quarterly Report, ~town-square");
    CHECK(masker().free_text("No mention here: mail@example.com", false) ==
          "No mention here: " + masker().email("mail@example.com"));
    std::string out = "(untouched)";
    CHECK_FALSE(masker().free_text_into("nothing to mask", false, out));
}

TEST_CASE("empty values stay empty", "[unit][anonymise]") {
    const Masker& m = masker();
    for (const std::string& v :
         {m.username(""), m.email(""), m.person_name(""), m.person_detail(""), m.free_text("", true),
          m.secret(""), m.ip_address(""), m.file_name(""), m.url(""), m.json_text("", {}, true)})
        CHECK(v.empty());
}

TEST_CASE("names and details become placeholders from the hash", "[unit][anonymise]") {
    const std::string name = masker().person_name("Alice");
    CHECK(name != "Alice");
    CHECK(!name.empty());
    CHECK(name.size() <= 64);
    CHECK(std::isupper(static_cast<unsigned char>(name[0])));
    CHECK(only_chars_of(name.substr(1), "abcdefghijklmnopqrstuvwxyz"));
    const std::string detail = masker().person_detail("Head of Accounting, +41 79 123 45 67");
    CHECK(detail.size() <= 128);
    CHECK(detail.find("Accounting") == std::string::npos);
}

TEST_CASE("secrets keep their length, alphabet and separators", "[unit][anonymise]") {
    const std::string id = "8xk3ouq5h3gp8qjtpz4ayydh1a";  // a Mattermost id: its own base-32 alphabet
    const std::string masked_id = masker().secret(id);
    CHECK(masked_id.size() == id.size());
    CHECK(masked_id != id);
    CHECK(only_chars_of(masked_id, "ybndrfg8ejkmcpqxot1uwisza345h769"));
    const std::string hex_value = "0123456789abcdef0123456789abcdef";
    CHECK(masker().secret(hex_value).size() == hex_value.size());
    CHECK(only_chars_of(masker().secret(hex_value), "0123456789abcdef"));
    CHECK(only_chars_of(masker().secret("DEADBEEF"), "0123456789ABCDEF"));
    const std::string uuid = masker().secret("123e4567-e89b-12d3-a456-426614174000");
    CHECK(uuid.size() == 36);
    CHECK((uuid[8] == '-' && uuid[13] == '-' && uuid[18] == '-' && uuid[23] == '-'));
    CHECK(only_chars_of(masker().secret("48213"), "0123456789"));
}

TEST_CASE("secrets of one length and alphabet never share a mask", "[unit][anonymise]") {
    // Every 4-digit value: a keyed permutation maps 10,000 inputs to 10,000 outputs.
    std::set<std::string> masks;
    char buf[16];  // room for any int: -O1 builds warn about truncation otherwise
    for (int i = 0; i < 10000; ++i) {
        std::snprintf(buf, sizeof buf, "%04d", i);
        masks.insert(masker().secret(buf));
    }
    CHECK(masks.size() == 10000);
    std::set<std::string> one_char;  // too short to split: a keyed rotation of the alphabet
    for (char c = '0'; c <= '9'; ++c) one_char.insert(masker().secret(std::string(1, c)));
    CHECK(one_char.size() == 10);
}

TEST_CASE("IP addresses map into the documentation ranges", "[unit][anonymise]") {
    const std::string v4 = masker().ip_address("10.20.30.40");
    INFO(v4);
    CHECK(
        (v4.rfind("192.0.2.", 0) == 0 || v4.rfind("198.51.100.", 0) == 0 || v4.rfind("203.0.113.", 0) == 0));
    unsigned char bytes[16];
    CHECK(inet_pton(AF_INET, v4.c_str(), bytes) == 1);
    const std::string v6 = masker().ip_address("2a02:1234::42");
    INFO(v6);
    CHECK(v6.rfind("2001:db8:", 0) == 0);
    CHECK(inet_pton(AF_INET6, v6.c_str(), bytes) == 1);
    CHECK(masker().ip_address("2A02:1234:0:0::42") == v6);  // another spelling of the same address
    const std::string several = masker().ip_address("10.20.30.40, 10.0.0.1");
    CHECK(several.substr(0, v4.size() + 2) == v4 + ", ");
    CHECK(several != masker().ip_address("10.20.30.40, 10.0.0.2"));
    const std::string not_ip = masker().ip_address("unknown-host");
    CHECK(not_ip == masker().secret("unknown-host"));
    CHECK(not_ip.size() == std::string("unknown-host").size());
}

TEST_CASE("file names keep their extension", "[unit][anonymise]") {
    const std::string f = masker().file_name("Quarterly report 2024.PDF");
    CHECK(f.substr(f.size() - 4) == ".PDF");
    CHECK(f.find("report") == std::string::npos);
    CHECK(masker().file_name("Quarterly report 2024.PDF") == f);
    CHECK(masker().file_name("README").find('.') == std::string::npos);
    const std::string path = masker().file_name("20240131/teams/noteam/users/abc/photo of me.jpeg");
    CHECK(path.rfind("20240131/teams/noteam/users/abc/", 0) == 0);
    CHECK(path.substr(path.size() - 5) == ".jpeg");
    CHECK(path.find("photo") == std::string::npos);
}

TEST_CASE("a file's thumbnail and preview paths follow the mask of its name", "[unit][anonymise]") {
    // Mattermost names them "<name without extension>_thumb.jpg" and "_preview.jpg" in the upload's folder.
    const std::string folder = "20240131/teams/t1/channels/c1/users/u1/f1/";
    const std::string name = masker().file_name("Patient Smith scan.png");
    CHECK(masker().file_name(folder + "Patient Smith scan.png") == folder + name);
    const std::string stem = name.substr(0, name.size() - 4);
    CHECK(masker().file_name(folder + "Patient Smith scan_thumb.jpg") == folder + stem + "_thumb.jpg");
    CHECK(masker().file_name(folder + "Patient Smith scan_preview.jpg") == folder + stem + "_preview.jpg");
    // An upload whose own name ends in _thumb keeps three distinct names in its folder.
    std::set<std::string> names{masker().file_name("x_thumb.jpg"), masker().file_name("x_thumb_thumb.jpg"),
                                masker().file_name("x_thumb_preview.jpg")};
    CHECK(names.size() == 3);
    for (const auto& n : names) CHECK(n.find("x_") == std::string::npos);
}

TEST_CASE("URLs get a masked host and keep their shape", "[unit][anonymise]") {
    const std::string u = masker().url("https://bob:pw@hooks.acme.com:8443/services/T01/B02?token=xyz#top");
    INFO(u);
    CHECK(u.rfind("https://", 0) == 0);
    CHECK(u.find("acme") == std::string::npos);
    CHECK(u.find("bob") == std::string::npos);
    CHECK(u.find("token") == std::string::npos);
    CHECK(u.find(".example.invalid:8443/") != std::string::npos);
    const std::string path = u.substr(u.find(":8443") + 5);
    CHECK(path.size() == std::string("/services/T01/B02").size());
    CHECK(std::count(path.begin(), path.end(), '/') == 3);
    // Mattermost keeps callback URLs as a JSON list: it stays one.
    const auto list =
        nlohmann::json::parse(masker().url(R"(["https://a.acme.com/x","http://b.acme.com/y"])"));
    REQUIRE(list.is_array());
    CHECK(list.size() == 2);
    CHECK(list[0].get<std::string>() == masker().url("https://a.acme.com/x"));
    const std::string lines = masker().url("https://a.acme.com/x\nhttp://b.acme.com/y");
    CHECK(lines == masker().url("https://a.acme.com/x") + "\n" + masker().url("http://b.acme.com/y"));
}

TEST_CASE("JSON text keeps its structure, its kept members and kept forms, and masks every other string",
          "[unit][anonymise]") {
    const std::string props =
        R"({"attachments":[{"text":"secret plan","color":"#ff0000","fields":[{"title":"Ward","value":"v1"}]}],)"
        R"("from_webhook":"true","count":3,"username":"Alice","disable_group_highlight":true,"kind":"plan"})";
    const JsonMask mask = JsonMask::of({"attachments[].color", "kind"}, {"username"});
    std::string out;
    REQUIRE(masker().json_text_into(props, mask, true, out));
    const auto before = nlohmann::json::parse(props), after = nlohmann::json::parse(out);
    CHECK(after["from_webhook"] == before["from_webhook"]);  // "true": a kept form
    CHECK(after["count"] == 3);
    CHECK(after["disable_group_highlight"] == true);
    CHECK(after["kind"] == "plan");                           // a kept path
    CHECK(after["attachments"][0]["color"] == "#ff0000");
    CHECK(after["attachments"][0]["fields"][0]["title"] != "Ward");  // no kept path leads there
    CHECK(after["attachments"][0]["text"] != "secret plan");
    CHECK(after["attachments"][0]["text"].get<std::string>().size() == std::string("secret plan").size());
    CHECK(after["attachments"][0]["fields"][0]["value"] != "v1");
    CHECK(after["username"] == masker().username("alice"));
    CHECK(out.find("\"attachments\"") < out.find("\"from_webhook\""));  // member order kept
    // Nothing but kept forms: not parsed, not rewritten.
    CHECK_FALSE(masker().json_text_into(R"({"disable_group_highlight":true,"from_bot":"true","n":[1,2.5e3,null]})", mask, true, out));
}

TEST_CASE("JSON inside a JSON string stays JSON and is masked inside", "[unit][anonymise]") {
    const std::string props =
        R"({"customStatus":"{\"emoji\":\"palm_tree\",\"text\":\"On vacation\",\"duration\":\"today\"}","x":"keep"})";
    const auto all = nlohmann::json::parse(masker().json_text(props, {}, true));
    CHECK(all["x"] != "keep");
    const auto status = nlohmann::json::parse(all["customStatus"].get<std::string>());
    CHECK(status["text"] != "On vacation");
    CHECK(status["text"].get<std::string>().size() == std::string("On vacation").size());
    // Paths go on into the inner document and keep what they name.
    const auto kept = nlohmann::json::parse(masker().json_text(props, {"customStatus.emoji", "customStatus.duration", "x"}, true));
    CHECK(kept["x"] == "keep");
    const auto inner = nlohmann::json::parse(kept["customStatus"].get<std::string>());
    CHECK(inner["emoji"] == "palm_tree");
    CHECK(inner["duration"] == "today");
    CHECK(inner["text"] != "On vacation");
    // A path ending on the string keeps all of it.
    CHECK(masker().json_text(props, {"customStatus", "x"}, true) == props);
    const auto every = nlohmann::json::parse(masker().json_text(R"({"a":"hello world","b":[1,"two"]})", {}, true));
    CHECK(every["a"] != "hello world");
    CHECK(every["b"][0] == 1);
    CHECK(every["b"][1] != "two");
}

TEST_CASE("text that is not JSON is masked as free text unless its whole value has a kept form", "[unit][anonymise]") {
    const std::string broken = R"({"terms": "salary review)";
    const std::string out = masker().json_text(broken, {"terms"}, true);
    CHECK(out != broken);
    CHECK(out.size() == broken.size());
    CHECK(out.find("salary") == std::string::npos);
    // Settings and ids as a whole value (Preferences.Value) stay; a JSON number stays a number.
    for (const char* kept : {"8xk3ouq5h3gp8qjtpz4ayydh1a", "true", "8xk3ouq5h3gp8qjtpz4ayydh1a,a1hdyy4azptj8qpg3h5quo3kx8",
                             "1700000000000", "#145dbf", ""})
        CHECK(masker().json_text(kept, {}, true) == kept);
    CHECK(masker().json_text("Dr Jane Roe", {}, true) != "Dr Jane Roe");
    CHECK(masker().json_text("\"Dr Jane Roe\"", {}, true).find("Jane") == std::string::npos);
}
