// Writes the acknowledgments of an interchange: a TA1 when the sender asked for one or the
// interchange has errors, and one 999 (005010X231A1) per functional group, all in one
// interchange that uses the sender's own delimiters and swaps sender and receiver.
#pragma once

#include <cstdint>
#include <string>

#include "covgate/x12/interchange_reader.hpp"

namespace covgate::x12 {

struct ack_settings {
  std::string date = "000101";  ///< YYMMDD of the acknowledgment (time is an argument)
  std::string time = "0000";    ///< HHMM
  std::uint32_t control = 1;    ///< our ISA13 / GS06
  bool line_breaks = true;      ///< a newline after each terminator (unless it is one)
};

/// The acknowledgment interchange for `result`, or "" when there is nothing to say (no TA1
/// needed and no group received).
[[nodiscard]] std::string write_acknowledgment(const interchange_result& result,
                                               const ack_settings& settings);

/// One English line per finding, naming positions and codes but no data values (safe for
/// logs), e.g. "set 0001: SE01 does not match the number of segments (IK502 4)".
[[nodiscard]] std::string describe_findings(const interchange_result& result);

}  // namespace covgate::x12
