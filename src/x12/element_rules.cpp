#include "element_rules.hpp"

#include <algorithm>
#include <array>

#include "covgate/model/date.hpp"
#include "schema_837.hpp"

namespace covgate::x12 {
namespace {

// `identifier`: an id that reaches other grammars downstream (HTTP headers, file names, MLLP
// frames, JSON): 1 to 38 characters of the X12 basic and extended character sets (printable
// ASCII), so control bytes (CR, LF, 0x0B, 0x1C, NUL) and non-ASCII never enter the gate.
enum class kind : std::uint8_t { any, code, decimal, integer, date_by_qualifier, d8, identifier };

struct element_rule {
  std::string_view segment;
  std::uint8_t position;
  std::uint8_t component;  // 0: whole element
  std::uint16_t reference;
  bool required;
  kind type;
  std::string_view codes;  // for kind::code
  bool rejects = true;     // false: a defect real senders ship that the gate can read past
};

// Data element reference numbers are those of the X12 dictionary (e.g. 98 entity identifier).
constexpr std::array rules{
    element_rule{"BHT", 1, 0, 1005, true, kind::code, "0019"},
    element_rule{"BHT", 2, 0, 353, true, kind::code, "00,18"},
    element_rule{"BHT", 3, 0, 127, true, kind::any, ""},
    element_rule{"BHT", 4, 0, 373, true, kind::d8, ""},
    element_rule{"HL", 1, 0, 628, true, kind::any, ""},
    element_rule{"HL", 3, 0, 735, true, kind::code, "20,22,23"},
    element_rule{"HL", 4, 0, 736, false, kind::code, "0,1"},
    element_rule{"NM1", 1, 0, 98, true, kind::any, ""},
    element_rule{"NM1", 2, 0, 1065, true, kind::code, "1,2"},
    element_rule{"N3", 1, 0, 166, true, kind::any, ""},
    element_rule{"N4", 1, 0, 19, true, kind::any, ""},
    element_rule{"REF", 1, 0, 128, true, kind::any, ""},
    element_rule{"REF", 2, 0, 127, true, kind::any, ""},
    element_rule{"PER", 1, 0, 366, true, kind::any, ""},
    element_rule{"PRV", 1, 0, 1221, true, kind::any, ""},
    element_rule{"PRV", 2, 0, 128, true, kind::any, ""},
    element_rule{"PRV", 3, 0, 127, true, kind::any, ""},
    element_rule{"SBR", 1, 0, 1138, true, kind::code, "A,B,C,D,E,F,G,H,P,S,T,U"},
    element_rule{"DMG", 1, 0, 1250, false, kind::code, "D8"},
    element_rule{"DMG", 2, 0, 1251, false, kind::d8, ""},
    element_rule{"CLM", 1, 0, 1028, true, kind::identifier, ""},
    element_rule{"CLM", 2, 0, 782, true, kind::decimal, ""},
    element_rule{"CLM", 5, 1, 1331, true, kind::any, ""},
    element_rule{"DTP", 1, 0, 374, true, kind::any, ""},
    element_rule{"DTP", 2, 0, 1250, true, kind::code, "D8,RD8,DT,TM"},
    element_rule{"DTP", 3, 0, 1251, true, kind::date_by_qualifier, ""},
    element_rule{"HI", 1, 1, 1270, true, kind::any, ""},
    // Some generators write HI*BK*8901 (code in its own element): noted, and the code is lost.
    element_rule{"HI", 1, 2, 1271, true, kind::any, "", false},
    element_rule{"LX", 1, 0, 554, true, kind::integer, ""},
    element_rule{"SV1", 1, 1, 235, true, kind::code, "ER,HC,IV,WK"},
    element_rule{"SV1", 1, 2, 234, true, kind::any, ""},
    element_rule{"SV1", 2, 0, 782, true, kind::decimal, ""},
    element_rule{"SV1", 3, 0, 355, true, kind::code, "MJ,UN"},
    element_rule{"SV1", 4, 0, 380, true, kind::decimal, ""},
    element_rule{"SV2", 1, 0, 234, true, kind::any, ""},
    element_rule{"SV2", 3, 0, 782, true, kind::decimal, ""},
    element_rule{"SV2", 4, 0, 355, true, kind::code, "DA,UN"},
    element_rule{"SV2", 5, 0, 380, true, kind::decimal, ""},
    element_rule{"PWK", 1, 0, 755, true, kind::any, ""},
    element_rule{"PWK", 2, 0, 756, true, kind::any, ""},
    element_rule{"CRC", 1, 0, 1136, true, kind::any, ""},
    element_rule{"CRC", 2, 0, 1073, true, kind::code, "Y,N"},
};

// Rules of one segment id are contiguous in `rules`; this index finds them by key.
struct rule_group {
  std::uint32_t key = 0;
  std::uint8_t begin = 0;
  std::uint8_t end = 0;
};

constexpr auto rule_groups = [] {
  std::array<rule_group, rules.size()> groups{};
  std::size_t count = 0;
  for (std::size_t i = 0; i < rules.size(); ++i) {
    const auto key = segment_key(rules[i].segment);
    if (count == 0 || groups[count - 1].key != key) {
      groups[count++] = {key, static_cast<std::uint8_t>(i), static_cast<std::uint8_t>(i)};
    }
    groups[count - 1].end = static_cast<std::uint8_t>(i + 1);
  }
  return groups;
}();

constexpr bool rules_grouped() {
  // Every id's rules must be contiguous, or some would never be found.
  for (std::size_t i = 0; i < rule_groups.size() && rule_groups[i].key; ++i) {
    for (std::size_t j = i + 1; j < rule_groups.size() && rule_groups[j].key; ++j) {
      if (rule_groups[i].key == rule_groups[j].key) return false;
    }
  }
  return true;
}
static_assert(rules_grouped(), "keep each segment's element rules together");

// Open addressing over segment keys: one multiply and usually one probe per segment.
constexpr std::size_t slot_count = 64;
constexpr std::size_t slot_of(std::uint32_t key) { return (key * 2654435761u) >> 26; }

constexpr auto rule_slots = [] {
  std::array<rule_group, slot_count> slots{};
  for (const auto& g : rule_groups) {
    if (g.key == 0) break;
    std::size_t at = slot_of(g.key);
    while (slots[at].key != 0) at = (at + 1) % slot_count;
    slots[at] = g;
  }
  return slots;
}();

const rule_group* rules_for(std::uint32_t key) noexcept {
  for (std::size_t at = slot_of(key);; at = (at + 1) % slot_count) {
    if (rule_slots[at].key == key) return &rule_slots[at];
    if (rule_slots[at].key == 0) return nullptr;
  }
}

bool is_digits(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

bool valid_date_value(std::string_view qualifier, std::string_view value) noexcept {
  if (qualifier == "D8") return model::parse_ccyymmdd(value).has_value();
  if (qualifier == "RD8") {
    if (value.size() != 17 || value[8] != '-') return false;
    const auto from = model::parse_ccyymmdd(value.substr(0, 8));
    const auto to = model::parse_ccyymmdd(value.substr(9));
    return from && to && !(*to < *from);
  }
  if (qualifier == "DT") {  // CCYYMMDDHHMM
    return value.size() == 12 && model::parse_ccyymmdd(value.substr(0, 8)) &&
           is_digits(value.substr(8));
  }
  if (qualifier == "TM") return (value.size() == 4 || value.size() == 6) && is_digits(value);
  return true;  // unknown qualifier: reported on DTP02 already
}

}  // namespace

bool is_decimal(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  bool digit = false;
  bool point = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      digit = true;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return false;
    }
  }
  return digit;
}

