#include "covgate/model/json_writer.hpp"

#include <array>
#include <charconv>
#include <cmath>

namespace covgate::model {

json_writer& json_writer::value(std::initializer_list<std::string_view> parts) {
  separate();
  out_.push_back('"');
  for (const auto text : parts) escape(text);
  out_.push_back('"');
  return *this;
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
