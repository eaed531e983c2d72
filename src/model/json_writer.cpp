#include "covgate/model/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace covgate::model {

void json_writer::separate() {
  if (need_comma_) out_.push_back(',');
  need_comma_ = true;
}

json_writer& json_writer::open(char c) {
  separate();
  out_.push_back(c);
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::close(char c) {
  out_.push_back(c);
  need_comma_ = true;
  return *this;
}

json_writer& json_writer::key(std::string_view name) {
  value(name);
  out_.push_back(':');
  need_comma_ = false;
  return *this;
}

json_writer& json_writer::value(std::string_view text) {
  separate();
  out_.push_back('"');
  escape(text);
  out_.push_back('"');
  return *this;
}

json_writer& json_writer::value(std::initializer_list<std::string_view> parts) {
  separate();
  out_.push_back('"');
  for (const auto text : parts) escape(text);
  out_.push_back('"');
  return *this;
}

void json_writer::escape(std::string_view text) {
  // Runs of characters that need no escape are appended whole: most values have none.
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x20 && byte != '"' && byte != '\\') continue;
    out_.append(text.substr(run, i - run));
    run = i + 1;
    switch (byte) {
      case '"':
        out_.append("\\\"");
        break;
      case '\\':
        out_.append("\\\\");
        break;
      case '\n':
        out_.append("\\n");
        break;
      case '\r':
        out_.append("\\r");
        break;
      case '\t':
        out_.append("\\t");
        break;
      default: {
        constexpr std::string_view hex = "0123456789abcdef";
        out_.append("\\u00");
        out_.push_back(hex[byte >> 4]);
        out_.push_back(hex[byte & 0xF]);
      }
    }
  }
  out_.append(text.substr(run));
}

json_writer& json_writer::raw(std::string_view json) {
  separate();
  out_.append(json);
  return *this;
}

json_writer& json_writer::value(std::int64_t number) {
  separate();
  std::array<char, 24> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  out_.append(buffer.data(), end);
  return *this;
}

json_writer& json_writer::value(double number) {
  separate();
  if (!std::isfinite(number)) {
    out_.append("null");
    return *this;
  }
  std::array<char, 32> buffer{};
  const auto [end, ec] = std::to_chars(buffer.data(), buffer.data() + buffer.size(), number);
  out_.append(buffer.data(), end);
  return *this;
}

json_writer& json_writer::value(bool flag) {
  separate();
  out_.append(flag ? "true" : "false");
  return *this;
}

json_writer& json_writer::null() {
  separate();
  out_.append("null");
  return *this;
}

}  // namespace covgate::model
