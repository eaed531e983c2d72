#include "covgate/model/claim_codec.hpp"

#include <type_traits>

#include "binary_archive.hpp"

namespace covgate::model {

// One list of fields per type, walked by both archives (binary_archive.hpp). `Self` is the
// type or its const form.
// Fields added by a later format version are read only from that version on: a store written
// by the previous version still reads back (the new fields stay empty).
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& n) requires std::is_same_v<std::remove_const_t<Self>, person_name> {
  a(n.last), a(n.first), a(n.middle), a(n.suffix);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& p) requires std::is_same_v<std::remove_const_t<Self>, provider> {
  a(p.npi), a(p.taxonomy), a(p.entity_is_person);
  if (a.version() >= 2) a(p.name);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& p) requires std::is_same_v<std::remove_const_t<Self>, person> {
  a(p.member_id), a(p.member_id_qualifier), a(p.birth_date), a(p.sex);
  if (a.version() >= 2) a(p.name);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& d) requires std::is_same_v<std::remove_const_t<Self>, diagnosis> {
  a(d.qualifier), a(d.code);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& p) requires std::is_same_v<std::remove_const_t<Self>, attachment> {
  a(p.report_type), a(p.transmission_code), a(p.control_number);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& c) requires std::is_same_v<std::remove_const_t<Self>, dme_condition> {
  a(c.response), a(c.codes);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& l) requires std::is_same_v<std::remove_const_t<Self>, service_line> {
  a(l.number), a(l.procedure_qualifier), a(l.procedure_code), a(l.modifiers), a(l.revenue_code);
  a(l.charge_cents), a(l.units), a(l.unit_basis), a(l.place_of_service), a(l.service_dates);
  a(l.line_control_number), a(l.prior_authorization), a(l.attachments), a(l.dme_conditions);
  a(l.rendering), a(l.ordering);
}
template <class Archive, class Self>
void codec_fields(Archive& a,
                  Self& e) requires std::is_same_v<std::remove_const_t<Self>, envelope_ref> {
  a(e.sender_qualifier), a(e.sender_id), a(e.receiver_qualifier), a(e.receiver_id);
  a(e.interchange_control), a(e.group_control), a(e.application_sender);
  a(e.application_receiver), a(e.set_control), a(e.implementation), a(e.originator_reference);
  if (a.version() >= 2) a(e.submitter), a(e.submitter_id), a(e.submitter_is_person), a(e.usage);
}
// Which of a claim's fields an encoding holds: all of them (encode), or one of the two parts
// a memory state keeps apart (encode_set_part, encode_own_part). The set part is the billing
// provider and the envelope only: same_set_part compares those two fields to reuse a part, so a
// field moved into it must be compared there too.
enum class claim_part { all, own, set };

template <class Archive, class Self>
void claim_fields(Archive& a, Self& c, claim_part part) {
  const bool own = part != claim_part::set;
  const bool set = part != claim_part::own;
  if (own) {
    a(c.kind), a(c.id), a(c.total_charge_cents), a(c.place_of_service), a(c.facility_type);
    a(c.frequency), a(c.statement_dates), a(c.diagnoses), a(c.prior_authorization);
    a(c.payer_claim_number), a(c.attachments), a(c.subscriber), a(c.patient), a(c.payer_id);
    a(c.claim_filing_indicator);
  }
  if (set) a(c.billing);
  if (own) a(c.rendering), a(c.attending), a(c.lines);
  if (set) a(c.envelope);
  if (own) a(c.first_segment), a(c.source_offset);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& c) requires std::is_same_v<std::remove_const_t<Self>, claim> {
  claim_fields(a, c, claim_part::all);
}

// 1: the first layout. 2: names (submitter, billing provider, subscriber, patient, every
// provider) for the 277 to echo. 3: the fields of 2, scalars in the archive's compact layout
// (a claim is most of what the engine keeps per claim in memory).
static_assert(claim_format_version == 3);

namespace {

archive::layout layout_of(int version) {
  return version >= 3 ? archive::layout::compact : archive::layout::fixed;
}

}  // namespace

void encode(const claim& c, std::string& out) { encode_as(c, claim_format_version, out); }

void encode_as(const claim& c, int version, std::string& out) {
  out += static_cast<char>(version);
  archive::writer w(out, version, layout_of(version));
  w(c);
}

std::optional<claim> decode_claim(std::string_view bytes) {
  if (bytes.empty() || bytes.front() < 1 || bytes.front() > claim_format_version) {
    return std::nullopt;
  }
  archive::reader r(bytes.substr(1), bytes.front(), layout_of(bytes.front()));
  claim c;
  r(c);
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return c;
}

namespace {

void encode_part(const claim& c, claim_part part, std::string& out) {
  out += static_cast<char>(claim_format_version);
  archive::writer w(out, claim_format_version, layout_of(claim_format_version));
  claim_fields(w, c, part);
}

bool decode_part(std::string_view bytes, claim_part part, claim& c) {
  if (bytes.empty() || bytes.front() != claim_format_version) return false;
  archive::reader r(bytes.substr(1), bytes.front(), layout_of(bytes.front()));
  claim_fields(r, c, part);
  return r.ok() && r.at_end();
}

}  // namespace

void encode_set_part(const claim& c, std::string& out) { encode_part(c, claim_part::set, out); }

void encode_own_part(const claim& c, std::string& out) { encode_part(c, claim_part::own, out); }

bool same_set_part(const claim& a, const claim& b) noexcept {
  return a.billing == b.billing && a.envelope == b.envelope;
}

std::optional<claim> decode_claim(std::string_view own_part, std::string_view set_part) {
  claim c;
  if (!decode_part(own_part, claim_part::own, c) || !decode_part(set_part, claim_part::set, c)) {
    return std::nullopt;
  }
  return c;
}

}  // namespace covgate::model
