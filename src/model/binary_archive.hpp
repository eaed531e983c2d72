// The binary archive behind the store codecs (claims, facts): varint lengths, raw string bytes,
// and scalars in one of two layouts (the store is read back by the same build on the same
// machine). `fixed`, the first formats: every scalar by memcpy. `compact`, the later ones: a
// one-byte scalar (bool, small enums, month, day) as its byte, a wider integer as a varint
// (signed ones zigzag-encoded: minutes since 1970 take 4 bytes, not 8), and a double as a
// varint of n*8+s when it is exactly n / 10^s (s < 7: a lab value as sent, "0.3" or "140",
// takes one or two bytes) and else as 8 raw bytes after the marker 7. Facts and claims are most
// of what the engine keeps in memory, so their bytes are its resident size. Each
// codec lists its types' fields once in `codec_fields(archive, value)` overloads, declared in the
// types' own namespace (found by argument-dependent lookup) and walked by both the writer and
// the reader, so encode and decode cannot disagree. Private to src/model.
#pragma once

#include <algorithm>
#include <bit>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <iterator>
#include <limits>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "covgate/model/copy_text.hpp"
#include "covgate/model/date.hpp"
#include "covgate/model/reason.hpp"

namespace covgate::model::archive {

/// `Self` is `T` or `const T` (a codec_fields overload serves both archives).
template <class Self, class T>
concept unqualified_is = std::is_same_v<std::remove_const_t<Self>, T>;

template <class T>
concept scalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

enum class layout : std::uint8_t { fixed, compact };

/// How a reason is written: by its code, which never changes (whatever a store keeps), or by
/// its enumerator, a byte instead of 20-30, which a later build may renumber: only for bytes
/// the same process reads back (the memory state's decisions).
enum class reason_form : std::uint8_t { code, enumerator };

/// The powers of ten a compact double may be divided by (exact as doubles).
inline constexpr double decimal_scales[] = {1, 10, 100, 1000, 10000, 100000, 1000000};
inline constexpr std::uint64_t raw_double = 7;  // the marker of 8 raw bytes

class writer {
 public:
  /// `version` is the format version being written (codecs whose layout grew read it in
  /// their codec_fields to skip what an older version lacks).
  explicit writer(std::string& out, int version = 1, layout scalars = layout::fixed,
                  reason_form reasons = reason_form::code)
      : out_(out),
        next_(out.data() + out.size()),
        end_(next_),
        version_(version),
        layout_(scalars),
        reasons_(reasons) {}
  writer(const writer&) = delete;
  writer& operator=(const writer&) = delete;
  /// `out` holds what was written once the writer is gone (it is grown ahead of the writes).
  ~writer() { out_.resize(static_cast<std::size_t>(next_ - out_.data())); }
  [[nodiscard]] int version() const noexcept { return version_; }

