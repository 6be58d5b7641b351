// The files step of an anonymised refresh on real servers (PostgreSQL→PostgreSQL, MySQL→PostgreSQL):
// production's uploads, thumbnails, previews, avatar, team icon, emoji image and a file in a folder
// mmmove does not know each carry a marker (a PNG's tEXt chunk, a JPEG's comment, a PDF's text). After
// the refresh staging's data directory holds no byte sequence of the marker and no original file name,
// every FileInfo path of staging's rows is a file there, and the images are images of their format and
// size. A second run rewrites nothing; files.keep_contents copies the contents as they are.
#include <catch2/catch.hpp>
#include <algorithm>
#include <filesystem>
#include <nlohmann/json.hpp>
#include <set>

#include "../common/image_headers.h"
#include "../common/test_files.h"
#include "run_job_files.h"
#include "support.h"

using namespace mmmove;
using namespace mmmove::test;
namespace fs = std::filesystem;

namespace {

const std::string marker = "MARKER-Smith-hospital-7731";
const std::string upload = "20240131/teams/teamidteamidteamidteamid01/channels/chanidchanidchanidchanid01/users/useriduseriduseriduserid01/";

struct Planted {
    std::string scan_png, thumb_jpg, preview_jpg, letter_pdf, avatar, emoji, icon, unknown;
};

// The source's files, and FileInfo rows naming the uploads (the sample's own rows name files no one wrote: they go).
Planted plant_files(const ScratchDb& src, const fs::path& data) {
    Planted p;
    p.scan_png = png_with_text(300, 200, marker);
    p.thumb_jpg = jpeg_with_comment(120, 80, marker);
    p.preview_jpg = jpeg_with_comment(1024, 683, marker);
    p.letter_pdf = "%PDF-1.4\n% " + marker + "\n" + std::string(3000, 'x');
    p.avatar = png_with_text(128, 128, marker);
    p.emoji = "GIF89a" + std::string("\x40\x00\x40\x00", 4) + marker;
    p.icon = png_with_text(64, 64, marker);
    p.unknown = "notes about " + marker + "\n";
    spit(data / upload / "fileidfileidfileidfileid01/Smith scan.png", p.scan_png);
    spit(data / upload / "fileidfileidfileidfileid01/Smith scan_thumb.jpg", p.thumb_jpg);
    spit(data / upload / "fileidfileidfileidfileid01/Smith scan_preview.jpg", p.preview_jpg);
    spit(data / upload / "fileidfileidfileidfileid02/Smith letter.pdf", p.letter_pdf);
    spit(data / "users/useriduseriduseriduserid01/profile.png", p.avatar);
    spit(data / "emoji/emojiidemojiidemojiidemoji01/image", p.emoji);
    spit(data / "teams/teamidteamidteamidteamid01/teamIcon.png", p.icon);
    spit(data / "someplugin/Smith notes.txt", p.unknown);
    // A link to a file outside the data directory: never followed, so neither copied nor read for a placeholder.
    spit(data.parent_path() / "outside.txt", marker);
    fs::create_symlink(data.parent_path() / "outside.txt", data / upload / "fileidfileidfileidfileid02/Smith link.txt");
    auto db = src.connect();
    Catalog cat = read_catalog(*db);
    db->exec("DELETE FROM " + quoted_table(*db, cat, "FileInfo"));
    const std::string f1 = upload + "fileidfileidfileidfileid01/";
    plant_row(*db, cat, "FileInfo", {{"Id", "fileidfileidfileidfileid01"}, {"Name", "Smith scan.png"}, {"Path", f1 + "Smith scan.png"},
                                     {"ThumbnailPath", f1 + "Smith scan_thumb.jpg"}, {"PreviewPath", f1 + "Smith scan_preview.jpg"},
                                     {"Extension", "png"}, {"MimeType", "image/png"}, {"CreatorId", "useriduseriduseriduserid01"}});
    plant_row(*db, cat, "FileInfo", {{"Id", "fileidfileidfileidfileid02"}, {"Name", "Smith letter.pdf"},
                                     {"Path", upload + "fileidfileidfileidfileid02/Smith letter.pdf"}, {"ThumbnailPath", ""},
                                     {"PreviewPath", ""}, {"Extension", "pdf"}, {"MimeType", "application/pdf"},
                                     {"CreatorId", "useriduseriduseriduserid01"}});
    return p;
}

// Every file under `root`, by its path from there.
std::map<std::string, std::string> files_under(const fs::path& root) {
    std::map<std::string, std::string> out;
    for (const auto& e : fs::recursive_directory_iterator(root))
        if (e.is_regular_file()) out[fs::relative(e.path(), root).string()] = slurp(e.path());
    return out;
}

// Staging's FileInfo paths, by row id: {Path, ThumbnailPath, PreviewPath}.
std::map<std::string, std::vector<std::string>> staging_paths(const ScratchDb& dst) {
    auto db = dst.connect();
    std::map<std::string, std::vector<std::string>> out;
    for (const auto& r : db->query("SELECT id, path, thumbnailpath, previewpath FROM fileinfo"))
        out[r[0].value_or("")] = {r[1].value_or(""), r[2].value_or(""), r[3].value_or("")};
    return out;
}

void check_placeholders(const ScratchDb& dst, const fs::path& data) {
    auto files = files_under(data);
    CHECK(files.size() == 8);
    for (const auto& [path, content] : files) {
        INFO(path);
        CHECK(content.find(marker) == std::string::npos);
        CHECK(content.find("Smith") == std::string::npos);
        CHECK(path.find("Smith") == std::string::npos);  // no original file name
    }
    auto rows = staging_paths(dst);
    REQUIRE(rows.size() == 2);
    for (const auto& [id, paths] : rows)
        for (const auto& p : paths) {
            INFO(id << " " << p);
            CHECK(p.find("Smith") == std::string::npos);
            if (!p.empty()) CHECK(files.count(p) == 1);  // staging's rows and staging's files agree
        }
    const auto& scan = rows["fileidfileidfileidfileid01"];
    for (const std::string& png : {files[scan[0]], files["users/useriduseriduseriduserid01/profile.png"]})
        CHECK(png.rfind("\x89PNG\r\n\x1a\n", 0) == 0);
    CHECK(png_size(files[scan[0]]) == std::pair<uint32_t, uint32_t>(300, 200));
    CHECK(files[scan[1]].rfind("\xFF\xD8\xFF", 0) == 0);
    CHECK(jpeg_size(files[scan[1]]) == std::pair<uint32_t, uint32_t>(120, 80));
    CHECK(jpeg_size(files[scan[2]]) == std::pair<uint32_t, uint32_t>(1024, 683));
    const std::string letter = files[rows["fileidfileidfileidfileid02"][0]];
    CHECK(letter.size() == 4096);  // 3,038 bytes rounded up to a power of two
    CHECK(letter.find("%PDF") == std::string::npos);
    CHECK(png_size(files["users/useriduseriduseriduserid01/profile.png"]) == std::pair<uint32_t, uint32_t>(128, 128));
    CHECK(png_size(files["teams/teamidteamidteamidteamid01/teamIcon.png"]) == std::pair<uint32_t, uint32_t>(64, 64));
    CHECK(files["emoji/emojiidemojiidemojiidemoji01/image"].rfind("GIF89a@\0@\0", 0) == 0);
    CHECK(std::count_if(files.begin(), files.end(), [](const auto& f) { return f.first.rfind("someplugin/file-", 0) == 0; }) == 1);  // deny by default
}

void refresh_with_files(Engine source_engine) {
    const std::string tag = std::string("files-") + (source_engine == Engine::postgres ? "pg" : "my");
    ScratchDb src(source_engine, "runfsrc"), dst(Engine::postgres, "runfdst");
    fill_sample(src, 200, 141);
    JobFiles job(tag, src, dst, "", true);
    const fs::path from = job.dir.path / "source-data", to = job.dir.path / "dest-data";
    Planted planted = plant_files(src, from);
    fs::create_directories(to);

    for (int run = 1; run <= 2; ++run) {
        INFO("run " << run);
        CliRun r = run_mmmove({"run", job.job});
        INFO(r.output);
        REQUIRE(r.exit_code == 0);
        check_placeholders(dst, to);
        CHECK(r.output.find(marker) == std::string::npos);
        CHECK(r.output.find("Smith") == std::string::npos);  // no original file name in the log or the summary
        CHECK(slurp(job.summary).find("Smith") == std::string::npos);
        auto summary = nlohmann::json::parse(slurp(job.summary));
        CHECK(summary["warnings"].dump().find("a symlink") != std::string::npos);  // refused, with a warning
        CHECK(summary["files"]["copied"] == (run == 1 ? 8 : 0));  // the second run rewrites nothing
        if (run == 2) CHECK(r.output.find("0 placeholders written, 8 unchanged, 0 deleted") != std::string::npos);
    }

    // keep_contents: the contents as they are, still at the masked names.
    spit(job.job, slurp(job.job) + "files:\n  keep_contents: true\n");
    CliRun r = run_mmmove({"run", job.job});
    INFO(r.output);
    REQUIRE(r.exit_code == 0);
    auto files = files_under(to);
    auto rows = staging_paths(dst);
    const auto& scan = rows["fileidfileidfileidfileid01"];
    CHECK(files[scan[0]] == planted.scan_png);
    CHECK(files[scan[1]] == planted.thumb_jpg);
    CHECK(files[rows["fileidfileidfileidfileid02"][0]] == planted.letter_pdf);
    CHECK(files["users/useriduseriduseriduserid01/profile.png"] == planted.avatar);
    for (const auto& [path, content] : files) CHECK(path.find("Smith scan") == std::string::npos);
}

}  // namespace

TEST_CASE("an anonymised refresh from PostgreSQL writes placeholders at FileInfo's masked paths, and keep_contents copies",
          "[e2e][run][files][threads]") {
    refresh_with_files(Engine::postgres);
}

TEST_CASE("an anonymised refresh from MySQL writes placeholders at FileInfo's masked paths, and keep_contents copies",
          "[e2e][run][files][long]") {
    refresh_with_files(Engine::mysql);
}
