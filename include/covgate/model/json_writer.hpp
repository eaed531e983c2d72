// A minimal, allocation-light JSON writer for the JSON Lines the command line prints.
#pragma once

#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>

#include "covgate/model/boundary.hpp"

namespace covgate::model {

/// Appends JSON text to a string. The caller keeps the structure balanced; the writer adds
/// commas and escapes strings (RFC 8259: quotes, backslash, control characters); bytes that
/// are not well-formed UTF-8 become U+FFFD, so the output is always valid JSON.
class json_writer {
 public:
  explicit json_writer(std::string& out) : out_(out) {}

  // The calls made for every key and value are defined here so they inline into the callers.
  json_writer& begin_object() { return open('{'); }
  json_writer& end_object() { return close('}'); }
  json_writer& begin_array() { return open('['); }
  json_writer& end_array() { return close(']'); }
  json_writer& key(std::string_view name) {
    string(name, ':');
    need_comma_ = false;
    return *this;
  }
  json_writer& value(std::string_view text) {
    string(text);
    return *this;
  }
  json_writer& value(const char* text) { return value(std::string_view{text}); }
  /// One string value made of `parts` in order (no temporary string to build it in).
  json_writer& value(std::initializer_list<std::string_view> parts);
  json_writer& value(std::int64_t number);
  json_writer& value(double number);
  json_writer& value(bool flag);
  json_writer& null();
  /// Appends `json`, already a complete JSON value, as the next value (not checked).
  json_writer& raw(std::string_view json);

 private:
  json_writer& open(char c) {
    separate();
    out_.push_back(c);
    need_comma_ = false;
    return *this;
  }
  json_writer& close(char c) {
    out_.push_back(c);
    need_comma_ = true;
    return *this;
  }
  void separate() {
    if (need_comma_) out_.push_back(',');
    need_comma_ = true;
  }
  /// A string with its separator before and `after` (':' after a key) behind: a short plain
  /// one (every key, most values) is put together on the stack and appended in one call, not
  /// four (the calls cost more than the copying at a few bytes each).
  void string(std::string_view text, char after = 0) {
    char piece[96];
    if (text.size() <= sizeof piece - 4 && boundary::json_plain(text)) {
      std::size_t n = 0;
      if (need_comma_) piece[n++] = ',';
      piece[n++] = '"';
      std::memcpy(piece + n, text.data(), text.size());
      n += text.size();
      piece[n++] = '"';
      if (after != 0) piece[n++] = after;
      out_.append(piece, n);
      need_comma_ = true;
      return;
    }
    separate();
    out_.push_back('"');
    escape(text);
    out_.push_back('"');
    if (after != 0) out_.push_back(after);
  }
  void escape(std::string_view text) { boundary::append_json_string_contents(out_, text); }
  std::string& out_;
  bool need_comma_ = false;
};

}  // namespace covgate::model
