#include "covgate/model/facts.hpp"

#include <algorithm>
#include <iterator>

namespace covgate::model {
namespace {

bool digits(std::string_view text, std::size_t from, std::size_t count, int& out) {
  if (from + count > text.size()) return false;
  out = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

}  // namespace

std::optional<moment> parse_fhir_datetime(std::string_view text) noexcept {
  int year = 0, month = 1, day = 1;
  if (!digits(text, 0, 4, year)) return std::nullopt;
  std::size_t at = 4;
  if (at < text.size()) {
    if (text[at] != '-' || !digits(text, at + 1, 2, month)) return std::nullopt;
    at += 3;
  }
  if (at < text.size()) {
    if (text[at] != '-' || !digits(text, at + 1, 2, day)) return std::nullopt;
    at += 3;
  }
  if (month < 1 || month > 99 || day < 1 || day > 99) return std::nullopt;
  const char buffer[8] = {
      static_cast<char>('0' + year / 1000),    static_cast<char>('0' + year / 100 % 10),
      static_cast<char>('0' + year / 10 % 10), static_cast<char>('0' + year % 10),
      static_cast<char>('0' + month / 10),     static_cast<char>('0' + month % 10),
      static_cast<char>('0' + day / 10),       static_cast<char>('0' + day % 10)};
  const auto parsed = parse_ccyymmdd({buffer, 8});
  if (!parsed) return std::nullopt;
  moment m;
  m.day = *parsed;
  std::int64_t minutes = std::int64_t{parsed->days_since_epoch()} * 1440;
  if (at < text.size()) {
    int hour = 0, minute = 0, second = 0;
    if (text[at] != 'T' || !digits(text, at + 1, 2, hour) || text.size() < at + 6 ||
        text[at + 3] != ':' || !digits(text, at + 4, 2, minute) || hour > 23 || minute > 59) {
      return std::nullopt;
    }
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits(text, at + 1, 2, second) || second > 60) return std::nullopt;
      at += 3;
      if (at < text.size() && text[at] == '.') {
        ++at;
        while (at < text.size() && text[at] >= '0' && text[at] <= '9') ++at;
      }
    }
    minutes += hour * 60 + minute;
    if (at < text.size()) {
      if (text[at] == 'Z' && at + 1 == text.size()) {
        // already UTC
      } else if ((text[at] == '+' || text[at] == '-') && text.size() == at + 6 &&
                 text[at + 3] == ':') {
        int zh = 0, zm = 0;
        if (!digits(text, at + 1, 2, zh) || !digits(text, at + 4, 2, zm)) return std::nullopt;
        const int offset = zh * 60 + zm;
        minutes += text[at] == '+' ? -offset : offset;
      } else {
        return std::nullopt;
      }
    }
    m.has_time = true;
  }
  m.utc_minutes = minutes;
  return m;
}

std::string_view kind_of(const fact& f) noexcept {
  constexpr std::string_view names[] = {"patient",   "practitioner", "practitioner_role",
                                        "lab",       "encounter",    "evidence",
                                        "condition", "retraction"};
  static_assert(std::size(names) == std::variant_size_v<fact>);
  return names[f.index()];
}

const std::string& patient_key_of(const fact& f) noexcept {
  static const std::string none;
  return std::visit(
      [](const auto& v) -> const std::string& {
        if constexpr (requires { v.patient_key; }) {
          return v.patient_key;
        } else if constexpr (requires { v.key; }) {
          return v.key;
        } else {
          return none;
        }
      },
      f);
}

const std::string& patient_reference_of(const fact& f) noexcept {
  static const std::string none;
  return std::visit(
      [](const auto& v) -> const std::string& {
        if constexpr (requires { v.patient; }) {
          return v.patient;
        } else {
          return none;
        }
      },
      f);
}

const std::string& resource_id_of(const fact& f) noexcept {
  return std::visit([](const auto& v) -> const std::string& { return v.resource_id; }, f);
}

bool names_no_patient(std::string_view resource) noexcept {
  const auto slash = resource.find('/');
  if (slash == std::string_view::npos) return false;
  const auto type = resource.substr(0, slash);
  return std::find(types_of_no_patient.begin(), types_of_no_patient.end(), type) !=
         types_of_no_patient.end();
}

bool names_no_patient(const fact& f) noexcept { return names_no_patient(resource_id_of(f)); }

const std::string& last_updated_of(const fact& f) noexcept {
  static const std::string none;
  return std::visit(
      [](const auto& v) -> const std::string& {
        if constexpr (requires { v.last_updated; }) {
          return v.last_updated;
        } else {
          return none;
        }
      },
      f);
}

bool older_version(std::string_view candidate, std::string_view current) noexcept {
  return !candidate.empty() && !current.empty() && candidate < current;
}

}  // namespace covgate::model
