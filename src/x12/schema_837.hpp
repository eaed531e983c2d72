// The 837P (005010X222A1) and 837I (005010X223A2) guides as data: which segments each loop
// holds, in which order, how often, which loops nest in it, and for every segment position the
// guide's usage (required, situational, not used) and code list of each of its elements. The
// X12 base definitions (data types, lengths, composites) are in dictionary_5010.hpp; the
// walker (claim_walker.cpp) places segments with this data and element_rules.cpp checks their
// elements against it. Drawn from the public structure of the guides (stupidedi's and pyx12's
// X222A1/X223A2 definitions list the same loops, segments and codes).
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "covgate/x12/segment.hpp"
#include "dictionary_5010.hpp"

namespace covgate::x12::schema {

/// The loops the claim mapper needs to tell apart; every other loop is `other`.
enum class loop : std::uint8_t {
  header,
  submitter_1000a,
  receiver_1000b,
  billing_2000a,
  billing_provider_2010aa,
  subscriber_2000b,
  subscriber_name_2010ba,
  payer_2010bb,
  patient_2000c,
  patient_name_2010ca,
  claim_2300,
  attending_2310a,  ///< 837I 2310A
  rendering_2310,   ///< 837P 2310B, 837I 2310D
  line_2400,
  line_rendering_2420,  ///< 837P 2420A, 837I 2420C
  ordering_2420e,       ///< 837P 2420E
  other,
};

struct loop_def;

/// The most entries one loop may have; the walker keeps a counter per entry in a fixed array.
inline constexpr std::size_t max_loop_entries = 64;

/// An element specification: the guide's usage and codes for each element of one segment
/// position, elements separated by '|' (element 1 first; elements past the last listed are
/// Not Used). Each element is a usage letter, R (required), S (situational) or N (not used),
/// optionally followed by ':' and its comma-separated code list, '#' and a maximum length
/// narrower than the dictionary's, and for a composite '(' its components separated by ';' ')'.
/// An empty element means N. E.g. NM1 of 2010AB: "R:87|R:1,2" (NM103..NM112 not used).
using element_spec = std::string_view;

/// One element of an element spec, taken apart.
struct spec_item {
  char usage = 'N';             ///< 'R', 'S' or 'N'
  std::string_view codes;       ///< comma-separated, or "" (any value of its type)
  std::uint16_t max = 0;        ///< a narrower maximum length, or 0
  std::string_view components;  ///< a composite's component specs, ';'-separated, or ""
};

/// Walks an element spec element by element (or a composite's components, separator ';').
/// An item may end in '*' and a count: it stands for that many elements in a row
/// ("S(R:ABF,BF;R)*11" is eleven situational diagnosis composites). Past the end, every
/// element is N.
class spec_cursor {
 public:
  constexpr explicit spec_cursor(std::string_view spec, char separator = '|') noexcept
      : rest_(spec), separator_(separator) {}

  constexpr spec_item next() noexcept {
    repeated_ = repeats_ > 0;
    if (repeats_ > 0) {
      --repeats_;
      return current_;
    }
    if (rest_.empty()) return {};
    // One pass over the item (this runs for every element of every segment read).
    const char* q = rest_.data();
    const char* const end = q + rest_.size();
    auto stop = [&](char c) { return c == separator_ || c == '#' || c == '(' || c == '*'; };
    spec_item out;
    if (q < end && *q != separator_) out.usage = *q++;
    if (q < end && *q == ':') {
      const char* codes = ++q;
      while (q < end && !stop(*q)) ++q;
      out.codes = std::string_view(codes, static_cast<std::size_t>(q - codes));
    }
    if (q < end && *q == '#') {
      unsigned max = 0;
      for (++q; q < end && *q >= '0' && *q <= '9'; ++q) {
        max = max * 10 + static_cast<unsigned>(*q - '0');
      }
      out.max = static_cast<std::uint16_t>(max);
    }
    if (q < end && *q == '(') {
      const char* components = ++q;
      while (q < end && *q != ')') ++q;
      out.components = std::string_view(components, static_cast<std::size_t>(q - components));
      if (q < end) ++q;
    }
    unsigned count = 1;
    if (q < end && *q == '*') {
      count = 0;
      for (++q; q < end && *q >= '0' && *q <= '9'; ++q) {
        count = count * 10 + static_cast<unsigned>(*q - '0');
      }
    }
    while (q < end && *q != separator_) ++q;
    rest_ = q < end ? std::string_view(q + 1, static_cast<std::size_t>(end - q - 1))
                    : std::string_view{};
    repeats_ = count > 0 ? count - 1 : 0;
    current_ = out;
    return out;
  }

