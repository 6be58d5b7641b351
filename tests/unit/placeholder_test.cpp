// The placeholders an anonymised refresh writes instead of production's files (files/placeholder.h):
// images stay images of their format and size, other files become filler, and no byte sequence of
// the original survives.
#include "files/placeholder.h"

#include <zlib.h>

#include <catch2/catch.hpp>
#include <string>

#include "../common/image_headers.h"

using namespace mmmove;
using namespace mmmove::test;

namespace {

const std::string marker = "MARKER-patient-Smith-0042";

std::string placeholder_of(const std::string& original) { return placeholder_bytes(plan_placeholder(original, original.size())); }

// The PNG's pixels, inflated from its IDAT chunks (checking every chunk's CRC on the way).
std::string png_pixels(const std::string& png) {
    std::string idat;
    for (size_t at = 8; at + 12 <= png.size();) {
        const uint32_t length = be32_at(png, at);
        const std::string type = png.substr(at + 4, 4);
        REQUIRE(at + 12 + length <= png.size());
        const uLong crc = crc32(0, reinterpret_cast<const Bytef*>(png.data() + at + 4), uInt(length + 4));
        CHECK(be32_at(png, at + 8 + length) == crc);
        if (type == "IDAT") idat += png.substr(at + 8, length);
        at += 12 + length;
    }
    const auto [w, h] = png_size(png);
    std::string out(size_t(w + 1) * h + 1, '\0');  // one byte more than the rows need: a longer stream fails
    uLongf size = out.size();
    REQUIRE(uncompress(reinterpret_cast<Bytef*>(out.data()), &size, reinterpret_cast<const Bytef*>(idat.data()), idat.size()) == Z_OK);
    out.resize(size);
    return out;
}

}  // namespace

TEST_CASE("a PNG's placeholder is a valid PNG of the same size without its text", "[unit][placeholder]") {
    const std::string original = png_with_text(300, 200, marker);
    const std::string p = placeholder_of(original);
    REQUIRE(p.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(p.find(marker) == std::string::npos);
    CHECK(p.find("tEXt") == std::string::npos);
    const auto size = png_size(p);
    CHECK(size == std::pair<uint32_t, uint32_t>(300, 200));
    const std::string pixels = png_pixels(p);
    REQUIRE(pixels.size() == 200u * 301u);  // a filter byte and 300 grey samples per row
    CHECK(pixels[0] == '\0');
    CHECK(pixels.substr(1, 300) == std::string(300, '\xC0'));
    CHECK(placeholder_of(original) == p);  // the same source gives the same bytes
}

TEST_CASE("a JPEG's placeholder is a baseline JPEG of the same size without its comment", "[unit][placeholder]") {
    const std::string original = jpeg_with_comment(640, 480, marker);
    const std::string p = placeholder_of(original);
    REQUIRE(p.rfind("\xFF\xD8\xFF", 0) == 0);
    CHECK(p.substr(p.size() - 2) == "\xFF\xD9");
    CHECK(p.find(marker) == std::string::npos);
    CHECK(jpeg_size(p) == std::pair<uint32_t, uint32_t>(640, 480));
    CHECK(p.size() < 2000);  // 4800 blocks of two bits
}

TEST_CASE("GIF and BMP placeholders keep their format and size; an unreadable header gives 1x1", "[unit][placeholder]") {
    std::string gif = "GIF89a";
    gif += std::string("\x20\x00\x10\x00", 4) + marker;
    const std::string g = placeholder_of(gif);
    CHECK(g.rfind("GIF89a", 0) == 0);
    CHECK(g.substr(6, 4) == std::string("\x20\x00\x10\x00", 4));
    CHECK(g.back() == ';');
    CHECK(g.find(marker) == std::string::npos);

    std::string bmp = "BM" + std::string(12, '\0') + std::string("\x28\x00\x00\x00\x05\x00\x00\x00\x07\x00\x00\x00", 12) + marker;
    const std::string b = placeholder_of(bmp);
    CHECK(b.rfind("BM", 0) == 0);
    CHECK(b.substr(18, 8) == std::string("\x05\x00\x00\x00\x07\x00\x00\x00", 8));
    CHECK(b.size() == 62 + 7 * 4);
    CHECK(b.find(marker) == std::string::npos);

    const std::string truncated = std::string("\x89PNG\r\n\x1a\n", 8) + marker;  // no IHDR
    CHECK(png_size(placeholder_of(truncated)) == std::pair<uint32_t, uint32_t>(1, 1));
    const std::string huge = png_with_text(100000, 100000, marker);  // over kMaxPixels
    CHECK(png_size(placeholder_of(huge)) == std::pair<uint32_t, uint32_t>(1, 1));
}

TEST_CASE("other files become filler in their size class, with no byte of the original", "[unit][placeholder]") {
    std::string pdf = "%PDF-1.4\n" + marker + std::string(1000, 'x');
    const std::string p = placeholder_of(pdf);
    CHECK(p.size() == 2048);  // rounded up to a power of two
    CHECK(p.find(marker) == std::string::npos);
    CHECK(p.find("%PDF") == std::string::npos);
    CHECK(placeholder_bytes(plan_placeholder(pdf.substr(0, 100), 40 * 1024 * 1024)).size() == kMaxFiller);
    CHECK(placeholder_of("").empty());
    CHECK(placeholder_of("a").size() == 1);
    // A name saying .png decides nothing: without PNG's magic it is filler.
    CHECK(plan_placeholder("not a png at all", 16).kind == PlaceholderKind::filler);
}

TEST_CASE("only Mattermost's own folders keep their file names", "[unit][placeholder]") {
    CHECK(mattermost_file_name("users/u/profile.png"));
    CHECK(mattermost_file_name("teams/t/teamIcon.png"));
    CHECK(mattermost_file_name("emoji/e/image"));
    CHECK(mattermost_file_name("brand/image.png"));
    CHECK(mattermost_file_name("plugins/com.example.tar.gz"));
    CHECK_FALSE(mattermost_file_name("20240131/teams/t/channels/c/users/u/f/scan.png"));  // uploads: the user's names
    CHECK_FALSE(mattermost_file_name("bookmark/teams/t/channels/c/f/list.pdf"));
    CHECK_FALSE(mattermost_file_name("someplugin/notes.txt"));  // unknown: deny by default
    CHECK_FALSE(mattermost_file_name("users.txt"));
}
