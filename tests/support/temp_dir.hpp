// A directory of its own under the system's temporary directory for one test, removed with
// everything in it when the test's scope ends. Not created: the code under test creates what
// it needs (a store directory, an outbox's files), which is part of what is tested.
#pragma once

#include <filesystem>
#include <random>
#include <string>

namespace covgate::test {

struct temp_dir {
  std::filesystem::path path = std::filesystem::temp_directory_path() /
                               ("covgate-test-" + std::to_string(std::random_device{}()));
  temp_dir() = default;
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  ~temp_dir() {
    std::error_code ignored;  // a destructor must not throw; what is left is the system's
    std::filesystem::remove_all(path, ignored);
  }
};

}  // namespace covgate::test
