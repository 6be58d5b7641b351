// Masks fit their destination column (Masker::fit and the stage that calls it), and the free-text
// mode that keeps no word lengths (messages: replace).
#include <catch2/catch.hpp>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

#include "catalog/catalog.h"
#include "pipeline/issue_log.h"
#include "pipeline/planner.h"
#include "transform/anonymise.h"
#include "transform/convert.h"
#include "../common/test_masker.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

std::string kind_name(AnonKind k) { return anon_kind_name(k); }

// The mask of v as `kind`, fitted to room.
std::string fitted(AnonKind kind, const std::string& v, ColumnRoom room, const std::string& mask) {
    std::string out = mask;
    masker().fit(kind, v, room, out);
    INFO(kind_name(kind) << ": " << v << " -> " << out);
    CHECK(valid_utf8(out));
    CHECK(room.fits(out));
    return out;
}

// The lengths of the words (runs of ASCII letters) of a text.
std::vector<size_t> word_lengths(const std::string& text) {
    std::vector<size_t> out;
    size_t n = 0;
    for (char c : text + " ") {
        if (std::isalpha(static_cast<unsigned char>(c))) {
            ++n;
        } else if (n) {
            out.push_back(n);
            n = 0;
        }
    }
    return out;
}

}  // namespace

TEST_CASE("free text masked into a tight column is cut at a character boundary", "[unit][anonymise][fit]") {
    // 64 characters of a G channel's display name: every @mention grows from 6 to 19 characters.
    std::string name;
    while (utf8_length(name) + 7 <= 64) name += name.empty() ? "@alice" : ", @b\xC3\xA9" "a";
    for (const std::string& text : {name, std::string("R\xC3\xA9sum\xC3\xA9 f\xC3\xBCr @alice und @bob \xE2\x9C\x93\xE2\x9C\x93\xE2\x9C\x93")}) {
        for (TextMode mode : {TextMode::keep, TextMode::scramble, TextMode::replace}) {
            const std::string mask = masker().free_text(text, mode);
            for (ColumnRoom room : {ColumnRoom{64, 0}, ColumnRoom{20, 0}, ColumnRoom{0, 21}, ColumnRoom{1, 0}, ColumnRoom{5, 7}}) {
                const std::string out = fitted(AnonKind::free_text, text, room, mask);
                CHECK(out == std::string(utf8_prefix(mask, room.chars, room.bytes)));
            }
        }
    }
    // A mask that fits is left as it is.
    CHECK(fitted(AnonKind::free_text, "hi @bob", {64, 0}, masker().free_text("hi @bob", true)) == masker().free_text("hi @bob", true));
}

TEST_CASE("usernames and e-mails in a short column keep 64 bits of their hash and stay unique", "[unit][anonymise][fit]") {
    const std::regex valid_username("[a-z][a-z0-9.\\-_]*");
    std::set<std::string> usernames, emails;
    for (int i = 0; i < 20000; ++i) {
        const std::string v = "person" + std::to_string(i);
        const std::string u = fitted(AnonKind::username, v, {14, 0}, masker().username(v));
        CHECK(u.size() == 14);
        CHECK(std::regex_match(u, valid_username));
        CHECK(u.substr(1) == masker().username(v).substr(5));  // the same 64 bits as the long form
        usernames.insert(u);
        const std::string e = fitted(AnonKind::email, v + "@corp.example.com", {23, 0}, masker().email(v + "@corp.example.com"));
        CHECK(e.size() == 23);
        CHECK(e.substr(13) == "@x.invalid");
        emails.insert(e);
    }
    CHECK(usernames.size() == 20000);
    CHECK(emails.size() == 20000);
    // Tighter still: fewer hash characters, the same form.
    CHECK(fitted(AnonKind::username, "alice", {8, 0}, masker().username("alice")).size() == 8);
    const std::string e = fitted(AnonKind::email, "a@b.c", {16, 0}, masker().email("a@b.c"));
    CHECK(e.size() == 16);
    CHECK(e.substr(6) == "@x.invalid");
    CHECK(fitted(AnonKind::email, "a@b.c", {8, 0}, masker().email("a@b.c")).size() == 8);
}

TEST_CASE("URLs in a short column become a shorter URL; a list of them []", "[unit][anonymise][fit]") {
    const std::string url = "https://wiki.acme.com/some/long/path/to/a/page";
    const std::string mask = masker().url(url);
    REQUIRE(mask.size() > 40);
    const std::string a = fitted(AnonKind::url, url, {40, 0}, mask);
    CHECK(std::regex_match(a, std::regex("https://[0-9a-z]{13}\\.invalid")));
    CHECK(fitted(AnonKind::url, url, {20, 0}, mask) == "https://x.invalid");
    const std::string list = R"(["https://hooks.acme.com/a/b/c","https://hooks.acme.com/d"])";
    const std::string l = fitted(AnonKind::url, list, {30, 0}, masker().url(list));
    CHECK(nlohmann::json::parse(l) == nlohmann::json::array());
}

