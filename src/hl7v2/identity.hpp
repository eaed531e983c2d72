// Stable resource ids for facts read from HL7 v2: a 128-bit digest of the text that identifies
// a result, a visit, a patient or a place, so the id holds no separator, no patient value, and
// is the same every time the same sender sends the same thing. Pure.
#pragma once

#include <bit>
#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

namespace covgate::hl7v2 {

/// Appends "v2-" followed by 32 lowercase hex digits (FHIR id syntax: [A-Za-z0-9\-\.]{1,64}).
/// Two 64-bit lanes over the text read eight bytes at a time as little-endian words (the same
/// on every platform), each finished with the splitmix64 mixer: not a cryptographic hash
/// (nothing here is secret), only a stable and well-spread one.
inline void append_stable_id(std::string& out, std::string_view identity) {
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  std::uint64_t a = 0xcbf29ce484222325ULL ^ identity.size();
  std::uint64_t b = 0x84222325cbf29ce4ULL;
  const auto* p = reinterpret_cast<const unsigned char*>(identity.data());
  std::size_t left = identity.size();
  while (left > 0) {
    std::uint64_t word = 0;
    const std::size_t n = left < 8 ? left : 8;
    if (std::endian::native == std::endian::little && n == 8) {
      std::memcpy(&word, p, 8);
    } else {
      for (std::size_t i = 0; i < n; ++i) word |= std::uint64_t{p[i]} << (8 * i);
    }
    a = mix(a ^ word);
    b = (b ^ word) * 0x9e3779b97f4a7c15ULL;
    b = (b << 29) | (b >> 35);
    p += n;
    left -= n;
  }
  a = mix(a);
  b = mix(b ^ a);
  constexpr char hex[] = "0123456789abcdef";
  char text[35] = {'v', '2', '-'};
  std::size_t at = 3;
  for (const std::uint64_t v : {a, b}) {
    for (int shift = 60; shift >= 0; shift -= 4) text[at++] = hex[(v >> shift) & 0x0F];
  }
  out.append(text, sizeof text);
}

/// stable_id as a string of its own.
[[nodiscard]] inline std::string stable_id(std::string_view identity) {
  std::string out;
  append_stable_id(out, identity);
  return out;
}

}  // namespace covgate::hl7v2