void check_elements(const segment& seg, bool institutional, std::vector<element_finding>& out) {
  const rule_group* group = rules_for(seg.key());
  if (group == nullptr) return;
  for (std::size_t r = group->begin; r < group->end; ++r) {
    const auto& rule = rules[r];
    const auto value =
        rule.component ? seg.component(rule.position, rule.component) : seg.element(rule.position);
    const element_finding at{rule.position, rule.component, rule.reference, error{}, rule.rejects};
    auto report = [&](error code) {
      auto finding = at;
      finding.code = code;
      out.push_back(finding);
    };
    if (value.empty()) {
      if (rule.required) report(error::required_element_missing);
      continue;
    }
    switch (rule.type) {
      case kind::any:
        break;
      case kind::code:
        if (!schema::in_list(rule.codes, value)) report(error::invalid_code_value);
        break;
      case kind::decimal:
        if (!is_decimal(value)) report(error::invalid_number);
        break;
      case kind::integer:
        if (!is_digits(value)) report(error::invalid_number);
        break;
      case kind::identifier:
        if (value.size() > 38) {
          report(error::element_too_long);
        } else if (!std::all_of(value.begin(), value.end(), [](char c) {
                     return static_cast<unsigned char>(c) >= 0x20 &&
                            static_cast<unsigned char>(c) <= 0x7E;
                   })) {
          report(error::invalid_character);
        }
        break;
      case kind::d8:
        if (!model::parse_ccyymmdd(value)) report(error::invalid_date);
        break;
      case kind::date_by_qualifier:
        if (seg.element(2) == "RD8" && model::parse_ccyymmdd(value)) {
          // A range holding one date (seen in published TR3 examples): read as that day.
          out.push_back({rule.position, 0, rule.reference, error::invalid_date, false});
        } else if (!valid_date_value(seg.element(2), value)) {
          report(error::invalid_date);
        }
        break;
    }
  }
  if (seg.is("CLM")) {
    // CLM05-2 tells the guide: B (place of service) in 837P, A (bill type) in 837I. Senders
    // get it (and the frequency) wrong often enough that the gate notes it and reads on; the
    // policy then sees whatever CLM05-1 and CLM05-3 really say.
    const auto qualifier = seg.component(5, 2);
    if (qualifier != (institutional ? "A" : "B")) {
      out.push_back(
          {5, 2, 1332,
           qualifier.empty() ? error::required_element_missing : error::invalid_code_value, false});
    }
    const auto frequency = seg.component(5, 3);
    if (frequency.empty()) {
      out.push_back({5, 3, 1325, error::required_element_missing, false});
    } else if (!institutional && !schema::in_list("1,6,7,8", frequency)) {
      out.push_back({5, 3, 1325, error::invalid_code_value, false});
    }
  }
}

}  // namespace covgate::x12
