// NCD 223 as code over the normalized model (docs/policy.md): the policy file with its versions
// and parameters, its LCD overlays, and evaluate(), a pure function from a claim and the
// patient's facts to a decision (whose reasons are model::reason, see model/reason.hpp).
#pragma once

#include <functional>
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

}  // namespace covgate::policy
