#include "element_rules.hpp"

#include <doctest/doctest.h>

#include <functional>
#include <set>
#include <string>
#include <vector>

#include "schema_837.hpp"

using namespace covgate;
using namespace covgate::x12;

namespace {

constexpr delimiters delims{'*', ':', '^', '~'};

// A segment view over `text` (split on '*'), as the reader would hand it over.
struct built_segment {
  std::string text;
  std::vector<std::uint32_t> ends;
  [[nodiscard]] segment view() const {
    return {text, ends.data(), static_cast<std::uint32_t>(ends.size()), delims, {}};
  }
};

built_segment build(std::string text) {
  built_segment b{std::move(text), {}};
  for (std::uint32_t i = 0; i < b.text.size(); ++i) {
    if (b.text[i] == '*') b.ends.push_back(i);
  }
  b.ends.push_back(static_cast<std::uint32_t>(b.text.size()));
  return b;
}

std::vector<element_finding> check(const std::string& text, const schema::entry& entry,
                                   leniency lenient = leniency::none) {
  const auto b = build(text);
  std::vector<element_finding> out;
  check_elements(b.view(), entry, lenient, out);
  return out;
}

// A value the dictionary and the guide accept for one element (or component): its first
// code, or a value of its type and minimum length; a date in the form `qualifier` names.
std::string valid_value(const dictionary::element_def& def, const schema::spec_item& item,
                        std::string_view qualifier) {
  if (!item.codes.empty()) return std::string(item.codes.substr(0, item.codes.find(',')));
  using enum dictionary::data_type;
  switch (def.type) {
    case dt:
      return "20260101";
    case tm:
      return "1200";
    case r:
    case n0:
      return "1";
    case id:
    case an:
      if (def.ref == 1251) {
        if (qualifier == "RD8") return "20260101-20260102";
        if (qualifier == "DT") return "202601011200";
        if (qualifier == "TM") return "1200";
        return "20260101";
      }
      return std::string(std::max<std::size_t>(def.min, 1), def.type == id ? 'A' : 'X');
  }
  return "X";
}

// A code the element's list does not hold, of a length the element allows.
std::string invalid_code(const dictionary::element_def& def, std::string_view codes) {
  const bool numeric =
      def.type == dictionary::data_type::n0 || def.type == dictionary::data_type::r;
  for (const char* candidate : {"Q", "QQ", "QQQ", "9", "99", "999", "QQQQ", "9999"}) {
    if (numeric && candidate[0] == 'Q') continue;
    const std::string_view c = candidate;
    if (c.size() >= def.min && c.size() <= def.max && !schema::in_list(codes, c)) {
      return std::string(c);
    }
  }
  FAIL("no invalid code fits");
  return {};
}

// Every element (and component) of an entry, with the spec the guide gives it.
struct element_slot {
  std::uint32_t position = 0;
  std::uint32_t component = 0;
  dictionary::element_def def;
  schema::spec_item item;
  char element_usage = 'N';  // the usage of the whole element (a composite's own)
};

std::vector<element_slot> slots_of(const schema::entry& entry) {
  std::vector<element_slot> out;
  schema::spec_cursor items(entry.elements);
  std::uint32_t position = 0;
  for (const auto& slot : entry.def->slots) {
    ++position;
    const auto item = items.next();
    if (!slot.composite) {
      out.push_back({position, 0, slot.element, item, item.usage});
      continue;
    }
    schema::spec_cursor parts(item.components, ';');
    std::uint32_t component = 0;
    for (const auto& def : slot.composite->components) {
      auto part = item.components.empty() ? schema::spec_item{'S', {}, 0, {}} : parts.next();
      if (item.usage == 'N') part.usage = 'N';
      // A situational composite's components count as sent when the composite is.
      out.push_back({position, ++component, def, part, item.usage});
    }
  }
  return out;
}

// The segment text with every required element (and component) valid, `changed` replaced.
std::string segment_text(const schema::entry& entry, const std::vector<element_slot>& slots,
                         const element_slot* changed = nullptr, std::string_view value = {}) {
  std::vector<std::vector<std::string>> elements(entry.def->slots.size());
  std::string qualifier;  // the last 1250 written (DTP02, HI0n-3)
  for (const auto& s : slots) {
    auto& element = elements[s.position - 1];
    if (s.component) element.resize(std::max<std::size_t>(element.size(), s.component));
    std::string v;
    if (changed && changed->position == s.position && changed->component == s.component) {
      v = std::string(value);
    } else if (s.item.usage == 'R' && (s.component <= 1 || !element.empty())) {
      v = valid_value(s.def, s.item, qualifier);
    }
    if (s.def.ref == 1250 && !v.empty()) qualifier = v;
    if (s.component) {
      element[s.component - 1] = v;
    } else {
      element.assign(1, v);
    }
  }
  // A composite only partly written still needs the required components of its spec.
  std::string out(entry.id);
  std::size_t last = 0;
  std::vector<std::string> joined;
  for (auto& parts : elements) {
    while (!parts.empty() && parts.back().empty()) parts.pop_back();
    std::string e;
    for (std::size_t i = 0; i < parts.size(); ++i) e += (i ? ":" : "") + parts[i];
    joined.push_back(e);
    if (!e.empty()) last = joined.size();
  }
  for (std::size_t i = 0; i < last; ++i) out += "*" + joined[i];
  return out;
}

// Every entry of both guides with one of `ids`, with its guide and loop.
struct placed_entry {
  const schema::entry* entry;
  std::string where;
};

std::vector<placed_entry> entries_with(std::initializer_list<std::string_view> ids) {
  std::vector<placed_entry> out;
  std::set<const schema::loop_def*> seen;
  std::function<void(const schema::loop_def&, const std::string&)> walk =
      [&](const schema::loop_def& loop, const std::string& guide) {
        if (!seen.insert(&loop).second) return;
        for (std::size_t i = 0; i < loop.entries.size(); ++i) {
          const auto& e = loop.entries[i];
          if (e.child) {
            walk(*e.child, guide);
            continue;
          }
          for (const auto id : ids) {
            if (e.id == id) {
              out.push_back({&e, guide + " " + std::string(loop.name) + " " + std::string(e.id) +
                                     "#" + std::to_string(i)});
            }
          }
        }
      };
  walk(schema::professional_root(), "837P");
  seen.clear();
  walk(schema::institutional_root(), "837I");
  return out;
}

}  // namespace

