// One function per command; each returns the process exit code (0, 1) and throws for the
// errors main() turns into exit 2.
#pragma once

#include "options.hpp"

namespace covgate::app {

int run_replay(const options& o);
int run_serve(const options& o);
int run_check(const options& o);
int run_parse(const options& o);
int run_audit(const options& o);
int run_route(const options& o);

}  // namespace covgate::app
