// The code tables of mappings/*.json, parsed and validated once at start-up: LOINC → lab kind,
// UCUM conversions, place of service and bill type → setting class, NUCC taxonomy and v2-0360
// qualifications → provider type, HCPCS classes, ICD-10 groups, evidence codes, identity, and
// the HL7 v2 specifics (patient classes, coding systems, local test codes).
// Pure: it parses text it is given; reading files is the caller's job.
#pragma once

#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "covgate/model/codes.hpp"
#include "covgate/model/text_hash.hpp"

namespace covgate::mapping {

/// Every lookup table of `tables`: open addressing, one probe a lookup. A policy looks up several
/// per service line of every claim (HCPCS class, ICD-10 group, place of service), where a
/// red-black tree cost about 300 instructions a lookup (callgrind), this about 150.
template <class T>
using code_map = boost::unordered_flat_map<std::string, T, model::text_hash, std::equal_to<>>;

/// A table that cannot be used. what() names the file, the JSON path and the problem, e.g.
/// "units.json: /glucose/from/mmol/L: must be a positive number".
class config_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// The vocabulary the tables translate into lives in the model (facts are written in it).
using model::is_autoantibody;
using model::lab_kind;
using model::lab_kind_named;
using model::name;
using model::provider_type;

/// The physical quantity a lab kind measures, which selects its unit table in units.json.
[[nodiscard]] std::string_view quantity_of(lab_kind kind) noexcept;

enum class setting_class : std::uint8_t {
  other,
  home,
  inpatient_or_snf,
  nursing_facility,
  other_institutional,
  outpatient,
  hospice,
};
[[nodiscard]] std::string_view name(setting_class s) noexcept;

enum class hcpcs_class : std::uint8_t { none, csii, external, implantable, drug };
[[nodiscard]] std::string_view name(hcpcs_class c) noexcept;

struct loinc_info {
  lab_kind kind = lab_kind::unknown;
  bool fasting = false;  ///< the code itself says --fasting
};

/// A value in its lab kind's canonical unit.
struct canonical_value {
  double value = 0;
  std::string_view unit;  ///< the canonical unit ("ng/mL"…), or the original for antibodies
};

/// How a unit converts to its quantity's canonical unit: canonical = value × factor + offset.
struct unit_conversion {
  double factor = 1;
  double offset = 0;
  std::string_view unit;  ///< the canonical unit, or the unit as sent for antibodies
  [[nodiscard]] double apply(double value) const noexcept { return value * factor + offset; }
};

/// The text of each table file (JSON with comments), as read by the caller.
struct table_sources {
  std::string loinc, units, pos, bill_types, taxonomy, qualifications, hcpcs, icd10, evidence,
      identity;
  /// hl7v2.json. Empty: the built-in copy (a mappings folder written before HL7 v2 was read
  /// has no such file).
  std::string hl7v2;
};

/// The tables compiled into the binary from mappings/ at build time.
[[nodiscard]] const table_sources& embedded_sources() noexcept;

class tables {
  struct icd_entry;  // with the other private state below

 public:
  /// Parses and validates every table. Throws config_error naming file, path and problem.
  [[nodiscard]] static tables parse(const table_sources& sources);

  [[nodiscard]] std::optional<loinc_info> loinc(std::string_view code) const;

  /// Converts `value` in UCUM `unit` to the canonical unit of `kind`'s quantity; nullopt when
  /// the unit is not listed for it (never guessed). Autoantibodies keep their unit.
  /// The conversion to_canonical applies, found once for several values in the same unit (a
  /// result and its reference range). `unit` must outlive the result for antibodies.
  [[nodiscard]] std::optional<unit_conversion> conversion(lab_kind kind,
                                                          std::string_view unit) const;

  [[nodiscard]] std::optional<canonical_value> to_canonical(lab_kind kind, std::string_view unit,
                                                            double value) const;

  [[nodiscard]] setting_class place_of_service(std::string_view pos) const;
  /// `facility_type` is the first two digits of the type of bill (837I CLM05-1).
  [[nodiscard]] setting_class bill_type(std::string_view facility_type) const;

  /// Longest matching NUCC prefix; unknown for an empty code, other for an unlisted one.
  [[nodiscard]] provider_type taxonomy(std::string_view code) const;
  /// v2-0360 degree code; unknown when not listed.
  [[nodiscard]] provider_type qualification(std::string_view code) const;

  [[nodiscard]] hcpcs_class hcpcs(std::string_view code) const;
  /// True for an item whose indication the NCD does not decide (hcpcs.json "undecided").
  [[nodiscard]] bool hcpcs_undecided(std::string_view code) const;
  /// For a drug HCPCS code: the indication it tells ("iron", "pain"…), or "".
  [[nodiscard]] std::string_view drug_indication(std::string_view code) const;

