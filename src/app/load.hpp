// The code tables and the policy a command runs with: built into the binary, or the tables
// read from --mappings DIR.
#pragma once

#include <filesystem>

#include "covgate/mapping/tables.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::app {

/// The tables of `dir` ("" = the built-in ones). Throws mapping::config_error naming the file,
/// or std::runtime_error when a file cannot be read.
[[nodiscard]] mapping::tables load_tables(const std::filesystem::path& dir);

/// NCD 223 with every overlay built into the binary.
[[nodiscard]] policy::policy_file load_policy();

/// The whole file; throws std::runtime_error naming it when it cannot be read.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace covgate::app
