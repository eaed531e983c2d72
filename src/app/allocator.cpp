#include "allocator.hpp"

#include <cstdint>
#include <cstdlib>

#if defined(COVGATE_WITH_JEMALLOC)
#include <jemalloc/jemalloc.h>
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
    return std::string("jemalloc ") + version;
  }
#endif
  return "system malloc";
}

}  // namespace covgate::app
