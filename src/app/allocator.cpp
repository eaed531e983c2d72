#include "allocator.hpp"

#include <sys/prctl.h>

#include <cstdint>
#include <cstdlib>

#if defined(COVGATE_WITH_JEMALLOC)
#include <jemalloc/jemalloc.h>

// jemalloc's options compiled into the executable, read before main (MALLOC_CONF, read after,
// overrides them). Transparent huge pages for what jemalloc maps: a replay's state grows page
// by page, and on a virtual machine each fault of a 4 KB page costs microseconds (a claims-only
// replay of 200,000 claims ran ×1.25 faster with huge pages, docs/performance.md).
// The kernel honours the request when transparent_hugepage/enabled is `always` or `madvise`.
// `covgate serve` turns it off for its process (keep_small_pages).
extern "C" {
// NOLINTNEXTLINE: the name and type jemalloc looks for
const char* malloc_conf = "thp:always";
}
#endif

namespace covgate::app {

std::string allocator_in_use() {
#if defined(COVGATE_WITH_JEMALLOC)
  // Linked is not enough: the library must also be the one the dynamic linker bound malloc
  // to. jemalloc counts what this thread allocated; a malloc that moves the count is its own.
  auto allocated = []() -> std::uint64_t {
    std::uint64_t bytes = 0;
    std::size_t size = sizeof bytes;
    return mallctl("thread.allocated", &bytes, &size, nullptr, 0) == 0 ? bytes : 0;
  };
  const auto before = allocated();
  void* volatile probe = std::malloc(4096);
  const auto after = allocated();
  std::free(probe);
  const char* version = nullptr;
  std::size_t size = sizeof version;
  if (after >= before + 4096 && mallctl("version", &version, &size, nullptr, 0) == 0) {
    const char* thp = nullptr;
    std::size_t thp_size = sizeof thp;
    std::string out = std::string("jemalloc ") + version;
    if (mallctl("opt.thp", &thp, &thp_size, nullptr, 0) == 0) out += std::string(", thp:") + thp;
    return out;
  }
#endif
  return "system malloc";
}

bool keep_small_pages() noexcept {
  // Inherited by what the process starts, and checked by the kernel at each page fault: memory
  // mapped before the call keeps the huge pages it already has, none is added.
  return ::prctl(PR_SET_THP_DISABLE, 1, 0, 0, 0) == 0;
}

}  // namespace covgate::app
