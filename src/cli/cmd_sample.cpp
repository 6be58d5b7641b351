#include "cli/commands.h"
namespace mmmove::cli {
void add_sample(CLI::App&, Action&) {}
}
