// The bytes of a file, and of a file under samples/inputs/, for tests that feed messages.
#pragma once

#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace covgate::test {

inline std::string file_bytes(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

inline std::string sample(const std::string& path_under_inputs) {
  return file_bytes(std::string(COVGATE_SOURCE_DIR) + "/samples/inputs/" + path_under_inputs);
}

}  // namespace covgate::test
