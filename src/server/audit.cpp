#include "covgate/server/audit.hpp"

#include <rapidjson/document.h>

#include <algorithm>
#include <iterator>
#include <map>
#include <set>
#include <tuple>

#include "covgate/model/boundary.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/config.hpp"
#include "covgate/server/durable_gate.hpp"
#include "evidence_json.hpp"

namespace covgate::server {
namespace {

bool has_reason(const model::decision& d, model::reason r) {
  return std::any_of(d.findings.begin(), d.findings.end(),
                     [&](const model::finding& f) { return f.reason == r; });
}

const model::finding* finding_of(const model::decision& d, model::reason r) {
  for (const auto& f : d.findings) {
    if (f.reason == r) return &f;
  }
  return nullptr;
}

// The setting of a line as the policy reads it (docs/policy.md §3.3), and where it was said.
std::pair<std::string, std::string> setting_of(const model::claim& c, const model::service_line& l,
                                               const mapping::tables& tables) {
  if (c.kind == model::claim_kind::institutional) {
    return {std::string(mapping::name(tables.bill_type(c.facility_type))),
            "bill type " + c.bill_type()};
  }
  const auto& pos = l.place_of_service.empty() ? c.place_of_service : l.place_of_service;
  return {std::string(mapping::name(tables.place_of_service(pos))), "POS " + pos};
}

std::string yes(bool b) { return b ? "yes" : "no"; }

std::string number(double v) {
  char buffer[32];
  std::snprintf(buffer, sizeof buffer, "%.2f", v);
  return buffer;
}

// Criterion A's missing items by their short names (education;mdi;smbg;marker).
std::string missing_items(const policy::csii_documentation& doc) {
  std::string out;
  for (const auto r : doc.criterion_a_missing) {
    const auto code = model::code(r);
    if (!out.empty()) out += ';';
    out += code.substr(code.rfind('.') + 1);
  }
  return out;
}

std::string providers_of(const policy::csii_documentation& doc) {
  std::set<std::string_view> seen;
  for (const auto& v : doc.visits) {
    for (const auto t : v.providers) seen.insert(model::name(t));
  }
  std::string out;
  for (const auto& s : seen) {
    if (!out.empty()) out += ';';
    out += s;
  }
  return out;
}

std::string join(const std::vector<std::string>& items) {
  std::string out;
  for (const auto& i : items) {
    if (!out.empty()) out += ';';
    out += i;
  }
  return out;
}

// The CSV's columns after the four fixed ones, with the value each row gives.
struct column {
  const char* name;
  std::string (*value)(const csii_audit_row&);
};

std::string date_text(const model::date& d) { return d.valid() ? d.iso() : std::string(); }

const std::vector<column>& columns() {
  static const std::vector<column> list{
      {"patient", [](const csii_audit_row& r) { return r.patient; }},
      {"insulinopenia_documented",
       [](const csii_audit_row& r) { return yes(r.doc.insulinopenia); }},
      {"physician_visit_within_3_months",
       [](const csii_audit_row& r) { return yes(r.doc.physician_visit); }},
      {"npp_visits_only", [](const csii_audit_row& r) { return yes(r.doc.npp_visits_only); }},
      {"insulinopenia_basis", [](const csii_audit_row& r) { return r.doc.basis; }},
      {"insulinopenia_reason",
       [](const csii_audit_row& r) {
         return r.doc.insulinopenia_reason ? std::string(model::code(*r.doc.insulinopenia_reason))
                                           : std::string();
       }},
      {"latest_test",
       [](const csii_audit_row& r) {
         return r.doc.test ? std::string(model::name(r.doc.test->kind)) : std::string();
       }},
      {"latest_test_date",
       [](const csii_audit_row& r) {
         return r.doc.test ? date_text(r.doc.test->effective.day) : std::string();
       }},
      {"latest_test_resource",
       [](const csii_audit_row& r) {
         return r.doc.test ? r.doc.test->resource_id : std::string();
       }},
      {"c_peptide_percent_of_lln",
       [](const csii_audit_row& r) {
         return r.doc.percent_of_lln ? number(*r.doc.percent_of_lln) : std::string();
       }},
      {"fasting_glucose_mg_dl",
       [](const csii_audit_row& r) {
         return r.doc.glucose && r.doc.glucose->has_value ? number(r.doc.glucose->value)
                                                          : std::string();
       }},
      {"creatinine_clearance_ml_min",
       [](const csii_audit_row& r) {
         return r.doc.clearance ? number(r.doc.clearance->value) : std::string();
       }},
      {"clearance_method",
       [](const csii_audit_row& r) {
         if (!r.doc.clearance) return std::string();
         return std::string(r.doc.clearance->origin == model::provenance::computed
                                ? "cockcroft-gault"
                                : "measured");
       }},
      {"criterion_a", [](const csii_audit_row& r) { return yes(r.doc.criterion_a); }},
      {"criterion_a_missing",
       [](const csii_audit_row& r) {
         return r.doc.criterion_a ? std::string() : missing_items(r.doc);
       }},
      {"criterion_b", [](const csii_audit_row& r) { return yes(r.doc.criterion_b); }},
      {"last_visit", [](const csii_audit_row& r) { return date_text(r.doc.last_visit); }},
      {"last_physician_visit",
       [](const csii_audit_row& r) { return date_text(r.doc.last_physician_visit); }},
      {"next_visit_due", [](const csii_audit_row& r) { return date_text(r.doc.next_visit_due); }},
      {"visits_within_3_months",
       [](const csii_audit_row& r) { return std::to_string(r.doc.visits.size()); }},
      {"visit_providers", [](const csii_audit_row& r) { return providers_of(r.doc); }},
      {"csii_claims", [](const csii_audit_row& r) { return std::to_string(r.claims); }},
      {"latest_dos", [](const csii_audit_row& r) { return date_text(r.latest_dos); }},
      {"open_holds", [](const csii_audit_row& r) { return std::to_string(r.open_holds); }},
      {"open_hold_reasons", [](const csii_audit_row& r) { return join(r.hold_reasons); }},
  };
  return list;
}

}  // namespace

audit_report build_audit(const store::sqlite_store& store, const engine::intake& intake,
                         const model::date& as_of, const policy::policy_file& policy,
                         const mapping::tables& tables) {
  audit_report report;
  report.as_of = as_of;
  struct patient_claims {
    std::uint32_t csii = 0;
    model::date latest_dos;
    std::uint32_t open_holds = 0;
    std::set<std::string> reasons;
  };
  std::map<std::string, patient_claims> patients;
  std::map<std::string, std::int64_t> since;
  store.for_each_claim([&](const engine::claim_record& r) {
    const auto& c = r.claim;
    const auto& d = r.decision;
    const bool voided = r.closed && c.frequency == '8';
    const bool open_hold = !r.closed && d.result != model::outcome::release;
    bool csii = false;
    bool heparin = false;
    std::pair<std::string, std::string> setting;
    for (const auto& l : c.lines) {
      const auto cls = tables.hcpcs(l.procedure_code);
      if (cls == mapping::hcpcs_class::csii) csii = true;
      if (cls == mapping::hcpcs_class::external && setting.first.empty()) {
        setting = setting_of(c, l, tables);
      }
      if (tables.drug_indication(l.procedure_code) == "thromboembolic") heparin = true;
    }
    heparin = heparin && !setting.first.empty();
    heparin = heparin || has_reason(d, model::reason::external_heparin_home) ||
              has_reason(d, model::reason::external_heparin_setting_unclear);
    const auto& key = c.subscriber.member_id;
    if (!key.empty()) {
      auto& p = patients[key];
      if (csii && !voided) {
        ++p.csii;
        if (d.dos.valid() && p.latest_dos < d.dos) p.latest_dos = d.dos;
      }
      if (open_hold) {
        ++p.open_holds;
        for (const auto& f : d.findings) p.reasons.emplace(f.code());
      }
    }
    auto row = [&](std::string detail) {
      audit_claim a{
          c.id,           c.billing.npi,     key, d.dos, d.result, r.closed, setting.first,
          setting.second, std::move(detail), 0};
      if (const auto list = store.claim_row_of(model::claim_key(c))) a.since_ms = list->since_ms;
      return a;
    };
    if (heparin && !voided) report.heparin.push_back(row({}));
    if (!r.closed) {
      if (const auto* f = finding_of(d, model::reason::external_chemo_resectability_missing)) {
        report.chemo_missing.push_back(row(f->detail));
      } else if (const auto* g = finding_of(d, model::reason::implantable_review);
                 g && g->detail.find("tumor-unresectable") != std::string::npos) {
        report.chemo_missing.push_back(row(g->detail));
      }
      if (d.result == model::outcome::hold_review) {
        if (const auto* f = finding_of(d, model::reason::implantable_review)) {
          report.implantable.push_back(row(f->detail));
        }
      }
    }
  });
  for (const auto& [key, p] : patients) {
    if (p.csii == 0) continue;
    csii_audit_row row;
    row.patient = key;
    row.doc = policy::document_csii(intake.patient_context(key), as_of, policy, tables);
    row.claims = p.csii;
    row.latest_dos = p.latest_dos;
    row.open_holds = p.open_holds;
    row.hold_reasons.assign(p.reasons.begin(), p.reasons.end());
    report.csii.push_back(std::move(row));
  }
  const auto by_setting = [](const audit_claim& a, const audit_claim& b) {
    return std::tie(a.setting, a.id, a.billing_npi) < std::tie(b.setting, b.id, b.billing_npi);
  };
  std::sort(report.heparin.begin(), report.heparin.end(), by_setting);
  const auto oldest_first = [](const audit_claim& a, const audit_claim& b) {
    return std::tie(a.since_ms, a.id, a.billing_npi) < std::tie(b.since_ms, b.id, b.billing_npi);
  };
  std::sort(report.chemo_missing.begin(), report.chemo_missing.end(), oldest_first);
  std::sort(report.implantable.begin(), report.implantable.end(), oldest_first);
  return report;
}

namespace {

void html_cell(std::string& out, std::string_view text, const char* tag = "td") {
  out.append("<").append(tag).append(">");
  boundary::append_html_escaped(out, text);
  out.append("</").append(tag).append(">");
}

std::string csii_text(const csii_audit_row& row, audit_format format) {
  std::string out;
  switch (format) {
    case audit_format::csv: {
      bool first = true;
      for (const auto& c : columns()) {
        if (!first) out += ',';
        first = false;
        boundary::append_csv_field(out, c.value(row));
      }
      out += '\n';
      break;
    }
    case audit_format::html:
      out += "<tr>";
      for (const auto& c : columns()) {
        const auto v = c.value(row);
        if (v == "yes" || v == "no") {
          out += "<td class=\"" + v + "\">" + v + "</td>";
        } else {
          html_cell(out, v);
        }
      }
      out += "</tr>\n";
      break;
    case audit_format::json: {
      model::json_writer w(out);
      w.begin_object();
      for (const auto& c : columns()) w.key(c.name).value(c.value(row));
      w.key("documentation");
      csii_json(w, row.doc);
      w.end_object();
      break;
    }
  }
  return out;
}

// A claim of a summary view; the heparin table shows the setting, the others how long the
// claim has been held and what is missing.
std::string claim_text(const audit_claim& c, audit_format format, bool with_setting) {
  std::string out;
  if (format == audit_format::html) {
    out += "<tr>";
    html_cell(out, c.id);
    html_cell(out, c.billing_npi);
    html_cell(out, c.patient);
    html_cell(out, date_text(c.dos));
    html_cell(out, model::name(c.result));
    html_cell(out, c.closed ? "closed" : "open");
    if (with_setting) {
      html_cell(out, c.setting);
      html_cell(out, c.place);
    } else {
      html_cell(out, c.since_ms > 0 ? model::iso_instant(c.since_ms) : std::string());
      html_cell(out, c.detail);
    }
    out += "</tr>\n";
  } else if (format == audit_format::json) {
    model::json_writer w(out);
    // The billing NPI as a claim list row gives it: with the id, it names the claim when
    // several billing providers sent that CLM01 (GET /claims/{id}?billing_npi=).
    w.begin_object().key("id").value(c.id);
    w.key("billing").begin_object().key("npi").value(c.billing_npi).end_object();
    w.key("patient").value(c.patient);
    w.key("dos").value(date_text(c.dos)).key("outcome").value(model::name(c.result));
    w.key("closed").value(c.closed).key("setting").value(c.setting);
    w.key("place").value(c.place).key("detail").value(c.detail);
    w.key("since").value(c.since_ms > 0 ? model::iso_instant(c.since_ms) : std::string());
    w.end_object();
  }
  return out;
}

std::vector<audit_rows::claim_row> claim_rows(const std::vector<audit_claim>& claims,
                                              audit_format format, bool with_setting) {
  std::vector<audit_rows::claim_row> out;
  if (format == audit_format::csv) return out;  // the CSV has the CSII rows only
  out.reserve(claims.size());
  for (const auto& c : claims) {
    out.push_back({c.id, c.since_ms, c.setting, c.result == model::outcome::release,
                   claim_text(c, format, with_setting)});
  }
  return out;
}

void claims_table(std::string& out, const std::vector<audit_rows::claim_row>& claims,
                  bool with_setting) {
  if (claims.empty()) {
    out += "<p class=\"none\">None.</p>\n";
    return;
  }
  out += "<table><thead><tr>";
  for (const char* h : {"claim", "billing NPI", "patient", "date of service", "outcome", "state"}) {
    html_cell(out, h, "th");
  }
  if (with_setting) {
    html_cell(out, "setting", "th");
    html_cell(out, "where", "th");
  } else {
    html_cell(out, "held since", "th");
    html_cell(out, "missing", "th");
  }
  out += "</tr></thead><tbody>\n";
  for (const auto& c : claims) out += c.text;
  out += "</tbody></table>\n";
}

std::string write_csv(const audit_rows& rows) {
  std::string out;
  bool first = true;
  for (const auto& c : columns()) {
    if (!first) out += ',';
    first = false;
    out += c.name;
  }
  out += '\n';
  for (const auto& row : rows.csii) out += row.text;
  return out;
}

std::string write_html(const audit_rows& rows) {
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<title>covgate documentation audit</title><style>"
      "body{font:14px system-ui,sans-serif;margin:2em;color:#1d2330}"
      "table{border-collapse:collapse;margin:.5em 0 2em}"
      "th,td{border:1px solid #c9ced8;padding:.25em .5em;text-align:left}"
      "th{background:#eef1f6}td.no{background:#fbe3e3}td.yes{background:#e2f3e5}"
      ".none{color:#667}</style></head><body>\n";
  out += "<h1>Documentation audit</h1>\n<p>As of ";
  boundary::append_html_escaped(out, rows.as_of.iso());
  out +=
      ". Rules: docs/policy.md section 3.2 items 2 to 4, applied as for a CSII line "
      "whose date of service is the audit's date.</p>\n";
  out += "<h2>Insulin pump (CSII) patients</h2>\n";
  if (rows.csii.empty()) {
    out += "<p class=\"none\">No patient with an insulin-pump claim.</p>\n";
  } else {
    out += "<table><thead><tr>";
    for (const auto& c : columns()) html_cell(out, c.name, "th");
    out += "</tr></thead><tbody>\n";
    for (const auto& row : rows.csii) out += row.text;
    out += "</tbody></table>\n";
  }
  out += "<h2>External heparin claims by setting</h2>\n";
  std::map<std::string, std::pair<int, int>> settings;  // setting -> (claims, released)
  for (const auto& c : rows.heparin) {
    auto& s = settings[c.setting];
    ++s.first;
    if (c.released) ++s.second;
  }
  if (!settings.empty()) {
    out +=
        "<table><thead><tr><th>setting</th><th>claims</th><th>released</th></tr></thead>"
        "<tbody>\n";
    for (const auto& [setting, n] : settings) {
      out += "<tr>";
      html_cell(out, setting);
      html_cell(out, std::to_string(n.first));
      html_cell(out, std::to_string(n.second));
      out += "</tr>\n";
    }
    out += "</tbody></table>\n";
  }
  claims_table(out, rows.heparin, true);
  out += "<h2>Liver chemotherapy claims missing the resectability statement</h2>\n";
  claims_table(out, rows.chemo_missing, false);
  out += "<h2>Implantable pump claims awaiting review</h2>\n";
  claims_table(out, rows.implantable, false);
  out += "</body></html>\n";
  return out;
}

std::string write_json(const audit_rows& rows) {
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("as_of").value(rows.as_of.iso());
  w.key("columns").begin_array();
  for (const auto& c : columns()) w.value(c.name);
  w.end_array();
  w.key("csii").begin_array();
  for (const auto& row : rows.csii) w.raw(row.text);
  w.end_array();
  auto claims = [&](std::string_view key, const std::vector<audit_rows::claim_row>& list) {
    w.key(key).begin_array();
    for (const auto& c : list) w.raw(c.text);
    w.end_array();
  };
  claims("heparin", rows.heparin);
  claims("chemo_resectability_missing", rows.chemo_missing);
  claims("implantable_review", rows.implantable);
  w.end_object();
  return out;
}

}  // namespace

audit_report build_store_audit(const server_config& config, durable_gate& gate,
                               const model::date& as_of, const policy::policy_file& policy,
                               const mapping::tables& tables) {
  audit_report report;
  const auto& directory = config.store.directory;
  if (!directory.empty() && directory != ":memory:") {
    // A reading connection of its own: the audit reads the committed state without holding
    // the gate, and writes nothing (a writing one ran the schema's statements and a facts
    // update on the live files at every open).
    store::sqlite_store snapshot(directory, store::read_only);
    engine::intake reader(policy, tables, snapshot, engine::intake_settings{});
    reader.restore();
    report = build_audit(snapshot, reader, as_of, policy, tables);
  } else {
    gate.inspect([&](const store::sqlite_store& store, const engine::intake& intake) {
      report = build_audit(store, intake, as_of, policy, tables);
    });
  }
  return report;
}

std::string_view name(audit_format format) noexcept {
  switch (format) {
    case audit_format::csv:
      return "csv";
    case audit_format::html:
      return "html";
    case audit_format::json:
      break;
  }
  return "json";
}

std::optional<audit_format> audit_format_named(std::string_view text) noexcept {
  for (const auto f : {audit_format::json, audit_format::csv, audit_format::html}) {
    if (name(f) == text) return f;
  }
  return std::nullopt;
}

audit_rows audit_rows_of(const audit_report& report, audit_format format) {
  audit_rows rows;
  rows.as_of = report.as_of;
  rows.csii.reserve(report.csii.size());
  for (const auto& row : report.csii) rows.csii.push_back({row.patient, csii_text(row, format)});
  rows.heparin = claim_rows(report.heparin, format, true);
  rows.chemo_missing = claim_rows(report.chemo_missing, format, false);
  rows.implantable = claim_rows(report.implantable, format, false);
  return rows;
}

void merge_audit_rows(audit_rows& into, audit_rows&& part) {
  const auto append = [](auto& to, auto&& from) {
    to.insert(to.end(), std::make_move_iterator(from.begin()), std::make_move_iterator(from.end()));
  };
  append(into.csii, std::move(part.csii));
  append(into.heparin, std::move(part.heparin));
  append(into.chemo_missing, std::move(part.chemo_missing));
  append(into.implantable, std::move(part.implantable));
  std::sort(into.csii.begin(), into.csii.end(),
            [](const auto& a, const auto& b) { return a.patient < b.patient; });
  // Two billing providers' claims of one CLM01 tie on the id: their text, which names the
  // billing NPI right after it, orders them as one server would.
  std::sort(into.heparin.begin(), into.heparin.end(), [](const auto& a, const auto& b) {
    return std::tie(a.setting, a.id, a.text) < std::tie(b.setting, b.id, b.text);
  });
  const auto oldest_first = [](const auto& a, const auto& b) {
    return std::tie(a.since_ms, a.id, a.text) < std::tie(b.since_ms, b.id, b.text);
  };
  std::sort(into.chemo_missing.begin(), into.chemo_missing.end(), oldest_first);
  std::sort(into.implantable.begin(), into.implantable.end(), oldest_first);
}

std::string write_audit(const audit_rows& rows, audit_format format) {
  switch (format) {
    case audit_format::csv:
      return write_csv(rows);
    case audit_format::html:
      return write_html(rows);
    case audit_format::json:
      break;
  }
  return write_json(rows);
}

std::string encode_audit_rows(const audit_rows& rows) {
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("as_of").value(rows.as_of.iso()).key("csii").begin_array();
  for (const auto& r : rows.csii) w.begin_array().value(r.patient).value(r.text).end_array();
  w.end_array();
  auto claims = [&](std::string_view key, const std::vector<audit_rows::claim_row>& list) {
    w.key(key).begin_array();
    for (const auto& c : list) {
      w.begin_array().value(c.id).value(c.since_ms).value(c.setting).value(c.released);
      w.value(c.text).end_array();
    }
    w.end_array();
  };
  claims("heparin", rows.heparin);
  claims("chemo_missing", rows.chemo_missing);
  claims("implantable", rows.implantable);
  w.end_object();
  return out;
}

std::optional<audit_rows> decode_audit_rows(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse<rapidjson::kParseIterativeFlag>(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto string_of = [](const rapidjson::Value& v) {
    return std::string(v.GetString(), v.GetStringLength());
  };
  audit_rows rows;
  const auto as_of = doc.FindMember("as_of");
  if (as_of == doc.MemberEnd() || !as_of->value.IsString()) return std::nullopt;
  const auto day = model::parse_iso_date(string_of(as_of->value));
  if (!day) return std::nullopt;
  rows.as_of = *day;
  const auto csii = doc.FindMember("csii");
  if (csii == doc.MemberEnd() || !csii->value.IsArray()) return std::nullopt;
  for (const auto& r : csii->value.GetArray()) {
    if (!r.IsArray() || r.Size() != 2 || !r[0].IsString() || !r[1].IsString()) {
      return std::nullopt;
    }
    rows.csii.push_back({string_of(r[0]), string_of(r[1])});
  }
  const auto claims = [&](const char* key, std::vector<audit_rows::claim_row>& to) {
    const auto list = doc.FindMember(key);
    if (list == doc.MemberEnd() || !list->value.IsArray()) return false;
    for (const auto& c : list->value.GetArray()) {
      if (!c.IsArray() || c.Size() != 5 || !c[0].IsString() || !c[1].IsInt64() ||
          !c[2].IsString() || !c[3].IsBool() || !c[4].IsString()) {
        return false;
      }
      to.push_back(
          {string_of(c[0]), c[1].GetInt64(), string_of(c[2]), c[3].GetBool(), string_of(c[4])});
    }
    return true;
  };
  if (!claims("heparin", rows.heparin) || !claims("chemo_missing", rows.chemo_missing) ||
      !claims("implantable", rows.implantable)) {
    return std::nullopt;
  }
  return rows;
}

std::string audit_csv(const audit_report& report) {
  return write_csv(audit_rows_of(report, audit_format::csv));
}

std::string audit_html(const audit_report& report) {
  return write_html(audit_rows_of(report, audit_format::html));
}

std::string audit_json(const audit_report& report) {
  return write_json(audit_rows_of(report, audit_format::json));
}

}  // namespace covgate::server
