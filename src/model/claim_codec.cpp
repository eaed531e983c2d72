#include "covgate/model/claim_codec.hpp"

#include <cstdint>
#include <cstring>
#include <type_traits>
#include <vector>

namespace covgate::model {
namespace {

constexpr char format_version = 1;

// One list of fields per type, walked by both archives, so encode and decode cannot disagree.
// `Self` is the type or its const form.
template <class Archive, class Self>
void fields(Archive& a, Self& p) requires std::is_same_v<std::remove_const_t<Self>, provider> {
  a(p.npi), a(p.taxonomy), a(p.entity_is_person);
}
template <class Archive, class Self>
void fields(Archive& a, Self& p) requires std::is_same_v<std::remove_const_t<Self>, person> {
  a(p.member_id), a(p.member_id_qualifier), a(p.birth_date), a(p.sex);
}
template <class Archive, class Self>
void fields(Archive& a, Self& d) requires std::is_same_v<std::remove_const_t<Self>, diagnosis> {
  a(d.qualifier), a(d.code);
}
template <class Archive, class Self>
void fields(Archive& a, Self& p) requires std::is_same_v<std::remove_const_t<Self>, attachment> {
  a(p.report_type), a(p.transmission_code), a(p.control_number);
}
template <class Archive, class Self>
void fields(Archive& a, Self& c) requires std::is_same_v<std::remove_const_t<Self>, dme_condition> {
  a(c.response), a(c.codes);
}
template <class Archive, class Self>
void fields(Archive& a, Self& l) requires std::is_same_v<std::remove_const_t<Self>, service_line> {
  a(l.number), a(l.procedure_qualifier), a(l.procedure_code), a(l.modifiers), a(l.revenue_code);
  a(l.charge_cents), a(l.units), a(l.unit_basis), a(l.place_of_service), a(l.service_dates);
  a(l.line_control_number), a(l.prior_authorization), a(l.attachments), a(l.dme_conditions);
  a(l.rendering), a(l.ordering);
}
template <class Archive, class Self>
void fields(Archive& a, Self& e) requires std::is_same_v<std::remove_const_t<Self>, envelope_ref> {
  a(e.sender_qualifier), a(e.sender_id), a(e.receiver_qualifier), a(e.receiver_id);
  a(e.interchange_control), a(e.group_control), a(e.application_sender);
  a(e.application_receiver), a(e.set_control), a(e.implementation), a(e.originator_reference);
}
template <class Archive, class Self>
void fields(Archive& a, Self& c) requires std::is_same_v<std::remove_const_t<Self>, claim> {
  a(c.kind), a(c.id), a(c.total_charge_cents), a(c.place_of_service), a(c.facility_type);
  a(c.frequency), a(c.statement_dates), a(c.diagnoses), a(c.prior_authorization);
  a(c.payer_claim_number), a(c.attachments), a(c.subscriber), a(c.patient), a(c.payer_id);
  a(c.claim_filing_indicator), a(c.billing), a(c.rendering), a(c.attending), a(c.lines);
  a(c.envelope), a(c.first_segment), a(c.source_offset);
}

template <class T>
concept scalar = std::is_arithmetic_v<T> || std::is_enum_v<T>;

class writer {
 public:
  explicit writer(std::string& out) : out_(out) {}

  void operator()(const std::string& s) {
    varint(s.size());
    out_ += s;
  }
  template <scalar T>
  void operator()(const T& v) {
    char bytes[sizeof(T)];
    std::memcpy(bytes, &v, sizeof(T));
    out_.append(bytes, sizeof(T));
  }
  void operator()(const date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(const date_range& r) { (*this)(r.from), (*this)(r.to); }
  template <class T>
  void operator()(const std::vector<T>& items) {
    varint(items.size());
    for (const auto& item : items) (*this)(item);
  }
  template <class T>
  void operator()(const T& compound) requires requires(writer& w) {
    fields(w, compound);
  }
  { fields(*this, compound); }

 private:
  void varint(std::size_t n) {
    while (n >= 0x80) {
      out_ += static_cast<char>((n & 0x7F) | 0x80);
      n >>= 7;
    }
    out_ += static_cast<char>(n);
  }
  std::string& out_;
};

class reader {
 public:
  explicit reader(std::string_view in) : in_(in) {}

  void operator()(std::string& s) {
    const auto n = varint();
    if (n > in_.size()) return fail();
    s.assign(in_.substr(0, n));
    in_.remove_prefix(n);
  }
  template <scalar T>
  void operator()(T& v) {
    if (in_.size() < sizeof(T)) return fail();
    std::memcpy(&v, in_.data(), sizeof(T));
    in_.remove_prefix(sizeof(T));
  }
  void operator()(date& d) { (*this)(d.year), (*this)(d.month), (*this)(d.day); }
  void operator()(date_range& r) { (*this)(r.from), (*this)(r.to); }
  template <class T>
  void operator()(std::vector<T>& items) {
    const auto n = varint();
    if (n > in_.size()) return fail();  // every item takes at least one byte
    items.resize(n);
    for (auto& item : items) (*this)(item);
  }
  template <class T>
  void operator()(T& compound) requires requires(reader& r) {
    fields(r, compound);
  }
  { fields(*this, compound); }

  [[nodiscard]] bool ok() const noexcept { return ok_; }
  [[nodiscard]] bool at_end() const noexcept { return in_.empty(); }

 private:
  std::size_t varint() {
    std::size_t n = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (in_.empty()) break;
      const auto byte = static_cast<unsigned char>(in_.front());
      in_.remove_prefix(1);
      n |= static_cast<std::size_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return n;
    }
    fail();
    return 0;
  }
  void fail() {
    ok_ = false;
    in_ = {};  // every later read fails too, without looping over garbage
  }
  std::string_view in_;
  bool ok_ = true;
};

}  // namespace

void encode(const claim& c, std::string& out) {
  out += format_version;
  writer w(out);
  w(c);
}

std::optional<claim> decode_claim(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != format_version) return std::nullopt;
  reader r(bytes.substr(1));
  claim c;
  r(c);
  if (!r.ok() || !r.at_end()) return std::nullopt;
  return c;
}

}  // namespace covgate::model
