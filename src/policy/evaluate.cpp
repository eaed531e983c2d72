// The rules of docs/policy.md §2–§4 over one claim and the patient's current facts.
#include <algorithm>
#include <cmath>
#include <optional>
#include <set>

#include "covgate/model/clearance.hpp"
#include "covgate/policy/policy.hpp"

namespace covgate::policy {
namespace {

using mapping::hcpcs_class;
using mapping::lab_kind;
using mapping::setting_class;
using model::date;
using model::outcome;
using model::reason;

constexpr double ratio_epsilon = 1e-9;  // ratios of two converted values: keep "at" inclusive

int days_between(const date& earlier, const date& later) {
  return later.days_since_epoch() - earlier.days_since_epoch();
}

// 0 ≤ DOS − fact ≤ n (docs/policy.md §3: whole days, n itself counts).
bool within_before(const date& fact, const date& dos, int n) {
  const int d = days_between(fact, dos);
  return d >= 0 && d <= n;
}

// Asked a few times of every pump line. Modifiers are two characters: compared a character at a
// time, where string == string_view called memcmp for each pair (callgrind).
bool has_modifier(const model::service_line& line, std::initializer_list<std::string_view> any) {
  const auto same = [](std::string_view a, std::string_view b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
      if (a[i] != b[i]) return false;
    }
    return true;
  };
  for (const std::string_view m : line.modifiers) {
    for (const auto wanted : any) {
      if (same(m, wanted)) return true;
    }
  }
  return false;
}

// The patient's facts, split by kind.
struct facts_view {
  std::vector<const model::lab_result*> labs;
  std::vector<const model::encounter*> encounters;
  std::vector<const model::evidence*> evidence;
  std::vector<const model::condition*> conditions;
  const model::patient* demographics = nullptr;
};

facts_view split(const std::vector<const model::fact*>& facts) {
  facts_view v;
  for (const auto* f : facts) {
    if (const auto* x = std::get_if<model::lab_result>(f)) v.labs.push_back(x);
    if (const auto* x = std::get_if<model::encounter>(f)) v.encounters.push_back(x);
    if (const auto* x = std::get_if<model::evidence>(f)) v.evidence.push_back(x);
    if (const auto* x = std::get_if<model::condition>(f)) v.conditions.push_back(x);
    if (const auto* x = std::get_if<model::patient>(f)) v.demographics = x;
  }
  return v;
}

// What a C-peptide was read with: the fasting glucose beside it and the creatinine clearance
// (measured, or computed by Cockcroft-Gault) for the renal allowance.
struct c_peptide_evidence {
  const model::lab_result* glucose = nullptr;
  std::optional<model::lab_result> clearance;
};

class evaluator {
 public:
  evaluator(const model::claim& claim, const patient_context& context, const policy_file& policy,
            const mapping::tables& tables)
      : claim_(claim),
        context_(context),
        policy_(policy),
        tables_(tables),
        facts_(split(context.facts)) {}

  model::decision run() {
    model::decision d;
    d.claim_id = claim_.id;
    d.patient = claim_.subscriber.member_id;
    bool any_pump = false;
    for (const auto& line : claim_.lines) {
      const auto cls = tables_.hcpcs(line.procedure_code);
      if (cls != hcpcs_class::csii && cls != hcpcs_class::external &&
          cls != hcpcs_class::implantable) {
        continue;
      }
      const auto dos = date_of_service(line);
      if (!any_pump) {
        d.dos = dos;
        any_pump = true;
      }
      if (!dos.valid()) {
        add(reason::claim_service_date_missing, line.number);
        continue;
      }
      evaluate_line(line, cls, dos);
    }
    if (!any_pump) {
      add(reason::scope_not_infusion_pump, 0);
      d.dos = claim_.lines.empty() ? date{} : date_of_service(claim_.lines.front());
    } else {
      if (claim_.subscriber.member_id.empty()) add(reason::claim_member_id_missing, 0);
      if (claim_.diagnoses.empty()) add(reason::claim_diagnosis_missing, 0);
    }
    const auto& version = policy_.for_dos(d.dos.valid() ? d.dos : date{2026, 3, 7});
    d.policy = policy_.id() + "@" + version.label;
    for (const auto& id : overlays_used_) d.policy += "+" + id;
    sort_by_severity();
    d.result = outcome::release;
    for (const auto& f : findings_) d.result = std::max(d.result, f.result());
    d.findings = std::move(findings_);
    return d;
  }

