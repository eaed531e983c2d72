#include "covgate/hl7v2/ack.hpp"

#include <vector>

namespace covgate::hl7v2 {
namespace {

std::string_view trim_leading(std::string_view s) {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  const auto first = s.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view{} : s.substr(first);
}

// A value we write must not carry the separators of the message it is written into.
std::string clean(std::string_view value, const hl7_header& h) {
  std::string out;
  for (const char c : value) {
    if (c == h.field_separator || h.encoding_characters.find(c) != std::string::npos || c == '\r' ||
        c == '\n') {
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

bool looks_like_hl7v2(std::string_view payload) noexcept {
  const auto s = trim_leading(payload);
  return s.size() >= 8 && s.substr(0, 3) == "MSH";
}

std::optional<hl7_header> parse_msh(std::string_view payload) {
  auto s = trim_leading(payload);
  if (s.size() < 8 || s.substr(0, 3) != "MSH") return std::nullopt;
  hl7_header h;
  h.field_separator = s[3];
  const auto segment_end = s.find_first_of("\r\n");
  const auto msh = s.substr(0, segment_end);
  // MSH-1 is the separator itself, so MSH-2 is the text after it: split from position 4.
  std::vector<std::string_view> fields{"MSH", msh.substr(3, 1)};
  std::size_t start = 4;
  while (start <= msh.size()) {
    const auto end = msh.find(h.field_separator, start);
    fields.push_back(
        msh.substr(start, end == std::string_view::npos ? std::string_view::npos : end - start));
    if (end == std::string_view::npos) break;
    start = end + 1;
  }
  if (fields.size() < 3 || fields[2].size() < 1 || fields[2].size() > 5) return std::nullopt;
  h.encoding_characters = std::string(fields[2]);
  auto field = [&](std::size_t n) {
    return n < fields.size() ? std::string(fields[n]) : std::string{};
  };
  h.sending_application = field(3);
  h.sending_facility = field(4);
  h.receiving_application = field(5);
  h.receiving_facility = field(6);
  const auto type = field(9);
  const char component = h.encoding_characters[0];
  const auto caret = type.find(component);
  h.message_type = type.substr(0, caret);
  if (caret != std::string::npos) {
    const auto rest = type.substr(caret + 1);
    h.trigger_event = rest.substr(0, rest.find(component));
  }
  h.control_id = field(10);
  if (!field(11).empty()) h.processing_id = field(11);
  if (!field(12).empty()) h.version = field(12);
  return h;
}

std::string hl7_ack(const hl7_header* original, std::string_view code, std::string_view error_code,
                    std::string_view error_text, const hl7_ack_settings& settings) {
  const hl7_header h = original ? *original : hl7_header{};
  const char f = h.field_separator;
  const char c = h.encoding_characters.empty() ? '^' : h.encoding_characters[0];
  std::string out = "MSH";
  out += f;
  out += h.encoding_characters;
  auto field = [&](std::string_view value) {
    out += f;
    out += clean(value, h);
  };
  field(settings.application);
  field(settings.facility);
  field(h.sending_application);
  field(h.sending_facility);
  field(settings.timestamp);
  field("");
  out += f;
  out += "ACK";
  if (!h.trigger_event.empty()) {
    out += c;
    out += clean(h.trigger_event, h);
    out += c;
    out += "ACK";
  }
  field(settings.control_id);
  field(h.processing_id);
  field(h.version);
  out += '\r';
  out += "MSA";
  field(code);
  field(h.control_id);
  out += '\r';
  if (!error_code.empty()) {
    out += "ERR";
    field("");
    field("");
    out += f;
    out += clean(error_code, h);
    out += c;
    out += clean(error_text, h);
    out += c;
    out += "HL70357";
    field("E");
    out += '\r';
  }
  return out;
}

}  // namespace covgate::hl7v2
