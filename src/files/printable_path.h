#pragma once
// File names and database paths are chosen by whoever writes into a data directory or a Mattermost
// database: they are printed through the one escaping function in core (see core/printable.h).
#include "core/printable.h"

namespace mmmove {

inline std::string printable_path(std::string_view path) { return printable(path); }

}  // namespace mmmove
