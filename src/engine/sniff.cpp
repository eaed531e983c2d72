#include "covgate/engine/sniff.hpp"

#include <cctype>

namespace covgate::engine {

payload_kind sniff(std::string_view head) noexcept {
  if (head.substr(0, 3) == "\xEF\xBB\xBF") head.remove_prefix(3);
  if (!head.empty() && head.front() == '\x0B') return payload_kind::mllp;
  const auto first = head.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return payload_kind::unknown;
  head.remove_prefix(first);
  if (head.front() == '{' || head.front() == '<') return payload_kind::fhir;
  if (head.front() == '\x0B') return payload_kind::mllp;
  const auto tag = head.substr(0, 3);
  if (tag == "ISA") return payload_kind::x12;
  // An X12 envelope that lost its ISA (a GS or ST first, then its element separator) is X12
  // all the same: its reader answers it with a TA1 that names what is missing.
  const auto separated = [&](std::size_t n) {
    return head.size() > n && !std::isalnum(static_cast<unsigned char>(head[n])) &&
           head[n] != ' ' && head[n] != '|';
  };
  if ((tag.substr(0, 2) == "GS" && separated(2)) || (tag.substr(0, 2) == "ST" && separated(2))) {
    return payload_kind::x12;
  }
  if (tag == "MSH" || tag == "FHS" || tag == "BHS") return payload_kind::hl7v2;
  return payload_kind::unknown;
}

bool enough_to_sniff(std::string_view head) noexcept {
  const auto first = head.find_first_not_of(" \t\r\n\xEF\xBB\xBF");
  return first != std::string_view::npos && head.size() - first >= 3;
}

std::string_view name(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::x12:
      return "x12";
    case payload_kind::fhir:
      return "fhir";
    case payload_kind::hl7v2:
      return "hl7v2";
    case payload_kind::mllp:
      return "mllp";
    case payload_kind::unknown:
      break;
  }
  return "unknown";
}

std::string_view answer_media_type(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::x12:
      return "application/edi-x12";
    case payload_kind::fhir:
      return "application/fhir+json";
    case payload_kind::hl7v2:
      return "x-application/hl7-v2+er7";
    case payload_kind::mllp:
    case payload_kind::unknown:
      break;
  }
  return "text/plain";
}

}  // namespace covgate::engine
