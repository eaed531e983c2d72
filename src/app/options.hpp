// The command line's arguments: one parser for every command, the usage text and each
// command's help, and the errors that end a run with exit code 2.
#pragma once

#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/server/log.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/status_writer.hpp"

namespace covgate::app {

/// replay --read-threads at most: more only queue more of the input in memory, as the gate
/// takes the batches on one thread.
inline constexpr unsigned max_read_threads = 8;

/// A wrong command line: the message and the usage text, exit 2.
struct usage_error {
  std::string message;
};

struct options {
  /// replay, serve, check, parse, audit, route; or "help" (print help_topic's help) or "version".
  std::string command;
  std::string help_topic;                    ///< help: a command, or "" for the usage text
  std::vector<std::filesystem::path> paths;  ///< "-" is standard input (check, parse, replay)
  std::filesystem::path mappings;            ///< --mappings DIR ("" = the built-in tables)
  std::filesystem::path out;                 ///< replay --out (X12 answers; "" or "-" = stdout)
  std::filesystem::path fhir_out;            ///< replay --fhir-out (OperationOutcomes)
  std::filesystem::path hl7_out;             ///< replay --hl7-out (HL7 v2 ACKs)
  std::filesystem::path decisions;           ///< replay --decisions
  std::filesystem::path store;               ///< replay, audit --store DIR
  std::optional<bool> progress;              ///< replay --progress / --no-progress (default: a tty)
  std::optional<unsigned> read_threads;      ///< replay --read-threads (default: the cores)
  std::filesystem::path config;              ///< serve --config ("" = the built-in defaults)
  bool print_config = false;                 ///< serve --print-config
  bool check_config = false;                 ///< serve --check-config
  bool print_nats_mapping = false;           ///< serve --print-nats-mapping
  server::log_format log_format = server::log_format::json;  ///< serve --log-format
  server::log_level log_level = server::log_level::info;     ///< serve --log-level
  x12::status_profile profile = x12::status_profile::notification_x212;
  std::int64_t time_ms = 0;             ///< --ack-time as Unix milliseconds (now when not given)
  std::string as_of;                    ///< audit --as-of YYYY-MM-DD ("" = today, UTC)
  std::string format = "csv";           ///< audit --format csv|html
  std::vector<std::string> identities;  ///< route --identity ID (repeatable)
  x12::reader_options reader;
};

/// Parses argv; throws usage_error. `--help`, `-h`, `help [CMD]` and `CMD --help` give the
/// command "help"; `--version`, `-V` give "version".
[[nodiscard]] options parse_arguments(int argc, char** argv);

/// The usage text: every command's synopsis and what it does (help.cpp).
[[nodiscard]] std::string_view usage_text() noexcept;
/// One command's help: synopsis, description, options, exit status; the usage text for a
/// name that is not a command.
[[nodiscard]] std::string_view command_help_text(std::string_view command) noexcept;
/// Whether `name` is a command (replay, serve, check, parse).
[[nodiscard]] bool known_command(std::string_view name) noexcept;

}  // namespace covgate::app
