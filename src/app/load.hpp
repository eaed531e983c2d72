// The code tables and the policy a command runs with: built into the binary, or the tables
// read from --mappings DIR.
#pragma once

#include <filesystem>

#include "covgate/mapping/tables.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/server/config.hpp"

namespace covgate::app {

/// The tables of `dir` ("" = the built-in ones). Throws mapping::config_error naming the file,
/// or std::runtime_error when a file cannot be read.
[[nodiscard]] mapping::tables load_tables(const std::filesystem::path& dir);

/// NCD 223 with every overlay built into the binary.
[[nodiscard]] policy::policy_file load_policy();

/// The configuration `file` holds, or the built-in defaults when it is "" (serve, route).
/// Throws mapping::config_error naming the file and the JSON path.
[[nodiscard]] server::server_config load_config(const std::filesystem::path& file);

/// The whole file; throws std::runtime_error naming it when it cannot be read.
[[nodiscard]] std::string read_file(const std::filesystem::path& path);

}  // namespace covgate::app
