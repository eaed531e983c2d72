// Normalized clinical facts from FHIR and HL7 v2: what the rules of docs/policy.md read about
// a patient besides the claim. Plain value types.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "covgate/model/codes.hpp"
#include "covgate/model/date.hpp"

namespace covgate::model {

/// A moment as sent: the calendar date as written (for "days before the DOS") and the instant
/// in UTC minutes since 1970 (for "within 24 hours"). A value with a date but no time is taken
/// at the start of that day (docs/policy.md §3).
struct moment {
  date day;
  std::int64_t utc_minutes = 0;
  bool has_time = false;
  [[nodiscard]] bool valid() const noexcept { return day.valid(); }
  friend bool operator==(const moment&, const moment&) = default;
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
  lab_kind kind = lab_kind::unknown;
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
  friend bool operator==(const lab_result&, const lab_result&) = default;
};

struct participant {
  std::string reference;  ///< Practitioner/… or PractitionerRole/…
  provider_type type = provider_type::unknown;
  std::vector<std::string> roles;  ///< participant.type codes (ATND, PPRF…)
  friend bool operator==(const participant&, const participant&) = default;
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
  friend bool operator==(const encounter&, const encounter&) = default;
};

/// A docs/policy.md §8 evidence item (urn:covgate:evidence or a site code mapped onto it).
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
  friend bool operator==(const evidence&, const evidence&) = default;
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
  friend bool operator==(const condition&, const condition&) = default;
};

struct patient {
  std::string resource_id;
  std::string key;                       ///< from the first configured identifier system
  std::vector<std::string> identifiers;  ///< "system|value"
  date birth_date;
  char sex = 0;  ///< 'F', 'M', 'O', 'U' or 0
  friend bool operator==(const patient&, const patient&) = default;
};

struct practitioner {
  std::string resource_id;
  std::string npi;
  std::vector<std::string> qualifications;
  provider_type type = provider_type::unknown;
  friend bool operator==(const practitioner&, const practitioner&) = default;
};

struct practitioner_role {
  std::string resource_id;
  std::string practitioner;             ///< reference
  std::vector<std::string> taxonomies;  ///< NUCC codes from code and specialty
  provider_type type = provider_type::unknown;
  friend bool operator==(const practitioner_role&, const practitioner_role&) = default;
};

/// A resource marked entered-in-error: every fact it gave is withdrawn.
struct retraction {
  std::string resource_id;
  std::string patient;
  std::string patient_key;
  friend bool operator==(const retraction&, const retraction&) = default;
};

using fact = std::variant<patient, practitioner, practitioner_role, lab_result, encounter, evidence,
                          condition, retraction>;

/// The kind of a fact as JSON names it: patient, practitioner, practitioner_role, lab,
/// encounter, evidence, condition, retraction.
[[nodiscard]] std::string_view kind_of(const fact& f) noexcept;

/// The patient key a fact is filed under: patient_key, or a Patient's own key; "" when none.
[[nodiscard]] const std::string& patient_key_of(const fact& f) noexcept;

/// The Patient a fact refers to ("Patient/123", normalized), whether or not it is linked to a
/// key yet; "" for a fact of no patient (a Practitioner) and for a Patient itself.
[[nodiscard]] const std::string& patient_reference_of(const fact& f) noexcept;

/// The resource id a fact came from.
[[nodiscard]] const std::string& resource_id_of(const fact& f) noexcept;

/// The FHIR resource types whose facts name no patient at all. Every patient's evaluation may
/// read them (the provider type of a visit).
inline constexpr std::array<std::string_view, 2> types_of_no_patient{"Practitioner",
                                                                     "PractitionerRole"};

/// True for a resource ("Type/id") of one of types_of_no_patient.
[[nodiscard]] bool names_no_patient(std::string_view resource) noexcept;

/// True for a fact of no patient at all: a Practitioner's or PractitionerRole's, or the
/// retraction of one (all of them are named by their resource).
[[nodiscard]] bool names_no_patient(const fact& f) noexcept;

/// meta.lastUpdated of the resource a fact came from, as sent; "" when absent (or a kind that
/// has none).
[[nodiscard]] const std::string& last_updated_of(const fact& f) noexcept;

/// The versioning rule of the fact index: a version is older than the current one only when
/// both carry meta.lastUpdated and it sorts first (FHIR instants in one time zone compare as
/// text; mixed offsets are rare enough in one feed that arrival order, the tie-breaker, is the
/// better rule than parsing here).
[[nodiscard]] bool older_version(std::string_view candidate, std::string_view current) noexcept;

}  // namespace covgate::model
