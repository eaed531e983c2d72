// Which allocator serves this process's malloc: covgate links jemalloc into its executable
// (CMake COVGATE_ALLOCATOR, docs/performance.md) because the engine's claim and fact traffic
// is allocation-bound under glibc malloc. `covgate --version` reports it.
#pragma once

#include <string>

namespace covgate::app {

/// "jemalloc 5.3.0-0-g…" when jemalloc serves malloc (checked by allocating through malloc and
/// reading jemalloc's own count), else "system malloc".
[[nodiscard]] std::string allocator_in_use();

}  // namespace covgate::app
