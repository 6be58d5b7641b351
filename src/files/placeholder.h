#pragma once
// The files of an anonymised refresh: staging gets a placeholder for each of production's files,
// never its bytes (uploads, avatars, team icons, emoji, brand images and whatever lies in a folder
// mmmove does not know).
//
// The kind is decided by the file's magic bytes, not its name:
//   PNG, JPEG, GIF, BMP  a valid image of the same format and the same width and height (read from
//                        the header), uniformly grey; one whose size the header does not give, or
//                        larger than kMaxPixels (GIF, BMP: kMaxGifPixels), becomes a 1x1 image.
//   anything else        filler text (no byte of the original) whose length is the original's size
//                        rounded up to a power of two, at most kMaxFiller; an empty file stays empty.
// A placeholder depends only on the source's kind, dimensions and size: a nightly refresh writes the
// same bytes for an unchanged file, so it rewrites only what changed.
#include <cstdint>
#include <string>
#include <string_view>

namespace mmmove {

enum class PlaceholderKind { png, jpeg, gif, bmp, filler };

struct Placeholder {
    PlaceholderKind kind = PlaceholderKind::filler;
    uint32_t width = 0, height = 0;  // images: the placeholder's (1x1 when the source's are unknown or too large)
    uint64_t size = 0;               // filler: its length
};

constexpr size_t kPlaceholderHead = 256 * 1024;        // what is read of a source file to decide (a JPEG's EXIF may be long)
constexpr uint64_t kMaxPixels = 64ull * 1024 * 1024;   // PNG and JPEG stay small at any size (they compress a grey image)
constexpr uint64_t kMaxGifPixels = 4ull * 1024 * 1024; // GIF and BMP placeholders grow with their pixels
constexpr uint64_t kMaxFiller = 1024 * 1024;

// `head`: the source file's first kPlaceholderHead bytes (all of it when shorter); `size`: its size.
Placeholder plan_placeholder(std::string_view head, uint64_t size);
std::string placeholder_bytes(const Placeholder& p);

// Whether a file's name (by its path from the data directory's root) is one Mattermost gives itself:
// under users/, teams/, emoji/, brand/ and plugins/ (profile.png, teamIcon.png, image, bundles). A
// refresh masks every other file name as FileInfo's paths are masked: uploads under a date folder,
// bookmark files, and whatever lies in a folder mmmove does not know (deny by default).
bool mattermost_file_name(std::string_view rel);

}  // namespace mmmove
