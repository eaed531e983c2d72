#include "element_rules.hpp"

#include <algorithm>
#include <cstring>
#include <span>

#if defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "covgate/model/date.hpp"

namespace covgate::x12 {
namespace {

using dictionary::data_type;

bool is_digits(std::string_view text) noexcept {
  if (text.empty()) return false;
  for (const char c : text) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// True when no byte of `text` needs a closer look: printable ASCII only. Runs once per
// segment, 16 bytes a step with SSE2.
bool plain_ascii(std::string_view text) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
#if defined(__SSE2__)
  const __m128i space = _mm_set1_epi8(0x20);
  const __m128i del = _mm_set1_epi8(0x7F);
  for (; end - p >= 16; p += 16) {
    const __m128i block = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p));
    // Compared as signed bytes, 0x80..0xFF are negative: "below a blank" catches them too.
    const __m128i odd = _mm_or_si128(_mm_cmplt_epi8(block, space), _mm_cmpeq_epi8(block, del));
    if (_mm_movemask_epi8(odd) != 0) return false;
  }
#endif
  // The rest 8 bytes a step (most segments are short; a last partial step reads the final 8
  // bytes again): a byte b is printable when b + 0x60 sets its top bit while b + 1 and b do
  // not; the sums carry into the next byte only for b >= 0x80, which b's own top bit catches.
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t tops = 0x8080808080808080ULL;
  auto odd = [](std::uint64_t x) { return (((~(x + 0x60 * ones)) | (x + ones) | x) & tops) != 0; };
  std::uint64_t x = 0;
  for (; end - p >= 8; p += 8) {
    std::memcpy(&x, p, 8);
    if (odd(x)) return false;
  }
  if (p < end) {
    if (text.size() >= 8) {
      std::memcpy(&x, end - 8, 8);  // the last 8 bytes again, overlapping what was checked
      return !odd(x);
    }
    for (; p < end; ++p) {
      const auto byte = static_cast<unsigned char>(*p);
      if (byte < 0x20 || byte >= 0x7F) return false;
    }
  }
  return true;
}

// The digits of an X12 R value (optional minus, digits, one optional point), or 0 when `text`
// is not one. The sign and the point do not count toward its length.
std::size_t decimal_digits(std::string_view text) noexcept {
  if (!text.empty() && text.front() == '-') text.remove_prefix(1);
  std::size_t digits = 0;
  bool point = false;
  for (const char c : text) {
    if (c >= '0' && c <= '9') {
      ++digits;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return 0;
    }
  }
  return digits;
}

// Characters, not bytes: a UTF-8 sequence counts once (valid_characters has vouched for it).
std::size_t characters(std::string_view text) noexcept {
  return static_cast<std::size_t>(std::count_if(text.begin(), text.end(), [](char c) {
    return (static_cast<unsigned char>(c) & 0xC0) != 0x80;
  }));
}

bool valid_time(std::string_view value) noexcept {
  // HHMM, HHMMSS, HHMMSSD or HHMMSSDD.
  if (!is_digits(value) || value.size() < 4 || value.size() > 8 || value.size() == 5) return false;
  const int hours = (value[0] - '0') * 10 + (value[1] - '0');
  const int minutes = (value[2] - '0') * 10 + (value[3] - '0');
  if (hours > 23 || minutes > 59) return false;
  return value.size() < 6 || (value[4] - '0') * 10 + (value[5] - '0') <= 59;
}

// The kinds of date an element 1251 holds, by the format qualifier (1250) before it.
enum class date_check : std::uint8_t { ok, invalid, single_date_range };

date_check check_period(std::string_view qualifier, std::string_view value) noexcept {
  if (qualifier == "D8") {
    return value.size() == 8 && model::parse_ccyymmdd(value) ? date_check::ok : date_check::invalid;
  }
  if (qualifier == "RD8") {
    if (value.size() == 8 && model::parse_ccyymmdd(value)) return date_check::single_date_range;
    if (value.size() != 17 || value[8] != '-') return date_check::invalid;
    const auto from = model::parse_ccyymmdd(value.substr(0, 8));
    const auto to = model::parse_ccyymmdd(value.substr(9));
    return from && to && !(*to < *from) ? date_check::ok : date_check::invalid;
  }
  if (qualifier == "DT") {  // CCYYMMDDHHMM
    return value.size() == 12 && model::parse_ccyymmdd(value.substr(0, 8)) &&
                   valid_time(value.substr(8))
               ? date_check::ok
               : date_check::invalid;
  }
  if (qualifier == "TM") return valid_time(value) ? date_check::ok : date_check::invalid;
  return date_check::ok;  // an unknown qualifier is reported on the qualifier itself
}

