#include "files/placeholder.h"

#include <zlib.h>

#include <stdexcept>
#include <vector>

namespace mmmove {
namespace {

constexpr unsigned char kGrey = 0xC0;

uint32_t be32(std::string_view s, size_t at) {
    return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 | uint8_t(s[at + 3]);
}
uint32_t be16(std::string_view s, size_t at) { return uint32_t(uint8_t(s[at])) << 8 | uint8_t(s[at + 1]); }
uint32_t le16(std::string_view s, size_t at) { return uint32_t(uint8_t(s[at])) | uint32_t(uint8_t(s[at + 1])) << 8; }
uint32_t le32(std::string_view s, size_t at) { return le16(s, at) | le16(s, at + 2) << 16; }

void put_be32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += char((v >> shift) & 0xFF);
}
void put_be16(std::string& out, uint32_t v) { out += char((v >> 8) & 0xFF), out += char(v & 0xFF); }
void put_le16(std::string& out, uint32_t v) { out += char(v & 0xFF), out += char((v >> 8) & 0xFF); }
void put_le32(std::string& out, uint32_t v) { put_le16(out, v & 0xFFFF), put_le16(out, v >> 16); }

bool starts(std::string_view head, std::string_view magic) { return head.substr(0, magic.size()) == magic; }

// The frame size of a JPEG: the first SOFn marker's, found by walking the segments before the scan.
bool jpeg_size(std::string_view s, uint32_t& w, uint32_t& h) {
    size_t at = 2;
    while (at + 4 <= s.size()) {
        if (uint8_t(s[at]) != 0xFF) return false;
        const uint8_t marker = uint8_t(s[at + 1]);
        if (marker == 0xFF) { ++at; continue; }  // fill bytes
        if (marker == 0x01 || (marker >= 0xD0 && marker <= 0xD7)) { at += 2; continue; }
        if (marker == 0xDA || marker == 0xD9) return false;  // the scan began before any frame header
        const size_t length = be16(s, at + 2);
        const bool frame = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (frame && at + 9 <= s.size()) {
            h = be16(s, at + 5), w = be16(s, at + 7);
            return true;
        }
        if (length < 2) return false;
        at += 2 + length;
    }
    return false;
}

// The source's width and height as its header states them; false when it does not (or cannot be read).
bool image_size(PlaceholderKind kind, std::string_view s, uint32_t& w, uint32_t& h) {
    switch (kind) {
        case PlaceholderKind::png:
            if (s.size() < 24 || s.substr(12, 4) != "IHDR") return false;
            w = be32(s, 16), h = be32(s, 20);
            return true;
        case PlaceholderKind::gif:
            if (s.size() < 10) return false;
            w = le16(s, 6), h = le16(s, 8);
            return true;
        case PlaceholderKind::bmp:
            if (s.size() < 26) return false;
            if (le32(s, 14) == 12) {
                w = le16(s, 18), h = le16(s, 20);
            } else {
                w = le32(s, 18);
                const int32_t height = int32_t(le32(s, 22));  // negative: rows stored top-down
                h = height < 0 ? uint32_t(-int64_t(height)) : uint32_t(height);
            }
            return int32_t(w) > 0;
        case PlaceholderKind::jpeg: return jpeg_size(s, w, h);
        case PlaceholderKind::filler: return false;
    }
    return false;
}

PlaceholderKind kind_of(std::string_view head) {
    if (starts(head, "\x89PNG\r\n\x1a\n")) return PlaceholderKind::png;
    if (starts(head, "\xFF\xD8\xFF")) return PlaceholderKind::jpeg;
    if (starts(head, "GIF87a") || starts(head, "GIF89a")) return PlaceholderKind::gif;
    if (starts(head, "BM") && head.size() >= 26) return PlaceholderKind::bmp;
    return PlaceholderKind::filler;
}

void png_chunk(std::string& out, const char* type, const std::string& data) {
    put_be32(out, uint32_t(data.size()));
    const size_t start = out.size();
    out += type;
    out += data;
    put_be32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(out.data() + start), uInt(out.size() - start))));
}

// 8-bit greyscale, every row the same grey: zlib makes it a few bytes per row.
std::string png(uint32_t w, uint32_t h) {
    std::string out = "\x89PNG\r\n\x1a\n", ihdr;
    put_be32(ihdr, w), put_be32(ihdr, h);
    ihdr += std::string("\x08\x00\x00\x00\x00", 5);  // depth 8, greyscale, deflate, no filter method, no interlace
    png_chunk(out, "IHDR", ihdr);
    z_stream z{};
    if (deflateInit(&z, 6) != Z_OK) throw std::runtime_error("zlib could not start");
    std::vector<unsigned char> row(size_t(w) + 1, kGrey), buf(64 * 1024);
    row[0] = 0;  // filter: none
    std::string idat;
    for (uint32_t y = 0; y <= h; ++y) {
        const bool last = y == h;
        z.next_in = last ? nullptr : row.data();
        z.avail_in = last ? 0 : uInt(row.size());
        int rc;
        do {
            z.next_out = buf.data();
            z.avail_out = uInt(buf.size());
            rc = deflate(&z, last ? Z_FINISH : Z_NO_FLUSH);
            idat.append(reinterpret_cast<const char*>(buf.data()), buf.size() - z.avail_out);
        } while (z.avail_out == 0 || (last && rc != Z_STREAM_END));
    }
    deflateEnd(&z);
    png_chunk(out, "IDAT", idat);
    png_chunk(out, "IEND", "");
    return out;
}

