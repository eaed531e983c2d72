// A read-only cursor over a JSON document as simdjson's DOM parser leaves it: its "tape", one
// 64-bit word per value (two for a number) with the type in the top byte, and a buffer of the
// strings, each its 4-byte length, its bytes and a NUL (simdjson's doc/tape.md). The reader
// walks the tape itself because dom::object's lookups step through simdjson's iterators, which
// re-read the document's pointers at each step and call out for each value they step over
// (reading a generated day's records: 1,390 M instructions through them, 1,320 M walking the
// tape here). The layout is simdjson's, so every constant below is checked against simdjson's
// own at compile time, and json_parsers_test.cpp compares what the reader makes of each text
// with RapidJSON's reading of it. Private to src/fhir.
#pragma once

#include <simdjson.h>

#include <cstdint>
#include <cstring>
#include <memory>
#include <string_view>
#include <type_traits>

namespace covgate::fhir {

class json_tape {
 public:
  /// What a word of the tape holds: its top byte.
  enum class kind : char {
    object = '{',
    object_end = '}',
    array = '[',
    array_end = ']',
    string = '"',
    int64 = 'l',
    uint64 = 'u',
    float64 = 'd',
    true_value = 't',
    false_value = 'f',
    null = 'n',
  };

  json_tape() = default;
  /// The root value of `document`, parsed (the tape's word 0 is the root mark).
  explicit json_tape(const simdjson::dom::document& document) noexcept
      : document_(&document), at_(1) {}
  /// The value at word `at` of `document`'s tape: what at() gave.
  json_tape(const simdjson::dom::document* document, std::uint32_t at) noexcept
      : document_(document), at_(at) {}

  [[nodiscard]] const simdjson::dom::document* document() const noexcept { return document_; }
  [[nodiscard]] std::uint32_t at() const noexcept { return at_; }

  [[nodiscard]] kind type() const noexcept { return static_cast<kind>(words()[at_] >> 56); }
  [[nodiscard]] bool is(kind k) const noexcept { return type() == k; }
  [[nodiscard]] bool is_number() const noexcept {
    const auto k = type();
    return k == kind::int64 || k == kind::uint64 || k == kind::float64;
  }

  /// A string's text (with any NUL it holds); only for kind::string.
  [[nodiscard]] std::string_view text() const noexcept {
    const std::uint8_t* at = document_->string_buf.get() + payload();
    std::uint32_t length = 0;
    std::memcpy(&length, at, sizeof length);
    return {reinterpret_cast<const char*>(at + sizeof length), length};
  }
  /// A number as a double (integers converted as RapidJSON's GetDouble converts them).
  [[nodiscard]] double number() const noexcept {
    const std::uint64_t bits = words()[at_ + 1];
    switch (type()) {
      case kind::int64: {
        std::int64_t v = 0;
        std::memcpy(&v, &bits, sizeof v);
        return static_cast<double>(v);
      }
      case kind::uint64:
        return static_cast<double>(bits);
      default: {
        double v = 0;
        std::memcpy(&v, &bits, sizeof v);
        return v;
      }
    }
  }

  /// The member `name` of this object (the first of repeated names), or false. The walk every
  /// mapped element goes through: one word of the tape and the name's length per member, the
  /// first byte compared before memcmp is called.
  [[nodiscard, gnu::always_inline]] bool member(std::string_view name,
                                                json_tape& value) const noexcept {
    const std::uint64_t* words = this->words();
    const std::uint8_t* strings = document_->string_buf.get();
    for (std::uint32_t at = at_ + 1;;) {
      const std::uint64_t word = words[at];
      if (static_cast<kind>(word >> 56) == kind::object_end) return false;
      const std::uint8_t* key = strings + (word & payload_mask);
      std::uint32_t length = 0;
      std::memcpy(&length, key, sizeof length);
      key += sizeof length;
      if (length == name.size() && (length == 0 || (static_cast<char>(key[0]) == name[0] &&
                                                    std::memcmp(key, name.data(), length) == 0))) {
        value = moved(at + 1);
        return true;
      }
      at = after(at + 1);
    }
  }
  /// Calls `visit(name, value)` for each member of this object, in document order.
  template <class Visit>
  void for_each_member(Visit&& visit) const {
    for (std::uint32_t at = at_ + 1; static_cast<kind>(words()[at] >> 56) != kind::object_end;) {
      visit(moved(at).text(), moved(at + 1));
      at = after(at + 1);
    }
  }
  /// Whether `document` holds a number simdjson read as a floating-point zero (0.0, 0e400,
  /// 1e-400): RapidJSON refuses some of those that simdjson reads (a zero whose exponent is past
  /// a double's), so the reader gives such a text to RapidJSON. One pass over the tape's words.
  [[nodiscard]] static bool holds_float_zero(const simdjson::dom::document& document) noexcept {
    const std::uint64_t* words = document.tape.get();
    const auto end = static_cast<std::uint32_t>(words[0] & payload_mask);  // the closing root
    // First a pass with no branch to take, over every word: a zero's word after its 'd' is 0 or
    // only the sign bit, and no word of a type is (its top byte is the type), so a text without
    // such a word (nearly every one: only a number 0 or -0.0 makes it) needs no walk.
    bool maybe = false;
    for (std::uint32_t at = 1; at < end; ++at) maybe |= (words[at] << 1) == 0;
    if (!maybe) return false;
    for (std::uint32_t at = 1; at < end;) {
      const auto k = static_cast<kind>(words[at] >> 56);
      if (k == kind::float64 && (words[at + 1] << 1) == 0) return true;  // +0.0 or -0.0
      at += (k == kind::int64 || k == kind::uint64 || k == kind::float64) ? 2 : 1;
    }
    return false;
  }

