#include "datatypes.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <optional>
#include <span>

#include "covgate/model/boundary.hpp"
#include "covgate/model/facts.hpp"

namespace covgate::fhir {
namespace {

enum class datatype : std::uint8_t {
  id,
  code,  // a token: no leading or trailing whitespace, not empty
  string,
  date,       // YYYY, YYYY-MM or YYYY-MM-DD
  date_time,  // a date, or a full date with a time and a zone
  instant,    // a full date with a time and a zone
  decimal,
  integer,
  boolean,
};

std::string_view name(datatype t) {
  switch (t) {
    case datatype::id:
      return "an id ([A-Za-z0-9-.], 1 to 64 characters)";
    case datatype::code:
      return "a code";
    case datatype::string:
      return "a string";
    case datatype::date:
      return "a date (YYYY, YYYY-MM or YYYY-MM-DD)";
    case datatype::date_time:
      return "a dateTime";
    case datatype::instant:
      return "an instant (date, time and zone)";
    case datatype::decimal:
      return "a decimal";
    case datatype::integer:
      return "an integer";
    case datatype::boolean:
      return "a boolean";
  }
  return "a primitive";
}

// An element covgate reads: its path below the resource, dot-separated (every step before the
// last may repeat), and its datatype.
struct typed_element {
  std::string_view path;
  datatype type;
};

constexpr typed_element every_resource[] = {
    {"id", datatype::id},
    {"meta.lastUpdated", datatype::instant},
};

constexpr typed_element observation[] = {
    {"status", datatype::code},
    {"effectiveDateTime", datatype::date_time},
    {"effectiveInstant", datatype::instant},
    {"effectivePeriod.start", datatype::date_time},
    {"effectivePeriod.end", datatype::date_time},
    {"issued", datatype::instant},
    {"subject.reference", datatype::string},
    {"specimen.reference", datatype::string},
    {"code.coding.system", datatype::string},
    {"code.coding.code", datatype::code},
    {"valueQuantity.value", datatype::decimal},
    {"valueQuantity.code", datatype::code},
    {"valueQuantity.unit", datatype::string},
    {"valueBoolean", datatype::boolean},
    {"valueInteger", datatype::integer},
    {"valueString", datatype::string},
    {"referenceRange.low.value", datatype::decimal},
    {"referenceRange.high.value", datatype::decimal},
    {"component.code.coding.system", datatype::string},
    {"component.code.coding.code", datatype::code},
    {"component.valueQuantity.value", datatype::decimal},
    {"component.referenceRange.low.value", datatype::decimal},
    {"component.referenceRange.high.value", datatype::decimal},
};

constexpr typed_element encounter[] = {
    {"status", datatype::code},
    {"class.code", datatype::code},
    {"period.start", datatype::date_time},
    {"period.end", datatype::date_time},
    {"subject.reference", datatype::string},
    {"participant.individual.reference", datatype::string},
};

constexpr typed_element patient[] = {
    {"birthDate", datatype::date},
    {"gender", datatype::code},
    {"identifier.system", datatype::string},
    {"identifier.value", datatype::string},
};

constexpr typed_element practitioner[] = {
    {"identifier.system", datatype::string},
    {"identifier.value", datatype::string},
    {"qualification.code.coding.code", datatype::code},
};

constexpr typed_element practitioner_role[] = {
    {"practitioner.reference", datatype::string},
    {"code.coding.code", datatype::code},
    {"specialty.coding.code", datatype::code},
};

constexpr typed_element condition[] = {
    {"recordedDate", datatype::date_time},      {"onsetDateTime", datatype::date_time},
    {"onsetPeriod.start", datatype::date_time}, {"subject.reference", datatype::string},
    {"code.coding.system", datatype::string},   {"code.coding.code", datatype::code},
};

// The types whose elements are checked, each with its table; a Bundle has only the elements of
// every resource. One list for the checks and for the trees the screen walks.
struct checked_type {
  std::string_view type;
  std::span<const typed_element> elements;
};
constexpr checked_type checked_types[] = {
    {"Observation", observation},
    {"Encounter", encounter},
    {"Patient", patient},
    {"Practitioner", practitioner},
    {"PractitionerRole", practitioner_role},
    {"Condition", condition},
    {"Bundle", {}},
};

// The index of `type` in checked_types, or nullopt for a type the rules do not read.
std::optional<std::size_t> checked_index(std::string_view type) {
  for (std::size_t i = 0; i < std::size(checked_types); ++i) {
    if (checked_types[i].type == type) return i;
  }
  return std::nullopt;
}

// A dateTime, or with `needs_time` an instant, parsed once for both.
bool date_time_valid(std::string_view text, bool needs_time) {
  const auto m = model::parse_fhir_datetime(text);
  if (!m) return false;
  if (!m->has_time) return !needs_time;
  // A time needs the full date and a zone.
  return text.size() > 10 && text.find('T') == 10 &&
         (text.back() == 'Z' || text[text.size() - 6] == '+' || text[text.size() - 6] == '-');
}

bool lexically_valid(std::string_view text, datatype type) {
  switch (type) {
    case datatype::id:
      return boundary::fhir_id(text);
    case datatype::code:
      // Not find_first_of: it calls memchr over the set for every character of the text.
      return !text.empty() && text.front() != ' ' && text.back() != ' ' &&
             std::none_of(text.begin(), text.end(),
                          [](char c) { return c == '\t' || c == '\r' || c == '\n'; });
    case datatype::string:
      return !text.empty();  // FHIR: a string has at least one character
    case datatype::date: {
      const auto m = model::parse_fhir_datetime(text);
      return m && !m->has_time;
    }
    case datatype::date_time:
      return date_time_valid(text, false);
    case datatype::instant:
      return date_time_valid(text, true);
    case datatype::decimal: {
      double v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      return !text.empty() && text.front() != '+' && ec == std::errc{} &&
             end == text.data() + text.size();
    }
    case datatype::integer: {
      std::int64_t v = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
      return !text.empty() && ec == std::errc{} && end == text.data() + text.size();
    }
    case datatype::boolean:
      return text == "true" || text == "false";
  }
  return false;
}

// Whether a JSON value of `actual` type may carry `type` (FHIR JSON: decimals and integers
// are numbers, booleans are true/false, everything else a string).
bool json_type_fits(element::json_type actual, datatype type) {
  using jt = element::json_type;
  switch (type) {
    case datatype::decimal:
      return actual == jt::number || actual == jt::integer;
    case datatype::integer:
      return actual == jt::integer;
    case datatype::boolean:
      return actual == jt::boolean;
    default:
      return actual == jt::string;
  }
}

// The steps from the resource down to the element being checked. Its FHIRPath is built only
// when an issue names it: the happy path (every element valid) allocates nothing.
struct path_step {
  std::string_view name;
  std::size_t index = 0;
  bool listed = false;  // a JSON array item: the path names its index
};
constexpr std::size_t max_depth = 8;  // deeper than any path in the tables above
using path_steps = std::array<path_step, max_depth>;

std::string path_of(const std::string& base, const path_steps& steps, std::size_t depth) {
  std::string out = base;
  for (std::size_t i = 0; i < depth; ++i) {
    out.append(".").append(steps[i].name);
    if (steps[i].listed) out.append("[").append(std::to_string(steps[i].index)).append("]");
  }
  return out;
}

// Whether one value (not a list) carries `type`: in JSON its primitive type, and the text of a
// string; in XML its text. Inlined into the screen, which asks it of nearly every value
// (with element::text() inlined too, reading a day's records 2.4 % fewer instructions).
[[gnu::always_inline]] inline bool value_fits(const element& value, datatype type) {
  if (value.is_json()) {
    const auto actual = value.primitive_type();
    if (!json_type_fits(actual, type)) return false;
    if (actual != element::json_type::string) return true;  // numbers and booleans are their type
  }
  const auto text = value.text();
  return text && lexically_valid(*text, type);
}

// `rest` is what is left of the element's path (`full`) below `parent`, which sits at `depth`
// steps below the resource (FHIRPath `base`).
void check(const element& parent, std::string_view rest, std::string_view full, datatype type,
           const std::string& base, path_steps& steps, std::size_t depth, std::vector<issue>& out) {
  const auto dot = rest.find('.');
  const auto step = rest.substr(0, dot);
  if (depth + 1 >= max_depth) return;
  if (dot != std::string_view::npos) {
    parent.for_each_member(step, [&](const element& item, std::size_t index, bool listed) {
      steps[depth] = {step, index, listed};
      check(item, rest.substr(dot + 1), full, type, base, steps, depth + 1, out);
    });
    return;
  }
  element first;
  bool listed = false;
  parent.for_each_member(step, [&](const element& item, std::size_t index, bool in_list) {
    if (index == 0) first = item;
    listed = in_list;
  });
  if (!first.exists()) return;
  steps[depth] = {step, 0, false};
  auto fail = [&](std::string message) {
    out.push_back(
        {severity::error, "invalid", std::move(message), path_of(base, steps, depth + 1)});
  };
  if (listed) return fail(std::string(full) + " must be a single value, not a list");
  if (!value_fits(first, type)) fail(std::string(full) + " must be " + std::string(name(type)));
}

// The elements checked in a resource of one type as a tree of their steps ("code.coding.code"
// is code → coding → code), so a JSON resource is screened in one walk over its members
// instead of one member lookup per step of every path (an Observation has 25 paths and few of
// their elements).
struct step_node {
  std::string_view name;
  std::optional<datatype> leaf;  // the element's datatype, when a path ends here
  std::vector<step_node> children;
};

step_node tree_of(std::span<const typed_element> elements) {
  step_node root;
  auto add = [&root](const typed_element& e) {
    step_node* at = &root;
    std::string_view rest = e.path;
    for (;;) {
      const auto dot = rest.find('.');
      const auto step = rest.substr(0, dot);
      auto it = std::find_if(at->children.begin(), at->children.end(),
                             [&](const step_node& n) { return n.name == step; });
      if (it == at->children.end()) it = at->children.insert(it, step_node{step, {}, {}});
      at = &*it;  // stays valid: only its own children grow from here on
      if (dot == std::string_view::npos) {
        at->leaf = e.type;
        return;
      }
      rest.remove_prefix(dot + 1);
    }
  };
  for (const auto& e : every_resource) add(e);
  for (const auto& e : elements) add(e);
  return root;
}

// The tree of checked_types[index], all built on first use (a thread-safe static: serve reads
// on several threads).
const step_node& tree_of_type(std::size_t index) {
  static const auto trees = [] {
    std::vector<step_node> out;
    for (const auto& t : checked_types) out.push_back(tree_of(t.elements));
    return out;
  }();
  return trees[index];
}

bool screen(const element& object, const step_node& node);

// Whether a member's `value` passes every check below `node`: a single value of its datatype
// where a path ends (an empty JSON list counts as absent, as in check()), and every item of a
// list where a path goes on. Recursion as deep as the tree (4 steps), not as the input.
bool screen_member(const element& value, const step_node& node) {
  if (node.leaf) {
    if (value.is_empty_json_array()) return true;
    if (value.is_json_array() || !value_fits(value, *node.leaf)) return false;
  }
  if (node.children.empty()) return true;
  if (!value.is_json_array()) return screen(value, node);
  bool fits = true;
  value.for_each_json_item([&](const element& item) { fits = fits && screen(item, node); });
  return fits;
}

// True when no check of check_datatypes() would name anything in the JSON `object` below
// `node`. It may answer false where the checks find nothing (a repeated member is screened
// each time, though only its first counts), never true where they would name something: a
// false only sends the resource through the checks that name the issues.
bool screen(const element& object, const step_node& node) {
  bool fits = true;
  object.for_each_json_member([&](std::string_view member, const element& value) {
    if (!fits) return;
    for (const auto& child : node.children) {
      if (child.name == member) {
        fits = screen_member(value, child);
        return;
      }
    }
  });
  return fits;
}

}  // namespace

void check_datatypes(const element& resource, std::string_view type, const std::string& path,
                     std::vector<issue>& out) {
  const auto index = checked_index(type);
  if (!index) return;  // a type the rules do not read
  // Nearly every resource is valid: one walk says so. Only one that may not be goes through the
  // checks below, which name each issue by its path, in the order of the tables.
  if (resource.is_json() && screen(resource, tree_of_type(*index))) return;
  const auto elements = checked_types[*index].elements;
  path_steps steps;
  for (const auto& e : every_resource) check(resource, e.path, e.path, e.type, path, steps, 0, out);
  for (const auto& e : elements) check(resource, e.path, e.path, e.type, path, steps, 0, out);
}

}  // namespace covgate::fhir
