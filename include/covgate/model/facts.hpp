// Normalized clinical facts from FHIR (and later HL7 v2): what POLICY.md's rules read about a
// patient besides the claim. Plain value types.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "covgate/mapping/tables.hpp"
#include "covgate/model/date.hpp"

namespace covgate::model {

/// A moment as sent: the calendar date as written (for "days before the DOS") and the instant
/// in UTC minutes since 1970 (for "within 24 hours"). A value with a date but no time is taken
/// at the start of that day (POLICY.md §3).
struct moment {
  date day;
  std::int64_t utc_minutes = 0;
  bool has_time = false;
  [[nodiscard]] bool valid() const noexcept { return day.valid(); }
};

/// Parses a FHIR date, dateTime or instant (YYYY, YYYY-MM, YYYY-MM-DD, or with Thh:mm[:ss[.s]]
/// and Z or ±hh:mm). A partial date is taken at its first day. nullopt when malformed.
[[nodiscard]] std::optional<moment> parse_fhir_datetime(std::string_view text) noexcept;

enum class fasting_state : std::uint8_t { unknown, fasting, not_fasting };

/// How a fact entered: a laboratory report or a value covgate computed from others.
enum class provenance : std::uint8_t { reported, computed };

struct lab_result {
  std::string resource_id;  ///< "Observation/123" (a component adds "#component[n]")
  std::string patient;      ///< the subject reference, normalized ("Patient/123")
  std::string patient_key;  ///< the patient key once linked (e.g. the MBI)
  mapping::lab_kind kind = mapping::lab_kind::unknown;
  std::string loinc;
  bool has_value = false;
  double value = 0;  ///< in `unit` (canonical when unit_known)
  std::string unit;
  double original_value = 0;
  std::string original_unit;
  bool unit_known = false;    ///< false: kept and flagged, never guessed (lab.unit-unknown)
  std::optional<double> low;  ///< referenceRange.low, converted like the value
  std::optional<double> high;
  std::vector<std::string> interpretation;  ///< v3 ObservationInterpretation codes (POS, H…)
  moment effective;
  fasting_state fasting = fasting_state::unknown;
  std::string status;        ///< final, amended or corrected
  std::string last_updated;  ///< meta.lastUpdated as sent
  provenance origin = provenance::reported;
};

struct participant {
  std::string reference;  ///< Practitioner/… or PractitionerRole/…
  mapping::provider_type type = mapping::provider_type::unknown;
  std::vector<std::string> roles;  ///< participant.type codes (ATND, PPRF…)
};

struct encounter {
  std::string resource_id;
  std::string patient;
  std::string patient_key;
  std::string status;      ///< planned … finished … entered-in-error
  std::string class_code;  ///< v3 ActCode: AMB, HH, VR, IMP…
  moment start;
  moment end;
  std::vector<participant> participants;
  std::vector<std::string> locations;
  std::string last_updated;
};

/// A POLICY.md §5 evidence item (urn:covgate:evidence or a site code mapped onto it).
struct evidence {
  std::string resource_id;
  std::string patient;
  std::string patient_key;
  std::string code;        ///< e.g. smbg-per-day
  std::string value_type;  ///< boolean, quantity or string
  bool flag = false;
  double number = 0;
  std::string text;
  moment effective;
  std::string last_updated;
};

/// A diagnosis from a FHIR Condition (ICD-10-CM or SNOMED CT).
struct condition {
  std::string resource_id;
  std::string patient;
  std::string patient_key;
  std::string system;
  std::string code;  ///< ICD-10-CM without the dot
  std::string clinical_status;
  moment recorded;
  std::string last_updated;
};

struct patient {
  std::string resource_id;
  std::string key;                       ///< from the first configured identifier system
  std::vector<std::string> identifiers;  ///< "system|value"
  date birth_date;
  char sex = 0;  ///< 'F', 'M', 'O', 'U' or 0
};

struct practitioner {
  std::string resource_id;
  std::string npi;
  std::vector<std::string> qualifications;
  mapping::provider_type type = mapping::provider_type::unknown;
};

struct practitioner_role {
  std::string resource_id;
  std::string practitioner;             ///< reference
  std::vector<std::string> taxonomies;  ///< NUCC codes from code and specialty
  mapping::provider_type type = mapping::provider_type::unknown;
};

/// A resource marked entered-in-error: every fact it gave is withdrawn.
struct retraction {
  std::string resource_id;
  std::string patient;
  std::string patient_key;
};

using fact = std::variant<patient, practitioner, practitioner_role, lab_result, encounter, evidence,
                          condition, retraction>;

/// The kind of a fact as JSON names it: patient, practitioner, practitioner_role, lab,
/// encounter, evidence, condition, retraction.
[[nodiscard]] std::string_view kind_of(const fact& f) noexcept;

/// The patient key a fact is filed under: patient_key, or a Patient's own key; "" when none.
[[nodiscard]] const std::string& patient_key_of(const fact& f) noexcept;

/// The resource id a fact came from.
[[nodiscard]] const std::string& resource_id_of(const fact& f) noexcept;

}  // namespace covgate::model