constexpr schema::element_rule situational{'S', 0, {}, 0, 0};

struct checker {
  const segment& seg;
  const schema::compiled_spec& rules;
  leniency lenient;
  bool plain;  // the whole segment is printable ASCII: no character check per element
  std::vector<element_finding>& out;

  void report(std::uint32_t position, std::uint32_t component, std::uint16_t reference, error code,
              bool rejects = true) const {
    out.push_back({static_cast<std::uint8_t>(std::min<std::uint32_t>(position, 255)),
                   static_cast<std::uint8_t>(component), reference, code, rejects});
  }

  // One simple value (an element, or a component): type, length, characters, codes.
  void value(std::string_view v, const dictionary::element_def& def,
             const schema::element_rule& item, std::uint32_t position, std::uint32_t component,
             std::string_view previous) const {
    auto bad = [&](error code, bool rejects = true) {
      report(position, component, def.ref, code, rejects);
    };
    if (!plain && !valid_characters(v)) return bad(error::invalid_character);
    const std::size_t max = item.max ? item.max : def.max;
    switch (def.type) {
      case data_type::id:
        if (!item.codes.empty()) {
          if (!rules.allows(item, v)) bad(error::invalid_code_value);
          return;
        }
        [[fallthrough]];
      case data_type::an: {
        const auto length = plain ? v.size() : characters(v);
        if (length > max) return bad(error::element_too_long);
        if (length < def.min) return bad(error::element_too_short);
        if (!item.codes.empty() && !rules.allows(item, v)) {
          return bad(error::invalid_code_value);
        }
        if (def.ref == 1251) {
          switch (check_period(previous, v)) {
            case date_check::ok:
              break;
            case date_check::invalid:
              return bad(error::invalid_date);
            case date_check::single_date_range:
              return bad(error::invalid_date, !has(lenient, leniency::rd8_single_date));
          }
        }
        return;
      }
      case data_type::r: {
        const auto digits = decimal_digits(v);
        if (digits == 0) return bad(error::invalid_number);
        if (digits > max) return bad(error::element_too_long);
        if (digits < def.min) return bad(error::element_too_short);
        return;
      }
      case data_type::n0: {
        const auto digits = v.front() == '-' ? v.substr(1) : v;
        if (!is_digits(digits)) return bad(error::invalid_number);
        if (digits.size() > max) return bad(error::element_too_long);
        if (digits.size() < def.min) return bad(error::element_too_short);
        if (!item.codes.empty() && !rules.allows(item, v)) {
          return bad(error::invalid_code_value);
        }
        return;
      }
      case data_type::dt:
        if (v.size() != def.max || !model::parse_ccyymmdd(v)) bad(error::invalid_date);
        return;
      case data_type::tm:
        if (!valid_time(v)) bad(error::invalid_time);
        return;
    }
  }

  void composite(std::string_view v, const dictionary::composite_def& def,
                 std::span<const schema::element_rule> parts, std::uint32_t position) const {
    const char separator = seg.delims().component;
    // Components the spec does not detail are situational; past the detailed ones, N.
    const bool detailed = !parts.empty();
    std::string_view rest = v;
    bool exhausted = false;  // every component sent has been taken
    std::string_view previous;
    std::uint32_t index = 0;
    for (const auto& component_def : def.components) {
      ++index;
      std::string_view part;
      if (!exhausted) {
        const auto cut = rest.find(separator);
        part = rest.substr(0, cut);
        exhausted = cut == std::string_view::npos;
        rest.remove_prefix(exhausted ? rest.size() : cut + 1);
      }
      const schema::element_rule& spec = !detailed               ? situational
                                         : index <= parts.size() ? parts[index - 1]
                                                                 : schema::compiled_spec::not_used;
      if (part.empty()) {
        if (spec.usage == 'R') {
          report(position, index, component_def.ref, error::required_element_missing);
        }
      } else if (spec.usage == 'N') {
        report(position, index, component_def.ref, error::not_used_element_present);
      } else {
        value(part, component_def, spec, position, index, previous);
      }
      previous = part;
      if (exhausted && (!detailed || index >= parts.size())) return;
    }
    // A separator after the last component the composite has.
    if (!exhausted) report(position, index + 1, 0, error::too_many_components);
  }
};

