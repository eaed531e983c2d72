// The binary archive behind the store codecs (claims, facts): varint lengths, raw string bytes,
// scalars by memcpy (the store is read back by the same build on the same machine). Each
// codec lists its types' fields once in `codec_fields(archive, value)` overloads, declared in the
// types' own namespace (found by argument-dependent lookup) and walked by both the writer and
// the reader, so encode and decode cannot disagree. Private to src/model.
#pragma once

#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

#include "covgate/model/date.hpp"
#include "covgate/model/reason.hpp"

namespace covgate::model::archive {

/// `Self` is `T` or `const T` (a codec_fields overload serves both archives).
template <class Self, class T>
concept unqualified_is = std::is_same_v<std::remove_const_t<Self>, T>;

template <class T>
concept scalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

class writer {
 public:
  /// `version` is the format version being written (codecs whose layout grew read it in
  /// their codec_fields to skip what an older version lacks).
  explicit writer(std::string& out, int version = 1) : out_(out), version_(version) {}
  [[nodiscard]] int version() const noexcept { return version_; }

  void operator()(const std::string& s) {
    varint(s.size());
    out_ += s;
  }
  template <scalar T>
  void operator()(const T& v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void operator()(const date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(const date_range& r) { (*this)(r.from), (*this)(r.to); }
  /// A reason by its code, which never changes (enumerators may be added anywhere).
  void operator()(const reason& r) {
    const auto text = code(r);
    varint(text.size());
    out_ += text;
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
  void varint(std::size_t n) {
    while (n >= 0x80) {
      out_ += static_cast<char>((n & 0x7F) | 0x80);
      n >>= 7;
    }
    out_ += static_cast<char>(n);
  }
  std::string& out_;
  int version_;
};

class reader {
 public:
  /// `version` is the format version of `in` (see writer).
  explicit reader(std::string_view in, int version = 1) : in_(in), version_(version) {}
  [[nodiscard]] int version() const noexcept { return version_; }

  void operator()(std::string& s) {
    const auto n = varint();
    if (n > in_.size()) return fail();
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
  }
  template <scalar T>
  void operator()(T& v) {
    if (in_.size() < sizeof(T)) return fail();
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
  }
  void operator()(date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(date_range& r) { (*this)(r.from), (*this)(r.to); }
  void operator()(reason& r) {
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
  std::size_t varint() {
    std::size_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      const auto byte = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      n |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return n;
    }
    fail();
    return 0;
  }
  void fail() {
    ok_ = false;
    in_ = {};  // every later read fails too, without looping over garbage
  }
  std::string_view in_;
  int version_;
  bool ok_ = true;
};

}  // namespace covgate::model::archive
