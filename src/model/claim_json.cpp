#include "covgate/model/claim_json.hpp"

#include <array>

#include "covgate/model/json_writer.hpp"

namespace covgate::model {
namespace {

// A date as date::iso() writes it (YYYY-MM-DD, "" for no date), formatted in place without
// printf or a temporary string: a claim has several dates and parse writes millions of claims.
void date_value(json_writer& w, const date& d) {
  if (d.year < 1 || d.year > 9999 || d.month > 99 || d.day > 99) {
    w.value(d.iso());  // no date, or one no X12 date can be: the general formatter
    return;
  }
  std::array<char, 10> text{};
  const auto put = [&](std::size_t at, std::size_t width, unsigned number) {
    for (std::size_t i = width; i-- > 0; number /= 10) {
      text[at + i] = static_cast<char>('0' + number % 10);
    }
  };
  put(0, 4, static_cast<unsigned>(d.year));
  text[4] = '-';
  put(5, 2, d.month);
  text[7] = '-';
  put(8, 2, d.day);
  w.value(std::string_view{text.data(), text.size()});
}

void field(json_writer& w, std::string_view name, std::string_view text) {
  if (!text.empty()) w.key(name).value(text);
}

void field(json_writer& w, std::string_view name, const date& d) {
  if (!d.valid()) return;
  w.key(name);
  date_value(w, d);
}

void field(json_writer& w, std::string_view name, const date_range& r) {
  if (!r.from.valid()) return;
  w.key(name).begin_object().key("from");
  date_value(w, r.from);
  w.key("to");
  date_value(w, r.to);
  w.end_object();
}

void field(json_writer& w, std::string_view name, const person_name& n) {
  if (n.empty() && n.middle.empty() && n.suffix.empty()) return;
  w.key(name).begin_object();
  field(w, "last", n.last);
  field(w, "first", n.first);
  field(w, "middle", n.middle);
  field(w, "suffix", n.suffix);
  w.end_object();
}

void field(json_writer& w, std::string_view name, const provider& p) {
  if (!p.present() && p.name.empty()) return;
  w.key(name).begin_object();
  field(w, "npi", p.npi);
  field(w, "taxonomy", p.taxonomy);
  w.key("person").value(p.entity_is_person);
  field(w, "name", p.name);
  w.end_object();
}

void field(json_writer& w, std::string_view name, const person& p) {
  if (!p.present()) return;
  w.key(name).begin_object();
  field(w, "member_id", p.member_id);
  field(w, "member_id_qualifier", p.member_id_qualifier);
  field(w, "birth_date", p.birth_date);
  if (p.sex) field(w, "sex", std::string_view{&p.sex, 1});
  field(w, "name", p.name);
  w.end_object();
}

void field(json_writer& w, std::string_view name, const std::vector<attachment>& list) {
  if (list.empty()) return;
  w.key(name).begin_array();
  for (const auto& a : list) {
    w.begin_object();
    field(w, "report_type", a.report_type);
    field(w, "transmission", a.transmission_code);
    field(w, "control_number", a.control_number);
    w.end_object();
  }
  w.end_array();
}

void write_line(json_writer& w, const service_line& line) {
  w.begin_object();
  w.key("number").value(static_cast<std::int64_t>(line.number));
  field(w, "procedure_qualifier", line.procedure_qualifier);
  field(w, "procedure", line.procedure_code);
  if (!line.modifiers.empty()) {
    w.key("modifiers").begin_array();
    for (const auto& m : line.modifiers) w.value(m);
    w.end_array();
  }
  field(w, "revenue_code", line.revenue_code);
  w.key("charge_cents").value(line.charge_cents);
  w.key("units").value(line.units);
  field(w, "unit_basis", line.unit_basis);
  field(w, "place_of_service", line.place_of_service);
  field(w, "service_dates", line.service_dates);
  field(w, "line_control_number", line.line_control_number);
  field(w, "prior_authorization", line.prior_authorization);
  field(w, "attachments", line.attachments);
  if (!line.dme_conditions.empty()) {
    w.key("dme_conditions").begin_array();
    for (const auto& c : line.dme_conditions) {
      w.begin_object().key("response").value(c.response).key("codes").begin_array();
      for (const auto& code : c.codes) w.value(code);
      w.end_array().end_object();
    }
    w.end_array();
  }
  field(w, "rendering", line.rendering);
  field(w, "ordering", line.ordering);
  w.end_object();
}

}  // namespace

void append_json(std::string& out, const claim& c) {
  json_writer w(out);
  w.begin_object();
  w.key("kind").value(c.kind == claim_kind::institutional ? "837I" : "837P");
  w.key("claim_id").value(c.id);
  w.key("total_charge_cents").value(c.total_charge_cents);
  field(w, "place_of_service", c.place_of_service);
  field(w, "facility_type", c.facility_type);
  if (c.frequency) field(w, "frequency", std::string_view{&c.frequency, 1});
  if (c.kind == claim_kind::institutional && c.frequency) {  // claim::bill_type(), in place
    w.key("bill_type").value({c.facility_type, std::string_view{&c.frequency, 1}});
  }
  field(w, "statement_dates", c.statement_dates);
  if (!c.diagnoses.empty()) {
    w.key("diagnoses").begin_array();
    for (const auto& d : c.diagnoses) {
      w.begin_object().key("qualifier").value(d.qualifier).key("code").value(d.code);
      w.end_object();
    }
    w.end_array();
  }
  field(w, "prior_authorization", c.prior_authorization);
  field(w, "payer_claim_number", c.payer_claim_number);
  field(w, "attachments", c.attachments);
  field(w, "subscriber", c.subscriber);
  field(w, "patient", c.patient);
  field(w, "payer_id", c.payer_id);
  field(w, "claim_filing_indicator", c.claim_filing_indicator);
  field(w, "billing", c.billing);
  field(w, "rendering", c.rendering);
  field(w, "attending", c.attending);
  w.key("lines").begin_array();
  for (const auto& line : c.lines) write_line(w, line);
  w.end_array();
  const auto& e = c.envelope;
  w.key("envelope").begin_object();
  field(w, "sender", e.sender_id);
  field(w, "receiver", e.receiver_id);
  field(w, "interchange_control", e.interchange_control);
  field(w, "group_control", e.group_control);
  field(w, "set_control", e.set_control);
  field(w, "implementation", e.implementation);
  field(w, "originator_reference", e.originator_reference);
  if (!e.submitter.empty() || !e.submitter_id.empty()) {
    w.key("submitter").begin_object();
    field(w, "id", e.submitter_id);
    w.key("person").value(e.submitter_is_person);
    field(w, "name", e.submitter);
    w.end_object();
  }
  w.end_object();
  w.end_object();
}

}  // namespace covgate::model