  /// True when the last next() repeated the item before it (a '*' count).
  [[nodiscard]] constexpr bool repeated() const noexcept { return repeated_; }

  /// True when every element still to come is N (the spec is used up).
  [[nodiscard]] constexpr bool done() const noexcept { return repeats_ == 0 && rest_.empty(); }

 private:
  std::string_view rest_;
  char separator_;
  spec_item current_{};
  unsigned repeats_ = 0;
  bool repeated_ = false;
};

/// The codes an element spec lists for element `position` (1-based), component `component`
/// (1-based; 0 for a simple element), or "" when it lists none.
constexpr std::string_view codes_at(element_spec spec, std::size_t position,
                                    std::size_t component = 0) noexcept {
  spec_cursor elements(spec);
  spec_item item;
  for (std::size_t p = 1; p <= position; ++p) item = elements.next();
  if (component == 0) return item.codes;
  spec_cursor components(item.components, ';');
  spec_item part;
  for (std::size_t c = 1; c <= component; ++c) part = components.next();
  return part.codes;
}

static_assert(codes_at("R:87|R:1,2", 2) == "1,2");
static_assert(codes_at("R(R:ABK,BK;R)|S(R:ABF,BF;R)*11", 12, 1) == "ABF,BF");
static_assert(codes_at("R(R:ABK,BK;R)|S(R:ABF,BF;R)*11", 13, 1).empty());
static_assert(codes_at("R#20|R|N", 1).empty());

/// One element (or component) of an element spec, compiled: what the reader checks.
struct element_rule {
  char usage = 'N';
  std::uint16_t max = 0;  ///< a narrower maximum length, or 0
  std::string_view codes;
  std::uint16_t first_component = 0;  ///< where its components start in compiled_spec
  std::uint8_t components = 0;        ///< how many; 0 when the spec details none (all S)
  std::uint16_t first_code = 0;       ///< where its codes start in compiled_spec::code_keys
  std::uint8_t code_count = 0;        ///< how many codes it lists (0: any value)
};

/// A code of at most four characters packed into an integer ("ABK" -> 0x41424B), so a code
/// list is checked with integer compares; 0 for "" and for longer text (no code is longer).
constexpr std::uint32_t code_key(std::string_view code) noexcept {
  // A leading NUL would pack like the code without it ("\0EI" like "EI"): no code has one.
  if (code.empty() || code[0] == '\0') return 0;
  // One case per length, not a loop: this runs for every coded element read.
  const auto byte = [&](std::size_t i) -> std::uint32_t {
    return static_cast<unsigned char>(code[i]);
  };
  switch (code.size()) {
    case 1:
      return byte(0);
    case 2:
      return byte(0) << 8 | byte(1);
    case 3:
      return byte(0) << 16 | byte(1) << 8 | byte(2);
    case 4:
      return byte(0) << 24 | byte(1) << 16 | byte(2) << 8 | byte(3);
    default:
      return 0;
  }
}

static_assert(code_key(std::string_view("\0EI", 3)) == 0);
static_assert(code_key("ABK") == 0x41424B && code_key("") == 0 && code_key("ABCDE") == 0 &&
              code_key("1") == 0x31 && code_key("D8") == 0x4438 && code_key("ABCD") == 0x41424344);

/// True when `value` is one of the codes whose code_keys are `keys`.
constexpr bool listed(std::span<const std::uint32_t> keys, std::string_view value) noexcept {
  const auto key = code_key(value);
  for (const auto k : keys) {
    if (k == key) return key != 0;
  }
  return false;
}

// A value is one code of the list or none: not a run of them ("EI,SY", which the text lists
// once matched), nor a code behind NUL bytes.
static_assert([] {
  constexpr std::array<std::uint32_t, 2> keys{code_key("EI"), code_key("SY")};
  return listed(keys, "SY") && !listed(keys, "EI,SY") && !listed(keys, "") &&
         !listed(keys, std::string_view("\0EI", 3)) && !listed(keys, "EIS");
}());

/// An element spec compiled at build time: its elements (repeat counts expanded) and the
/// components of its composites, so reading a segment never parses a spec.
struct compiled_spec {
  std::span<const element_rule> elements;
  std::span<const element_rule> components;
  std::span<const std::uint32_t> code_keys;  ///< code_key of every code listed
  /// True when `value` is one of the codes `rule` lists.
  [[nodiscard]] constexpr bool allows(const element_rule& rule,
                                      std::string_view value) const noexcept {
    return listed(codes_of(rule), value);
  }
  /// The code_keys of the codes `rule` lists.
  [[nodiscard]] constexpr std::span<const std::uint32_t> codes_of(
      const element_rule& rule) const noexcept {
    return code_keys.subspan(rule.first_code, rule.code_count);
  }
  /// Element `position` (1-based); N past the listed ones.
  [[nodiscard]] constexpr const element_rule& at(std::size_t position) const noexcept {
    return position <= elements.size() ? elements[position - 1] : not_used;
  }
  static constexpr element_rule not_used{};
  /// The component rules of `e` (empty when the spec details none).
  [[nodiscard]] constexpr std::span<const element_rule> components_of(
      const element_rule& e) const noexcept {
    return components.subspan(e.first_component, e.components);
  }
};

/// An element spec as a template argument (a string literal with static storage).
template <std::size_t N>
struct spec_text {
  char text[N]{};
  constexpr spec_text(const char (&s)[N]) {  // NOLINT: implicit from a literal on purpose
    for (std::size_t i = 0; i < N; ++i) text[i] = s[i];
  }
  [[nodiscard]] constexpr std::string_view view() const { return {text, N - 1}; }
};

namespace detail {

// Walks a spec's elements, telling each repeat of an element from a new element.
template <class Visit>
constexpr void each_element(std::string_view spec, Visit visit) {
  spec_cursor items(spec);
  while (!items.done()) {
    const auto item = items.next();
    visit(item, items.repeated());
  }
}

constexpr std::size_t element_count(std::string_view spec) {
  std::size_t n = 0;
  each_element(spec, [&](const spec_item&, bool) { ++n; });
  return n;
}

constexpr std::size_t codes_in(std::string_view codes) {
  if (codes.empty()) return 0;
  std::size_t n = 1;
  for (const char c : codes) n += c == ',' ? 1 : 0;
  return n;
}

// Every code the spec lists (an element repeated by a count lists its codes once).
constexpr std::size_t code_count(std::string_view spec) {
  std::size_t n = 0;
  each_element(spec, [&](const spec_item& item, bool repeat) {
    if (repeat) return;
    n += codes_in(item.codes);
    spec_cursor parts(item.components, ';');
    while (!parts.done()) n += codes_in(parts.next().codes);
  });
  return n;
}

constexpr std::size_t component_count(std::string_view spec) {
  std::size_t n = 0;
  each_element(spec, [&](const spec_item& item, bool repeat) {
    if (repeat || item.components.empty()) return;
    spec_cursor parts(item.components, ';');
    while (!parts.done()) {
      parts.next();
      ++n;
    }
  });
  return n;
}

}  // namespace detail

/// The compiled form of spec `S`, one per distinct spec (static storage).
template <spec_text S>
struct compiled {
  static constexpr std::size_t element_n = detail::element_count(S.view());
  static constexpr std::size_t component_n = detail::component_count(S.view());
  static constexpr std::size_t code_n = detail::code_count(S.view());
  struct tables {
    std::array<element_rule, element_n> elements{};
    std::array<element_rule, component_n> components{};
    std::array<std::uint32_t, code_n> codes{};
  };
  static constexpr tables build() {
    tables t;
    std::size_t e = 0;
    std::size_t c = 0;
    std::size_t k = 0;
    auto rule_of = [&](const spec_item& item) {
      element_rule rule{item.usage, item.max, item.codes, 0, 0, static_cast<std::uint16_t>(k), 0};
      // Plain loops, not string_view::find: some compilers cannot evaluate that at compile
      // time on a template argument's text (GCC 12 with -fsanitize=undefined).
      const std::string_view codes = item.codes;
      std::size_t from = 0;
      for (std::size_t i = 0; !codes.empty() && i <= codes.size(); ++i) {
        if (i < codes.size() && codes[i] != ',') continue;
        if (i - from > 4) throw "a code longer than four characters";  // a compile error
        t.codes[k++] = code_key(codes.substr(from, i - from));
        from = i + 1;
      }
      rule.code_count = static_cast<std::uint8_t>(k - rule.first_code);
      return rule;
    };
    element_rule last{};
    detail::each_element(S.view(), [&](const spec_item& item, bool repeat) {
      if (repeat) {
        t.elements[e++] = last;
        return;
      }
      auto rule = rule_of(item);
      if (!item.components.empty()) {
        rule.first_component = static_cast<std::uint16_t>(c);
        spec_cursor parts(item.components, ';');
        while (!parts.done()) t.components[c++] = rule_of(parts.next());
        rule.components = static_cast<std::uint8_t>(c - rule.first_component);
      }
      last = rule;
      t.elements[e++] = rule;
    });
    return t;
  }
  static constexpr tables table = build();
  static constexpr compiled_spec spec{table.elements, table.components, table.codes};
};

/// How check_elements reads an element of one segment position, decided when the schema is
/// built from the guide's rule and the dictionary's definition, so reading a segment branches
/// once per element instead of deriving it again.
enum class element_check : std::uint8_t {
  not_used,  ///< the guide says N: a value sent is an error
  length,    ///< a free AN value (or an ID without a code list): in plain ASCII, its length
  code,      ///< an ID from the guide's code list
  full,      ///< the rest (composites, dates, numbers, times): element_rules' whole check
};

/// One element position's check (see element_check), with what the length check needs, in
/// four bytes.
struct element_plan {
  element_check how = element_check::not_used;
  std::uint8_t min = 0;
  std::uint16_t max = 0;  ///< the guide's narrower maximum, else the dictionary's
};

/// The most elements a segment of the 837 dictionary has (LIN has 31).
inline constexpr std::size_t max_segment_elements = 31;

/// The plan of every element position of a segment placed with `rules` ([0] is element 1).
constexpr std::array<element_plan, max_segment_elements> plan_elements(
    const dictionary::segment_def& def, const compiled_spec& rules) {
  if (def.slots.size() > max_segment_elements) throw "a segment longer than max_segment_elements";
  std::array<element_plan, max_segment_elements> plan{};
  for (std::size_t p = 1; p <= def.slots.size(); ++p) {
    const auto& rule = rules.at(p);
    const auto& slot = def.slots[p - 1];
    auto& out = plan[p - 1];
    if (rule.usage == 'N') continue;  // not_used
    if (slot.is_composite) {
      out.how = element_check::full;
      continue;
    }
    const auto& element = slot.element;
    if (element.min > 255) throw "a minimum length past a byte";
    out.min = static_cast<std::uint8_t>(element.min);
    out.max = rule.max ? rule.max : element.max;
    const bool free_text =
        element.type == dictionary::data_type::an || element.type == dictionary::data_type::id;
    if (element.type == dictionary::data_type::id && rule.code_count) {
      out.how = element_check::code;
    } else if (free_text && rule.codes.empty() && element.ref != 1251) {
      out.how = element_check::length;  // 1251, a date or a period, depends on its qualifier
    } else {
      out.how = element_check::full;
    }
  }
  return plan;
}

/// Bit p - 1 set when element p is required.
constexpr std::uint32_t required_elements(const dictionary::segment_def& def,
                                          const compiled_spec& rules) {
  std::uint32_t mask = 0;
  for (std::size_t p = 1; p <= def.slots.size(); ++p) {
    if (rules.at(p).usage == 'R') mask |= std::uint32_t{1} << (p - 1);
  }
  return mask;
}

/// How an entry tells its segment from others with the same id.
enum class match : std::uint8_t {
  any,        ///< any segment with the id
  qualifier,  ///< only when element 1 (component 1 of a composite) holds one of its codes
  level,      ///< HL: only when HL03 holds its code
};

/// One position in a loop: a segment, or a nested loop whose first segment is `id`.
struct entry {
  constexpr entry() = default;
  constexpr entry(std::string_view id_in, bool required_in, std::uint16_t max_in,
                  const compiled_spec& rules_in, element_spec elements_in,
                  const loop_def* child_in = nullptr, match how = match::any)
      : id(id_in),
        key(segment_key(id_in)),
        qualifier_element(how == match::level ? 3 : 1),
        required(required_in),
        max(max_in),
        child(child_in),
        rules(rules_in),
        elements(elements_in),
        def(dictionary::find(id_in)) {
    if (how != match::any) {
      qualifier_component = def->slots[qualifier_element - 1].is_composite ? 1 : 0;
      // No pointer tested against null here: GCC 12 under -fsanitize=undefined will not
      // compare a constant's address with null at compile time.
      const auto& rule = rules.at(qualifier_element);
      if (!qualifier_component) {
        qualifiers = rule.codes;
        qualifier_keys = rules.codes_of(rule);
      } else if (rule.components) {
        const auto& first = rules.components_of(rule)[0];
        qualifiers = first.codes;
        qualifier_keys = rules.codes_of(first);
      }
    }
    if (how == match::qualifier && !def->slots[1].is_composite) {
      secondary = rules.at(2).codes;
      secondary_keys = rules.codes_of(rules.at(2));
    }
    for (std::size_t p = 1; p <= rules.elements.size() && p <= def->slots.size(); ++p) {
      if (rules.at(p).usage == 'R') last_required = static_cast<std::uint8_t>(p);
    }
    elements_plan = plan_elements(*def, rules);
    required_mask = required_elements(*def, rules);
  }