 private:
  // ---- findings ----------------------------------------------------------------------------
  /// Most severe first, in the order found within a severity. A claim has a handful of
  /// findings: an insertion sort moves a few, where stable_sort took a buffer from the heap
  /// for each claim.
  void sort_by_severity() {
    const auto more_severe = [](const model::finding& a, const model::finding& b) {
      return a.result() > b.result();
    };
    if (findings_.size() > 32) {
      std::stable_sort(findings_.begin(), findings_.end(), more_severe);
      return;
    }
    for (auto it = findings_.begin(); it != findings_.end(); ++it) {
      const auto at = std::upper_bound(findings_.begin(), it, *it, more_severe);
      std::rotate(at, it, std::next(it));
    }
  }
  model::finding& add(reason code, std::uint32_t line, std::vector<std::string> used = {},
                      std::string detail = {}) {
    // Room for 16 at the first: a held insulin-pump claim has ten or more findings (each of
    // criterion A's, B, follow-up, insulinopenia, prior authorization, setting, re-review),
    // and growing from 8 moved them all once per claim.
    if (findings_.empty()) findings_.reserve(16);
    // Built in place and filled, not emplace_back(code, line, ...): a finding is an aggregate,
    // and Clang 14 does not build aggregates from parentheses (C++20's P0960); a braced
    // temporary pushed back costs a move per finding (policy::evaluate +7 %).
    auto& finding = findings_.emplace_back();
    finding.reason = code;
    finding.line = line;
    finding.detail = std::move(detail);
    finding.facts_used = std::move(used);
    return finding;
  }

  // ---- per line ----------------------------------------------------------------------------
  date date_of_service(const model::service_line& line) const {
    if (line.service_dates.from.valid()) return line.service_dates.from;
    if (claim_.kind == model::claim_kind::institutional) return claim_.statement_dates.from;
    return {};
  }

  void evaluate_line(const model::service_line& line, hcpcs_class cls, const date& dos) {
    p_ = &policy_.for_dos(dos).values;
    if (cls != hcpcs_class::implantable && !(dos < p_->modifiers_required_from)) {
      if (has_modifier(line, {"GA", "GZ"})) {
        add(reason::modifier_expected_denial, line.number);
        return;  // the supplier expects a denial: no criteria are checked
      }
      if (!has_modifier(line, {"KX"})) add(reason::modifier_missing, line.number);
    }
    switch (cls) {
      case hcpcs_class::csii:
        csii(line, dos);
        break;
      case hcpcs_class::external:
        external(line, dos);
        break;
      case hcpcs_class::implantable:
        implantable(line, dos);
        break;
      default:
        break;
    }
    rereview(line, dos);
  }

  // ---- settings ----------------------------------------------------------------------------
  setting_class setting_of(const model::service_line& line) const {
    if (claim_.kind == model::claim_kind::institutional) {
      return tables_.bill_type(claim_.facility_type);
    }
    const auto& pos =
        line.place_of_service.empty() ? claim_.place_of_service : line.place_of_service;
    return tables_.place_of_service(pos);
  }

  // ---- CSII (§3.2) -------------------------------------------------------------------------
  void csii(const model::service_line& line, const date& dos) {
    const auto setting = setting_of(line);
    if (setting == setting_class::inpatient_or_snf || setting == setting_class::nursing_facility) {
      add(reason::csii_setting_not_home, line.number);
    } else if (setting != setting_class::home) {
      add(reason::csii_setting_unknown, line.number);
    }
    insulinopenia(line, dos);
    criteria_a_or_b(line, dos);
    followup(line, dos);
    prior_authorization(line, dos);
  }

  bool positive_antibody(const model::lab_result& lab) const {
    for (const auto& i : lab.interpretation) {
      if (i == "POS" || i == "H" || i == "A" || i == "HH") return true;
    }
    return lab.has_value && lab.high && lab.value > *lab.high;
  }