// Leniency that covers a finding after the fact (the finding is kept, noted, not rejecting).
void apply_leniency(const segment& seg, leniency lenient, std::size_t first,
                    std::vector<element_finding>& out) {
  if (has(lenient, leniency::clm05) && seg.is("CLM")) {
    for (std::size_t i = first; i < out.size(); ++i) {
      if (out[i].position == 5 && (out[i].component == 2 || out[i].component == 3)) {
        out[i].rejects = false;
      }
    }
  }
  if (has(lenient, leniency::hi_split) && seg.is("HI")) {
    // An element with no component separator is the split shape (HI*BK*8901).
    for (std::size_t i = first; i < out.size(); ++i) {
      if (seg.element(out[i].position).find(seg.delims().component) == std::string_view::npos) {
        out[i].rejects = false;
      }
    }
  }
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

bool valid_characters(std::string_view text) noexcept {
  const auto* p = reinterpret_cast<const unsigned char*>(text.data());
  const auto* const end = p + text.size();
  while (p < end) {
    const unsigned char byte = *p;
    if (byte >= 0x20 && byte < 0x7F) {
      ++p;
      continue;
    }
    // UTF-8 beyond ASCII: a lead byte and its continuation bytes, shortest form only, no
    // surrogates, nothing past U+10FFFF.
    std::size_t length = 0;
    unsigned char low = 0x80;
    unsigned char high = 0xBF;
    if (byte >= 0xC2 && byte <= 0xDF) {
      length = 2;
    } else if (byte >= 0xE0 && byte <= 0xEF) {
      length = 3;
      if (byte == 0xE0) low = 0xA0;
      if (byte == 0xED) high = 0x9F;
    } else if (byte >= 0xF0 && byte <= 0xF4) {
      length = 4;
      if (byte == 0xF0) low = 0x90;
      if (byte == 0xF4) high = 0x8F;
    } else {
      return false;  // a control character, DEL, a stray continuation or an invalid lead
    }
    if (static_cast<std::size_t>(end - p) < length) return false;
    if (p[1] < low || p[1] > high) return false;
    for (std::size_t i = 2; i < length; ++i) {
      if (p[i] < 0x80 || p[i] > 0xBF) return false;
    }
    p += length;
  }
  return true;
}

void check_elements(const segment& seg, const schema::entry& entry, leniency lenient,
                    std::vector<element_finding>& out) {
  const auto& slots = entry.def->slots;
  const auto count = seg.element_count();
  const std::size_t first = out.size();
  const checker c{seg, entry.rules, lenient, plain_ascii(seg.text()), out};
  const auto& rules = entry.rules;
  const auto last =
      std::min<std::size_t>(slots.size(), std::max<std::size_t>(count, entry.last_required));
  for (std::uint32_t position = 1; position <= last; ++position) {
    const auto& plan = entry.elements_plan[position - 1];
    const auto v = position <= count ? seg.element(position) : std::string_view{};
    if (v.empty()) {
      if (entry.required_mask >> (position - 1) & 1) {
        // A required composite that is missing is reported at its first component.
        const auto& slot = slots[position - 1];
        const auto& first_def = slot.composite ? slot.composite->components.front() : slot.element;
        c.report(position, slot.composite ? 1 : 0, first_def.ref, error::required_element_missing);
      }
      continue;
    }
    // The common cases of plain ASCII, decided by the entry's plan: a free value, whose length
    // is all there is to check, and a code from the guide's list.
    if (plan.how == schema::element_check::length && c.plain) {
      if (v.size() > plan.max || v.size() < plan.min) {
        c.report(position, 0, slots[position - 1].element.ref,
                 v.size() > plan.max ? error::element_too_long : error::element_too_short);
      }
      continue;
    }
    if (plan.how == schema::element_check::code && c.plain) {
      if (!rules.allows(rules.at(position), v)) {
        c.report(position, 0, slots[position - 1].element.ref, error::invalid_code_value);
      }
      continue;
    }
    const auto& slot = slots[position - 1];
    if (plan.how == schema::element_check::not_used) {
      c.report(position, 0, slot.composite ? 0 : slot.element.ref, error::not_used_element_present);
    } else if (slot.composite) {
      c.composite(v, *slot.composite, rules.components_of(rules.at(position)), position);
    } else {
      // Only a date (1251) looks at the element before it (its format qualifier, 1250).
      c.value(v, slot.element, rules.at(position), position, 0,
              slot.element.ref == 1251 ? seg.element(position - 1) : std::string_view{});
    }
  }
  if (count > slots.size()) {
    c.report(static_cast<std::uint32_t>(slots.size()) + 1, 0, 0, error::too_many_elements);
  }
  if (out.size() > first) apply_leniency(seg, lenient, first, out);
}

}  // namespace covgate::x12
