#pragma once
// A Mattermost DataSource: where one side of a move lives. Parsed from the two forms Mattermost writes
// in SqlSettings.DataSource (a postgres:// URL, or the MySQL driver's user:pass@tcp(host:port)/db?…),
// from a config.json, or from MM_CONFIG-style "mysql://" strings. The password is kept apart and only
// masked() forms are ever printed.
#include <map>
#include <string>

#include "core/error.h"

namespace mmmove {

enum class Engine { postgres, mysql };
const char* engine_name(Engine e);

struct DataSource {
    Engine engine = Engine::postgres;
    std::string user;
    std::string password;
    std::string host = "127.0.0.1";
    int port = 0;
    std::string database;
    std::string unix_socket;
    std::map<std::string, std::string> params;  // query parameters, as given

    // The DSN as an admin would write it, with the password replaced by "****".
    std::string masked() const;
    // A short "engine host:port/db" label for summaries.
    std::string label() const;
};

// Which side a DataSource belongs to, so errors name it ("source", "destination").
enum class Side { source, destination };
const char* side_name(Side s);
ExitCode side_exit_code(Side s);

// Parses a DSN string in either of Mattermost's forms. Throws Error(bad_input) naming the problem;
// the message never repeats the password.
DataSource parse_data_source(const std::string& text, Side side);

// Resolves what --from/--to was given: a path to a config.json (reads SqlSettings.DriverName and
// SqlSettings.DataSource) or a DSN string. A password in $MMMOVE_<SIDE>_PASSWORD or in the file named
// by password_file replaces the one in the DSN (so it never has to appear on a command line).
DataSource resolve_data_source(const std::string& arg, Side side, const std::string& password_file = "");

// Replaces every occurrence of a password-looking part of a DSN in free text (server error messages
// sometimes echo the connection string).
std::string mask_secrets(std::string text, const DataSource& ds);

}  // namespace mmmove