  void insulinopenia(const model::service_line& line, const date& dos) {
    auto found = assess_insulinopenia(dos);
    if (found.why_not) add(*found.why_not, line.number, std::move(found.used));
  }

  // What the record shows for insulinopenia on `dos` (docs/policy.md §3.2 item 2): shown by a
  // positive autoantibody or a qualifying C-peptide; otherwise the reason, taken from the most
  // recent C-peptide. Also keeps the results behind the verdict, for the audit and the
  // worklist's evidence.
  struct insulinopenia_found {
    std::optional<reason> why_not;
    std::vector<std::string> used;  // the facts the reason cites
    const model::lab_result* test =
        nullptr;                // latest qualifying result, or the one explaining why not
    c_peptide_evidence beside;  // the glucose and clearance read with a C-peptide
    bool renal = false;         // shown through the renal allowance
  };

  insulinopenia_found assess_insulinopenia(const date& dos) const {
    insulinopenia_found out;
    const model::lab_result* antibody = nullptr;
    std::vector<const model::lab_result*> peptides;
    for (const auto* lab : facts_.labs) {
      if (!lab->effective.valid() || dos < lab->effective.day) continue;
      if (mapping::is_autoantibody(lab->kind) && positive_antibody(*lab)) {
        if (!antibody || antibody->effective.utc_minutes < lab->effective.utc_minutes) {
          antibody = lab;
        }
      }
      if (lab->kind == lab_kind::c_peptide || lab->kind == lab_kind::c_peptide_fasting) {
        peptides.push_back(lab);
      }
    }
    if (peptides.empty() && !antibody) {
      out.why_not = reason::csii_insulinopenia_missing;
      return out;
    }
    // Any qualifying result shows insulinopenia; otherwise the most recent one explains why.
    std::sort(peptides.begin(), peptides.end(), [](const auto* a, const auto* b) {
      return a->effective.utc_minutes > b->effective.utc_minutes;
    });
    std::optional<std::pair<reason, std::vector<std::string>>> first_reason;
    c_peptide_evidence first_beside;
    for (const auto* peptide : peptides) {
      std::vector<std::string> used{peptide->resource_id};
      c_peptide_evidence beside;
      const auto verdict = c_peptide_verdict(*peptide, dos, used, &beside);
      if (!verdict) {
        // The latest qualifying result: this C-peptide, or a later positive autoantibody.
        if (antibody && peptide->effective.utc_minutes < antibody->effective.utc_minutes) break;
        out.test = peptide;
        out.beside = std::move(beside);
        out.renal = peptide->low && *peptide->low > 0 &&
                    peptide->value / *peptide->low > p_->c_peptide_ratio_max + ratio_epsilon;
        return out;
      }
      if (!first_reason) {
        first_reason.emplace(*verdict, std::move(used));
        first_beside = std::move(beside);
        out.test = peptide;
      }
    }
    if (antibody) {
      out.test = antibody;
      out.beside = {};
      return out;
    }
    out.why_not = first_reason->first;
    out.used = std::move(first_reason->second);
    out.beside = std::move(first_beside);
    return out;
  }