  void operator()(const std::string& s) {
    std::string_view text = s;
    if (!trimmed_.empty()) [[unlikely]] {
      for (const auto& t : trimmed_) {
        if (&s == t.field) text.remove_prefix(std::min(t.drop, text.size()));
      }
    }
    varint(text.size());
    put(text.data(), text.size());
  }
  /// A string written as if its first `drop` bytes were not there (all of them: as empty),
  /// found by its address among what is written: the fact index encodes a record's facts
  /// without the fields it stores once, and leaves the facts as they are.
  struct trimmed {
    const std::string* field = nullptr;
    std::size_t drop = 0;
  };
  /// Until called again: the strings to write trimmed (a view; the caller keeps it alive).
  void trim(std::span<const trimmed> fields) noexcept { trimmed_ = fields; }
  template <scalar T>
  void operator()(const T& v) {
    if (layout_ == layout::fixed || sizeof(T) == 1) {
      std::memcpy(room(sizeof(T)), &v, sizeof(T));
    } else if constexpr (std::is_floating_point_v<T>) {
      compact_double(static_cast<double>(v));
    } else if constexpr (std::is_enum_v<T>) {
      (*this)(static_cast<std::underlying_type_t<T>>(v));
    } else if constexpr (std::is_signed_v<T>) {
      const auto n = static_cast<std::int64_t>(v);
      varint(static_cast<std::uint64_t>(n) << 1 ^ static_cast<std::uint64_t>(n >> 63));
    } else {
      varint(static_cast<std::uint64_t>(v));
    }
  }
  void operator()(const date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(const date_range& r) { (*this)(r.from), (*this)(r.to); }
  /// A reason by its code, which never changes (enumerators may be added anywhere), or by its
  /// enumerator when asked for.
  void operator()(const reason& r) {
    if (reasons_ == reason_form::enumerator) return varint(static_cast<std::uint64_t>(r));
    const auto text = code(r);
    varint(text.size());
    put(text.data(), text.size());
  }
  template <class T>
  void operator()(const std::optional<T>& v) {
    (*this)(v.has_value());
    if (v) (*this)(*v);
  }
  template <class T>
  void operator()(const std::vector<T>& items) {
    varint(items.size());
    for (const auto& item : items) (*this)(item);
  }
  template <class T>
  void operator()(const T& compound) requires requires(writer& w) {
    codec_fields(w, compound);
  }
  { codec_fields(*this, compound); }

 private:
  // A claim is a few hundred small fields: appending each to the string (a capacity check and
  // a call a byte) cost more than encoding it. So `out` is grown ahead and written through a
  // pointer; the destructor cuts it to what was written. It grows a chunk at a time, not in
  // doublings: resize() zero-fills what it adds, and the string's capacity doubles by itself.
  [[gnu::always_inline]] char* room(std::size_t n) {
    if (static_cast<std::size_t>(end_ - next_) < n) [[unlikely]]
      grow(n);
    char* const at = next_;
    next_ += n;
    return at;
  }
  [[gnu::noinline]] void grow(std::size_t n) {
    const auto used = static_cast<std::size_t>(next_ - out_.data());
    out_.resize(used + n + 256);
    next_ = out_.data() + used;
    end_ = out_.data() + out_.size();
  }
  void put(const char* bytes, std::size_t n) {
    if (n > 0) std::memcpy(room(n), bytes, n);
  }
  void varint(std::uint64_t n) {
    if (n < 0x80) {  // most: a length or a count
      *room(1) = static_cast<char>(n);
      return;
    }
    char bytes[10];
    std::size_t size = 0;
    while (n >= 0x80) {
      bytes[size++] = static_cast<char>((n & 0x7F) | 0x80);
      n >>= 7;
    }
    bytes[size++] = static_cast<char>(n);
    put(bytes, size);
  }
  void compact_double(double v) {
    // The first scale at which v is a whole number n that gives v back exactly (bit for bit:
    // -0.0 and NaN fall through to the raw form).
    constexpr double limit = 9007199254740992.0;  // 2^53: every smaller n is exact
    for (std::uint64_t s = 0; s < std::size(decimal_scales); ++s) {
      const double scaled = v * decimal_scales[s];
      if (!(std::fabs(scaled) < limit)) break;
      const auto n = static_cast<std::int64_t>(std::llround(scaled));
      if (std::bit_cast<std::uint64_t>(static_cast<double>(n) / decimal_scales[s]) !=
          std::bit_cast<std::uint64_t>(v)) {
        continue;
      }
      const auto zigzag = static_cast<std::uint64_t>(n) << 1 ^ static_cast<std::uint64_t>(n >> 63);
      varint(zigzag << 3 | s);
      return;
    }
    varint(raw_double);
    std::memcpy(room(sizeof(double)), &v, sizeof(double));
  }
  std::string& out_;
  char* next_;  // where the next byte goes in out_; from there to end_ is room grown ahead
  char* end_;
  int version_;
  layout layout_;
  reason_form reasons_;
  std::span<const trimmed> trimmed_;
};

class reader {
 public:
  /// `version` is the format version of `in` and `scalars` its layout (see writer).
  explicit reader(std::string_view in, int version = 1, layout scalars = layout::fixed,
                  reason_form reasons = reason_form::code)
      : in_(in), version_(version), layout_(scalars), reasons_(reasons) {}
  [[nodiscard]] int version() const noexcept { return version_; }

