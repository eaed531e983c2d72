#include "covgate/server/log.hpp"

#include <openssl/sha.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <ctime>

#include "covgate/model/boundary.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::server {
namespace {

// 2026-11-28T12:00:00.123Z
void append_time(std::string& out, std::int64_t unix_ms) {
  const std::time_t seconds = static_cast<std::time_t>(unix_ms / 1000);
  std::tm utc{};
  gmtime_r(&seconds, &utc);
  std::array<char, 32> buffer{};
  const auto n = std::strftime(buffer.data(), buffer.size(), "%Y-%m-%dT%H:%M:%S", &utc);
  out.append(buffer.data(), n);
  const auto ms = static_cast<int>(unix_ms % 1000);
  out += '.';
  out += static_cast<char>('0' + ms / 100);
  out += static_cast<char>('0' + ms / 10 % 10);
  out += static_cast<char>('0' + ms % 10);
  out += 'Z';
}

void append_number(std::string& out, double value) {
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), value);
  out.append(buffer.data(), end);
}

// A text value as logfmt writes it: bare when it is one plain word, else quoted with JSON's
// escapes (so a value can never forge another field or another line).
void append_text_value(std::string& out, std::string_view value) {
  const bool bare = !value.empty() && value.find_first_of(" \"=\\") == std::string_view::npos &&
                    std::all_of(value.begin(), value.end(), [](char c) {
                      const auto u = static_cast<unsigned char>(c);
                      return u > 0x20 && u < 0x7F;
                    });
  if (bare) {
    out += value;
    return;
  }
  out += '"';
  boundary::append_json_string_contents(out, value);
  out += '"';
}

void write_stderr(std::string_view line) {
  while (!line.empty()) {
    const auto n = ::write(STDERR_FILENO, line.data(), line.size());
    if (n < 0) {
      if (errno == EINTR) continue;
      return;  // nowhere left to say it
    }
    line.remove_prefix(static_cast<std::size_t>(n));
  }
}

}  // namespace

std::string_view name(log_level level) noexcept {
  switch (level) {
    case log_level::debug:
      return "debug";
    case log_level::info:
      return "info";
    case log_level::warn:
      return "warn";
    case log_level::error:
      return "error";
  }
  return "info";
}

std::optional<log_level> parse_log_level(std::string_view text) noexcept {
  for (const auto level : {log_level::debug, log_level::info, log_level::warn, log_level::error}) {
    if (name(level) == text) return level;
  }
  return std::nullopt;
}

std::optional<log_format> parse_log_format(std::string_view text) noexcept {
  if (text == "json") return log_format::json;
  if (text == "text") return log_format::text;
  return std::nullopt;
}

void logger::configure(log_format format, log_level threshold) {
  format_ = format;
  threshold_ = threshold;
}

void logger::set_sink(sink s) {
  std::lock_guard lock(mutex_);
  sink_ = std::move(s);
}

std::string logger::format_line(std::int64_t unix_ms, log_level level, std::string_view component,
                                std::string_view message, log_field_list fields) const {
  std::string out;
  out.reserve(160);
  if (format_.load() == log_format::json) {
    std::string time;
    append_time(time, unix_ms);
    model::json_writer w(out);
    w.begin_object().key("time").value(time).key("level").value(name(level));
    w.key("component").value(component).key("msg").value(message);
    for (const auto& f : fields) {
      w.key(f.key());
      switch (f.type()) {
        case log_field::kind::text:
          w.value(f.text());
          break;
        case log_field::kind::integer:
          w.value(f.integer());
          break;
        case log_field::kind::real:
          w.value(f.real());
          break;
        case log_field::kind::flag:
          w.value(f.integer() != 0);
          break;
      }
    }
    w.end_object();
  } else {
    append_time(out, unix_ms);
    out += ' ';
    const auto level_name = name(level);
    out += level_name;
    out.append(6 - level_name.size(), ' ');
    out += component;
    out += ": ";
    boundary::append_json_string_contents(out, message);  // one line, whatever it holds
    for (const auto& f : fields) {
      out += ' ';
      out += f.key();
      out += '=';
      switch (f.type()) {
        case log_field::kind::text:
          append_text_value(out, f.text());
          break;
        case log_field::kind::integer:
          out += std::to_string(f.integer());
          break;
        case log_field::kind::real:
          append_number(out, f.real());
          break;
        case log_field::kind::flag:
          out += f.integer() != 0 ? "true" : "false";
          break;
      }
    }
  }
  out += '\n';
  return out;
}

void logger::write(log_level level, std::string_view component, std::string_view message,
                   log_field_list fields) {
  if (!enabled(level)) return;
  const auto now = std::chrono::duration_cast<std::chrono::milliseconds>(
                       std::chrono::system_clock::now().time_since_epoch())
                       .count();
  const auto line = format_line(now, level, component, message, fields);
  std::lock_guard lock(mutex_);
  if (sink_) {
    sink_(line);
  } else {
    write_stderr(line);
  }
}

logger& log() {
  static logger instance;
  return instance;
}

std::string log_hash(std::string_view id) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(id.data()), id.size(), digest);
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < 6; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

}  // namespace covgate::server