  // nullopt when the C-peptide shows insulinopenia, else the reason it does not.
  std::optional<reason> c_peptide_verdict(const model::lab_result& peptide, const date& dos,
                                          std::vector<std::string>& used,
                                          c_peptide_evidence* beside = nullptr) const {
    if (!peptide.has_value || !peptide.unit_known) return reason::lab_unit_unknown;
    const std::int64_t window = std::int64_t{p_->concurrent_glucose_window_hours} * 60;
    std::vector<const model::lab_result*> glucoses;
    for (const auto* lab : facts_.labs) {
      const bool fasting_glucose =
          lab->kind == lab_kind::fasting_glucose ||
          (lab->kind == lab_kind::glucose && lab->fasting == model::fasting_state::fasting);
      if (!fasting_glucose || !lab->has_value || !lab->unit_known) continue;
      if (!lab->effective.valid() || dos < lab->effective.day) continue;
      if (std::llabs(lab->effective.utc_minutes - peptide.effective.utc_minutes) > window) continue;
      glucoses.push_back(lab);
    }
    const bool fasting = peptide.fasting != model::fasting_state::not_fasting &&
                         (peptide.kind == lab_kind::c_peptide_fasting ||
                          peptide.fasting == model::fasting_state::fasting || !glucoses.empty());
    if (!fasting) return reason::csii_c_peptide_not_fasting;
    if (glucoses.empty()) return reason::csii_c_peptide_glucose_missing;
    const auto* best =
        *std::min_element(glucoses.begin(), glucoses.end(),
                          [](const auto* a, const auto* b) { return a->value < b->value; });
    used.push_back(best->resource_id);
    if (beside) beside->glucose = best;
    if (best->value > p_->fasting_glucose_max_mg_dl) return reason::csii_c_peptide_glucose_too_high;
    if (!peptide.low || *peptide.low <= 0) return reason::csii_c_peptide_no_reference_range;
    const double ratio = peptide.value / *peptide.low;
    if (ratio <= p_->c_peptide_ratio_max + ratio_epsilon) return std::nullopt;
    if (ratio > p_->c_peptide_ratio_max_renal + ratio_epsilon) {
      return reason::csii_c_peptide_above_threshold;
    }
    // Between the two thresholds: the renal allowance needs a creatinine clearance.
    auto in_window = [&](const model::lab_result& lab) {
      return lab.effective.valid() && !(dos < lab.effective.day) &&
             std::abs(days_between(lab.effective.day, peptide.effective.day)) <=
                 p_->renal_window_days;
    };
    std::vector<model::lab_result> clearances;
    bool egfr = false;
    for (const auto* lab : facts_.labs) {
      if (!in_window(*lab)) continue;
      if (lab->kind == lab_kind::creatinine_clearance && lab->has_value && lab->unit_known) {
        clearances.push_back(*lab);
      }
      if (lab->kind == lab_kind::egfr) egfr = true;
      if (lab->kind == lab_kind::serum_creatinine && facts_.demographics) {
        // Cockcroft–Gault with the weight closest in time inside the same window.
        const model::lab_result* weight = nullptr;
        for (const auto* w : facts_.labs) {
          if (w->kind != lab_kind::body_weight || !in_window(*w)) continue;
          if (!weight ||
              std::llabs(w->effective.utc_minutes - lab->effective.utc_minutes) <
                  std::llabs(weight->effective.utc_minutes - lab->effective.utc_minutes)) {
            weight = w;
          }
        }
        if (weight) {
          if (auto computed = model::cockcroft_gault(*facts_.demographics, *lab, *weight)) {
            clearances.push_back(std::move(*computed));
          }
        }
      }
    }
    for (const auto& c : clearances) {
      if (c.value <= p_->renal_crcl_max_ml_min) {
        used.push_back(c.resource_id);
        if (beside) beside->clearance = c;
        return std::nullopt;
      }
    }
    if (!clearances.empty()) {
      used.push_back(clearances.front().resource_id);
      if (beside) beside->clearance = clearances.front();
      return reason::csii_c_peptide_above_threshold;
    }
    return egfr ? reason::csii_c_peptide_egfr_only : reason::csii_c_peptide_renal_unproven;
  }

  // The most recent evidence item `code` dated on or before the DOS (undated counts).
  const model::evidence* evidence(std::string_view code, const date& dos) const {
    const model::evidence* found = nullptr;
    for (const auto* e : facts_.evidence) {
      if (e->code != code) continue;
      if (e->effective.valid() && dos < e->effective.day) continue;
      if (!found || found->effective.utc_minutes < e->effective.utc_minutes) found = e;
    }
    return found;
  }

  bool evidence_true(std::string_view code, const date& dos) const {
    const auto* e = evidence(code, dos);
    return e && e->flag;
  }

  bool evidence_at_least(std::string_view code, double minimum, const date& dos) const {
    const auto* e = evidence(code, dos);
    return e && e->value_type == "quantity" && e->number >= minimum;
  }

  // An ICD-10 group on the claim or in a Condition recorded on or before the DOS.
  bool diagnosis_in(std::string_view group_name, const date& dos) const {
    const auto group = tables_.icd10(group_name);  // looked up once, not per diagnosis
    for (const auto& d : claim_.diagnoses) {
      if (group.contains(d.code)) return true;
    }
    for (const auto* c : facts_.conditions) {
      if (c->recorded.valid() && dos < c->recorded.day) continue;
      if (c->clinical_status == "resolved" || c->clinical_status == "inactive") continue;
      if (c->system == "http://hl7.org/fhir/sid/icd-10-cm" && group.contains(c->code)) {
        return true;
      }
    }
    return false;
  }

