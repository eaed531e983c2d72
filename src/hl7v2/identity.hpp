// Stable resource ids for facts read from HL7 v2: a 128-bit digest of the text that identifies
// a result, a visit, a patient or a place, so the id holds no separator, no patient value, and
// is the same every time the same sender sends the same thing. Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace covgate::hl7v2 {

/// "v2-" followed by 32 lowercase hex digits (FHIR id syntax: [A-Za-z0-9\-\.]{1,64}).
/// Two FNV-1a passes with different offsets, each finished with the splitmix64 mixer: not a
/// cryptographic hash (nothing here is secret), only a stable and well-spread one.
[[nodiscard]] inline std::string stable_id(std::string_view identity) {
  std::uint64_t a = 0xcbf29ce484222325ULL;
  std::uint64_t b = 0x84222325cbf29ce4ULL ^ identity.size();
  for (const char c : identity) {
    const auto byte = static_cast<unsigned char>(c);
    a = (a ^ byte) * 0x100000001b3ULL;
    b = (b ^ byte) * 0x00000100000001b3ULL + 0x9e3779b97f4a7c15ULL;
  }
  auto mix = [](std::uint64_t z) {
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  };
  a = mix(a);
  b = mix(b ^ a);
  constexpr char hex[] = "0123456789abcdef";
  std::string out = "v2-";
  out.reserve(35);
  for (const std::uint64_t v : {a, b}) {
    for (int shift = 60; shift >= 0; shift -= 4) out += hex[(v >> shift) & 0x0F];
  }
  return out;
}

}  // namespace covgate::hl7v2
