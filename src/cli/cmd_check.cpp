#include "cli/commands.h"
namespace mmmove::cli {
void add_check(CLI::App&, Action&) {}
}
