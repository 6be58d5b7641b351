#pragma once
// The keyed hash behind every anonymisation mask, and what masks are built from: HMAC-SHA-256 under
// the job's key, a fast generator seeded by one HMAC (for long values such as messages), base-36 text
// of a hash, and a keyed permutation of same-length strings (for secrets that must stay distinct).
#include <openssl/evp.h>

#include <array>
#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>
#include <vector>

namespace mmmove {

using Digest = std::array<unsigned char, 32>;

// HMAC-SHA-256 under one key. The key's inner and outer SHA-256 states are prepared once, so a mask
// costs two SHA-256 runs over the value and no key setup. Immutable after construction: one instance
// serves every worker thread.
class KeyedHash {
public:
    explicit KeyedHash(std::string_view key);
    ~KeyedHash();
    KeyedHash(const KeyedHash&) = delete;
    KeyedHash& operator=(const KeyedHash&) = delete;

    // The HMAC of the parts written one after the other.
    Digest mac(std::initializer_list<std::string_view> parts) const;
    // The HMAC of `domain`, a NUL byte and `value`: each kind of mask hashes in its own domain, so the
    // username mask of "alice" tells nothing about her e-mail mask.
    Digest operator()(std::string_view domain, std::string_view value) const { return mac({domain, {"\0", 1}, value}); }

private:
    EVP_MD* md_ = nullptr;
    EVP_MD_CTX* inner_ = nullptr;  // SHA-256 after absorbing key ^ ipad
    EVP_MD_CTX* outer_ = nullptr;  // SHA-256 after absorbing key ^ opad
};

// xoshiro256** seeded by a digest: not a secret generator, but whatever it yields follows from the
// HMAC, so it is as deterministic and as unguessable (without the key) as the HMAC it started from.
class MaskRandom {
public:
    explicit MaskRandom(const Digest& seed);
    uint64_t next();
    // A number below n (n small: the modulo's bias, under n / 2^64, does not matter for masks).
    unsigned below(unsigned n) { return static_cast<unsigned>(next() % n); }

private:
    uint64_t s_[4];
};

// The first 8 bytes of a digest as a number.
uint64_t digest_word(const Digest& d, size_t index = 0);
// `v` in base 36 (0-9 a-z), left-padded with '0' to `width` characters (13 hold any 64-bit value).
std::string base36(uint64_t v, size_t width = 13);

// The characters a secret is drawn from: the narrowest of a fixed list that holds every one of its
// letters and digits (digits, hex, Mattermost's id alphabet, base 36, letters and digits...).
struct Alphabet {
    const char* name;
    std::string_view chars;
};
const Alphabet& narrowest_alphabet(std::string_view letters_and_digits);

// A keyed permutation of the strings of `digits.size()` symbols below `radix` (a balanced Feistel
// network whose round function is the HMAC): distinct inputs give distinct outputs, which a plain
// truncated hash cannot promise for short values. `context` separates permutations (alphabet, length).
void permute_digits(const KeyedHash& hash, std::string_view context, std::vector<uint8_t>& digits, unsigned radix);

}  // namespace mmmove
