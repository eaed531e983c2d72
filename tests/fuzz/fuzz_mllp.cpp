// Fuzz target: any bytes through the MLLP decoder, split at a data-chosen point (a frame
// straddling two reads), in both final-CR modes; every frame's MSH is read and answered.
// Invariants: the decoder never delivers a frame longer than its maximum, and fed whole or
// split it delivers the same frames.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/hl7v2/ack.hpp"
#include "covgate/hl7v2/mllp.hpp"

using namespace covgate::hl7v2;

namespace {

std::vector<std::string> decode(std::string_view bytes, std::size_t split, bool strict) {
  mllp_options options;
  options.max_frame_bytes = 4096;
  options.require_final_cr = strict;
  mllp_decoder d(options);
  std::vector<std::string> frames;
  auto keep = [&](std::string_view f) {
    if (f.size() > options.max_frame_bytes) std::abort();
    frames.emplace_back(f);
    const auto header = covgate::hl7v2::parse_msh(f);
    (void)covgate::hl7v2::hl7_ack(header ? &*header : nullptr, "AR", "200",
                                  "Unsupported message type", {});
  };
  if (d.put(bytes.substr(0, split), keep) == mllp_error::none)
    (void)d.put(bytes.substr(split), keep);
  return frames;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size == 0 ? 0 : data[0] % size;
  for (const bool strict : {false, true}) {
    if (decode(bytes, split, strict) != decode(bytes, size, strict)) std::abort();
  }
  return 0;
}
