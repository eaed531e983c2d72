#include "covgate/mapping/tables.hpp"

#include "covgate/mapping/json_config.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <array>
#include <cmath>

namespace covgate::mapping {
namespace {

using json = rapidjson::Value;

constexpr std::array<std::string_view, 7> setting_names{
    "other",      "home",   "inpatient-or-snf", "nursing-facility", "other-institutional",
    "outpatient", "hospice"};

constexpr std::array<std::string_view, 5> hcpcs_names{"none", "csii", "external", "implantable",
                                                      "drug"};

// Parses one file and hands back its root object; every problem names the file and the path.
class reader {
 public:
  reader(std::string file, const std::string& text)
      : file_(std::move(file)), document_(parse_json_config(text, file_)) {
    if (!document_.IsObject()) fail("", "must be an object");
  }

  [[noreturn]] void fail(const std::string& path, const std::string& problem) const {
    config_failure(file_, path, problem);
  }

  const json& root() const { return document_; }

  const json& object(const json& parent, const char* key, const std::string& path) const {
    const auto it = parent.FindMember(key);
    if (it == parent.MemberEnd()) fail(path + "/" + key, "is required");
    if (!it->value.IsObject()) fail(path + "/" + key, "must be an object");
    return it->value;
  }

  std::vector<std::string> strings(const json& value, const std::string& path) const {
    if (!value.IsArray()) fail(path, "must be an array of strings");
    std::vector<std::string> out;
    for (rapidjson::SizeType i = 0; i < value.Size(); ++i) {
      if (!value[i].IsString() || value[i].GetStringLength() == 0) {
        fail(path + "/" + std::to_string(i), "must be a non-empty string");
      }
      out.emplace_back(value[i].GetString(), value[i].GetStringLength());
    }
    return out;
  }

  /// An optional object of non-empty strings, e.g. {"MC": "http://…"}; absent: nothing added.
  void string_map(const json& parent, const char* key, const std::string& path,
                  code_map<std::string>& out) const {
    const auto it = parent.FindMember(key);
    if (it == parent.MemberEnd()) return;
    if (!it->value.IsObject()) fail(path + "/" + key, "must be an object of strings");
    for (auto m = it->value.MemberBegin(); m != it->value.MemberEnd(); ++m) {
      const std::string name(m->name.GetString(), m->name.GetStringLength());
      if (name.empty()) fail(path + "/" + key, "has an empty key");
      if (!m->value.IsString() || m->value.GetStringLength() == 0) {
        fail(path + "/" + key + "/" + name, "must be a non-empty string");
      }
      out[name] = std::string(m->value.GetString(), m->value.GetStringLength());
    }
  }

  double positive(const json& value, const std::string& path) const {
    if (!value.IsNumber() || !(value.GetDouble() > 0) || !std::isfinite(value.GetDouble())) {
      fail(path, "must be a positive number");
    }
    return value.GetDouble();
  }

