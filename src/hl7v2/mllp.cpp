#include "covgate/hl7v2/mllp.hpp"

namespace covgate::hl7v2 {

std::string_view describe(mllp_error e) noexcept {
  switch (e) {
    case mllp_error::none:
      return "no error";
    case mllp_error::frame_too_large:
      return "frame larger than the configured maximum";
    case mllp_error::missing_final_cr:
      return "frame end <FS> not followed by <CR>";
  }
  return "unknown MLLP error";
}

std::string mllp_frame(std::string_view payload) {
  std::string out;
  out.reserve(payload.size() + 3);
  out += mllp_start;
  out.append(payload);
  out += mllp_end;
  out += mllp_cr;
  return out;
}

}  // namespace covgate::hl7v2
