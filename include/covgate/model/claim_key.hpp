// Which claim a claim is: its CLM01 (the patient control number) together with its billing
// provider's NPI (2010AA NM109). CLM01 is assigned by the provider that bills, so two billing
// providers sending through one covgate (a clearinghouse, a health system's hospitals) may
// each have a claim "1001"; keyed by CLM01 alone, the second would answer as a repeat of the
// first, and one's replacement or void would close the other's claim.
//
// The key is CLM01, a unit separator (0x1F) and the NPI; a claim without a billing NPI is
// keyed by its CLM01 alone. The separator cannot occur in either part of an accepted claim
// (an X12 AN element holds no control character), and the key starts with CLM01, so a
// store finds every claim of one CLM01 by a range of its key's index. The key stays inside
// covgate: users name a claim by its CLM01 and, when that is ambiguous, its billing NPI.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "covgate/model/claim.hpp"

namespace covgate::model {

inline constexpr char claim_key_separator = '\x1F';

/// The key of the claim `clm01` billed by `billing_npi` ("" when the claim names none).
[[nodiscard]] std::string claim_key(std::string_view clm01, std::string_view billing_npi);
[[nodiscard]] std::string claim_key(const claim& c);
/// Appends `c`'s key to `out` (a buffer kept between claims, on a store's hot path).
void append_claim_key(std::string& out, const claim& c);

/// A key's two parts.
struct claim_key_parts {
  std::string_view clm01;
  std::string_view billing_npi;
};
[[nodiscard]] claim_key_parts split_claim_key(std::string_view key) noexcept;

/// The keys of the claims with CLM01 `clm01` lie in [first, last): a claim without a billing
/// NPI is `clm01` itself (the first), the others follow it (the separator sorts below any
/// printable byte, and a byte past it ends the range).
struct claim_key_range {
  std::string first;  ///< `clm01`
  std::string last;   ///< `clm01` followed by the byte after the separator
};
[[nodiscard]] claim_key_range claim_keys_of(std::string_view clm01);

/// The idempotency key of a claim's `sequence`th event: "CLM01-sequence" (the 277's trace
/// number), prefixed by "NPI_" when the claim names its billing NPI, so that two providers'
/// claims of one CLM01 are never delivered as one ('_' keeps it a file name and a header
/// value as it is; an NPI is ten digits).
[[nodiscard]] std::string delivery_key(const claim& c, std::uint32_t sequence);
/// What precedes "-sequence" in the delivery keys of the claim keyed `claim_key`.
[[nodiscard]] std::string delivery_prefix(std::string_view claim_key);

}  // namespace covgate::model