  // Criterion A's four items and criterion B's two (§3.2 item 3).
  struct criteria {
    bool education = false, mdi = false, smbg = false, marker = false;
    bool pump_before = false, smbg_before = false;
    [[nodiscard]] bool a() const { return education && mdi && smbg && marker; }
    [[nodiscard]] bool b() const { return pump_before && smbg_before; }
  };

  criteria assess_criteria(const date& dos) const {
    criteria c;
    c.education = evidence_true("diabetes-education-completed", dos);
    c.mdi = evidence_at_least("mdi-injections-per-day", p_->mdi_min_injections_per_day, dos) &&
            evidence_at_least("mdi-duration-months", p_->mdi_min_months, dos);
    c.smbg = evidence_at_least("smbg-per-day", p_->smbg_min_per_day, dos);
    c.marker = glycemic_marker(dos);
    c.pump_before = evidence_true("pump-before-medicare", dos);
    c.smbg_before = evidence_at_least("smbg-per-day-before-enrollment",
                                      p_->smbg_min_per_day_before_enrollment, dos);
    return c;
  }

  void criteria_a_or_b(const model::service_line& line, const date& dos) {
    const auto c = assess_criteria(dos);
    if (c.a() || c.b()) return;
    if (!c.education) add(reason::csii_criterion_a_education, line.number);
    if (!c.mdi) add(reason::csii_criterion_a_mdi, line.number);
    if (!c.smbg) add(reason::csii_criterion_a_smbg, line.number);
    if (!c.marker) add(reason::csii_criterion_a_marker, line.number);
    // Pump use before Medicare shown but not the monitoring: B's second half is missing.
    // Otherwise B as a whole is (pump-before-medicare absent or false).
    add(c.pump_before ? reason::csii_criterion_b_smbg : reason::csii_criterion_b_missing,
        line.number);
  }

  bool glycemic_marker(const date& dos) const {
    int high_fasting = 0;
    for (const auto* lab : facts_.labs) {
      if (!lab->effective.valid() || dos < lab->effective.day || !lab->unit_known) continue;
      if (lab->kind == lab_kind::hba1c && lab->has_value && lab->value > p_->hba1c_min_percent) {
        return true;
      }
      const bool fasting_glucose =
          lab->kind == lab_kind::fasting_glucose ||
          (lab->kind == lab_kind::glucose && lab->fasting == model::fasting_state::fasting);
      if (fasting_glucose && lab->has_value && lab->value > p_->dawn_glucose_min_mg_dl &&
          within_before(lab->effective.day, dos, p_->dawn_window_days)) {
        ++high_fasting;
      }
    }
    if (high_fasting >= p_->dawn_min_count) return true;
    for (const char* code : {"recurring-hypoglycemia", "wide-premeal-fluctuations",
                             "dawn-phenomenon", "severe-glycemic-excursions"}) {
      if (evidence_true(code, dos)) return true;
    }
    return diagnosis_in("recurring-hypoglycemia", dos);
  }

  // A visit that counts for the follow-up rule (§3.2 item 4), whoever saw the patient:
  // finished, ambulatory/home/virtual/inpatient, within followup_max_days before `dos`.
  bool followup_visit(const model::encounter& e, const date& dos) const {
    if (e.status != "finished") return false;
    if (e.class_code != "AMB" && e.class_code != "HH" && e.class_code != "VR" &&
        e.class_code != "IMP") {
      return false;
    }
    return e.start.valid() && within_before(e.start.day, dos, p_->followup_max_days);
  }

  // Who a participant is: the encounter's own type, else the Practitioner or PractitionerRole
  // it names.
  mapping::provider_type type_of(const model::participant& who) const {
    auto type = who.type;
    if (type == mapping::provider_type::unknown && context_.provider_type_of) {
      type = context_.provider_type_of(who.reference);
    }
    return type;
  }

