// The structured log of `covgate serve`: one line per event on stderr, JSON objects by default
// (one per line, for journald, Loki or jq) or `key=value` text for people. Every line has the
// time (UTC, milliseconds), the level, the component ("serve", "http", "mllp", "store",
// "outbox") and a message; the fields after them name connections, requests, messages (their
// journal ids), outcomes and reasons. Never patient data: no message content, no claim or
// patient ids (hash them with log_hash), no request paths beyond the route.
// Thread-safe: a line is formatted by its caller and written whole under one lock.
#pragma once

#include <atomic>
#include <concepts>
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <mutex>
#include <optional>
#include <span>
#include <string>
#include <string_view>

namespace covgate::server {

enum class log_level : std::uint8_t { debug, info, warn, error };
enum class log_format : std::uint8_t { json, text };

/// "debug", "info", "warn", "error".
[[nodiscard]] std::string_view name(log_level level) noexcept;
/// The level named `text` (as name() spells it); nullopt for anything else.
[[nodiscard]] std::optional<log_level> parse_log_level(std::string_view text) noexcept;
/// "json" or "text"; nullopt for anything else.
[[nodiscard]] std::optional<log_format> parse_log_format(std::string_view text) noexcept;

/// One field of a line: a key (our own word, never escaped in text) and a value.
class log_field {
 public:
  enum class kind : std::uint8_t { text, integer, real, flag };

  log_field(std::string_view key, std::string_view value) : key_(key), text_(value) {}
  log_field(std::string_view key, const char* value) : key_(key), text_(value) {}
  log_field(std::string_view key, const std::string& value) : key_(key), text_(value) {}
  log_field(std::string_view key, bool value)
      : key_(key), kind_(kind::flag), integer_(value ? 1 : 0) {}
  template <std::integral Integer>
  requires(!std::same_as<Integer, bool>) log_field(std::string_view key, Integer value)
      : key_(key), kind_(kind::integer), integer_(static_cast<std::int64_t>(value)) {}
  log_field(std::string_view key, double value) : key_(key), kind_(kind::real), real_(value) {}

  [[nodiscard]] std::string_view key() const noexcept { return key_; }
  [[nodiscard]] kind type() const noexcept { return kind_; }
  [[nodiscard]] std::string_view text() const noexcept { return text_; }
  [[nodiscard]] std::int64_t integer() const noexcept { return integer_; }
  [[nodiscard]] double real() const noexcept { return real_; }

 private:
  std::string_view key_;
  kind kind_ = kind::text;
  std::string_view text_;
  std::int64_t integer_ = 0;
  double real_ = 0;
};

using log_fields = std::initializer_list<log_field>;
/// Fields gathered at run time (a line whose fields depend on what happened).
using log_field_list = std::span<const log_field>;

class logger {
 public:
  /// Where whole lines go (each ends with '\n'); the default writes to stderr (fd 2).
  using sink = std::function<void(std::string_view line)>;

  void configure(log_format format, log_level threshold);
  /// Replaces the sink (tests); an empty one restores stderr.
  void set_sink(sink s);
  /// Lines of `level` and above are written.
  [[nodiscard]] bool enabled(log_level level) const noexcept { return level >= threshold_.load(); }
  [[nodiscard]] log_format format() const noexcept { return format_.load(); }

  void write(log_level level, std::string_view component, std::string_view message,
             log_field_list fields);
  void write(log_level level, std::string_view component, std::string_view message,
             log_fields fields = {}) {
    write(level, component, message, log_field_list(fields.begin(), fields.size()));
  }
  void debug(std::string_view component, std::string_view message, log_fields fields = {}) {
    if (enabled(log_level::debug)) write(log_level::debug, component, message, fields);
  }
  void info(std::string_view component, std::string_view message, log_fields fields = {}) {
    if (enabled(log_level::info)) write(log_level::info, component, message, fields);
  }
  void warn(std::string_view component, std::string_view message, log_fields fields = {}) {
    if (enabled(log_level::warn)) write(log_level::warn, component, message, fields);
  }
  void error(std::string_view component, std::string_view message, log_fields fields = {}) {
    if (enabled(log_level::error)) write(log_level::error, component, message, fields);
  }

  /// The line write() would produce at `unix_ms` (tests, and write() itself).
  [[nodiscard]] std::string format_line(std::int64_t unix_ms, log_level level,
                                        std::string_view component, std::string_view message,
                                        log_field_list fields) const;
  [[nodiscard]] std::string format_line(std::int64_t unix_ms, log_level level,
                                        std::string_view component, std::string_view message,
                                        log_fields fields) const {
    return format_line(unix_ms, level, component, message,
                       log_field_list(fields.begin(), fields.size()));
  }

 private:
  std::atomic<log_format> format_{log_format::json};
  std::atomic<log_level> threshold_{log_level::info};
  std::mutex mutex_;
  sink sink_;
};

/// The process's logger (serve configures it from --log-format and --log-level).
[[nodiscard]] logger& log();

/// A short, stable stand-in for an identifier that may be patient data (a claim id, an
/// outbox key) in a log line: the first 12 hex digits of its SHA-256.
[[nodiscard]] std::string log_hash(std::string_view id);

}  // namespace covgate::server