  void operator()(std::string& s) {
    const auto n = varint();
    if (n > in_.size()) return fail();
    copy_text(s, std::string_view(in_.data(), n));
    in_.remove_prefix(n);
  }
  void operator()(bool& v) {
    // Read as a byte: any other value than 0 or 1 in a bool is undefined behavior, not data.
    std::uint8_t byte = 0;
    (*this)(byte);
    if (byte > 1) return fail();
    v = byte == 1;
  }
  template <scalar T>
  void operator()(T& v) {
    if (layout_ == layout::fixed || sizeof(T) == 1) {
      if (in_.size() < sizeof(T)) return fail();
      std::memcpy(&v, in_.data(), sizeof(T));
      in_.remove_prefix(sizeof(T));
    } else if constexpr (std::is_floating_point_v<T>) {
      v = static_cast<T>(compact_double());
    } else if constexpr (std::is_enum_v<T>) {
      std::underlying_type_t<T> n{};
      (*this)(n);
      v = static_cast<T>(n);
    } else if constexpr (std::is_signed_v<T>) {
      const auto zigzag = varint();
      const auto n =
          static_cast<std::int64_t>(zigzag >> 1) ^ -static_cast<std::int64_t>(zigzag & 1);
      if (n < std::numeric_limits<T>::min() || n > std::numeric_limits<T>::max()) return fail();
      v = static_cast<T>(n);
    } else {
      const auto n = varint();
      if (n > std::numeric_limits<T>::max()) return fail();
      v = static_cast<T>(n);
    }
  }
  void operator()(date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(date_range& r) { (*this)(r.from), (*this)(r.to); }
  void operator()(reason& r) {
    if (reasons_ == reason_form::enumerator) {
      const auto n = varint();
      if (n >= reason_count) return fail();
      r = static_cast<reason>(n);
      return;
    }
    std::string text;
    (*this)(text);
    const auto found = reason_named(text);
    if (!found) return fail();  // a code this build does not know
    r = *found;
  }
  template <class T>
  void operator()(std::optional<T>& v) {
    bool present = false;
    (*this)(present);
    if (!present) {
      v.reset();
      return;
    }
    (*this)(v.emplace());
  }
  template <class T>
  void operator()(std::vector<T>& items) {
    const auto n = varint();
    if (n > in_.size()) return fail();  // every item takes at least one byte
    items.resize(n);
    for (auto& item : items) (*this)(item);
  }
  template <class T>
  void operator()(T& compound) requires requires(reader& r) {
    codec_fields(r, compound);
  }
  { codec_fields(*this, compound); }

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] bool at_end() const noexcept { return in_.empty(); }

 private:
  std::uint64_t varint() {
    std::uint64_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      const auto byte = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      n |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return n;
    }
    fail();
    return 0;
  }
  double compact_double() {
    const auto tag = varint();
    if (tag == raw_double) {
      double v = 0;
      if (in_.size() < sizeof(double)) {
        fail();
        return 0;
      }
      std::memcpy(&v, in_.data(), sizeof(double));
      in_.remove_prefix(sizeof(double));
      return v;
    }
    const auto scale = tag & 7;
    if (scale >= std::size(decimal_scales)) {
      fail();
      return 0;
    }
    const auto zigzag = tag >> 3;
    const auto n = static_cast<std::int64_t>(zigzag >> 1) ^ -static_cast<std::int64_t>(zigzag & 1);
    return static_cast<double>(n) / decimal_scales[scale];
  }
  void fail() {
    ok_ = false;
    in_ = {};  // every later read fails too, without looping over garbage
  }
  std::string_view in_;
  int version_;
  layout layout_;
  reason_form reasons_;
  bool ok_ = true;
};

}  // namespace covgate::model::archive