 private:
  std::string file_;
  rapidjson::Document document_;
};

std::string key_of(const json::ConstMemberIterator& it) {
  return {it->name.GetString(), it->name.GetStringLength()};
}

template <class Enum, std::size_t N>
std::optional<Enum> enum_named(const std::array<std::string_view, N>& names,
                               std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

// A code of up to seven bytes as one integer: its length in the top byte, then its bytes. Two
// codes have the same key only when they are the same text, so a table of short codes (every
// HCPCS and CPT code has five characters) is looked up without hashing text.
std::optional<std::uint64_t> short_code_key(std::string_view code) noexcept {
  if (code.size() > 7) return std::nullopt;
  std::uint64_t key = code.size();
  for (const char c : code) key = key << 8 | static_cast<unsigned char>(c);
  return key << (8 * (7 - code.size()));
}

// An ICD-10-CM code has at most seven characters (without its dot).
constexpr std::size_t icd10_length = 7;

// The first seven characters of `code`, padded with `fill`, as one integer whose order is the
// order of the texts (the first character in the highest byte, each compared unsigned as
// std::string compares): ranges compare as the code set orders them.
constexpr std::uint64_t icd10_key(std::string_view code, unsigned char fill) {
  std::uint64_t key = 0;
  for (std::size_t i = 0; i < icd10_length; ++i) {
    key = (key << 8) | (i < code.size() ? static_cast<unsigned char>(code[i]) : fill);
  }
  return key;
}
static_assert(icd10_key("C509", ' ') < icd10_key("C96ZZZZ", ' '));
static_assert(icd10_key("C00", ' ') < icd10_key("C000", ' '));  // a space sorts before a digit
static_assert(icd10_key("\xE9", ' ') > icd10_key("Z", ' '));    // bytes compare unsigned

}  // namespace

std::string_view quantity_of(lab_kind kind) noexcept {
  switch (kind) {
    case lab_kind::c_peptide:
    case lab_kind::c_peptide_fasting:
      return "c-peptide";
    case lab_kind::fasting_glucose:
    case lab_kind::glucose:
      return "glucose";
    case lab_kind::creatinine_clearance:
      return "clearance";
    case lab_kind::serum_creatinine:
      return "creatinine";
    case lab_kind::egfr:
      return "egfr";
    case lab_kind::hba1c:
      return "hba1c";
    case lab_kind::body_weight:
      return "weight";
    case lab_kind::unknown:
      return "";
    default:
      return "antibody";
  }
}
std::string_view name(setting_class s) noexcept {
  return setting_names[static_cast<std::size_t>(s)];
}
std::string_view name(hcpcs_class c) noexcept { return hcpcs_names[static_cast<std::size_t>(c)]; }

tables tables::parse(const table_sources& sources) {
  tables t;
  {
    const reader r("loinc.json", sources.loinc);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      const auto path = "/" + key_of(it);
      if (!it->value.IsObject()) r.fail(path, "must be an object with a kind");
      const auto kind = it->value.FindMember("kind");
      if (kind == it->value.MemberEnd() || !kind->value.IsString()) r.fail(path, "needs a kind");
      const auto parsed = lab_kind_named(kind->value.GetString());
      if (!parsed || *parsed == lab_kind::unknown) {
        r.fail(path + "/kind", std::string("unknown lab kind '") + kind->value.GetString() + "'");
      }
      const auto fasting = it->value.FindMember("fasting");
      const bool is_fasting =
          fasting != it->value.MemberEnd() && fasting->value.IsBool() && fasting->value.GetBool();
      t.loinc_[key_of(it)] = {*parsed, is_fasting};
    }
  }
  {
    const reader r("units.json", sources.units);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      const auto path = "/" + key_of(it);
      if (!it->value.IsObject()) r.fail(path, "must be an object");
      unit_table table;
      const auto canonical = it->value.FindMember("canonical");
      if (canonical == it->value.MemberEnd() || !canonical->value.IsString()) {
        r.fail(path + "/canonical", "is required");
      }
      table.canonical = canonical->value.GetString();
      const auto& from = r.object(it->value, "from", path);
      for (auto f = from.MemberBegin(); f != from.MemberEnd(); ++f) {
        table.from[key_of(f)] = {r.positive(f->value, path + "/from/" + key_of(f)), 0.0};
      }
      if (const auto affine = it->value.FindMember("affine"); affine != it->value.MemberEnd()) {
        if (!affine->value.IsObject()) r.fail(path + "/affine", "must be an object");
        for (auto a = affine->value.MemberBegin(); a != affine->value.MemberEnd(); ++a) {
          const auto apath = path + "/affine/" + key_of(a);
          const auto& rule = r.object(affine->value, key_of(a).c_str(), path + "/affine");
          const auto offset = rule.FindMember("offset");
          if (offset == rule.MemberEnd() || !offset->value.IsNumber()) {
            r.fail(apath + "/offset", "must be a number");
          }
          table.from[key_of(a)] = {r.positive(rule["factor"], apath + "/factor"),
                                   offset->value.GetDouble()};
        }
      }
      t.units_[key_of(it)] = std::move(table);
    }
    for (auto k = static_cast<std::size_t>(lab_kind::c_peptide);
         k <= static_cast<std::size_t>(lab_kind::body_weight); ++k) {
      const auto quantity = quantity_of(static_cast<lab_kind>(k));
      if (t.units_.find(quantity) == t.units_.end()) {
        r.fail("/" + std::string(quantity), "is required (a lab kind measures it)");
      }
    }
  }
  auto settings = [](const table_sources& s, const std::string& file, const std::string& text,
                     code_map<setting_class>& out) {
    (void)s;
    const reader r(file, text);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      if (key_of(it) == "names") continue;
      const auto setting = enum_named<setting_class>(setting_names, key_of(it));
      if (!setting) r.fail("/" + key_of(it), "is not a setting class");
      for (const auto& code : r.strings(it->value, "/" + key_of(it))) {
        if (!out.emplace(code, *setting).second) {
          r.fail("/" + key_of(it), "code " + code + " is listed twice");
        }
      }
    }
  };
  settings(sources, "pos.json", sources.pos, t.pos_);
  settings(sources, "bill-types.json", sources.bill_types, t.bill_types_);
  {
    const reader r("taxonomy.json", sources.taxonomy);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      const auto type = model::provider_type_named(key_of(it));
      if (!type) r.fail("/" + key_of(it), "is not a provider type");
      for (auto& prefix : r.strings(it->value, "/" + key_of(it))) {
        t.taxonomy_.emplace_back(std::move(prefix), *type);
      }
    }
    std::sort(t.taxonomy_.begin(), t.taxonomy_.end(),
              [](const auto& a, const auto& b) { return a.first.size() > b.first.size(); });
  }
  {
    const reader r("qualifications.json", sources.qualifications);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      const auto type = model::provider_type_named(key_of(it));
      if (!type) r.fail("/" + key_of(it), "is not a provider type");
      for (auto& code : r.strings(it->value, "/" + key_of(it))) t.qualifications_[code] = *type;
    }
  }
  {
    const reader r("hcpcs.json", sources.hcpcs);
    for (const char* cls : {"csii", "external", "implantable"}) {
      const auto it = r.root().FindMember(cls);
      if (it == r.root().MemberEnd()) r.fail(std::string("/") + cls, "is required");
      const auto c = *enum_named<hcpcs_class>(hcpcs_names, cls);
      for (auto& code : r.strings(it->value, std::string("/") + cls)) {
        if (!t.hcpcs_.emplace(code, c).second) r.fail(std::string("/") + cls, code + " twice");
      }
    }
    if (const auto it = r.root().FindMember("undecided"); it != r.root().MemberEnd()) {
      for (auto& code : r.strings(it->value, "/undecided")) {
        if (t.hcpcs_.find(code) == t.hcpcs_.end()) {
          r.fail("/undecided", code + " must also be listed in a pump class");
        }
        t.undecided_[code] = true;
      }
    }
    const auto& drugs = r.object(r.root(), "drug", "");
    for (auto it = drugs.MemberBegin(); it != drugs.MemberEnd(); ++it) {
      if (!it->value.IsString()) r.fail("/drug/" + key_of(it), "must name an indication");
      t.hcpcs_[key_of(it)] = hcpcs_class::drug;
      t.drugs_[key_of(it)] = it->value.GetString();
    }
    for (const auto& [code, cls] : t.hcpcs_) {
      if (const auto key = short_code_key(code)) t.hcpcs_short_.emplace(*key, cls);
    }
  }
  {
    const reader r("icd10.json", sources.icd10);
    for (auto it = r.root().MemberBegin(); it != r.root().MemberEnd(); ++it) {
      auto& entries = t.icd10_[key_of(it)];
      for (const auto& item : r.strings(it->value, "/" + key_of(it))) {
        const auto dash = item.find('-');
        const std::string_view from = std::string_view(item).substr(0, dash);
        const std::string_view to =
            dash == std::string::npos ? from : std::string_view(item).substr(dash + 1);
        if (from.empty() || to.empty() || from.size() > icd10_length || to.size() > icd10_length) {
          r.fail("/" + key_of(it), "'" + item +
                                       "' is not a code or a range of codes of 1 to 7 "
                                       "characters (ICD-10-CM, without the dot)");
        }
        if (dash == std::string::npos) {
          entries.push_back({icd10_key(from, 0x00), icd10_key(from, 0xFF),
                             static_cast<std::uint8_t>(from.size())});
        } else {
          entries.push_back({icd10_key(from, ' '), icd10_key(to, ' '), 0});
          if (entries.back().high < entries.back().low) {
            r.fail("/" + key_of(it), "range " + item + " ends before it starts");
          }
        }
      }
    }
  }
  {
    const reader r("evidence.json", sources.evidence);
    const auto system = r.root().FindMember("system");
    if (system == r.root().MemberEnd() || !system->value.IsString()) {
      r.fail("/system", "is required");
    }
    t.evidence_system_ = system->value.GetString();
    t.evidence_hl7v2_system_ = "99COVGATE";
    if (const auto v2 = r.root().FindMember("hl7v2_system"); v2 != r.root().MemberEnd()) {
      if (!v2->value.IsString() || v2->value.GetStringLength() == 0) {
        r.fail("/hl7v2_system", "must be a non-empty string");
      }
      t.evidence_hl7v2_system_ = v2->value.GetString();
    }
    const auto& codes = r.object(r.root(), "codes", "");
    for (auto it = codes.MemberBegin(); it != codes.MemberEnd(); ++it) {
      const std::string type = it->value.IsString() ? it->value.GetString() : "";
      if (type != "boolean" && type != "quantity" && type != "string") {
        r.fail("/codes/" + key_of(it), "must be boolean, quantity or string");
      }
      t.evidence_types_[key_of(it)] = type;
    }
    if (const auto site = r.root().FindMember("site"); site != r.root().MemberEnd()) {
      if (!site->value.IsArray()) r.fail("/site", "must be an array");
      for (rapidjson::SizeType i = 0; i < site->value.Size(); ++i) {
        const auto path = "/site/" + std::to_string(i);
        const auto& m = site->value[i];
        if (!m.IsObject() || !m.HasMember("system") || !m.HasMember("code") ||
            !m.HasMember("evidence") || !m["system"].IsString() || !m["code"].IsString() ||
            !m["evidence"].IsString()) {
          r.fail(path, "needs system, code and evidence strings");
        }
        const std::string evidence = m["evidence"].GetString();
        if (t.evidence_types_.find(evidence) == t.evidence_types_.end()) {
          r.fail(path + "/evidence", "'" + evidence + "' is not a code in /codes");
        }
        t.evidence_site_[m["system"].GetString()][m["code"].GetString()] = evidence;
      }
    }
  }
  {
    const reader r("identity.json", sources.identity);
    const auto it = r.root().FindMember("patient_identifier_systems");
    if (it == r.root().MemberEnd()) r.fail("/patient_identifier_systems", "is required");
    t.identity_systems_ = r.strings(it->value, "/patient_identifier_systems");
    if (t.identity_systems_.empty()) r.fail("/patient_identifier_systems", "must not be empty");
    const auto v2 = r.root().FindMember("hl7v2");
    if (v2 == r.root().MemberEnd()) {
      // Files written before HL7 v2 was read: PID-3 type MC (Medicare number) is the MBI.
      t.hl7v2_identifier_types_["MC"] = "http://hl7.org/fhir/sid/us-mbi";
    } else {
      if (!v2->value.IsObject()) r.fail("/hl7v2", "must be an object");
      r.string_map(v2->value, "identifier_types", "/hl7v2", t.hl7v2_identifier_types_);
      r.string_map(v2->value, "assigning_authorities", "/hl7v2", t.hl7v2_authorities_);
    }
  }
  {
    const reader r("hl7v2.json", sources.hl7v2.empty() ? embedded_sources().hl7v2 : sources.hl7v2);
    r.string_map(r.root(), "patient_class", "", t.hl7v2_patient_classes_);
    r.string_map(r.root(), "coding_systems", "", t.hl7v2_coding_systems_);
    if (const auto local = r.root().FindMember("local_codes"); local != r.root().MemberEnd()) {
      if (!local->value.IsArray()) r.fail("/local_codes", "must be an array");
      for (rapidjson::SizeType i = 0; i < local->value.Size(); ++i) {
        const auto path = "/local_codes/" + std::to_string(i);
        const auto& m = local->value[i];
        auto text = [&](const char* key, bool required) -> std::string {
          if (!m.IsObject()) r.fail(path, "must be an object");
          const auto it = m.FindMember(key);
          if (it == m.MemberEnd()) {
            if (required) r.fail(path + "/" + key, "is required");
            return {};
          }
          if (!it->value.IsString() || it->value.GetStringLength() == 0) {
            r.fail(path + "/" + key, "must be a non-empty string");
          }
          const std::string value(it->value.GetString(), it->value.GetStringLength());
          if (value.find('\x1f') != std::string::npos) r.fail(path + "/" + key, "bad character");
          return value;
        };
        const auto system = text("system", true);
        const auto code = text("code", true);
        const auto loinc = text("loinc", true);
        const auto sender = text("sender", false);
        if (t.loinc_.find(loinc) == t.loinc_.end()) {
          r.fail(path + "/loinc", "'" + loinc + "' is not listed in loinc.json");
        }
        const auto key = sender + '\x1f' + system + '\x1f' + code;
        if (!t.hl7v2_local_codes_.emplace(key, loinc).second) {
          r.fail(path, "code " + code + " of system " + system + " is listed twice");
        }
      }
    }
  }
  return t;
}

