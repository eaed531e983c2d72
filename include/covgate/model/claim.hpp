// The normalized claim: what an X12 837P or 837I says that the coverage policy and the 277
// writer need. Plain value types; no parsing or I/O here.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "covgate/model/date.hpp"

namespace covgate::model {

/// Which 837 implementation a claim came from.
enum class claim_kind : std::uint8_t { professional, institutional };

/// A name as an NM1 segment carries it. An organization has only `last`.
struct person_name {
  std::string last;    ///< NM103: last name, or the organization's name
  std::string first;   ///< NM104
  std::string middle;  ///< NM105
  std::string suffix;  ///< NM107
  [[nodiscard]] bool empty() const noexcept { return last.empty() && first.empty(); }
  friend bool operator==(const person_name&, const person_name&) = default;
};

/// A provider named on the claim (NM1 + PRV), at claim or line level.
struct provider {
  std::string npi;                ///< NM109 when NM108 is XX
  std::string taxonomy;           ///< PRV03 (NUCC code) when PRV02 is PXC
  bool entity_is_person = false;  ///< NM102 = 1
  person_name name;               ///< NM103..NM107 (a 277 echoes the billing provider's)
  [[nodiscard]] bool present() const noexcept { return !npi.empty() || !taxonomy.empty(); }
  friend bool operator==(const provider&, const provider&) = default;
};

/// A person the claim is about: the subscriber (2010BA) or the patient (2010CA).
struct person {
  std::string member_id;            ///< NM109 (2010BA) / REF*1W or NM109 (2010CA)
  std::string member_id_qualifier;  ///< NM108, e.g. MI
  date birth_date;                  ///< DMG02 when DMG01 is D8
  char sex = 0;                     ///< DMG03: 'F', 'M', 'U', or 0 when absent
  person_name name;                 ///< NM103..NM107 (a 277 echoes it beside the member id)
  [[nodiscard]] bool present() const noexcept {
    return !member_id.empty() || birth_date.valid() || !name.empty();
  }
  friend bool operator==(const person&, const person&) = default;
};

/// One ICD code from an HI segment, kept with its qualifier (ABK, ABF, ABJ, APR, BK, BF…).
struct diagnosis {
  std::string qualifier;
  std::string code;  ///< as sent: ICD-10-CM without the dot
  friend bool operator==(const diagnosis&, const diagnosis&) = default;
};

/// A PWK (paperwork) segment: which report and how it is sent.
struct attachment {
  std::string report_type;        ///< PWK01, e.g. LA, CT, 09
  std::string transmission_code;  ///< PWK02, e.g. EL, AA, AD
  std::string control_number;     ///< PWK06 (when PWK05 is AC)
  friend bool operator==(const attachment&, const attachment&) = default;
};

/// A CRC*09 DME certification condition on a service line.
struct dme_condition {
  bool response = false;           ///< CRC02 Y/N
  std::vector<std::string> codes;  ///< CRC03..CRC07, e.g. 38, ZV
  friend bool operator==(const dme_condition&, const dme_condition&) = default;
};

/// One service line (loop 2400).
struct service_line {
  std::uint32_t number = 0;                   ///< LX01
  std::string procedure_qualifier;            ///< SV101-1 / SV202-1, e.g. HC
  std::string procedure_code;                 ///< HCPCS/CPT
  std::vector<std::string> modifiers;         ///< up to four, in order
  std::string revenue_code;                   ///< SV201 (837I)
  std::int64_t charge_cents = 0;              ///< SV102 / SV203
  double units = 0;                           ///< SV104 / SV205
  std::string unit_basis;                     ///< SV103 / SV204 (UN, MJ, DA)
  std::string place_of_service;               ///< SV105 (837P), overrides the claim's when present
  date_range service_dates;                   ///< DTP*472 (D8 or RD8)
  std::string line_control_number;            ///< REF*6R (a 277 echoes it in 2220D REF*FJ)
  std::string prior_authorization;            ///< REF*G1 in 2400
  std::vector<attachment> attachments;        ///< PWK in 2400
  std::vector<dme_condition> dme_conditions;  ///< CRC*09
  provider rendering;                         ///< 2420A NM1*82 + PRV*PE
  provider ordering;                          ///< 2420E NM1*DK
  friend bool operator==(const service_line&, const service_line&) = default;
};

/// The interchange, group and set a claim arrived in: what a 277 or 999 must echo.
struct envelope_ref {
  std::string sender_qualifier;      ///< ISA05
  std::string sender_id;             ///< ISA06, trimmed
  std::string receiver_qualifier;    ///< ISA07
  std::string receiver_id;           ///< ISA08, trimmed
  std::string interchange_control;   ///< ISA13
  char usage = 'P';                  ///< ISA15: 'P' production, 'T' test
  std::string group_control;         ///< GS06
  std::string application_sender;    ///< GS02
  std::string application_receiver;  ///< GS03
  std::string set_control;           ///< ST02
  std::string implementation;        ///< ST03 (or GS08)
  std::string originator_reference;  ///< BHT03
  person_name submitter;             ///< 1000A NM103..NM107: who sent the claims
  std::string submitter_id;          ///< 1000A NM109 (NM108 = 46, the submitter's ETIN)
  bool submitter_is_person = false;  ///< 1000A NM102 = 1
  friend bool operator==(const envelope_ref&, const envelope_ref&) = default;
};

/// One claim (loop 2300) with its hierarchy context.
struct claim {
  claim_kind kind = claim_kind::professional;
  std::string id;  ///< CLM01 patient control number
  std::int64_t total_charge_cents = 0;
  std::string place_of_service;         ///< CLM05-1 for 837P
  std::string facility_type;            ///< CLM05-1 for 837I (first two digits of the bill type)
  char frequency = 0;                   ///< CLM05-3: '1' original, '7' replacement, '8' void…
  date_range statement_dates;           ///< DTP*434 (837I)
  std::vector<diagnosis> diagnoses;     ///< HI, in order
  std::string prior_authorization;      ///< REF*G1 in 2300
  std::string payer_claim_number;       ///< REF*F8
  std::vector<attachment> attachments;  ///< PWK in 2300
  person subscriber;                    ///< 2010BA
  person patient;                       ///< 2010CA, when the patient is not the subscriber
  std::string payer_id;                 ///< 2010BB NM109
  std::string claim_filing_indicator;   ///< SBR09, e.g. MB
  provider billing;                     ///< 2010AA NM1*85 + 2000A PRV*BI
  provider rendering;                   ///< 2310B NM1*82 + PRV*PE (837P), 2310D (837I)
  provider attending;                   ///< 2310A NM1*71 + PRV*AT (837I)
  std::vector<service_line> lines;
  envelope_ref envelope;
  std::uint32_t first_segment = 0;  ///< position of CLM within the set (ST = 1)
  std::uint64_t source_offset = 0;  ///< byte offset of CLM in the input stream

  /// The bill type as the three-digit UB code (facility type + frequency), 837I only.
  [[nodiscard]] std::string bill_type() const {
    return kind == claim_kind::institutional && frequency ? facility_type + frequency
                                                          : std::string{};
  }
  friend bool operator==(const claim&, const claim&) = default;
};

}  // namespace covgate::model
