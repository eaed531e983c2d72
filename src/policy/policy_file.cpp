#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <algorithm>
#include <stdexcept>

#include "covgate/policy/policy.hpp"

namespace covgate::policy {
namespace {

using model::outcome;

// POLICY.md's reason codes with their outcome and STC. Hold categories: P3 documentation,
// P2 review and not-covered, A6 invalid (POLICY.md §1).
const std::vector<reason_info> reason_table{
    {"scope.not-infusion-pump", outcome::release, "A2", "20", "",
     "No infusion-pump item on the claim: outside NCD 223."},
    {"modifier.expected-denial", outcome::release, "A2", "20", "",
     "GA or GZ modifier: the supplier expects a denial; criteria were not checked."},
    {"modifier.missing", outcome::hold_invalid, "A6", "21", "453",
     "Infusion-pump line without a KX, GA or GZ modifier."},
    {"claim.member-id-missing", outcome::hold_invalid, "A6", "21", "",
     "The subscriber member id (NM109) is missing."},
    {"claim.service-date-missing", outcome::hold_invalid, "A6", "21", "",
     "An infusion-pump line has no date of service (DTP*472 or, for 837I, DTP*434)."},
    {"claim.diagnosis-missing", outcome::hold_invalid, "A6", "21", "",
     "The claim carries no ICD-10-CM diagnosis."},
    {"csii.setting.not-home", outcome::hold_not_covered, "P2", "268", "",
     "Insulin pump billed for an inpatient, SNF or nursing facility stay; CSII is covered at "
     "home."},
    {"csii.setting.unknown", outcome::hold_review, "P2", "249", "",
     "Insulin pump billed with a place of service that is neither a home nor an institution."},
    {"csii.insulinopenia.missing", outcome::hold_documentation, "P3", "300", "",
     "No fasting C-peptide and no positive beta-cell autoantibody on file before the date of "
     "service."},
    {"csii.c-peptide.not-fasting", outcome::hold_documentation, "P3", "300", "",
     "The C-peptide is not shown to be fasting (no fasting specimen or concurrent fasting "
     "glucose)."},
    {"csii.c-peptide.no-reference-range", outcome::hold_documentation, "P3", "300", "",
     "The C-peptide has no lower limit of normal (referenceRange.low) to compare with."},
    {"csii.c-peptide.glucose-missing", outcome::hold_documentation, "P3", "300", "",
     "No fasting glucose drawn within the window of the C-peptide."},
    {"csii.c-peptide.glucose-too-high", outcome::hold_documentation, "P3", "300", "",
     "The fasting glucose drawn with the C-peptide is above the limit."},
    {"csii.c-peptide.above-threshold", outcome::hold_documentation, "P3", "300", "",
     "The fasting C-peptide is above the insulinopenia threshold of the lab's lower limit."},
    {"csii.c-peptide.renal-unproven", outcome::hold_documentation, "P3", "300", "",
     "The C-peptide needs the renal allowance but no creatinine clearance is on file in the "
     "window."},
    {"csii.c-peptide.egfr-only", outcome::hold_review, "P2", "287", "",
     "Only an eGFR is on file for the renal allowance; eGFR is not creatinine clearance."},
    {"lab.unit-unknown", outcome::hold_review, "P2", "46", "",
     "A lab result the rule needs has a unit covgate cannot convert."},
    {"csii.criterion-a.education", outcome::hold_documentation, "P3", "294", "",
     "Criterion A: completed diabetes education is not documented."},
    {"csii.criterion-a.mdi", outcome::hold_documentation, "P3", "409", "",
     "Criterion A: multiple daily injections (count and duration) are not documented."},
    {"csii.criterion-a.smbg", outcome::hold_documentation, "P3", "294", "",
     "Criterion A: self-monitoring of blood glucose frequency is not documented."},
    {"csii.criterion-a.marker", outcome::hold_documentation, "P3", "300", "",
     "Criterion A: no glycemic marker (HbA1c, hypoglycemia, fluctuations, dawn phenomenon, "
     "excursions) is documented."},
    {"csii.criterion-b.smbg", outcome::hold_documentation, "P3", "294", "",
     "Criterion B: glucose self-monitoring frequency before Medicare enrollment is not "
     "documented."},
    {"csii.criterion-b.missing", outcome::hold_documentation, "P3", "294", "",
     "Criterion B: no pump use before Medicare enrollment is documented."},
    {"csii.followup.missing", outcome::hold_documentation, "P3", "387", "",
     "No finished follow-up visit with the treating physician in the window before the date "
     "of service."},
    {"csii.followup.not-physician", outcome::hold_documentation, "P3", "387", "147",
     "The only follow-up visits in the window were not with a physician."},
    {"csii.prior-auth.missing", outcome::hold_documentation, "P3", "252", "",
     "Initial insulin-pump treatment without a prior authorization number."},
    {"rereview.overdue", outcome::hold_documentation, "P3", "294", "",
     "No clinical record (visit, lab or evidence) within the re-review period before the date "
     "of service."},
    {"external.heparin.home", outcome::hold_not_covered, "P2", "268", "",
     "Heparin by external pump is covered in an institution only; billed at home."},
    {"external.heparin.setting-unclear", outcome::hold_review, "P2", "249", "",
     "Heparin by external pump billed in a setting that is not clearly institutional."},
    {"external.chemo.resectability-missing", outcome::hold_documentation, "P3", "297", "",
     "Liver chemotherapy: unresectable tumor or refused surgery is not documented."},
    {"external.chemo.diagnosis-unlisted", outcome::hold_review, "P2", "46", "",
     "Chemotherapy by external pump without a liver cancer diagnosis the NCD lists."},
    {"external.morphine.cancer-pain-missing", outcome::hold_documentation, "P3", "294", "",
     "Morphine by external pump: intractable cancer pain is not documented."},
    {"external.excluded-drug", outcome::hold_not_covered, "P2", "287", "",
     "The drug is nationally non-covered by external pump."},
    {"external.indication-unlisted", outcome::hold_review, "P2", "46", "",
     "External pump for an indication or drug NCD 223 does not decide."},
    {"implantable.excluded", outcome::hold_not_covered, "P2", "287", "",
     "Heparin or insulin by implantable pump is not covered."},
    {"implantable.review", outcome::hold_review, "P2", "46", "",
     "Implantable pump: a person reviews it unless every criterion is documented."},
};

void fail(const std::string& file, const std::string& path, const std::string& problem) {
  throw mapping::config_error(file + ": " + path + ": " + problem);
}

model::date date_of(const rapidjson::Value& v, const std::string& file, const std::string& path) {
  if (!v.IsString()) fail(file, path, "must be a date YYYY-MM-DD");
  const std::string text = v.GetString();
  std::string digits;
  for (const char c : text) {
    if (c != '-') digits.push_back(c);
  }
  const auto d = model::parse_ccyymmdd(digits);
  if (text.size() != 10 || !d) fail(file, path, "must be a date YYYY-MM-DD");
  return *d;
}

}  // namespace

const std::vector<reason_info>& reasons() { return reason_table; }

overlay overlay::parse(std::string_view text, const std::string& name) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
          rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    fail(name, "/",
         std::string("not valid JSON at byte ") + std::to_string(d.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(d.GetParseError()));
  }
  auto strings = [&](const rapidjson::Value& v, const std::string& path) {
    if (!v.IsArray()) fail(name, path, "must be an array of strings");
    std::vector<std::string> out;
    for (const auto& item : v.GetArray()) {
      if (!item.IsString()) fail(name, path, "must be an array of strings");
      out.emplace_back(item.GetString());
    }
    return out;
  };
  overlay o;
  if (!d.IsObject() || !d.HasMember("id") || !d["id"].IsString()) fail(name, "/id", "is required");
  o.id = d["id"].GetString();
  if (!d.HasMember("payers")) fail(name, "/payers", "is required");
  o.payers = strings(d["payers"], "/payers");
  if (!d.HasMember("drugs") || !d["drugs"].IsObject()) fail(name, "/drugs", "is required");
  for (auto it = d["drugs"].MemberBegin(); it != d["drugs"].MemberEnd(); ++it) {
    if (!it->value.IsString()) {
      fail(name, std::string("/drugs/") + it->name.GetString(), "must name an indication");
    }
    o.drugs.emplace_back(it->name.GetString(), it->value.GetString());
  }
  if (!d.HasMember("covered") || !d["covered"].IsArray()) fail(name, "/covered", "is required");
  for (rapidjson::SizeType i = 0; i < d["covered"].Size(); ++i) {
    const auto& c = d["covered"][i];
    const auto path = "/covered/" + std::to_string(i);
    if (!c.IsObject() || !c.HasMember("indication") || !c["indication"].IsString() ||
        !c.HasMember("pump_class") || !c["pump_class"].IsString() || !c.HasMember("diagnoses")) {
      fail(name, path, "needs indication, pump_class and diagnoses");
    }
    const std::string pump_class = c["pump_class"].GetString();
    if (pump_class != "external" && pump_class != "implantable") {
      fail(name, path + "/pump_class", "must be external or implantable");
    }
    o.covered.push_back(
        {c["indication"].GetString(), pump_class, strings(c["diagnoses"], path + "/diagnoses")});
  }
  return o;
}