std::optional<loinc_info> tables::loinc(std::string_view code) const {
  const auto it = loinc_.find(code);
  if (it == loinc_.end()) return std::nullopt;
  return it->second;
}

std::optional<unit_conversion> tables::conversion(lab_kind kind, std::string_view unit) const {
  const auto table = units_.find(quantity_of(kind));
  if (table == units_.end()) return std::nullopt;
  if (table->second.canonical == "*") return unit_conversion{1, 0, unit};
  const auto rule = table->second.from.find(unit);
  if (rule == table->second.from.end()) return std::nullopt;
  return unit_conversion{rule->second.first, rule->second.second, table->second.canonical};
}

std::optional<canonical_value> tables::to_canonical(lab_kind kind, std::string_view unit,
                                                    double value) const {
  const auto c = conversion(kind, unit);
  if (!c) return std::nullopt;
  return canonical_value{c->apply(value), c->unit};
}

setting_class tables::place_of_service(std::string_view pos) const {
  const auto it = pos_.find(pos);
  return it == pos_.end() ? setting_class::other : it->second;
}

setting_class tables::bill_type(std::string_view facility_type) const {
  const auto it = bill_types_.find(facility_type.substr(0, 2));
  return it == bill_types_.end() ? setting_class::other : it->second;
}

provider_type tables::taxonomy(std::string_view code) const {
  if (code.empty()) return provider_type::unknown;
  for (const auto& [prefix, type] : taxonomy_) {
    if (code.substr(0, prefix.size()) == prefix) return type;
  }
  return provider_type::other;
}

