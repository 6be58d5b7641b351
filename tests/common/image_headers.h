#pragma once
// Small images for the placeholder tests: a PNG carrying text in a tEXt chunk, a JPEG carrying it in
// a comment, and readers of their stated width and height.
#include <zlib.h>

#include <cstdint>
#include <string>
#include <utility>

namespace mmmove::test {

inline uint32_t be32_at(const std::string& s, size_t at) {
    return uint32_t(uint8_t(s[at])) << 24 | uint32_t(uint8_t(s[at + 1])) << 16 | uint32_t(uint8_t(s[at + 2])) << 8 | uint8_t(s[at + 3]);
}

inline void append_be32(std::string& out, uint32_t v) {
    for (int shift = 24; shift >= 0; shift -= 8) out += char((v >> shift) & 0xFF);
}

inline void append_png_chunk(std::string& out, const std::string& type, const std::string& data) {
    append_be32(out, uint32_t(data.size()));
    std::string body = type + data;
    out += body;
    append_be32(out, uint32_t(crc32(0, reinterpret_cast<const Bytef*>(body.data()), uInt(body.size()))));
}

// A greyscale PNG with `text` in a tEXt chunk; real pixel data when small, a token IDAT otherwise
// (the header is all a placeholder reads).
inline std::string png_with_text(uint32_t w, uint32_t h, const std::string& text) {
    std::string out = "\x89PNG\r\n\x1a\n", ihdr;
    append_be32(ihdr, w), append_be32(ihdr, h);
    ihdr += std::string("\x08\x00\x00\x00\x00", 5);
    append_png_chunk(out, "IHDR", ihdr);
    append_png_chunk(out, "tEXt", std::string("Comment", 7) + '\0' + text);
    std::string raw = uint64_t(w) * h <= 1 << 20 ? std::string(size_t(w + 1) * h, '\x40') : std::string(16, '\x40');
    uLongf n = compressBound(raw.size());
    std::string idat(n, '\0');
    compress(reinterpret_cast<Bytef*>(idat.data()), &n, reinterpret_cast<const Bytef*>(raw.data()), raw.size());
    idat.resize(n);
    append_png_chunk(out, "IDAT", idat);
    append_png_chunk(out, "IEND", "");
    return out;
}

// A JPEG's segments up to its frame header, with `text` in a COM segment first, and some scan bytes.
inline std::string jpeg_with_comment(uint32_t w, uint32_t h, const std::string& text) {
    std::string out("\xFF\xD8\xFF\xFE", 4);
    out += char((text.size() + 2) >> 8), out += char((text.size() + 2) & 0xFF);
    out += text;
    out += std::string("\xFF\xC0\x00\x0B\x08", 5);
    out += char(h >> 8), out += char(h & 0xFF), out += char(w >> 8), out += char(w & 0xFF);
    out += std::string("\x01\x01\x11\x00", 4);
    out += std::string("\xFF\xDA\x00\x08\x01\x01\x00\x00\x3F\x00", 10) + text + std::string("\xFF\xD9", 2);
    return out;
}

inline std::pair<uint32_t, uint32_t> png_size(const std::string& png) {
    if (png.size() < 24 || png.compare(12, 4, "IHDR") != 0) return {0, 0};
    return {be32_at(png, 16), be32_at(png, 20)};
}

// The width and height of the first frame header (SOF0..SOF15 but DHT, JPG, DAC).
inline std::pair<uint32_t, uint32_t> jpeg_size(const std::string& jpeg) {
    for (size_t at = 2; at + 9 <= jpeg.size();) {
        if (uint8_t(jpeg[at]) != 0xFF) return {0, 0};
        const uint8_t m = uint8_t(jpeg[at + 1]);
        const size_t length = size_t(uint8_t(jpeg[at + 2])) << 8 | uint8_t(jpeg[at + 3]);
        if (m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC)
            return {uint32_t(uint8_t(jpeg[at + 7])) << 8 | uint8_t(jpeg[at + 8]), uint32_t(uint8_t(jpeg[at + 5])) << 8 | uint8_t(jpeg[at + 6])};
        at += 2 + length;
    }
    return {0, 0};
}

}  // namespace mmmove::test