  void followup(const model::service_line& line, const date& dos) {
    bool any_visit = false;
    std::vector<std::string> seen;
    for (const auto* e : facts_.encounters) {
      if (!followup_visit(*e, dos)) continue;
      any_visit = true;
      seen.push_back(e->resource_id);
      if (!p_->followup_requires_physician) return;
      for (const auto& who : e->participants) {
        if (type_of(who) == mapping::provider_type::physician) return;
      }
    }
    add(any_visit ? reason::csii_followup_not_physician : reason::csii_followup_missing,
        line.number, std::move(seen));
  }

  void prior_authorization(const model::service_line& line, const date& dos) {
    if (!p_->prior_auth_initial) return;
    bool initial = !context_.earlier_csii_release;
    if (has_modifier(line, {"KH", "NU"})) initial = true;
    if (has_modifier(line, {"KI", "KJ"})) initial = false;
    if (!initial) return;
    if (!claim_.prior_authorization.empty() || !line.prior_authorization.empty()) return;
    if (evidence("prior-authorization", dos)) return;
    add(reason::csii_prior_auth_missing, line.number);
  }

  // ---- re-review (§3.2.6, every indication) ------------------------------------------------
  void rereview(const model::service_line& line, const date& dos) {
    date newest;
    for (const auto* e : facts_.encounters) {
      if (e->start.valid() && !(dos < e->start.day)) newest = std::max(newest, e->start.day);
    }
    for (const auto* l : facts_.labs) {
      if (l->effective.valid() && !(dos < l->effective.day)) {
        newest = std::max(newest, l->effective.day);
      }
    }
    for (const auto* e : facts_.evidence) {
      if (e->effective.valid() && !(dos < e->effective.day)) {
        newest = std::max(newest, e->effective.day);
      }
    }
    if (!newest.valid() || newest < dos.minus_months(p_->rereview_months)) {
      add(reason::rereview_overdue, line.number);
    }
  }

  // ---- indications (§2) --------------------------------------------------------------------
  // The drug lines on the claim decide; diagnoses only when there is none.
  std::string drug_indication() const {
    for (const auto& l : claim_.lines) {
      const auto indication = tables_.drug_indication(l.procedure_code);
      if (!indication.empty()) return std::string(indication);
    }
    return {};
  }

  bool claim_has_code(std::string_view code) const {
    return std::any_of(claim_.lines.begin(), claim_.lines.end(),
                       [&](const auto& l) { return l.procedure_code == code; });
  }

  // ---- external pumps (§3.3) ---------------------------------------------------------------
  // An overlay of the claim's payer that covers this pump class for a drug on the claim and a
  // diagnosis it lists; its id, or "".
  std::string overlay_covering(std::string_view pump_class, const date& dos) const {
    for (const auto& o : policy_.overlays()) {
      if (std::find(o.payers.begin(), o.payers.end(), claim_.payer_id) == o.payers.end()) continue;
      for (const auto& c : o.covered) {
        if (c.pump_class != pump_class) continue;
        const bool drug = std::any_of(o.drugs.begin(), o.drugs.end(), [&](const auto& d) {
          return d.second == c.indication && claim_has_code(d.first);
        });
        if (!drug) continue;
        for (const auto& prefix : c.diagnoses) {
          const bool on_claim =
              std::any_of(claim_.diagnoses.begin(), claim_.diagnoses.end(),
                          [&](const auto& d) { return d.code.rfind(prefix, 0) == 0; });
          const bool on_record = std::any_of(
              facts_.conditions.begin(), facts_.conditions.end(), [&](const auto* cond) {
                return cond->code.rfind(prefix, 0) == 0 &&
                       !(cond->recorded.valid() && dos < cond->recorded.day);
              });
          if (on_claim || on_record) return o.id;
        }
      }
    }
    return {};
  }

  void unlisted(const model::service_line& line, const date& dos) {
    if (const auto id = overlay_covering("external", dos); !id.empty()) {
      overlays_used_.insert(id);
      return;
    }
    add(reason::external_indication_unlisted, line.number);
  }