provider_type tables::qualification(std::string_view code) const {
  const auto it = qualifications_.find(code);
  return it == qualifications_.end() ? provider_type::unknown : it->second;
}

hcpcs_class tables::hcpcs(std::string_view code) const {
  if (const auto key = short_code_key(code)) {
    const auto it = hcpcs_short_.find(*key);
    return it == hcpcs_short_.end() ? hcpcs_class::none : it->second;
  }
  const auto it = hcpcs_.find(code);
  return it == hcpcs_.end() ? hcpcs_class::none : it->second;
}

bool tables::hcpcs_undecided(std::string_view code) const {
  return undecided_.find(code) != undecided_.end();
}

std::string_view tables::drug_indication(std::string_view code) const {
  const auto it = drugs_.find(code);
  return it == drugs_.end() ? std::string_view{} : std::string_view{it->second};
}

tables::icd10_group tables::icd10(std::string_view group) const {
  icd10_group g;
  if (const auto it = icd10_.find(group); it != icd10_.end()) g.entries_ = &it->second;
  return g;
}

bool tables::icd10_group::contains(std::string_view code) const noexcept {
  if (entries_ == nullptr) return false;
  const std::uint64_t key = icd10_key(code, ' ');
  for (const auto& e : *entries_) {
    if (key >= e.low && key <= e.high && code.size() >= e.min_length) return true;
  }
  return false;
}

