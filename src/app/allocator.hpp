// Which allocator serves this process's malloc: covgate links jemalloc into its executable
// (CMake COVGATE_ALLOCATOR, docs/performance.md) because the engine's claim and fact traffic
// is allocation-bound under glibc malloc. `covgate --version` reports it.
#pragma once

#include <string>

namespace covgate::app {

/// "jemalloc 5.3.0-0-g…, thp:always" when jemalloc serves malloc (checked by allocating
/// through malloc and reading jemalloc's own count), with its transparent huge page option,
/// else "system malloc".
[[nodiscard]] std::string allocator_in_use();

/// Asks the kernel for no transparent huge pages in this process from now on, whatever the
/// allocator asks for: a long-running server trades the page faults they save for the
/// latency of the kernel compacting memory to find 2 MB pages. False when the kernel refused.
bool keep_small_pages() noexcept;

}  // namespace covgate::app
