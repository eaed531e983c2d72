#include "evidence_json.hpp"

#include "covgate/model/fact_json.hpp"

namespace covgate::server {
namespace {

void date_or_null(model::json_writer& w, std::string_view key, const model::date& d) {
  w.key(key);
  if (d.valid()) {
    w.value(d.iso());
  } else {
    w.null();
  }
}

bool is_c_peptide(model::lab_kind k) {
  return k == model::lab_kind::c_peptide || k == model::lab_kind::c_peptide_fasting;
}

void lab_fields(model::json_writer& w, const model::lab_result& r) {
  w.key("resource").value(r.resource_id).key("kind").value(model::name(r.kind));
  w.key("loinc").value(r.loinc);
  if (r.has_value) {
    w.key("value").value(r.value).key("unit").value(r.unit).key("unit_known").value(r.unit_known);
  }
  if (r.low) w.key("low").value(*r.low);
  if (r.high) w.key("high").value(*r.high);
  if (is_c_peptide(r.kind) && r.has_value && r.low && *r.low > 0) {
    w.key("percent_of_lln").value(r.value / *r.low * 100.0);
  }
  if (!r.interpretation.empty()) {
    w.key("interpretation").begin_array();
    for (const auto& i : r.interpretation) w.value(i);
    w.end_array();
  }
  date_or_null(w, "effective", r.effective.day);
  if (r.effective.has_time) {
    w.key("effective_at").value(model::iso_instant(r.effective.utc_minutes * 60'000));
  }
  w.key("fasting").value(r.fasting == model::fasting_state::fasting       ? "yes"
                         : r.fasting == model::fasting_state::not_fasting ? "no"
                                                                          : "unknown");
  w.key("status").value(r.status);
  w.key("method").value(r.origin == model::provenance::computed ? "Cockcroft-Gault" : "measured");
}

std::string_view gender(char sex) {
  switch (sex) {
    case 'F':
      return "female";
    case 'M':
      return "male";
    case 'O':
      return "other";
    default:
      return "unknown";
  }
}

void reference(model::json_writer& w, std::string_view key, std::string_view ref) {
  if (ref.empty()) return;
  w.key(key).begin_object().key("reference").value(ref).end_object();
}

}  // namespace

void fact_json(model::json_writer& w, const model::fact& f) {
  if (const auto* lab = std::get_if<model::lab_result>(&f)) {
    w.begin_object().key("fact").value("lab");
    lab_fields(w, *lab);
    w.end_object();
    return;
  }
  std::string text;
  model::append_json(text, f);
  w.raw(text);
}

void lab_json(model::json_writer& w, const std::optional<model::lab_result>& lab) {
  if (!lab) {
    w.null();
    return;
  }
  w.begin_object();
  lab_fields(w, *lab);
  w.end_object();
}

void csii_json(model::json_writer& w, const policy::csii_documentation& doc) {
  w.begin_object().key("as_of").value(doc.as_of.iso());
  w.key("insulinopenia").value(doc.insulinopenia).key("reason");
  if (doc.insulinopenia_reason) {
    w.value(model::code(*doc.insulinopenia_reason));
  } else {
    w.null();
  }
  w.key("basis").value(doc.basis);
  w.key("test");
  lab_json(w, doc.test);
  w.key("percent_of_lln");
  if (doc.percent_of_lln) {
    w.value(*doc.percent_of_lln);
  } else {
    w.null();
  }
  w.key("glucose");
  lab_json(w, doc.glucose);
  w.key("clearance");
  lab_json(w, doc.clearance);
  w.key("criterion_a").value(doc.criterion_a).key("criterion_b").value(doc.criterion_b);
  w.key("criterion_a_missing").begin_array();
  for (const auto r : doc.criterion_a_missing) w.value(model::code(r));
  w.end_array().key("criterion_b_missing");
  if (doc.criterion_b_missing) {
    w.value(model::code(*doc.criterion_b_missing));
  } else {
    w.null();
  }
  w.key("followup_days").value(std::int64_t{doc.followup_days});
  w.key("visits").begin_array();
  for (const auto& v : doc.visits) {
    w.begin_object().key("resource").value(v.resource_id).key("date").value(v.day.iso());
    w.key("class").value(v.class_code).key("providers").begin_array();
    for (const auto t : v.providers) w.value(model::name(t));
    w.end_array().key("physician").value(v.physician).end_object();
  }
  w.end_array();
  w.key("physician_visit").value(doc.physician_visit);
  w.key("npp_visits_only").value(doc.npp_visits_only);
  date_or_null(w, "last_visit", doc.last_visit);
  date_or_null(w, "last_physician_visit", doc.last_physician_visit);
  date_or_null(w, "next_visit_due", doc.next_visit_due);
  w.end_object();
}

void fhir_resource(std::string& out, std::string_view type, std::string_view id,
                   const std::vector<model::fact>& facts) {
  model::json_writer w(out);
  w.begin_object().key("resourceType").value(type).key("id").value(id);
  const auto& first = facts.front();
  w.key("meta").begin_object();
  if (const auto& updated = model::last_updated_of(first); !updated.empty()) {
    w.key("lastUpdated").value(updated);
  }
  w.key("tag").begin_array().begin_object().key("system").value("urn:covgate");
  w.key("code").value("facts").key("display").value("the elements covgate read");
  w.end_object().end_array().end_object();
  auto quantity = [&](std::string_view key, double value, std::string_view unit) {
    w.key(key).begin_object().key("value").value(value).key("unit").value(unit);
    w.key("system").value("http://unitsofmeasure.org").key("code").value(unit).end_object();
  };
  auto observation = [&](const model::lab_result& r) {
    w.key("code").begin_object().key("coding").begin_array().begin_object();
    w.key("system").value("http://loinc.org").key("code").value(r.loinc);
    w.key("display").value(model::name(r.kind)).end_object().end_array().end_object();
    if (r.has_value) quantity("valueQuantity", r.value, r.unit);
    if (r.low || r.high) {
      w.key("referenceRange").begin_array().begin_object();
      if (r.low) quantity("low", *r.low, r.unit);
      if (r.high) quantity("high", *r.high, r.unit);
      w.end_object().end_array();
    }
    if (!r.interpretation.empty()) {
      w.key("interpretation").begin_array();
      for (const auto& i : r.interpretation) {
        w.begin_object().key("coding").begin_array().begin_object().key("code").value(i);
        w.end_object().end_array().end_object();
      }
      w.end_array();
    }
  };
  if (const auto* r = std::get_if<model::lab_result>(&first)) {
    w.key("status").value(r->status);
    reference(w, "subject", r->patient);
    if (r->effective.valid()) {
      w.key("effectiveDateTime")
          .value(r->effective.has_time ? model::iso_instant(r->effective.utc_minutes * 60'000)
                                       : r->effective.day.iso());
    }
    observation(*r);
    if (facts.size() > 1) {
      w.key("component").begin_array();
      for (std::size_t i = 1; i < facts.size(); ++i) {
        if (const auto* c = std::get_if<model::lab_result>(&facts[i])) {
          w.begin_object();
          observation(*c);
          w.end_object();
        }
      }
      w.end_array();
    }
  } else if (const auto* e = std::get_if<model::evidence>(&first)) {
    w.key("status").value("final");
    reference(w, "subject", e->patient);
    w.key("code").begin_object().key("coding").begin_array().begin_object();
    w.key("system").value("urn:covgate:evidence").key("code").value(e->code);
    w.end_object().end_array().end_object();
    if (e->effective.valid()) w.key("effectiveDateTime").value(e->effective.day.iso());
    if (e->value_type == "quantity") {
      w.key("valueQuantity").begin_object().key("value").value(e->number).end_object();
    } else if (e->value_type == "string") {
      w.key("valueString").value(e->text);
    } else {
      w.key("valueBoolean").value(e->flag);
    }
  } else if (const auto* enc = std::get_if<model::encounter>(&first)) {
    w.key("status").value(enc->status);
    w.key("class").begin_object();
    w.key("system").value("http://terminology.hl7.org/CodeSystem/v3-ActCode");
    w.key("code").value(enc->class_code).end_object();
    reference(w, "subject", enc->patient);
    w.key("period").begin_object();
    if (enc->start.valid()) w.key("start").value(enc->start.day.iso());
    if (enc->end.valid()) w.key("end").value(enc->end.day.iso());
    w.end_object();
    w.key("participant").begin_array();
    for (const auto& p : enc->participants) {
      w.begin_object();
      reference(w, "individual", p.reference);
      w.end_object();
    }
    w.end_array();
  } else if (const auto* p = std::get_if<model::patient>(&first)) {
    w.key("identifier").begin_array();
    for (const auto& i : p->identifiers) {
      const auto bar = i.find('|');
      w.begin_object();
      if (bar != std::string::npos) {
        w.key("system").value(std::string_view(i).substr(0, bar));
        w.key("value").value(std::string_view(i).substr(bar + 1));
      } else {
        w.key("value").value(i);
      }
      w.end_object();
    }
    w.end_array();
    if (p->birth_date.valid()) w.key("birthDate").value(p->birth_date.iso());
    if (p->sex) w.key("gender").value(gender(p->sex));
  } else if (const auto* pr = std::get_if<model::practitioner>(&first)) {
    if (!pr->npi.empty()) {
      w.key("identifier").begin_array().begin_object();
      w.key("system").value("http://hl7.org/fhir/sid/us-npi").key("value").value(pr->npi);
      w.end_object().end_array();
    }
    w.key("qualification").begin_array();
    for (const auto& q : pr->qualifications) {
      w.begin_object().key("code").begin_object().key("coding").begin_array().begin_object();
      w.key("code").value(q).end_object().end_array().end_object().end_object();
    }
    w.end_array();
  } else if (const auto* role = std::get_if<model::practitioner_role>(&first)) {
    reference(w, "practitioner", role->practitioner);
    w.key("code").begin_array();
    for (const auto& t : role->taxonomies) {
      w.begin_object().key("coding").begin_array().begin_object();
      w.key("system").value("http://nucc.org/provider-taxonomy").key("code").value(t);
      w.end_object().end_array().end_object();
    }
    w.end_array();
  } else if (const auto* cond = std::get_if<model::condition>(&first)) {
    reference(w, "subject", cond->patient);
    w.key("code").begin_object().key("coding").begin_array().begin_object();
    w.key("system").value(cond->system).key("code").value(cond->code);
    w.end_object().end_array().end_object();
    if (!cond->clinical_status.empty()) {
      w.key("clinicalStatus").begin_object().key("coding").begin_array().begin_object();
      w.key("code").value(cond->clinical_status).end_object().end_array().end_object();
    }
    if (cond->recorded.valid()) w.key("recordedDate").value(cond->recorded.day.iso());
  }
  w.end_object();
}

}  // namespace covgate::server