TEST_SUITE("x12.element_rules") {
  TEST_CASE("every Not Used element and code list of CLM, NM1, SV1, SV2, HI and DTP, both guides") {
    const auto entries = entries_with({"CLM", "NM1", "SV1", "SV2", "HI", "DTP"});
    CHECK(entries.size() > 100);
    int not_used = 0, code_lists = 0;
    for (const auto& placed : entries) {
      CAPTURE(placed.where);
      const auto& entry = *placed.entry;
      const auto slots = slots_of(entry);
      const auto valid = segment_text(entry, slots);
      CAPTURE(valid);
      CHECK(check(valid, entry).empty());
      for (const auto& s : slots) {
        CAPTURE(s.position);
        CAPTURE(s.component);
        if (s.item.usage == 'N') {
          // A Not Used element (or a component of a used composite) with a value: I10.
          const auto text =
              segment_text(entry, slots, &s, valid_value(s.def, {'S', {}, 0, {}}, ""));
          CAPTURE(text);
          const auto found = check(text, entry);
          REQUIRE(found.size() == 1);
          CHECK(found[0].code == error::not_used_element_present);
          CHECK(found[0].position == s.position);
          // A Not Used composite is named by its position alone (IK404 reference 0).
          const bool whole_composite = s.component >= 1 && s.element_usage == 'N';
          CHECK(found[0].reference == (whole_composite ? 0 : s.def.ref));
          CHECK(ack_code(found[0].code) == "I10");
          ++not_used;
        } else if (!s.item.codes.empty()) {
          const auto text = segment_text(entry, slots, &s, invalid_code(s.def, s.item.codes));
          CAPTURE(text);
          const auto found = check(text, entry);
          REQUIRE_FALSE(found.empty());
          CHECK(found[0].code == error::invalid_code_value);
          CHECK(found[0].position == s.position);
          CHECK(found[0].component == s.component);
          CHECK(found[0].reference == s.def.ref);
          ++code_lists;
        }
      }
    }
    CHECK(not_used > 300);
    CHECK(code_lists > 100);
  }

  TEST_CASE("every required element of those segments is missing when left out") {
    for (const auto& placed : entries_with({"CLM", "NM1", "SV1", "SV2", "HI", "DTP"})) {
      CAPTURE(placed.where);
      const auto& entry = *placed.entry;
      const auto slots = slots_of(entry);
      for (const auto& s : slots) {
        if (s.element_usage != 'R' || s.item.usage != 'R' || s.component > 1) continue;
        CAPTURE(s.position);
        CAPTURE(s.component);
        const auto text = segment_text(entry, slots, &s, "");
        CAPTURE(text);
        const auto found = check(text, entry);
        REQUIRE_FALSE(found.empty());
        CHECK(found[0].code == error::required_element_missing);
        CHECK(found[0].position == s.position);
      }
    }
  }
}