  std::string_view id;
  std::uint32_t key = 0;        ///< segment_key(id)
  std::string_view qualifiers;  ///< codes the qualifier element must hold, or "" (any)
  std::uint8_t qualifier_element = 1;
  std::uint8_t qualifier_component = 0;  ///< 0: the whole element
  /// The codes of element 2, preferred when several entries of a run take the qualifier
  /// (PWK*CT is a supplemental report with PWK02 AA, BM…, or a DME certificate indicator
  /// with AB, AD…), or "".
  std::string_view secondary;
  std::span<const std::uint32_t> qualifier_keys;  ///< the qualifiers as code_key values
  std::span<const std::uint32_t> secondary_keys;  ///< the secondary codes as code_key values
  bool required = false;
  std::uint16_t max = 1;                         ///< 0 = no limit
  const loop_def* child = nullptr;               ///< set when this entry starts a nested loop
  compiled_spec rules;                           ///< the guide's usage and codes, compiled
  element_spec elements;                         ///< the same as written (element spec grammar)
  const dictionary::segment_def* def = nullptr;  ///< the X12 base definition
  /// The first entry of the run of consecutive entries with this id: the guides list
  /// segments (and loops) that share one position of the standard, such as the DTPs of a
  /// claim, one after another, but senders may send them in any order.
  std::uint8_t group_first = 0;
  /// The last element the guide requires: past it, elements not sent need no look.
  std::uint8_t last_required = 0;
  /// The first required entry at or after this one in its loop (the loop's size when none),
  /// so a check for missing entries visits the required ones only.
  std::uint8_t next_required = 0;
  /// Bit p - 1 set when the guide requires element p.
  std::uint32_t required_mask = 0;
  /// How each element position is checked ([0] is element 1), from `rules` and `def`.
  std::array<element_plan, max_segment_elements> elements_plan{};
};

/// A loop's entries, and their segment keys again side by side: placing a segment scans the
/// keys of its loop's entries, 4 bytes each, where the entries are some 300.
template <std::size_t N>
struct loop_body {
  std::array<entry, N> entries;
  std::array<std::uint32_t, N> keys;
};

struct loop_def {
  template <std::size_t N>
  constexpr loop_def(loop role_in, std::string_view name_in, const loop_body<N>& body) noexcept
      : role(role_in), name(name_in), entries(body.entries), keys(body.keys) {}

