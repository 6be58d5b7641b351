// The merge plan's per-table treatment as the checkpoint stores it, and the knowledge behind it
// (mappings/merge.yaml, mappings/files.yaml).
#include <catch2/catch.hpp>

#include "core/error.h"
#include "files/file_sync.h"
#include "merge/merge_plan.h"

using namespace mmmove;

namespace {

const TableHow kEveryHow[] = {TableHow::insert,           TableHow::skip_existing_keys, TableHow::combine_members, TableHow::keep_destination,
                              TableHow::outside_scope,    TableHow::skip,               TableHow::copy_as_is};

// What a resume makes of a saved plan whose one table has the treatment `how`.
std::string resume_with(const std::string& how) {
    nlohmann::json saved = MergePlan().state();
    saved["tables"] = nlohmann::json::array({{"Posts", how, true}});
    try {
        MergePlan().restore(saved);
    } catch (const Error& e) {
        CHECK(e.code() == ExitCode::destination);
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("every table treatment survives the merge checkpoint under its own stable name", "[merge_plan]") {
    MergePlan plan;
    for (TableHow how : kEveryHow) plan.tables.push_back({std::string("T_") + table_how_name(how), 1, 0, 0, how, how != TableHow::skip});
    const nlohmann::json saved = plan.state();
    for (size_t i = 0; i < plan.tables.size(); ++i) CHECK(saved["tables"][i][1] == table_how_name(plan.tables[i].how));
    MergePlan resumed;
    resumed.restore(saved);
    REQUIRE(resumed.tables.size() == plan.tables.size());
    for (size_t i = 0; i < plan.tables.size(); ++i) {
        CHECK(resumed.tables[i].table == plan.tables[i].table);
        CHECK(resumed.tables[i].how == plan.tables[i].how);
        CHECK(resumed.tables[i].merged == plan.tables[i].merged);
    }
    CHECK(std::string(table_how_name(TableHow::skip_existing_keys)) == "skip_existing_keys");
    CHECK(std::string(table_how_text(TableHow::skip_existing_keys)) == "insert, skip existing keys");
    CHECK(std::string(table_how_text(TableHow::combine_members)) == "combine memberships");
}

TEST_CASE("a saved merge plan with a table treatment mmmove does not write refuses the resume, naming it", "[merge_plan]") {
    CHECK(resume_with("insert").empty());
    for (const std::string how : {"copy-as-is", "insert, skip existing keys", "DROP TABLE Posts", "", "Insert"}) {
        const std::string why = resume_with(how);
        CHECK_THAT(why, Catch::Contains("table Posts") && Catch::Contains("\"" + how + "\""));
    }
    CHECK_THAT(resume_with("bad\x1b[2Jname"), !Catch::Contains("\x1b"));  // printed as data, never as a terminal control
}

TEST_CASE("mappings/files.yaml names the folders a merge moves with their row's id", "[merge_plan]") {
    const std::map<std::string, std::string> want{{"emoji", "emoji"}, {"teams", "teams"}, {"users", "users"}};
    CHECK(id_folders() == want);
}
