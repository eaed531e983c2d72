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
  explicit element(const rapidjson::Value* json) : json_(json) {}
  explicit element(json_tape parsed) : parsed_(parsed), has_parsed_(true) {}
  explicit element(pugi::xml_node xml) : xml_(xml) {}

  [[nodiscard]] bool exists() const noexcept { return is_json() || bool(xml_); }
  [[nodiscard]] bool is_json() const noexcept { return has_parsed_ || json_ != nullptr; }

  /// The resource type: JSON "resourceType", XML the element name.
  [[nodiscard]] std::string_view resource_type() const {
    if (has_parsed_) {
      json_tape type;
      return parsed_member("resourceType", type) && type.is(json_tape::kind::string) ? type.text()
                                                                                     : "";
    }
    if (json_) {
      if (!json_->IsObject()) return {};
      const auto it = find_member("resourceType");
      return it != json_->MemberEnd() && it->value.IsString() ? view(it->value) : "";
    }
    return xml_ ? std::string_view{xml_.name()} : std::string_view{};
  }

  /// The first child called `name` (for a JSON array, its first item). No allocation: this
  /// is the lookup every mapped element goes through.
  [[nodiscard]] element child(std::string_view name) const {
    if (has_parsed_) {
      json_tape value;
      if (!parsed_member(name, value)) return {};
      if (!value.is(json_tape::kind::array)) return element(value);
      json_tape first;
      return value.first_item(first) ? element(first) : element{};
    }
    if (json_) {
      if (!json_->IsObject()) return {};
      const auto it = find_member(name);
      if (it == json_->MemberEnd()) return {};
      if (!it->value.IsArray()) return element(&it->value);
      return it->value.Empty() ? element{} : element(&it->value[0]);
    }
    for (auto c = xml_.first_child(); c; c = c.next_sibling()) {
      if (c.type() == pugi::node_element && name == c.name()) return element(c);
    }
    return {};
  }

  /// Every child called `name`: the items of a JSON array, or XML siblings of that name.
  [[nodiscard]] std::vector<element> children(std::string_view name) const {
    std::vector<element> out;
    if (has_parsed_) {
      for_each_member(name,
                      [&out](const element& item, std::size_t, bool) { out.push_back(item); });
    } else if (json_) {
      if (!json_->IsObject()) return out;
      const auto it = find_member(name);
      if (it == json_->MemberEnd()) return out;
      if (it->value.IsArray()) {
        for (const auto& item : it->value.GetArray()) out.emplace_back(&item);
      } else {
        out.emplace_back(&it->value);
      }
    } else if (xml_) {
      for (auto c = xml_.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && name == c.name()) out.emplace_back(c);
      }
    }
    return out;
  }

  /// Calls `visit(item, index, listed)` for every child called `name`, as children() lists
  /// them, without building a list; `listed` is true for the items of a JSON array.
  template <class Visit>
  void for_each_member(std::string_view name, Visit&& visit) const {
    if (has_parsed_) {
      json_tape value;
      if (!parsed_member(name, value)) return;
      if (!value.is(json_tape::kind::array)) return visit(element(value), std::size_t{0}, false);
      std::size_t index = 0;
      value.for_each_item([&](const json_tape& item) { visit(element(item), index++, true); });
    } else if (json_) {
      if (!json_->IsObject()) return;
      const auto it = find_member(name);
      if (it == json_->MemberEnd()) return;
      if (!it->value.IsArray()) return visit(element(&it->value), std::size_t{0}, false);
      std::size_t index = 0;
      for (const auto& item : it->value.GetArray()) visit(element(&item), index++, true);
    } else if (xml_) {
      std::size_t index = 0;
      for (auto c = xml_.first_child(); c; c = c.next_sibling()) {
        if (c.type() == pugi::node_element && name == c.name()) visit(element(c), index++, false);
      }
    }
  }

  /// Calls `visit(name, value)` for every member of a JSON object, in document order, so a
  /// caller that wants many members finds them in one pass. Nothing for XML or a non-object.
  template <class Visit>
  void for_each_json_member(Visit&& visit) const {
    if (has_parsed_) {
      if (!parsed_.is(json_tape::kind::object)) return;
      parsed_.for_each_member(
          [&](std::string_view name, const json_tape& value) { visit(name, element(value)); });
      return;
    }
    if (!json_ || !json_->IsObject()) return;
    for (const auto& m : json_->GetObject()) visit(view(m.name), element(&m.value));
  }

  /// Calls `visit(item)` for each item of this JSON array. Nothing otherwise.
  template <class Visit>
  void for_each_json_item(Visit&& visit) const {
    if (has_parsed_) {
      if (!parsed_.is(json_tape::kind::array)) return;
      parsed_.for_each_item([&](const json_tape& item) { visit(element(item)); });
      return;
    }
    if (!json_ || !json_->IsArray()) return;
    for (const auto& item : json_->GetArray()) visit(element(&item));
  }

  [[nodiscard]] bool is_json_array() const noexcept {
    if (has_parsed_) return parsed_.is(json_tape::kind::array);
    return json_ && json_->IsArray();
  }
  [[nodiscard]] bool is_empty_json_array() const noexcept {
    if (has_parsed_) {
      json_tape first;
      return parsed_.is(json_tape::kind::array) && !parsed_.first_item(first);
    }
    return json_ && json_->IsArray() && json_->Empty();
  }

  /// The resources held in `name` (Bundle.entry.resource, contained): JSON objects, or in XML
  /// the single element inside each `name` wrapper.
  [[nodiscard]] std::vector<element> resources(std::string_view name) const {
    auto out = children(name);
    if (!is_json()) {
      for (auto& e : out)
        e = element(e.xml_.first_child().type() == pugi::node_element
                        ? e.xml_.first_child()
                        : e.xml_.find_child(
                              [](pugi::xml_node n) { return n.type() == pugi::node_element; }));
    }
    return out;
  }

  /// A primitive child as text; nullopt when absent or (JSON) not a string.
  [[nodiscard]] std::optional<std::string_view> string(std::string_view name) const {
    const auto e = child(name);
    return e.text();
  }

  /// This element as a primitive string.
  [[nodiscard]] std::optional<std::string_view> text() const {
    if (has_parsed_) {
      if (parsed_.is(json_tape::kind::string)) return parsed_.text();
      return std::nullopt;
    }
    if (json_) {
      if (json_->IsString()) return view(*json_);
      return std::nullopt;
    }
    if (!xml_) return std::nullopt;
    const auto value = xml_.attribute("value");
    if (!value) return std::nullopt;
    return std::string_view{value.value()};
  }

  /// A primitive child as a number (JSON number or decimal text in XML).
  [[nodiscard]] std::optional<double> number(std::string_view name) const {
    const auto e = child(name);
    if (e.has_parsed_) {
      if (e.parsed_.is_number()) return e.parsed_.number();
      return std::nullopt;
    }
    if (e.json_) {
      if (e.json_->IsNumber()) return e.json_->GetDouble();
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
    if (e.has_parsed_) {
      if (e.parsed_.is(json_tape::kind::true_value)) return true;
      if (e.parsed_.is(json_tape::kind::false_value)) return false;
      return std::nullopt;
    }
    if (e.json_) {
      if (e.json_->IsBool()) return e.json_->GetBool();
      return std::nullopt;
    }
    const auto t = e.text();
    if (t == "true") return true;
    if (t == "false") return false;
    return std::nullopt;
  }

  [[nodiscard]] bool is_object() const noexcept {
    if (has_parsed_) return parsed_.is(json_tape::kind::object);
    return json_ ? json_->IsObject() : bool(xml_);
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
    if (has_parsed_) {
      json_tape value;
      out.listed = parsed_member(name, value) && value.is(json_tape::kind::array);
    } else if (json_ && json_->IsObject()) {
      const auto it = find_member(name);
      out.listed = it != json_->MemberEnd() && it->value.IsArray();
    }
    return out;
  }

  /// The JSON type of this element's value, for datatype checks; XML primitives are text.
  enum class json_type : std::uint8_t { none, string, number, integer, boolean, other };
  [[nodiscard]] json_type primitive_type() const noexcept {
    if (has_parsed_) {
      switch (parsed_.type()) {
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
    if (!json_) return json_type::none;
    if (json_->IsString()) return json_type::string;
    if (json_->IsInt64() || json_->IsUint64()) return json_type::integer;
    if (json_->IsNumber()) return json_type::number;
    if (json_->IsBool()) return json_type::boolean;
    return json_type::other;
  }

 private:
  // The member `name` of this parsed object, false when it has none or is not an object: the
  // first of repeated names, as find_member below and RapidJSON find it.
  [[nodiscard]] bool parsed_member(std::string_view name, json_tape& value) const {
    return parsed_.is(json_tape::kind::object) && parsed_.member(name, value);
  }

  // The member `name` of this JSON object. The name is passed as a value of known length:
  // a bare StringRef would convert to const char* and be measured with strlen, which reads
  // past the end of a name that is a view into a longer string.
  // RapidJSON's FindMember calls memcmp for every member whose name has the length sought,
  // and FHIR's names share few lengths ("code", "text", "unit"…): the first byte is compared
  // first here, which turns most of those calls away (1 % of reading NDJSON records).
  [[nodiscard]] rapidjson::Value::ConstMemberIterator find_member(std::string_view name) const {
    const auto end = json_->MemberEnd();
    for (auto it = json_->MemberBegin(); it != end; ++it) {
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

  const rapidjson::Value* json_ = nullptr;
  json_tape parsed_;
  bool has_parsed_ = false;
  pugi::xml_node xml_;
};

}  // namespace covgate::fhir
