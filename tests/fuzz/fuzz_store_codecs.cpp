// Fuzz target: any bytes through the store's decoders (claim, decision, facts), which read what
// a store on disk holds and so must refuse damaged bytes, never crash or load an invalid value.
// The first byte picks the decoder; the rest is the stored form. Invariant: what decodes,
// encoded again in the current format, is a fixed point (decoding and encoding it once more
// gives the same bytes), whatever format the input was in.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/decision_codec.hpp"
#include "covgate/model/fact_codec.hpp"

using namespace covgate::model;

namespace {

template <class Decode>
void fixed_point(std::string_view bytes, Decode decode) {
  const auto value = decode(bytes);
  if (!value) return;
  std::string once;
  encode(*value, once);
  const auto again = decode(once);
  if (!again) std::abort();  // our own encoding refused
  std::string twice;
  encode(*again, twice);
  if (twice != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 3) {
    case 0:
      fixed_point(bytes, [](std::string_view b) { return decode_claim(b); });
      break;
    case 1:
      fixed_point(bytes, [](std::string_view b) { return decode_decision(b); });
      break;
    default:
      fixed_point(bytes, [](std::string_view b) { return decode_facts(b); });
      break;
  }
  return 0;
}
