#include "transform/keyed_hash.h"

#include <cstring>
#include <memory>

#include "core/error.h"

namespace mmmove {
namespace {

constexpr size_t kBlock = 64;  // SHA-256's block size: HMAC pads the key to it

[[noreturn]] void openssl_failed(const char* what) {
    throw Error(ExitCode::internal, std::string("OpenSSL failed to ") + what +
                                        " for the anonymisation hash. This is a bug in mmmove or a broken OpenSSL "
                                        "installation; please report it.");
}

// A SHA-256 state that has absorbed `pad` (the key xor-ed with 0x36 or 0x5c).
EVP_MD_CTX* keyed_state(EVP_MD* md, const unsigned char* key, unsigned char pad) {
    unsigned char block[kBlock];
    for (size_t i = 0; i < kBlock; ++i) block[i] = static_cast<unsigned char>(key[i] ^ pad);
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    if (!ctx || !EVP_DigestInit_ex(ctx, md, nullptr) || !EVP_DigestUpdate(ctx, block, kBlock))
        openssl_failed("prepare SHA-256");
    return ctx;
}

// Each thread finishes its hashes in its own context, copied from the prepared states: the shared
// states are only read, so no lock is needed.
EVP_MD_CTX* work_context() {
    thread_local std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), &EVP_MD_CTX_free);
    if (!ctx) openssl_failed("allocate a digest context");
    return ctx.get();
}

uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

KeyedHash::KeyedHash(std::string_view key) {
    md_ = EVP_MD_fetch(nullptr, "SHA256", nullptr);  // fetched once: an implicit fetch per hash costs a lookup
    if (!md_) openssl_failed("load SHA-256");
    unsigned char k[kBlock] = {};
    if (key.size() > kBlock) {
        unsigned int n = 0;
        if (!EVP_Digest(key.data(), key.size(), k, &n, md_, nullptr)) openssl_failed("hash the key");
    } else {
        std::memcpy(k, key.data(), key.size());
    }
    inner_ = keyed_state(md_, k, 0x36);
    outer_ = keyed_state(md_, k, 0x5c);
}

KeyedHash::~KeyedHash() {
    EVP_MD_CTX_free(inner_);
    EVP_MD_CTX_free(outer_);
    EVP_MD_free(md_);
}

Digest KeyedHash::mac(std::initializer_list<std::string_view> parts) const {
    EVP_MD_CTX* ctx = work_context();
    Digest inner{}, out{};
    unsigned int n = 0;
    if (!EVP_MD_CTX_copy_ex(ctx, inner_)) openssl_failed("copy a digest state");
    for (std::string_view p : parts)
        if (!p.empty() && !EVP_DigestUpdate(ctx, p.data(), p.size())) openssl_failed("hash a value");
    if (!EVP_DigestFinal_ex(ctx, inner.data(), &n)) openssl_failed("finish a hash");
    if (!EVP_MD_CTX_copy_ex(ctx, outer_) || !EVP_DigestUpdate(ctx, inner.data(), inner.size()) ||
        !EVP_DigestFinal_ex(ctx, out.data(), &n))
        openssl_failed("finish a hash");
    return out;
}

uint64_t digest_word(const Digest& d, size_t index) {
    uint64_t v = 0;
    for (size_t i = 0; i < 8; ++i) v = (v << 8) | d[index * 8 + i];
    return v;
}

MaskRandom::MaskRandom(const Digest& seed) {
    for (size_t i = 0; i < 4; ++i) s_[i] = digest_word(seed, i);
    if (!(s_[0] | s_[1] | s_[2] | s_[3])) s_[0] = 1;  // the one state xoshiro cannot leave
}

uint64_t MaskRandom::next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
}

std::string base36(uint64_t v, size_t width) {
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string out(width, '0');
    for (size_t i = width; i > 0 && v; --i, v /= 36) out[i - 1] = digits[v % 36];
    return out;
}

const Alphabet& narrowest_alphabet(std::string_view s) {
    // Narrowest first. Mattermost's ids (26 characters of its own base-32 alphabet) come out as ids.
    static const Alphabet alphabets[] = {
        {"digits", "0123456789"},
        {"hex", "0123456789abcdef"},
        {"HEX", "0123456789ABCDEF"},
        {"lower", "abcdefghijklmnopqrstuvwxyz"},
        {"upper", "ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        {"mattermost-id", "ybndrfg8ejkmcpqxot1uwisza345h769"},
        {"base36", "0123456789abcdefghijklmnopqrstuvwxyz"},
        {"BASE36", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"},
        {"letters", "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
        {"alnum", "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"},
    };
    for (const Alphabet& a : alphabets) {
        bool fits = true;
        for (char c : s) fits = fits && a.chars.find(c) != std::string_view::npos;
        if (fits) return a;
    }
    return alphabets[std::size(alphabets) - 1];
}

// Feistel rounds over the two halves A = digits[0, half) and B = digits[half, n): each round adds,
// symbol by symbol and modulo the radix, a keyed function of one half to the other. Every round can
// be undone by subtracting the same function, so the whole is a permutation; eight rounds let every
// output symbol depend on every input symbol several times over.
void permute_digits(const KeyedHash& hash, std::string_view context, std::vector<uint8_t>& digits, unsigned radix) {
    const size_t n = digits.size();
    if (n == 0 || radix < 2) return;
    if (n == 1) {  // no halves: a keyed rotation of the alphabet is the permutation
        MaskRandom r(hash.mac({"secret-one", {"\0", 1}, context}));
        digits[0] = static_cast<uint8_t>((digits[0] + r.below(radix)) % radix);
        return;
    }
    const size_t half = n / 2;
    constexpr int kRounds = 8;
    for (int round = 0; round < kRounds; ++round) {
        const bool a_changes = round % 2 == 0;
        const size_t from = a_changes ? half : 0, from_end = a_changes ? n : half;
        const size_t to = a_changes ? 0 : half, to_end = a_changes ? half : n;
        const char round_byte = static_cast<char>(round);
        std::string_view other(reinterpret_cast<const char*>(digits.data() + from), from_end - from);
        MaskRandom r(hash.mac({"secret-round", {"\0", 1}, context, {&round_byte, 1}, other}));
        for (size_t i = to; i < to_end; ++i) digits[i] = static_cast<uint8_t>((digits[i] + r.below(radix)) % radix);
    }
}

}  // namespace mmmove
