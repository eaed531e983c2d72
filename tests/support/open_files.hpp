// How many of this process's descriptors are open on a file: a store that is closed, or that
// failed to open, keeps none; one that syncs through a kept descriptor keeps exactly one more.
#pragma once

#include <filesystem>
#include <system_error>

namespace covgate::test {

inline int descriptors_of(const std::filesystem::path& file) {
  int n = 0;
  for (const auto& e : std::filesystem::directory_iterator("/proc/self/fd")) {
    std::error_code ec;
    if (std::filesystem::read_symlink(e.path(), ec) == file) ++n;
  }
  return n;
}

}  // namespace covgate::test
