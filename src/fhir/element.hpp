// One read-only view over a FHIR element in either encoding, so each resource is mapped once:
// JSON (a place on simdjson's tape, json_tape.hpp; or a RapidJSON value, for texts over 4 MiB
// and the few simdjson refuses: reader.cpp read_json_document) or XML (a pugixml node,
// primitives in @value, repeats as siblings).
#pragma once

#include <rapidjson/document.h>

#include <charconv>
#include <cstdint>
#include <cstring>
#include <optional>
#include <pugixml.hpp>
#include <string>
#include <string_view>
#include <vector>

#include "json_tape.hpp"

namespace covgate::fhir {

class element {
 public:
  element() = default;
  explicit element(const rapidjson::Value* json)
      : source_(json ? source::rapidjson : source::none) {
    node_.json = json;
  }
  explicit element(json_tape parsed) : at_(parsed.at()), source_(source::tape) {
    node_.tape = parsed.document();
  }
  explicit element(pugi::xml_node xml) : source_(xml ? source::xml : source::none) {
    node_.xml = xml.internal_object();
  }

  [[nodiscard]] bool exists() const noexcept { return is_json() || bool(xml()); }
  [[nodiscard]] bool is_json() const noexcept {
    return source_ == source::tape || source_ == source::rapidjson;
  }

  /// The resource type: JSON "resourceType", XML the element name.
  [[nodiscard]] std::string_view resource_type() const {
    if (on_tape()) {
      json_tape type;
      return parsed_member("resourceType", type) && type.is(json_tape::kind::string) ? type.text()
                                                                                     : "";
    }
    if (json()) {
      if (!json()->IsObject()) return {};
      const auto it = find_member("resourceType");
      return it != json()->MemberEnd() && it->value.IsString() ? view(it->value) : "";
    }
    return xml() ? std::string_view{xml().name()} : std::string_view{};
  }

  /// The first child called `name` (for a JSON array, its first item). No allocation: this
  /// is the lookup every mapped element goes through. It, string(), and the tape's member walk
  /// under them are inlined into each caller on purpose: GCC had made them calls, and then each
  /// lookup paid the call and lost its name's constant length (reading a day's records 4 %
  /// fewer instructions inlined, callgrind).
  [[nodiscard, gnu::always_inline]] element child(std::string_view name) const {
    if (on_tape()) {
      json_tape value;
      if (!parsed_member(name, value)) return {};
      if (!value.is(json_tape::kind::array)) return element(value);
      json_tape first;
      return value.first_item(first) ? element(first) : element{};
    }
    if (json()) {
      if (!json()->IsObject()) return {};
      const auto it = find_member(name);
      if (it == json()->MemberEnd()) return {};
      if (!it->value.IsArray()) return element(&it->value);
      return it->value.Empty() ? element{} : element(&it->value[0]);
    }
    for (auto c = xml().first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element && name == c.name()) return element(c);
    }
    return {};
  }