const reason_info* find_reason(std::string_view code) noexcept {
  for (const auto& r : reason_table) {
    if (r.code == code) return &r;
  }
  return nullptr;
}

const reason_info& reason(std::string_view code) {
  if (const auto* r = find_reason(code)) return *r;
  throw std::out_of_range("unknown reason code " + std::string(code));
}

model::finding finding_of(const reason_info& row, std::uint32_t line) {
  model::finding f;
  f.reason = row.code;
  f.result = row.result;
  f.line = line;
  f.category = row.category;
  f.status = row.status;
  f.extra_status = row.extra_status;
  f.message = row.message;
  return f;
}

policy_file policy_file::parse(std::string_view text, std::string name) {
  rapidjson::Document d;
  d.Parse<rapidjson::kParseCommentsFlag | rapidjson::kParseTrailingCommasFlag |
          rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (d.HasParseError()) {
    fail(name, "/",
         std::string("not valid JSON at byte ") + std::to_string(d.GetErrorOffset()) + ": " +
             rapidjson::GetParseError_En(d.GetParseError()));
  }
  if (!d.IsObject() || !d.HasMember("id") || !d["id"].IsString()) fail(name, "/id", "is required");
  policy_file out;
  out.id_ = d["id"].GetString();
  if (!d.HasMember("versions") || !d["versions"].IsArray() || d["versions"].Empty()) {
    fail(name, "/versions", "must be a non-empty array");
  }
  const auto& versions = d["versions"];
  for (rapidjson::SizeType i = 0; i < versions.Size(); ++i) {
    const std::string path = "/versions/" + std::to_string(i);
    const auto& v = versions[i];
    if (!v.IsObject() || !v.HasMember("label") || !v["label"].IsString()) {
      fail(name, path + "/label", "is required");
    }
    if (!v.HasMember("effective_from")) fail(name, path + "/effective_from", "is required");
    if (!v.HasMember("parameters") || !v["parameters"].IsObject()) {
      fail(name, path + "/parameters", "is required");
    }
    version out_version;
    out_version.label = v["label"].GetString();
    out_version.effective_from = date_of(v["effective_from"], name, path + "/effective_from");
    const auto& p = v["parameters"];
    auto number = [&](const char* key) {
      const auto it = p.FindMember(key);
      if (it == p.MemberEnd()) fail(name, path + "/parameters/" + key, "is required");
      if (!it->value.IsNumber() || it->value.GetDouble() < 0) {
        fail(name, path + "/parameters/" + key, "must be a number ≥ 0");
      }
      return it->value.GetDouble();
    };
    auto whole = [&](const char* key) {
      const double value = number(key);
      if (value != static_cast<double>(static_cast<int>(value))) {
        fail(name, path + "/parameters/" + key, "must be a whole number");
      }
      return static_cast<int>(value);
    };
    auto flag = [&](const char* key) {
      const auto it = p.FindMember(key);
      if (it == p.MemberEnd() || !it->value.IsBool()) {
        fail(name, path + "/parameters/" + key, "must be true or false");
      }
      return it->value.GetBool();
    };
    auto& x = out_version.values;
    if (!p.HasMember("modifiers_required_from")) {
      fail(name, path + "/parameters/modifiers_required_from", "is required");
    }
    x.modifiers_required_from =
        date_of(p["modifiers_required_from"], name, path + "/parameters/modifiers_required_from");
    x.c_peptide_ratio_max = number("c_peptide_ratio_max");
    x.c_peptide_ratio_max_renal = number("c_peptide_ratio_max_renal");
    x.renal_crcl_max_ml_min = number("renal_crcl_max_ml_min");
    x.renal_window_days = whole("renal_window_days");
    x.concurrent_glucose_window_hours = whole("concurrent_glucose_window_hours");
    x.fasting_glucose_max_mg_dl = number("fasting_glucose_max_mg_dl");
    x.mdi_min_injections_per_day = number("mdi_min_injections_per_day");
    x.mdi_min_months = number("mdi_min_months");
    x.smbg_min_per_day = number("smbg_min_per_day");
    x.smbg_min_per_day_before_enrollment = number("smbg_min_per_day_before_enrollment");
    x.hba1c_min_percent = number("hba1c_min_percent");
    x.dawn_min_count = whole("dawn_min_count");
    x.dawn_window_days = whole("dawn_window_days");
    x.dawn_glucose_min_mg_dl = number("dawn_glucose_min_mg_dl");
    x.followup_max_days = whole("followup_max_days");
    x.followup_requires_physician = flag("followup_requires_physician");
    x.prior_auth_initial = flag("prior_auth_initial");
    x.rereview_months = whole("rereview_months");
    if (x.c_peptide_ratio_max_renal < x.c_peptide_ratio_max) {
      fail(name, path + "/parameters/c_peptide_ratio_max_renal",
           "must not be below c_peptide_ratio_max");
    }
    out.versions_.push_back(std::move(out_version));
  }
  std::sort(out.versions_.begin(), out.versions_.end(),
            [](const version& a, const version& b) { return b.effective_from < a.effective_from; });
  return out;
}

const version& policy_file::for_dos(const model::date& dos) const {
  for (const auto& v : versions_) {
    if (!(dos < v.effective_from)) return v;
  }
  return versions_.back();
}

}  // namespace covgate::policy