namespace {

const schema::entry& first_entry(std::string_view guide_loop) {
  for (const auto& placed : entries_with({"CLM", "NM1", "SV1", "SV2", "HI", "DTP"})) {
    if (placed.where.starts_with(guide_loop)) return *placed.entry;
  }
  throw std::runtime_error("no such entry");
}

element_finding only(const std::vector<element_finding>& found) {
  CHECK(found.size() == 1);
  return found.empty() ? element_finding{} : found[0];
}

}  // namespace

TEST_SUITE("x12.element_rules") {
  TEST_CASE("the guides' own rules named in the issue") {
    const auto& clm_p = first_entry("837P 2300 CLM");
    const auto& clm_i = first_entry("837I 2300 CLM");
    // CLM07 is A, B or C.
    CHECK(only(check("CLM*X1*10***12:B:1*Y*Y*Y*Y", clm_p)).code == error::invalid_code_value);
    // 837I: CLM04 and CLM06 are Not Used; CLM08 and CLM09 are required.
    CHECK(only(check("CLM*X1*10**4*13:A:1**A*Y*Y", clm_i)).code == error::not_used_element_present);
    CHECK(only(check("CLM*X1*10***13:A:1*Y*A*Y*Y", clm_i)).code == error::not_used_element_present);
    const auto missing = check("CLM*X1*10***13:A:1**A", clm_i);
    REQUIRE(missing.size() == 2);
    CHECK(missing[0].position == 8);
    CHECK(missing[1].position == 9);
    CHECK(missing[0].code == error::required_element_missing);
    // CLM01 is at most 20 characters in both guides (the dictionary allows 38).
    CHECK(only(check("CLM*123456789012345678901*10***12:B:1*Y*A*Y*Y", clm_p)).code ==
          error::element_too_long);
  }

  TEST_CASE("the pay-to address name (2010AB) has no name: NM103 is Not Used") {
    for (const auto& placed : entries_with({"NM1"})) {
      if (placed.where.find("2010AB") == std::string::npos) continue;
      const auto found = check("NM1*87*2*Kildare Associates", *placed.entry);
      REQUIRE(found.size() == 1);
      CHECK(found[0].position == 3);
      CHECK(found[0].code == error::not_used_element_present);
    }
  }

  TEST_CASE("the 837I statement period (DTP*434) is RD8 only") {
    const auto entries = entries_with({"DTP"});
    const auto it = std::find_if(entries.begin(), entries.end(), [](const placed_entry& p) {
      return p.where.starts_with("837I 2300") && p.entry->qualifiers == "434";
    });
    REQUIRE(it != entries.end());
    CHECK(check("DTP*434*RD8*20260301-20260305", *it->entry).empty());
    CHECK(only(check("DTP*434*D8*20260301", *it->entry)).code == error::invalid_code_value);
  }

  TEST_CASE("data types: too short, too long, numbers, dates, times and components") {
    const auto& sv1 = first_entry("837P 2400 SV1");
    CHECK(only(check("SV1*HC:E0784:K*10*UN*1***1", sv1)).code ==
          error::element_too_short);  // modifier
    CHECK(only(check("SV1*HC:E0784*1O*UN*1***1", sv1)).code == error::invalid_number);
    CHECK(only(check("SV1*HC:E0784*12345678901234567890*UN*1***1", sv1)).code ==
          error::element_too_long);
    CHECK(only(check("SV1*HC:E0784:KX:NU:RR:GA:DESC::EXTRA*10*UN*1***1", sv1)).code ==
          error::too_many_components);
    CHECK(only(check("SV1*HC:E0784*10*UN*1***1*********************1", sv1)).code ==
          error::too_many_elements);
    const auto entries = entries_with({"DTP"});
    const auto discharge = std::find_if(entries.begin(), entries.end(), [](const placed_entry& p) {
      return p.where.starts_with("837I 2300") && p.entry->qualifiers == "096";
    });
    REQUIRE(discharge != entries.end());
    CHECK(check("DTP*096*TM*2359", *discharge->entry).empty());
    CHECK(only(check("DTP*096*TM*2460", *discharge->entry)).code == error::invalid_date);
    const auto service = std::find_if(entries.begin(), entries.end(), [](const placed_entry& p) {
      return p.where.starts_with("837P 2400") && p.entry->qualifiers == "472";
    });
    CHECK(only(check("DTP*472*D8*20260230", *service->entry)).code == error::invalid_date);
    CHECK(only(check("DTP*472*RD8*20260310-20260301", *service->entry)).code ==
          error::invalid_date);
  }

  TEST_CASE("every free element's length is checked, in plain ASCII and beyond it") {
    // The entry's plan takes a free value (AN, or ID without a code list) by its length alone
    // when the segment is plain ASCII; beyond ASCII the whole check counts characters.
    int checked = 0;
    for (const auto& placed :
         entries_with({"CLM", "NM1", "N3", "N4", "REF", "SV1", "SV2", "PRV"})) {
      CAPTURE(placed.where);
      const auto& entry = *placed.entry;
      const auto slots = slots_of(entry);
      for (const auto& s : slots) {
        if (s.component != 0) continue;
        const auto& plan = entry.elements_plan[s.position - 1];
        if (plan.how != schema::element_check::length) continue;
        CAPTURE(s.position);
        const std::size_t max = s.item.max ? s.item.max : s.def.max;
        CHECK(plan.max == max);
        CHECK(plan.min == s.def.min);
        const auto longest = segment_text(entry, slots, &s, std::string(max, 'A'));
        CHECK(check(longest, entry).empty());
        const auto found = check(segment_text(entry, slots, &s, std::string(max + 1, 'A')), entry);
        REQUIRE(found.size() == 1);
        CHECK(found[0].code == error::element_too_long);
        CHECK(found[0].position == s.position);
        CHECK(found[0].reference == s.def.ref);
        // "é" is two bytes and one character: `max` of them fit, one more does not.
        std::string accented;
        for (std::size_t i = 0; i < max; ++i) accented += "\xC3\xA9";
        CHECK(check(segment_text(entry, slots, &s, accented), entry).empty());
        const auto over = check(segment_text(entry, slots, &s, accented + "\xC3\xA9"), entry);
        REQUIRE(over.size() == 1);
        CHECK(over[0].code == error::element_too_long);
        if (s.def.min > 1) {
          const auto short_one =
              check(segment_text(entry, slots, &s, std::string(s.def.min - 1, 'A')), entry);
          REQUIRE(short_one.size() == 1);
          CHECK(short_one[0].code == error::element_too_short);
        }
        ++checked;
      }
    }
    CHECK(checked > 100);
  }

  TEST_CASE("an entry's plan: codes, lengths, Not Used and the whole check, element by element") {
    // 2010AA billing provider NM1: R:85|R:1,2|R|S|S|N|S|S:XX|S (NM110..NM112 Not Used).
    const auto& nm1 = first_entry("837P 2010AA NM1");
    using enum schema::element_check;
    const std::array expected{code,   code, length, length,   length,   not_used,
                              length, code, length, not_used, not_used, not_used};
    for (std::size_t p = 0; p < expected.size(); ++p) {
      CAPTURE(p + 1);
      CHECK(nm1.elements_plan[p].how == expected[p]);
    }
    CHECK(nm1.required_mask == 0b111);
    // A composite, an amount and a date take the whole check.
    CHECK(first_entry("837P 2400 SV1").elements_plan[0].how == full);
    CHECK(first_entry("837P 2400 SV1").elements_plan[1].how == full);
    CHECK(first_entry("837P 2300 DTP").elements_plan[2].how == full);
  }

  TEST_CASE("a time element holds a valid time of day") {
    // BHT05 (TM): HHMM, HHMMSS or with decimal seconds.
    const auto& bht = schema::professional_root().entries[1];
    REQUIRE(bht.id == "BHT");
    CHECK(check("BHT*0019*00*B1*20260310*235959*CH", bht).empty());
    CHECK(only(check("BHT*0019*00*B1*20260310*2561*CH", bht)).code == error::invalid_time);
    CHECK(only(check("BHT*0019*00*B1*20260310*12345*CH", bht)).code == error::invalid_time);
  }

  TEST_CASE("control characters and malformed UTF-8 are invalid characters (IK403 6)") {
    const auto& clm = first_entry("837P 2300 CLM");
    for (const std::string& bad :
         {std::string("AB\rCD"), std::string("AB\nCD"),
          std::string("AB\x0B"
                      "CD"),
          std::string("AB\x1C"
                      "CD"),
          std::string("AB\0CD", 5), std::string("AB\x7F"), std::string("AB\xC3"),
          std::string("AB\xC0\xAF"), std::string("AB\xED\xA0\x80"),
          std::string("\x80"
                      "AB")}) {
      CAPTURE(bad);
      const auto found = check("CLM*" + bad + "*10***12:B:1*Y*A*Y*Y", clm);
      REQUIRE(found.size() == 1);
      CHECK(found[0].position == 1);
      CHECK(found[0].code == error::invalid_character);
      CHECK(ack_code(found[0].code) == "6");
    }
    // Well-formed UTF-8 beyond ASCII counts one character per code point.
    CHECK(check("CLM*M\xC3\xBCLLER\xE2\x82\xAC*10***12:B:1*Y*A*Y*Y", clm).empty());
    CHECK(valid_characters("plain ASCII ~!@#$%^&*()_+{}|:\"<>?`-=[]\\;',./"));
    CHECK_FALSE(valid_characters("tab\there"));
  }

  TEST_CASE("leniency switches note what they cover instead of rejecting it") {
    const auto& clm = first_entry("837P 2300 CLM");
    auto noted = [](const std::vector<element_finding>& found) {
      return !found.empty() &&
             std::none_of(found.begin(), found.end(), [](const auto& f) { return f.rejects; });
    };
    const std::string wrong_qualifier = "CLM*X1*10***12:A:1*Y*A*Y*Y";
    CHECK_FALSE(noted(check(wrong_qualifier, clm)));
    CHECK(noted(check(wrong_qualifier, clm, leniency::clm05)));
    CHECK(noted(check("CLM*X1*10***12:B*Y*A*Y*Y", clm, leniency::clm05)));
    const auto entries = entries_with({"HI", "DTP"});
    const auto hi = std::find_if(entries.begin(), entries.end(), [](const placed_entry& p) {
      return p.where.starts_with("837P 2300 HI");
    });
    CHECK_FALSE(noted(check("HI*BK*8901", *hi->entry)));
    CHECK(noted(check("HI*BK*8901", *hi->entry, leniency::hi_split)));
    const auto service = std::find_if(entries.begin(), entries.end(), [](const placed_entry& p) {
      return p.where.starts_with("837P 2400") && p.entry->qualifiers == "472";
    });
    CHECK_FALSE(noted(check("DTP*472*RD8*20260310", *service->entry)));
    CHECK(noted(check("DTP*472*RD8*20260310", *service->entry, leniency::rd8_single_date)));
  }
}