bool tables::has_icd10_group(std::string_view group) const {
  return icd10_.find(group) != icd10_.end();
}

std::optional<std::string_view> tables::evidence(std::string_view system,
                                                 std::string_view code) const {
  if (system == evidence_system_) {
    const auto it = evidence_types_.find(code);
    if (it != evidence_types_.end()) return std::string_view{it->first};
    return std::nullopt;
  }
  const auto by_system = evidence_site_.find(system);
  if (by_system == evidence_site_.end()) return std::nullopt;
  const auto it = by_system->second.find(code);
  if (it == by_system->second.end()) return std::nullopt;
  return std::string_view{it->second};
}

std::string_view tables::evidence_value_type(std::string_view evidence_code) const {
  const auto it = evidence_types_.find(evidence_code);
  return it == evidence_types_.end() ? std::string_view{} : std::string_view{it->second};
}

namespace {

std::string_view find_in(const code_map<std::string>& map, std::string_view key) {
  const auto it = map.find(key);
  return it == map.end() ? std::string_view{} : std::string_view{it->second};
}

}  // namespace

std::string_view tables::hl7v2_identifier_type(std::string_view type_code) const {
  return find_in(hl7v2_identifier_types_, type_code);
}

std::string_view tables::hl7v2_assigning_authority(std::string_view authority) const {
  return find_in(hl7v2_authorities_, authority);
}

std::string_view tables::hl7v2_patient_class(std::string_view code) const {
  return find_in(hl7v2_patient_classes_, code);
}

std::string_view tables::hl7v2_coding_system(std::string_view system) const {
  return find_in(hl7v2_coding_systems_, system);
}

std::string_view tables::hl7v2_local_code(std::string_view sender, std::string_view system,
                                          std::string_view code) const {
  if (hl7v2_local_codes_.empty()) return {};
  std::string key;
  key.reserve(sender.size() + system.size() + code.size() + 2);
  key.append(sender).append(1, '\x1f').append(system).append(1, '\x1f').append(code);
  return find_in(hl7v2_local_codes_, key);
}

}  // namespace covgate::mapping