  void external(const model::service_line& line, const date& dos) {
    if (tables_.hcpcs_undecided(line.procedure_code)) {
      unlisted(line, dos);
      return;
    }
    std::string indication = drug_indication();
    if (indication.empty()) {
      if (diagnosis_in("iron", dos))
        indication = "iron";
      else if (diagnosis_in("thromboembolic", dos))
        indication = "thromboembolic";
      else if (diagnosis_in("liver-cancer", dos))
        indication = "chemotherapy";
      else if (diagnosis_in("cancer-pain", dos))
        indication = "pain";
    }
    if (indication == "iron") return;
    if (indication == "thromboembolic") {
      const auto setting = setting_of(line);
      if (setting == setting_class::inpatient_or_snf ||
          setting == setting_class::other_institutional) {
        return;
      }
      add(setting == setting_class::home ? reason::external_heparin_home
                                         : reason::external_heparin_setting_unclear,
          line.number);
      return;
    }
    if (indication == "chemotherapy") {
      if (!diagnosis_in("liver-cancer", dos)) {
        add(reason::external_chemo_diagnosis_unlisted, line.number);
      } else if (!evidence_true("tumor-unresectable", dos) &&
                 !evidence_true("surgery-refused", dos)) {
        add(reason::external_chemo_resectability_missing, line.number);
      }
      return;
    }
    if (indication == "pain") {
      const bool cancer_pain =
          diagnosis_in("cancer-pain", dos) && diagnosis_in("malignant-neoplasm", dos);
      if (!cancer_pain && !evidence_true("intractable-cancer-pain", dos)) {
        add(reason::external_morphine_cancer_pain_missing, line.number);
      }
      return;
    }
    if (indication == "excluded") {
      add(reason::external_excluded_drug, line.number);
      return;
    }
    unlisted(line, dos);
  }

  // ---- implantable pumps (§3.4) ------------------------------------------------------------
  void implantable(const model::service_line& line, const date& dos) {
    const auto drug = drug_indication();
    const bool insulin = std::any_of(claim_.lines.begin(), claim_.lines.end(), [&](const auto& l) {
      return l.procedure_code.rfind("J", 0) == 0 &&
             tables_.hcpcs(l.procedure_code) == hcpcs_class::csii;
    });
    if (drug == "thromboembolic" || insulin) {
      add(reason::implantable_excluded, line.number);
      return;
    }
    std::string indication = drug;
    if (indication.empty()) {
      if (diagnosis_in("spasticity", dos))
        indication = "spasticity";
      else if (diagnosis_in("hepatocellular", dos) || diagnosis_in("liver-metastasis", dos))
        indication = "chemotherapy";
      else if (diagnosis_in("cancer-pain", dos) || diagnosis_in("chronic-pain", dos))
        indication = "pain";
    }
    std::vector<std::string> missing;
    auto need = [&](std::string_view code) {
      if (!evidence_true(code, dos)) missing.emplace_back(code);
    };
    if (indication == "spasticity") {
      need("oral-antispasmodic-trial-failed");
      need("intrathecal-test-dose-response");
    } else if (indication == "chemotherapy") {
      if (!claim_has_code("J9200")) missing.emplace_back("floxuridine (J9200)");
      if (!diagnosis_in("hepatocellular", dos) && !diagnosis_in("liver-metastasis", dos)) {
        missing.emplace_back("HCC or liver-limited metastases (C22.0, C78.7)");
      }
      if (!evidence_true("tumor-unresectable", dos) && !evidence_true("surgery-refused", dos)) {
        missing.emplace_back("tumor-unresectable or surgery-refused");
      }
    } else if (indication == "pain") {
      need("life-expectancy-3-months");
      need("noninvasive-therapy-failed");
      need("temporary-catheter-trial-success");
    } else {
      missing.emplace_back("a recognizable indication");
    }
    if (missing.empty()) return;
    std::string detail = "Missing:";
    for (std::size_t i = 0; i < missing.size(); ++i) {
      detail += (i ? ", " : " ") + missing[i];
    }
    add(reason::implantable_review, line.number, {}, detail + ".");
  }

