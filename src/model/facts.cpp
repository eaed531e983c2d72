#include "covgate/model/facts.hpp"

#include <algorithm>
#include <iterator>

namespace covgate::model {
namespace {

// `count` ASCII digits from text[from] as a number; false when one is not a digit or the text
// ends first. The count is a constant, so each use is a few unrolled steps.
template <std::size_t count>
[[gnu::always_inline]] inline bool digits(std::string_view text, std::size_t from, int& out) {
  if (text.size() < from + count) return false;
  int n = 0;
  for (std::size_t i = 0; i < count; ++i) {
    const auto d = static_cast<unsigned>(static_cast<unsigned char>(text[from + i])) - '0';
    if (d > 9) return false;
    n = n * 10 + static_cast<int>(d);
  }
  out = n;
  return true;
}

}  // namespace

// Every FHIR date a record carries comes through here twice (checked, then mapped): the
// fields are read where they stand and the day checked by calendar_date(). Writing the date
// out again as CCYYMMDD for parse_ccyymmdd, a division per digit, cost 1.7 % of reading a
// day's records (callgrind).
std::optional<moment> parse_fhir_datetime(std::string_view text) noexcept {
  int year = 0, month = 1, day = 1;
  if (!digits<4>(text, 0, year)) return std::nullopt;
  std::size_t at = 4;
  if (at < text.size()) {
    if (text[at] != '-' || !digits<2>(text, at + 1, month)) return std::nullopt;
    at += 3;
  }
  if (at < text.size()) {
    if (text[at] != '-' || !digits<2>(text, at + 1, day)) return std::nullopt;
    at += 3;
  }
  const auto calendar_day = calendar_date(year, month, day);
  if (!calendar_day) return std::nullopt;
  moment m;
  m.day = *calendar_day;
  std::int64_t minutes = std::int64_t{calendar_day->days_since_epoch()} * 1440;
  if (at < text.size()) {
    int hour = 0, minute = 0, second = 0;
    if (text[at] != 'T' || !digits<2>(text, at + 1, hour) || text.size() < at + 6 ||
        text[at + 3] != ':' || !digits<2>(text, at + 4, minute) || hour > 23 || minute > 59) {
      return std::nullopt;
    }
    at += 6;
    if (at < text.size() && text[at] == ':') {
      if (!digits<2>(text, at + 1, second) || second > 60) return std::nullopt;
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
        if (!digits<2>(text, at + 1, zh) || !digits<2>(text, at + 4, zm)) return std::nullopt;
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
