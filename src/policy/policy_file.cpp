#include <rapidjson/document.h>

#include <algorithm>
#include <stdexcept>

#include "covgate/policy/policy.hpp"

#include "covgate/mapping/json_config.hpp"

namespace covgate::policy {
namespace {

[[noreturn]] void fail(const std::string& file, const std::string& path,
                       const std::string& problem) {
  mapping::config_failure(file, path, problem);
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

overlay overlay::parse(std::string_view text, const std::string& name) {
  const auto d = mapping::parse_json_config(text, name);
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

policy_file policy_file::parse(std::string_view text, std::string name) {
  const auto d = mapping::parse_json_config(text, name);
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