  /// One group of icd10.json, looked up once to test many codes against. It points into the
  /// tables it came from: valid while they live (they never change after parse()).
  class icd10_group {
   public:
    /// True when ICD-10-CM `code` (no dot) is one of the group's (never for a group that
    /// icd10.json does not list).
    [[nodiscard]] bool contains(std::string_view code) const noexcept;

   private:
    friend class tables;
    const std::vector<icd_entry>* entries_ = nullptr;
  };
  /// `group` of icd10.json (a policy asks one group of every diagnosis of a claim).
  [[nodiscard]] icd10_group icd10(std::string_view group) const;
  [[nodiscard]] bool has_icd10_group(std::string_view group) const;

  /// The covgate evidence code a (system, code) pair stands for, or nullopt.
  [[nodiscard]] std::optional<std::string_view> evidence(std::string_view system,
                                                         std::string_view code) const;
  /// "boolean", "quantity" or "string" for an evidence code.
  [[nodiscard]] std::string_view evidence_value_type(std::string_view evidence_code) const;
  [[nodiscard]] const std::string& evidence_system() const noexcept { return evidence_system_; }
  /// The HL7 v2 coding system (OBX-3.3 or OBX-3.6) of the evidence codes: evidence.json
  /// "hl7v2_system", "99COVGATE" when absent.
  [[nodiscard]] const std::string& evidence_hl7v2_system() const noexcept {
    return evidence_hl7v2_system_;
  }

  /// Identifier systems that make a patient key, most preferred first.
  [[nodiscard]] const std::vector<std::string>& patient_identifier_systems() const noexcept {
    return identity_systems_;
  }

  // ---- HL7 v2 (identity.json "hl7v2", hl7v2.json) -------------------------------------------
  /// The identifier system a PID-3 identifier type code (table 0203, e.g. "MC") stands for, or
  /// "" when it makes no key.
  [[nodiscard]] std::string_view hl7v2_identifier_type(std::string_view type_code) const;
  /// The identifier system a PID-3 assigning authority (CX-4 namespace or universal id, e.g.
  /// the MBI OID) stands for, or "".
  [[nodiscard]] std::string_view hl7v2_assigning_authority(std::string_view authority) const;
  /// PV1-2 (table 0004) → v3 ActCode encounter class; "" when not listed.
  [[nodiscard]] std::string_view hl7v2_patient_class(std::string_view code) const;
  /// An OBX-3 coding system (table 0396, e.g. "LN", "SCT") → the FHIR code system URI; "" when
  /// not listed.
  [[nodiscard]] std::string_view hl7v2_coding_system(std::string_view system) const;
  /// The LOINC a local OBX-3 code stands for in the entries of `sender` (one name of the
  /// sender: MSH-4 or MSH-3 namespace or universal id), or, for an empty `sender`, in the
  /// entries every sender shares (no "sender"); "" when none. A reader tries the sender's names
  /// first, then "".
  [[nodiscard]] std::string_view hl7v2_local_code(std::string_view sender, std::string_view system,
                                                  std::string_view code) const;

 private:
  struct unit_table {
    std::string canonical;
    code_map<std::pair<double, double>> from;  // factor, offset
  };
  // An ICD-10 entry as two seven-character keys packed into integers (icd10_key in
  // tables.cpp): a range's ends padded with spaces, a prefix's as the prefix padded with
  // 0x00 and 0xFF, so that either is one pair of integer comparisons (a policy asks this for
  // every diagnosis of every claim). A prefix matches only codes at least as long as itself.
  struct icd_entry {
    std::uint64_t low = 0, high = 0;
    std::uint8_t min_length = 0;
  };

  code_map<loinc_info> loinc_;
  code_map<unit_table> units_;
  code_map<setting_class> pos_;
  code_map<setting_class> bill_types_;
  std::vector<std::pair<std::string, provider_type>> taxonomy_;  // longest prefix first
  code_map<provider_type> qualifications_;
  code_map<hcpcs_class> hcpcs_;
  // The codes of hcpcs_ of up to seven characters (all of HCPCS and CPT) by short_code_key in
  // tables.cpp: the policy asks the class of every line of every claim.
  boost::unordered_flat_map<std::uint64_t, hcpcs_class> hcpcs_short_;
  code_map<std::string> drugs_;
  code_map<bool> undecided_;
  code_map<std::vector<icd_entry>> icd10_;
  std::string evidence_system_;
  code_map<std::string> evidence_types_;
  // system → code → evidence (nested so a lookup needs no key built)
  code_map<code_map<std::string>> evidence_site_;
  std::vector<std::string> identity_systems_;
  std::string evidence_hl7v2_system_;
  code_map<std::string> hl7v2_identifier_types_;
  code_map<std::string> hl7v2_authorities_;
  code_map<std::string> hl7v2_patient_classes_;
  code_map<std::string> hl7v2_coding_systems_;
  code_map<std::string> hl7v2_local_codes_;  // sender \x1f system \x1f code
};

}  // namespace covgate::mapping