  loop role;
  std::string_view name;                ///< as the guide names it (2010AA…), "" for the header
  std::span<const entry> entries;       ///< entries[0] is the loop's own first segment
  std::span<const std::uint32_t> keys;  ///< entries[i].key at i
};

/// The root loop (ST..SE) of each guide.
const loop_def& professional_root() noexcept;
const loop_def& institutional_root() noexcept;

/// The loop id element 447 (IK303, AN 1-4) carries: the X12 transaction set diagram's loop
/// id, which the guides' names extend with letters (2010AA is an implementation of loop 2010).
constexpr std::string_view base_loop_id(std::string_view name) noexcept {
  return name.substr(0, 4);
}

/// True when `qualifiers` (comma-separated) contains `value`.
constexpr bool in_list(std::string_view qualifiers, std::string_view value) noexcept {
  // A plain loop: code lists are short, and this runs for most elements read.
  const std::size_t n = qualifiers.size();
  const std::size_t m = value.size();
  std::size_t i = 0;
  while (i < n) {
    std::size_t j = 0;
    while (j < m && i + j < n && qualifiers[i + j] == value[j]) ++j;
    if (j == m && (i + j == n || qualifiers[i + j] == ',')) return true;
    while (i < n && qualifiers[i] != ',') ++i;
    ++i;
  }
  return false;
}

static_assert(in_list("AB,CD,E", "CD") && in_list("AB,CD,E", "E") && !in_list("AB,CD", "C") &&
              !in_list("AB,CD", "ABC") && !in_list("", "") && !in_list("A,B", ""));

}  // namespace covgate::x12::schema
