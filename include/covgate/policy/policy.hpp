// NCD 223 as code over the normalized model (docs/policy.md): the policy file with its versions
// and parameters, its LCD overlays, and evaluate(), a pure function from a claim and the
// patient's facts to a decision (whose reasons are model::reason, see model/reason.hpp).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/mapping/tables.hpp"
#include "covgate/model/claim.hpp"
#include "covgate/model/decision.hpp"
#include "covgate/model/facts.hpp"

namespace covgate::policy {

/// Every parameter docs/policy.md §6 lists; values come from the policy file only.
struct parameters {
  model::date modifiers_required_from;
  double c_peptide_ratio_max = 0;
  double c_peptide_ratio_max_renal = 0;
  double renal_crcl_max_ml_min = 0;
  int renal_window_days = 0;
  int concurrent_glucose_window_hours = 0;
  double fasting_glucose_max_mg_dl = 0;
  double mdi_min_injections_per_day = 0;
  double mdi_min_months = 0;
  double smbg_min_per_day = 0;
  double smbg_min_per_day_before_enrollment = 0;
  double hba1c_min_percent = 0;
  int dawn_min_count = 0;
  int dawn_window_days = 0;
  double dawn_glucose_min_mg_dl = 0;
  int followup_max_days = 0;
  bool followup_requires_physician = true;
  bool prior_auth_initial = true;
  int rereview_months = 0;
};

/// An LCD overlay (mappings/overlays/*.json): coverage a local policy adds where the NCD leaves
/// an indication undecided. It never removes a national rule; a decision it changes names it.
struct overlay {
  std::string id;                   ///< e.g. LCD-L33794
  std::vector<std::string> payers;  ///< payer ids (2010BB NM109) it applies to
  std::vector<std::pair<std::string, std::string>> drugs;  ///< HCPCS → indication
  struct coverage {
    std::string indication;
    std::string pump_class;              ///< external or implantable
    std::vector<std::string> diagnoses;  ///< ICD-10-CM prefixes
  };
  std::vector<coverage> covered;

  /// Parses one overlay file; throws mapping::config_error naming file, path and problem.
  [[nodiscard]] static overlay parse(std::string_view text, const std::string& name);
};

/// The overlays compiled into the binary from mappings/overlays/.
[[nodiscard]] const std::vector<std::pair<std::string, std::string>>& embedded_overlays();

struct version {
  std::string label;  ///< e.g. 2026-03-07
  model::date effective_from;
  parameters values;
};

class policy_file {
 public:
  /// Parses the policy file (JSON with comments). Throws mapping::config_error naming the file,
  /// the path and the problem, e.g. a missing parameter.
  [[nodiscard]] static policy_file parse(std::string_view text, std::string name = "ncd223.json");

  /// The version in force on `dos` (the newest whose effective_from ≤ dos); the oldest for a
  /// date before every version.
  [[nodiscard]] const version& for_dos(const model::date& dos) const;
  [[nodiscard]] const std::string& id() const noexcept { return id_; }

  /// Adds an overlay; evaluate() applies it to claims of its payers.
  void add_overlay(overlay o) { overlays_.push_back(std::move(o)); }
  [[nodiscard]] const std::vector<overlay>& overlays() const noexcept { return overlays_; }

 private:
  std::string id_;
  std::vector<overlay> overlays_;
  std::vector<version> versions_;  // newest first
};

/// The policy file compiled into the binary from mappings/policies/ncd223.json.
[[nodiscard]] std::string_view embedded_ncd223() noexcept;

/// What the engine knows about the patient besides the claim.
struct patient_context {
  std::vector<const model::fact*> facts;  ///< current facts for the patient (any order)
  /// Where `facts` point when the context owns them (the engine's index keeps facts encoded
  /// and decodes them for one evaluation). Moving the context keeps the pointers valid.
  std::vector<model::fact> fact_storage;
  /// True when an earlier CSII claim of this patient was released (prior-auth "initial").
  bool earlier_csii_release = false;
  /// Provider type of a Practitioner/PractitionerRole reference the encounter could not
  /// resolve itself; may be empty.
  std::function<mapping::provider_type(const std::string&)> provider_type_of;
};

/// Evaluates `claim` against the policy version in force on its date of service. Pure: same
/// inputs, same decision. Never throws on data.
[[nodiscard]] model::decision evaluate(const model::claim& claim, const patient_context& context,
                                       const policy_file& policy, const mapping::tables& tables);

/// One visit as the CSII follow-up rule sees it (docs/policy.md §3.2 item 4).
struct csii_visit {
  std::string resource_id;
  model::date day;
  std::string class_code;                         ///< AMB, HH, VR, IMP
  std::vector<mapping::provider_type> providers;  ///< each participant's type
  bool physician = false;                         ///< a physician took part
  bool non_physician_practitioner = false;        ///< an NP, PA or CNS took part
};

/// What a patient's record documents for an insulin pump (CSII) on `as_of`: items 2 to 4 of
/// docs/policy.md §3.2, read by the same rules evaluate() applies to a CSII line whose date
/// of service is `as_of`. The CSII documentation audit and the worklist's evidence read it.
struct csii_documentation {
  model::date as_of;
  // Item 2: insulinopenia or a positive beta-cell autoantibody.
  bool insulinopenia = false;
  std::optional<model::reason> insulinopenia_reason;  ///< why not, when not shown
  std::string basis;  ///< shown by: "c-peptide", "c-peptide-renal", "autoantibody"; "" when not
  /// The latest qualifying C-peptide or autoantibody; when none qualifies, the most recent
  /// C-peptide (the one the reason is about).
  std::optional<model::lab_result> test;
  std::optional<double> percent_of_lln;      ///< the C-peptide as a percentage of its LLN
  std::optional<model::lab_result> glucose;  ///< the fasting glucose read beside the C-peptide
  /// The creatinine clearance read for the renal allowance (provenance computed: by
  /// Cockcroft-Gault from a serum creatinine).
  std::optional<model::lab_result> clearance;
  // Item 3: criterion A or B.
  bool criterion_a = false;
  bool criterion_b = false;
  std::vector<model::reason> criterion_a_missing;  ///< csii.criterion-a.* not documented
  std::optional<model::reason> criterion_b_missing;
  // Item 4: the treating physician's follow-up.
  int followup_days = 0;           ///< followup_max_days of the version in force
  std::vector<csii_visit> visits;  ///< visits that count, within followup_days, newest first
  bool physician_visit = false;    ///< one of them was with a physician
  bool npp_visits_only = false;    ///< there were some, all with NP, PA or CNS only
  model::date last_visit;          ///< the latest finished visit on or before as_of
  model::date last_physician_visit;
  model::date next_visit_due;  ///< last physician visit + followup_days ("" when none)
};

/// The CSII documentation `context` holds on `as_of` (see csii_documentation). Pure.
[[nodiscard]] csii_documentation document_csii(const patient_context& context,
                                               const model::date& as_of, const policy_file& policy,
                                               const mapping::tables& tables);

}  // namespace covgate::policy
