// Writes the gate's answer as an X12 277: per claim a TRN*2 echoing CLM01, one STC per reason
// (STC12 names the reason codes), REF*1K on a release with a trace number, and DTP*472.
// Two profiles (docs/policy.md §1): the default 277 claim status notification in the 005010X212
// layout, where P (pended) categories are legal, and strict 277CA (005010X214), where every
// hold is A1:19 and a release A2:20.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

enum class status_profile : std::uint8_t { notification_x212, acknowledgment_x214 };

struct status_entry {
  const model::claim* claim = nullptr;  ///< both point at caller-owned values
  const model::decision* decision = nullptr;
  std::string trace;  ///< REF*1K on a release (payer claim control number), or ""
};

struct status_settings {
  status_profile profile = status_profile::notification_x212;
  std::string sender_qualifier = "ZZ";  ///< ours (ISA05/06, GS02)
  std::string sender_id = "COVGATE";
  std::string date = "20000101";  ///< CCYYMMDD of the message (time is an argument)
  std::string time = "0000";      ///< HHMM
  std::uint32_t control = 1;      ///< ISA13 / GS06
  char usage = 'P';               ///< ISA15: echo the claims' interchange ('T' test, 'P')
  delimiters delims{'*', ':', '^', '~'};
  bool line_breaks = true;
};

/// One interchange answering `entries` (all from one sender: the first claim's envelope names
/// the receiver). Empty input gives "".
/// NM1 names (NM103) are fixed role labels (PATIENT, BILLING PROVIDER…) beside the real ids:
/// the claim model keeps no person names, so the 277 carries no more patient data than the
/// member id a receiver matches on (NM109) and the claim's own CLM01 (TRN02).
[[nodiscard]] std::string write_277(const std::vector<status_entry>& entries,
                                    const status_settings& settings);

}  // namespace covgate::x12
