// The covgate command line: arguments in, one command run, its exit code out (0 done, 1
// something was rejected or skipped, 2 usage or configuration errors).
#include <iostream>

#include "allocator.hpp"
#include "commands.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/server/build_info.hpp"
#include "covgate/server/config.hpp"
#include "covgate/store/sqlite_store.hpp"

using namespace covgate;

namespace {

int run(const app::options& o) {
  if (o.command == "help") {
    std::cout << (o.help_topic.empty() ? app::usage_text() : app::command_help_text(o.help_topic));
    return 0;
  }
  if (o.command == "version") {
    std::cout << "covgate " << server::version() << " (revision " << server::revision() << ")\n"
              << "allocator: " << app::allocator_in_use() << "\n";
    return 0;
  }
  if (o.command == "replay") return app::run_replay(o);
  if (o.command == "serve") return app::run_serve(o);
  if (o.command == "check") return app::run_check(o);
  if (o.command == "audit") return app::run_audit(o);
  if (o.command == "route") return app::run_route(o);
  return app::run_parse(o);
}

}  // namespace

int main(int argc, char** argv) {
  try {
    return run(app::parse_arguments(argc, argv));
  } catch (const app::usage_error& e) {
    // Only a wrong command line gets the usage text; every other error is one line.
    std::cerr << "covgate: " << e.message << "\n\n" << app::usage_text();
    return 2;
  } catch (const mapping::config_error& e) {
    // Tables, policy and covgate.json alike: the message names the file and the JSON path.
    std::cerr << "covgate: " << e.what() << '\n';
    return 2;
  } catch (const store::store_error& e) {
    std::cerr << "covgate: store: " << e.what() << '\n';
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "covgate: " << e.what() << '\n';
    return 2;
  }
}