  /// Calls `visit(item)` for each item of this array, in order.
  template <class Visit>
  void for_each_item(Visit&& visit) const {
    for (std::uint32_t at = at_ + 1; static_cast<kind>(words()[at] >> 56) != kind::array_end;) {
      visit(moved(at));
      at = after(at);
    }
  }
  /// The first item of this array, or false when it has none.
  [[nodiscard]] bool first_item(json_tape& item) const noexcept {
    if (static_cast<kind>(words()[at_ + 1] >> 56) == kind::array_end) return false;
    item = moved(at_ + 1);
    return true;
  }

 private:
  static constexpr std::uint64_t payload_mask = 0x00FFFFFFFFFFFFFF;

  [[nodiscard]] const std::uint64_t* words() const noexcept { return document_->tape.get(); }
  [[nodiscard]] std::uint64_t payload() const noexcept { return words()[at_] & payload_mask; }
  [[nodiscard]] json_tape moved(std::uint32_t at) const noexcept {
    json_tape out = *this;
    out.at_ = at;
    return out;
  }
  /// The word after the value at `at`: an object's or array's word holds it in its low 32 bits,
  /// and a number takes two words.
  [[nodiscard, gnu::always_inline]] std::uint32_t after(std::uint32_t at) const noexcept {
    const std::uint64_t word = words()[at];
    const auto k = static_cast<kind>(word >> 56);
    if (k == kind::object || k == kind::array) return static_cast<std::uint32_t>(word);
    return at + 1 + std::uint32_t{k == kind::int64 || k == kind::uint64 || k == kind::float64};
  }

  const simdjson::dom::document* document_ = nullptr;
  std::uint32_t at_ = 0;
};

// The constants above are simdjson's: a version that changed them would not build, and one
// that changed what the words hold would fail json_parsers_test.cpp.
namespace tape_layout {
using simdjson::internal::tape_type;
static_assert(char(tape_type::START_OBJECT) == char(json_tape::kind::object));
static_assert(char(tape_type::END_OBJECT) == char(json_tape::kind::object_end));
static_assert(char(tape_type::START_ARRAY) == char(json_tape::kind::array));
static_assert(char(tape_type::END_ARRAY) == char(json_tape::kind::array_end));
static_assert(char(tape_type::STRING) == char(json_tape::kind::string));
static_assert(char(tape_type::INT64) == char(json_tape::kind::int64));
static_assert(char(tape_type::UINT64) == char(json_tape::kind::uint64));
static_assert(char(tape_type::DOUBLE) == char(json_tape::kind::float64));
static_assert(char(tape_type::TRUE_VALUE) == char(json_tape::kind::true_value));
static_assert(char(tape_type::FALSE_VALUE) == char(json_tape::kind::false_value));
static_assert(char(tape_type::NULL_VALUE) == char(json_tape::kind::null));
static_assert(simdjson::internal::JSON_VALUE_MASK == 0x00FFFFFFFFFFFFFF);
static_assert(
    std::is_same_v<decltype(simdjson::dom::document::tape), std::unique_ptr<std::uint64_t[]>>);
static_assert(
    std::is_same_v<decltype(simdjson::dom::document::string_buf), std::unique_ptr<std::uint8_t[]>>);
}  // namespace tape_layout

}  // namespace covgate::fhir