TEST_CASE("JSON in a short column stays JSON", "[unit][anonymise][fit]") {
    const std::string props = R"({"attachments":[{"text":"hello @alice @bob @carol @dave"}],"from_webhook":"true"})";
    const std::string mask = masker().json_text(props, {"attachments[].text"}, true);
    REQUIRE(mask.size() > 60);
    for (size_t room : {60u, 10u, 2u}) {
        const std::string out = fitted(AnonKind::json_text, props, {room, 0}, mask);
        CHECK(nlohmann::json::parse(out) == nlohmann::json::object());
    }
    const std::string list = R"(["@alice said hello to @bob and @carol"])";
    const std::string l = fitted(AnonKind::json_text, list, {0, 30}, masker().json_text(list, {}, true));
    CHECK(nlohmann::json::parse(l) == nlohmann::json::array());
}

TEST_CASE("the stage fits each mask to the destination column, in characters or MySQL's bytes", "[unit][anonymise][fit]") {
    Table table;
    table.name = "Channels";
    for (const char* n : {"Id", "DisplayName", "Header"}) {
        Column c;
        c.name = n;
        c.type = "varchar(64)";
        c.max_chars = 64;
        table.columns.push_back(c);
    }
    table.columns[2].type = "tinytext";  // 255 bytes on MySQL
    table.columns[2].max_chars = 0;
    table.primary_key = {"Id"};
    PlannedTable planned;
    planned.source = planned.dest = &table;
    const RowColumns columns({"Id", "DisplayName", "Header"});
    AnonymiseOptions o;
    o.key = key1;
    o.columns = anonymised_columns();
    std::string name = "@al";
    while (name.size() + 5 <= 64) name += ", @bo";  // a G channel's name at its limit
    std::string header;
    while (header.size() + 7 <= 255) header += "@bo \xC3\xA9 ";
    for (Engine dest : {Engine::postgres, Engine::mysql}) {
        AnonymiseStage stage(o, Engine::postgres, dest);
        ChunkIssues issues;
        TransformChain chain = stage.chain(planned, columns, issues);
        FieldRow row{Field::of("id"), Field::of(name), Field::of(header)};
        REQUIRE(chain.apply(row));
        const std::string d(row[1].view()), h(row[2].view());
        CHECK(utf8_length(d) <= 64);
        CHECK(valid_utf8(d));
        CHECK(d.substr(0, 6) == "@user-");
        CHECK(valid_utf8(h));
        CHECK((dest == Engine::mysql) == (h.size() <= 255));  // PostgreSQL's text has no limit to fit
    }
}

TEST_CASE("replaced text keeps no word lengths, only its length rounded up, its mentions and ~channels", "[unit][anonymise][replace]") {
    const std::string text = "The meeting is at noon, @alice: see ~town-square.\nBring the slides!";
    const std::string out = masker().free_text(text, TextMode::replace);
    INFO(out);
    const std::string alice = "@" + masker().username("alice") + " ";
    CHECK(out.substr(0, alice.size()) == alice);
    CHECK(out.find("~town-square ") == alice.size());
    const std::string filler = out.substr(alice.size() + std::string("~town-square ").size());
    CHECK(utf8_length(filler) % replaced_text_bucket == 0);
    CHECK(utf8_length(filler) >= utf8_length(text));
    CHECK(utf8_length(filler) < utf8_length(text) + replaced_text_bucket);
    CHECK(filler.find('\n') == std::string::npos);
    CHECK(std::regex_match(filler, std::regex("[a-z]+( [a-z]+)*")));
    // Two texts of one length class give one output length, whatever their words.
    const std::string a = masker().free_text("abc defghij kl", TextMode::replace), b = masker().free_text("abcdefghijklmn", TextMode::replace);
    CHECK(a.size() == 16);
    CHECK(b.size() == 16);
    CHECK(word_lengths(a) != std::vector<size_t>{3, 7, 2});
    CHECK(word_lengths(masker().free_text("one two six ten", TextMode::replace)) != std::vector<size_t>{3, 3, 3, 3});
    // Deterministic under one key, different under another.
    CHECK(masker().free_text(text, TextMode::replace) == out);
    CHECK(Masker(key1).free_text(text, TextMode::replace) == out);
    CHECK(Masker(key2).free_text(text, TextMode::replace) != out);
    // No word of the text is left, and the input's word-length pattern is not either.
    for (const char* w : {"meeting", "noon", "Bring", "slides"}) CHECK(out.find(w) == std::string::npos);
    CHECK(word_lengths(filler) != word_lengths(text));
}

TEST_CASE("replace mode masks JSON strings as free text too", "[unit][anonymise][replace]") {
    const auto j = nlohmann::json::parse(masker().json_text(R"({"a":"hello world @bob","n":3})", {}, TextMode::replace));
    const std::string a = j["a"].get<std::string>();
    CHECK(a.substr(0, 6) == "@user-");
    CHECK(a.find("hello") == std::string::npos);
    CHECK(j["n"] == 3);
}