 public:
  // The CSII documentation a record shows on `as_of` (the audit): items 2-4 of §3.2 by the
  // same functions a CSII line of that date of service is evaluated with.
  csii_documentation document(const date& as_of) {
    p_ = &policy_.for_dos(as_of).values;
    csii_documentation doc;
    doc.as_of = as_of;
    doc.followup_days = p_->followup_max_days;
    auto found = assess_insulinopenia(as_of);
    doc.insulinopenia = !found.why_not;
    doc.insulinopenia_reason = found.why_not;
    if (found.test) {
      doc.test = *found.test;
      if (found.test->has_value && found.test->low && *found.test->low > 0 &&
          !mapping::is_autoantibody(found.test->kind)) {
        doc.percent_of_lln = found.test->value / *found.test->low * 100.0;
      }
      if (doc.insulinopenia) {
        doc.basis = mapping::is_autoantibody(found.test->kind) ? "autoantibody"
                    : found.renal                              ? "c-peptide-renal"
                                                               : "c-peptide";
      }
    }
    if (found.beside.glucose) doc.glucose = *found.beside.glucose;
    doc.clearance = found.beside.clearance;
    const auto c = assess_criteria(as_of);
    doc.criterion_a = c.a();
    doc.criterion_b = c.b();
    if (!c.education) doc.criterion_a_missing.push_back(reason::csii_criterion_a_education);
    if (!c.mdi) doc.criterion_a_missing.push_back(reason::csii_criterion_a_mdi);
    if (!c.smbg) doc.criterion_a_missing.push_back(reason::csii_criterion_a_smbg);
    if (!c.marker) doc.criterion_a_missing.push_back(reason::csii_criterion_a_marker);
    if (!c.b()) {
      doc.criterion_b_missing =
          c.pump_before ? reason::csii_criterion_b_smbg : reason::csii_criterion_b_missing;
    }
    for (const auto* e : facts_.encounters) {
      const bool counts = e->status == "finished" && e->start.valid() && !(as_of < e->start.day) &&
                          (e->class_code == "AMB" || e->class_code == "HH" ||
                           e->class_code == "VR" || e->class_code == "IMP");
      if (!counts) continue;
      csii_visit v;
      v.resource_id = e->resource_id;
      v.day = e->start.day;
      v.class_code = e->class_code;
      for (const auto& who : e->participants) {
        const auto type = type_of(who);
        v.providers.push_back(type);
        v.physician = v.physician || type == mapping::provider_type::physician;
        v.non_physician_practitioner = v.non_physician_practitioner ||
                                       type == mapping::provider_type::nurse_practitioner ||
                                       type == mapping::provider_type::physician_assistant ||
                                       type == mapping::provider_type::clinical_nurse_specialist;
      }
      if (v.physician && (!doc.last_physician_visit.valid() || doc.last_physician_visit < v.day)) {
        doc.last_physician_visit = v.day;
      }
      if (!doc.last_visit.valid() || doc.last_visit < v.day) doc.last_visit = v.day;
      if (followup_visit(*e, as_of)) doc.visits.push_back(std::move(v));
    }
    std::sort(doc.visits.begin(), doc.visits.end(),
              [](const csii_visit& a, const csii_visit& b) { return b.day < a.day; });
    doc.physician_visit = std::any_of(doc.visits.begin(), doc.visits.end(),
                                      [](const csii_visit& v) { return v.physician; });
    doc.npp_visits_only =
        !doc.visits.empty() && std::all_of(doc.visits.begin(), doc.visits.end(), [](const auto& v) {
          return !v.physician && v.non_physician_practitioner;
        });
    if (doc.last_physician_visit.valid()) {
      doc.next_visit_due = model::date::from_days_since_epoch(
          doc.last_physician_visit.days_since_epoch() + p_->followup_max_days);
    }
    return doc;
  }

 private:
  const model::claim& claim_;
  const patient_context& context_;
  const policy_file& policy_;
  const mapping::tables& tables_;
  facts_view facts_;
  const parameters* p_ = nullptr;
  std::vector<model::finding> findings_;
  std::set<std::string> overlays_used_;
};

}  // namespace

model::decision evaluate(const model::claim& claim, const patient_context& context,
                         const policy_file& policy, const mapping::tables& tables) {
  return evaluator(claim, context, policy, tables).run();
}

csii_documentation document_csii(const patient_context& context, const model::date& as_of,
                                 const policy_file& policy, const mapping::tables& tables) {
  const model::claim none;
  return evaluator(none, context, policy, tables).document(as_of);
}

}  // namespace covgate::policy
