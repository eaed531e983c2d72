// The command line's arguments: one parser for every command, the usage text, and the
// errors that end a run with exit code 2.
#pragma once

#include <filesystem>
#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/status_writer.hpp"

namespace covgate::app {

/// A wrong command line: the message and the usage text, exit 2.
struct usage_error {
  std::string message;
};

struct options {
  std::string command;  ///< replay, serve, check, parse, audit
  std::vector<std::filesystem::path> paths;
  std::filesystem::path mappings;   ///< --mappings DIR ("" = the built-in tables)
  std::filesystem::path out;        ///< replay --out (X12 answers)
  std::filesystem::path fhir_out;   ///< replay --fhir-out (OperationOutcomes)
  std::filesystem::path hl7_out;    ///< replay --hl7-out (HL7 v2 ACKs)
  std::filesystem::path decisions;  ///< replay --decisions
  std::filesystem::path store;      ///< replay, audit --store DIR
  std::filesystem::path config;     ///< serve --config
  x12::status_profile profile = x12::status_profile::notification_x212;
  std::int64_t time_ms = 0;    ///< --ack-time as Unix milliseconds (now when not given)
  std::string as_of;           ///< audit --as-of YYYY-MM-DD ("" = today, UTC)
  std::string format = "csv";  ///< audit --format csv|html
  x12::reader_options reader;
};

/// Parses argv; throws usage_error. `--help` prints the usage text and exits 0.
[[nodiscard]] options parse_arguments(int argc, char** argv);

/// The usage text of every command.
[[nodiscard]] std::string_view usage_text() noexcept;

}  // namespace covgate::app