  /// Every child called `name`: the items of a JSON array, or XML siblings of that name.
  [[nodiscard]] std::vector<element> children(std::string_view name) const {
    std::vector<element> out;
    if (on_tape()) {
      for_each_member(name,
                      [&out](const element& item, std::size_t, bool) { out.push_back(item); });
    } else if (json()) {
      if (!json()->IsObject()) return out;
      const auto it = find_member(name);
      if (it == json()->MemberEnd()) return out;
      if (it->value.IsArray()) {
        for (const auto& item : it->value.GetArray()) out.emplace_back(&item);
      } else {
        out.emplace_back(&it->value);
      }
    } else if (xml()) {
      for (auto c = xml().first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && name == c.name()) out.emplace_back(c);
      }
    }
    return out;
  }

  /// Calls `visit(item, index, listed)` for every child called `name`, as children() lists
  /// them, without building a list; `listed` is true for the items of a JSON array.
  template <class Visit>
  void for_each_member(std::string_view name, Visit&& visit) const {
    if (on_tape()) {
      json_tape value;
      if (!parsed_member(name, value)) return;
      if (!value.is(json_tape::kind::array)) return visit(element(value), std::size_t{0}, false);
      std::size_t index = 0;
      value.for_each_item([&](const json_tape& item) { visit(element(item), index++, true); });
    } else if (json()) {
      if (!json()->IsObject()) return;
      const auto it = find_member(name);
      if (it == json()->MemberEnd()) return;
      if (!it->value.IsArray()) return visit(element(&it->value), std::size_t{0}, false);
      std::size_t index = 0;
      for (const auto& item : it->value.GetArray()) visit(element(&item), index++, true);
    } else if (xml()) {
      std::size_t index = 0;
      for (auto c = xml().first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && name == c.name()) visit(element(c), index++, false);
      }
    }
  }

  /// Calls `visit(name, value)` for every member of a JSON object, in document order, so a
  /// caller that wants many members finds them in one pass. Nothing for XML or a non-object.
  template <class Visit>
  void for_each_json_member(Visit&& visit) const {
    if (on_tape()) {
      if (!tape().is(json_tape::kind::object)) return;
      tape().for_each_member(
          [&](std::string_view name, const json_tape& value) { visit(name, element(value)); });
      return;
    }
    if (!json() || !json()->IsObject()) return;
    for (const auto& m : json()->GetObject()) visit(view(m.name), element(&m.value));
  }

  /// Calls `visit(item)` for each item of this JSON array. Nothing otherwise.
  template <class Visit>
  void for_each_json_item(Visit&& visit) const {
    if (on_tape()) {
      if (!tape().is(json_tape::kind::array)) return;
      tape().for_each_item([&](const json_tape& item) { visit(element(item)); });
      return;
    }
    if (!json() || !json()->IsArray()) return;
    for (const auto& item : json()->GetArray()) visit(element(&item));
  }

  [[nodiscard]] bool is_json_array() const noexcept {
    if (on_tape()) return tape().is(json_tape::kind::array);
    return json() && json()->IsArray();
  }
  [[nodiscard]] bool is_empty_json_array() const noexcept {
    if (on_tape()) {
      json_tape first;
      return tape().is(json_tape::kind::array) && !tape().first_item(first);
    }
    return json() && json()->IsArray() && json()->Empty();
  }

  /// The resources held in `name` (Bundle.entry.resource, contained): JSON objects, or in XML
  /// the single element inside each `name` wrapper.
  [[nodiscard]] std::vector<element> resources(std::string_view name) const {
    auto out = children(name);
    if (!is_json()) {
      for (auto& e : out)
        e = element(e.xml().first_child().type() == pugi::node_element
                        ? e.xml().first_child()
                        : e.xml().find_child(
                              [](pugi::xml_node n) { return n.type() == pugi::node_element; }));
    }
    return out;
  }

  /// A primitive child as text; nullopt when absent or (JSON) not a string.
  [[nodiscard, gnu::always_inline]] std::optional<std::string_view> string(
      std::string_view name) const {
    const auto e = child(name);
    return e.text();
  }

  /// This element as a primitive string.
  [[nodiscard, gnu::always_inline]] std::optional<std::string_view> text() const {
    if (on_tape()) {
      if (tape().is(json_tape::kind::string)) return tape().text();
      return std::nullopt;
    }
    if (json()) {
      if (json()->IsString()) return view(*json());
      return std::nullopt;
    }
    if (!xml()) return std::nullopt;
    const auto value = xml().attribute("value");
    if (!value) return std::nullopt;
    return std::string_view{value.value()};
  }

  /// A primitive child as a number (JSON number or decimal text in XML).
  [[nodiscard]] std::optional<double> number(std::string_view name) const {
    const auto e = child(name);
    if (e.on_tape()) {
      if (e.tape().is_number()) return e.tape().number();
      return std::nullopt;
    }
    if (e.json()) {
      if (e.json()->IsNumber()) return e.json()->GetDouble();
      return std::nullopt;
    }
    const auto t = e.text();
    if (!t || t->empty()) return std::nullopt;
    double v = 0;
    const auto [end, ec] = std::from_chars(t->data(), t->data() + t->size(), v);
    if (ec != std::errc{} || end != t->data() + t->size()) return std::nullopt;
    return v;
  }

  /// A primitive child as a boolean.
  [[nodiscard]] std::optional<bool> boolean(std::string_view name) const {
    const auto e = child(name);
    if (e.on_tape()) {
      if (e.tape().is(json_tape::kind::true_value)) return true;
      if (e.tape().is(json_tape::kind::false_value)) return false;
      return std::nullopt;
    }
    if (e.json()) {
      if (e.json()->IsBool()) return e.json()->GetBool();
      return std::nullopt;
    }
    const auto t = e.text();
    if (t == "true") return true;
    if (t == "false") return false;
    return std::nullopt;
  }

  [[nodiscard]] bool is_object() const noexcept {
    if (on_tape()) return tape().is(json_tape::kind::object);
    return json() ? json()->IsObject() : bool(xml());
  }

  /// The members called `name` as they are, for checking datatypes: a JSON array gives its
  /// items with `listed` set (a singular element sent as a list is an error the caller names);
  /// XML gives the siblings of that name.
  struct member_items {
    std::vector<element> items;
    bool listed = false;
  };
  [[nodiscard]] member_items members(std::string_view name) const {
    member_items out;
    out.items = children(name);
    if (on_tape()) {
      json_tape value;
      out.listed = parsed_member(name, value) && value.is(json_tape::kind::array);
    } else if (json() && json()->IsObject()) {
      const auto it = find_member(name);
      out.listed = it != json()->MemberEnd() && it->value.IsArray();
    }
    return out;
  }

  /// The JSON type of this element's value, for datatype checks; XML primitives are text.
  enum class json_type : std::uint8_t { none, string, number, integer, boolean, other };
  [[nodiscard]] json_type primitive_type() const noexcept {
    if (on_tape()) {
      switch (tape().type()) {
        case json_tape::kind::string:
          return json_type::string;
        case json_tape::kind::int64:
        case json_tape::kind::uint64:
          return json_type::integer;
        case json_tape::kind::float64:
          return json_type::number;
        case json_tape::kind::true_value:
        case json_tape::kind::false_value:
          return json_type::boolean;
        default:
          return json_type::other;
      }
    }
    if (!json()) return json_type::none;
    if (json()->IsString()) return json_type::string;
    if (json()->IsInt64() || json()->IsUint64()) return json_type::integer;
    if (json()->IsNumber()) return json_type::number;
    if (json()->IsBool()) return json_type::boolean;
    return json_type::other;
  }

 private:
  // The member `name` of this parsed object, false when it has none or is not an object: the
  // first of repeated names, as find_member below and RapidJSON find it.
  [[nodiscard, gnu::always_inline]] bool parsed_member(std::string_view name,
                                                       json_tape& value) const {
    return tape().is(json_tape::kind::object) && tape().member(name, value);
  }

  // The member `name` of this JSON object. The name is passed as a value of known length:
  // a bare StringRef would convert to const char* and be measured with strlen, which reads
  // past the end of a name that is a view into a longer string.
  // RapidJSON's FindMember calls memcmp for every member whose name has the length sought,
  // and FHIR's names share few lengths ("code", "text", "unit"…): the first byte is compared
  // first here, which turns most of those calls away (1 % of reading NDJSON records).
  [[nodiscard]] rapidjson::Value::ConstMemberIterator find_member(std::string_view name) const {
    const auto end = json()->MemberEnd();
    for (auto it = json()->MemberBegin(); it != end; ++it) {
      const auto& key = it->name;
      if (key.GetStringLength() != name.size()) continue;
      if (name.empty()) return it;
      const char* text = key.GetString();
      if (text[0] == name[0] && std::memcmp(text, name.data(), name.size()) == 0) return it;
    }
    return end;
  }

  static std::string_view view(const rapidjson::Value& v) {
    return {v.GetString(), v.GetStringLength()};
  }

  // Which of node_'s pointers is set: an element is 16 bytes, as it is copied into every list
  // of children and passed by value everywhere.
  enum class source : std::uint8_t { none, tape, rapidjson, xml };
  [[nodiscard]] bool on_tape() const noexcept { return source_ == source::tape; }
  [[nodiscard]] json_tape tape() const noexcept { return {node_.tape, at_}; }
  [[nodiscard]] const rapidjson::Value* json() const noexcept {
    return source_ == source::rapidjson ? node_.json : nullptr;
  }
  [[nodiscard]] pugi::xml_node xml() const noexcept {
    return pugi::xml_node(source_ == source::xml ? node_.xml : nullptr);
  }

  union {
    const simdjson::dom::document* tape;  // with at_, the place on the tape
    const rapidjson::Value* json;
    pugi::xml_node_struct* xml;
  } node_{nullptr};
  std::uint32_t at_ = 0;
  source source_ = source::none;
};
static_assert(sizeof(element) == 16);

}  // namespace covgate::fhir