// Baseline greyscale JPEG at sample 128 (0 after the level shift): every 8x8 block has DC difference
// 0 and no AC coefficient, coded as two one-bit Huffman codes ("category 0", "end of block").
std::string jpeg(uint32_t w, uint32_t h) {
    std::string out("\xFF\xD8", 2);
    out += std::string("\xFF\xE0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00", 18);
    out += std::string("\xFF\xDB\x00\x43\x00", 5) + std::string(64, '\x01');
    out += std::string("\xFF\xC0\x00\x0B\x08", 5);
    put_be16(out, h), put_be16(out, w);
    out += std::string("\x01\x01\x11\x00", 4);
    for (const char table : {'\x00', '\x10'}) {  // DC table 0, AC table 0: one code of length 1, symbol 0
        out += std::string("\xFF\xC4\x00\x14", 4);
        out += table;
        out += '\x01';
        out += std::string(15, '\x00');
        out += '\x00';
    }
    out += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10);
    const uint64_t bits = 2 * uint64_t((w + 7) / 8) * ((h + 7) / 8);
    out += std::string(bits / 8, '\x00');
    if (bits % 8) out += char(0xFF >> (bits % 8));  // the last byte padded with 1 bits (never 0xFF: no stuffing)
    out += std::string("\xFF\xD9", 2);
    return out;
}

// GIF with a two-colour table. The LZW stream is a Clear code before every two pixels, so the code
// width stays 3 bits in every decoder (the table never grows past two entries).
std::string gif(uint32_t w, uint32_t h) {
    std::string out = "GIF89a";
    put_le16(out, w), put_le16(out, h);
    out += std::string("\x80\x00\x00", 3);
    out += std::string({char(kGrey), char(kGrey), char(kGrey), '\xFF', '\xFF', '\xFF'});
    out += ',';
    put_le16(out, 0), put_le16(out, 0), put_le16(out, w), put_le16(out, h);
    out += '\x00';
    out += '\x02';  // minimum code size
    std::string data;
    uint32_t acc = 0, nbits = 0;
    auto code = [&](uint32_t c) {
        acc |= c << nbits;
        nbits += 3;
        while (nbits >= 8) data += char(acc & 0xFF), acc >>= 8, nbits -= 8;
    };
    const uint64_t pixels = uint64_t(w) * h;
    for (uint64_t i = 0; i < pixels; ++i) {
        if (i % 2 == 0) code(4);  // Clear
        code(0);
    }
    code(5);  // End of information
    if (nbits) data += char(acc & 0xFF);
    for (size_t at = 0; at < data.size(); at += 255) {
        const size_t n = std::min<size_t>(255, data.size() - at);
        out += char(n);
        out.append(data, at, n);
    }
    out += '\x00';
    out += ';';
    return out;
}

// 1 bit per pixel, both palette entries grey.
std::string bmp(uint32_t w, uint32_t h) {
    const uint64_t row = (uint64_t(w) + 31) / 32 * 4, pixels = row * h;
    std::string out = "BM";
    put_le32(out, uint32_t(62 + pixels)), put_le32(out, 0), put_le32(out, 62);
    put_le32(out, 40), put_le32(out, w), put_le32(out, h);
    put_le16(out, 1), put_le16(out, 1);
    put_le32(out, 0), put_le32(out, uint32_t(pixels)), put_le32(out, 2835), put_le32(out, 2835), put_le32(out, 2), put_le32(out, 2);
    for (int i = 0; i < 2; ++i) out += std::string({char(kGrey), char(kGrey), char(kGrey), '\x00'});
    out += std::string(pixels, '\x00');
    return out;
}

std::string filler(uint64_t size) {
    static const std::string line = "This file is a placeholder: mmmove copied no byte of the original to this server.\n";
    std::string out;
    out.reserve(size);
    while (out.size() < size) out.append(line, 0, std::min<uint64_t>(line.size(), size - out.size()));
    return out;
}

}  // namespace

Placeholder plan_placeholder(std::string_view head, uint64_t size) {
    Placeholder p;
    p.kind = kind_of(head);
    if (p.kind == PlaceholderKind::filler) {
        p.size = 0;
        if (size) p.size = 1;
        while (p.size < size && p.size < kMaxFiller) p.size <<= 1;
        return p;
    }
    uint32_t w = 0, h = 0;
    const bool small = p.kind == PlaceholderKind::gif || p.kind == PlaceholderKind::bmp;
    const bool known = image_size(p.kind, head, w, h) && w > 0 && h > 0 && (p.kind != PlaceholderKind::jpeg || (w <= 65535 && h <= 65535));
    const bool fits = known && uint64_t(w) * h <= (small ? kMaxGifPixels : kMaxPixels) && w <= (1u << 24) && h <= (1u << 24);
    p.width = fits ? w : 1;
    p.height = fits ? h : 1;
    return p;
}

std::string placeholder_bytes(const Placeholder& p) {
    switch (p.kind) {
        case PlaceholderKind::png: return png(p.width, p.height);
        case PlaceholderKind::jpeg: return jpeg(p.width, p.height);
        case PlaceholderKind::gif: return gif(p.width, p.height);
        case PlaceholderKind::bmp: return bmp(p.width, p.height);
        case PlaceholderKind::filler: return filler(p.size);
    }
    return {};
}

bool mattermost_file_name(std::string_view rel) {
    const size_t slash = rel.find('/');
    if (slash == std::string_view::npos) return false;  // a file at the root: no folder Mattermost names files in
    const std::string_view top = rel.substr(0, slash);
    return top == "users" || top == "teams" || top == "emoji" || top == "brand" || top == "plugins";
}

}  // namespace mmmove
