#include "cli/commands.h"
namespace mmmove::cli {
void add_copy(CLI::App&, Action&) {}
}
