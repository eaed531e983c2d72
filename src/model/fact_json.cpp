#include "covgate/model/fact_json.hpp"

#include "covgate/model/json_writer.hpp"

namespace covgate::model {
namespace {

void text(json_writer& w, std::string_view key, std::string_view value) {
  if (!value.empty()) w.key(key).value(value);
}

void when(json_writer& w, std::string_view key, const moment& m) {
  if (!m.valid()) return;
  w.key(key).value(m.day.iso());
}

void linked(json_writer& w, const std::string& patient, const std::string& key) {
  text(w, "patient", patient);
  if (key.empty()) {
    w.key("patient_key").null();
  } else {
    w.key("patient_key").value(key);
  }
}

struct writer {
  json_writer& w;
  void operator()(const patient& p) const {
    text(w, "resource", p.resource_id);
    text(w, "key", p.key);
    if (p.birth_date.valid()) w.key("birth_date").value(p.birth_date.iso());
    if (p.sex) w.key("sex").value(std::string_view{&p.sex, 1});
  }
  void operator()(const practitioner& p) const {
    text(w, "resource", p.resource_id);
    text(w, "npi", p.npi);
    w.key("provider_type").value(name(p.type));
  }
  void operator()(const practitioner_role& p) const {
    text(w, "resource", p.resource_id);
    text(w, "practitioner", p.practitioner);
    w.key("taxonomies").begin_array();
    for (const auto& t : p.taxonomies) w.value(t);
    w.end_array();
    w.key("provider_type").value(name(p.type));
  }
  void operator()(const lab_result& r) const {
    text(w, "resource", r.resource_id);
    linked(w, r.patient, r.patient_key);
    w.key("kind").value(name(r.kind));
    text(w, "loinc", r.loinc);
    if (r.has_value) {
      w.key("value").value(r.value);
      text(w, "unit", r.unit);
      w.key("unit_known").value(r.unit_known);
      if (!r.unit_known || r.original_unit != r.unit) {
        w.key("original").begin_object().key("value").value(r.original_value);
        text(w, "unit", r.original_unit);
        w.end_object();
      }
    }
    if (r.low) w.key("low").value(*r.low);
    if (r.high) w.key("high").value(*r.high);
    if (!r.interpretation.empty()) {
      w.key("interpretation").begin_array();
      for (const auto& i : r.interpretation) w.value(i);
      w.end_array();
    }
    when(w, "effective", r.effective);
    if (r.effective.has_time) w.key("effective_utc_minutes").value(r.effective.utc_minutes);
    w.key("fasting").value(r.fasting == fasting_state::fasting       ? "yes"
                           : r.fasting == fasting_state::not_fasting ? "no"
                                                                     : "unknown");
    text(w, "status", r.status);
    if (r.origin == provenance::computed) w.key("computed").value(true);
  }
  void operator()(const encounter& e) const {
    text(w, "resource", e.resource_id);
    linked(w, e.patient, e.patient_key);
    text(w, "status", e.status);
    text(w, "class", e.class_code);
    when(w, "start", e.start);
    when(w, "end", e.end);
    w.key("participants").begin_array();
    for (const auto& p : e.participants) {
      w.begin_object().key("reference").value(p.reference);
      w.key("provider_type").value(name(p.type));
      if (!p.roles.empty()) {
        w.key("roles").begin_array();
        for (const auto& r : p.roles) w.value(r);
        w.end_array();
      }
      w.end_object();
    }
    w.end_array();
  }
  void operator()(const evidence& e) const {
    text(w, "resource", e.resource_id);
    linked(w, e.patient, e.patient_key);
    w.key("code").value(e.code);
    if (e.value_type == "quantity") {
      w.key("value").value(e.number);
    } else if (e.value_type == "string") {
      w.key("value").value(e.text);
    } else {
      w.key("value").value(e.flag);
    }
    when(w, "effective", e.effective);
  }
  void operator()(const condition& c) const {
    text(w, "resource", c.resource_id);
    linked(w, c.patient, c.patient_key);
    text(w, "system", c.system);
    text(w, "code", c.code);
    text(w, "clinical_status", c.clinical_status);
    when(w, "recorded", c.recorded);
  }
  void operator()(const retraction& r) const {
    text(w, "resource", r.resource_id);
    linked(w, r.patient, r.patient_key);
  }
};

}  // namespace

void append_json(std::string& out, const fact& f) {
  json_writer w(out);
  w.begin_object().key("fact").value(kind_of(f));
  std::visit(writer{w}, f);
  w.end_object();
}

}  // namespace covgate::model
