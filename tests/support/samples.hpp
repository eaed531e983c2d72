// The bytes of a file under samples/inputs/, for tests that feed sample messages.
#pragma once

#include <fstream>
#include <sstream>
#include <string>

namespace covgate::test {

inline std::string sample(const std::string& path_under_inputs) {
  std::ifstream in(std::string(COVGATE_SOURCE_DIR) + "/samples/inputs/" + path_under_inputs,
                   std::ios::binary);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace covgate::test
