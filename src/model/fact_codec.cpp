#include "covgate/model/fact_codec.hpp"

#include <array>
#include <cstdint>
#include <optional>
#include <span>
#include <type_traits>
#include <utility>

#include "binary_archive.hpp"

namespace covgate::model {

// One list of fields per type, walked by both archives (binary_archive.hpp). `Self` is the
// type or its const form.
template <class Archive, class Self>
void codec_fields(Archive& a, Self& m) requires archive::unqualified_is<Self, moment> {
  a(m.day), a(m.utc_minutes), a(m.has_time);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& l) requires archive::unqualified_is<Self, lab_result> {
  a(l.resource_id), a(l.patient), a(l.patient_key), a(l.kind), a(l.loinc), a(l.has_value);
  a(l.value), a(l.unit), a(l.original_value), a(l.original_unit), a(l.unit_known), a(l.low);
  a(l.high), a(l.interpretation), a(l.effective), a(l.fasting), a(l.status), a(l.last_updated);
  a(l.origin);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& p) requires archive::unqualified_is<Self, participant> {
  a(p.reference), a(p.type), a(p.roles);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& e) requires archive::unqualified_is<Self, encounter> {
  a(e.resource_id), a(e.patient), a(e.patient_key), a(e.status), a(e.class_code), a(e.start);
  a(e.end), a(e.participants), a(e.locations), a(e.last_updated);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& e) requires archive::unqualified_is<Self, evidence> {
  a(e.resource_id), a(e.patient), a(e.patient_key), a(e.code), a(e.value_type), a(e.flag);
  a(e.number), a(e.text), a(e.effective), a(e.last_updated);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& c) requires archive::unqualified_is<Self, condition> {
  a(c.resource_id), a(c.patient), a(c.patient_key), a(c.system), a(c.code);
  a(c.clinical_status), a(c.recorded), a(c.last_updated);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& p) requires archive::unqualified_is<Self, patient> {
  a(p.resource_id), a(p.key), a(p.identifiers), a(p.birth_date), a(p.sex);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& p) requires archive::unqualified_is<Self, practitioner> {
  a(p.resource_id), a(p.npi), a(p.qualifications), a(p.type);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& r) requires archive::unqualified_is<Self, practitioner_role> {
  a(r.resource_id), a(r.practitioner), a(r.taxonomies), a(r.type);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& r) requires archive::unqualified_is<Self, retraction> {
  a(r.resource_id), a(r.patient), a(r.patient_key);
}

namespace {

// A format version byte, then the number of facts, then per fact its variant index (one byte)
// and its fields. Version 1 (stores written before): scalars fixed-width, the count too.
// Version 2: the archive's compact layout (varints, short doubles), about half the bytes.
constexpr char fixed_version = 1;
constexpr char format_version = 2;

archive::layout layout_of(char version) {
  return version == fixed_version ? archive::layout::fixed : archive::layout::compact;
}

// Default-constructs the alternative `index` of a fact, so the reader can fill it in (a fact
// already of that kind is kept: the reader overwrites every field of it).
template <std::size_t... I>
bool emplace_alternative(fact& f, std::uint8_t index, std::index_sequence<I...>) {
  if (f.index() == index) return true;
  using maker = void (*)(fact&);
  static constexpr std::array<maker, sizeof...(I)> makers = {
      +[](fact& out) { out.emplace<I>(); }...};
  if (index >= makers.size()) return false;
  makers[index](f);
  return true;
}

}  // namespace

void encode(std::span<const fact> facts, std::string& out) {
  encode_as(facts, format_version, out);
}

namespace {

// The encoding's one loop. `id_prefix` (encode_stripped's): each fact written as if its
// resource id lacked that many bytes and its shared fields were empty.
void write_facts(std::span<const fact> facts, int version, std::string& out,
                 std::optional<std::size_t> id_prefix) {
  out += static_cast<char>(version);
  archive::writer w(out, version, layout_of(static_cast<char>(version)));
  w(static_cast<std::uint64_t>(facts.size()));
  constexpr auto all = std::string::npos;
  for (const auto& f : facts) {
    w(static_cast<std::uint8_t>(f.index()));
    std::visit(
        [&w, id_prefix](const auto& v) {
          if (!id_prefix) return w(v);
          std::array<archive::writer::trimmed, 4> trimmed;
          std::size_t n = 0;
          trimmed[n++] = {&v.resource_id, *id_prefix};
          if constexpr (requires { v.patient_key; }) trimmed[n++] = {&v.patient_key, all};
          if constexpr (requires { v.last_updated; }) trimmed[n++] = {&v.last_updated, all};
          if constexpr (requires { v.patient; }) trimmed[n++] = {&v.patient, all};
          w.trim(std::span<const archive::writer::trimmed>(trimmed.data(), n));
          w(v);
          w.trim({});
        },
        f);
  }
}

}  // namespace

void encode_as(std::span<const fact> facts, int version, std::string& out) {
  write_facts(facts, version, out, std::nullopt);
}

void encode_stripped(std::span<const fact> facts, std::size_t id_prefix, std::string& out) {
  write_facts(facts, format_version, out, id_prefix);
}

namespace {

// Reads the version and the count at the front of `bytes`; nullopt when they are not an
// encoding's.
std::optional<archive::reader> open_facts(std::string_view bytes, std::uint64_t& count) {
  if (bytes.empty() || (bytes.front() != fixed_version && bytes.front() != format_version)) {
    return std::nullopt;
  }
  archive::reader r(bytes.substr(1), bytes.front(), layout_of(bytes.front()));
  r(count);
  // Every fact takes at least its index byte: a count past the input is malformed, not a
  // reason to reserve memory.
  if (!r.ok() || count > bytes.size()) return std::nullopt;
  return r;
}

// Reads `into.size()` facts and checks nothing follows them.
bool read_facts(archive::reader& r, std::span<fact> into) {
  for (auto& f : into) {
    std::uint8_t index = 0;
    r(index);
    if (!r.ok() ||
        !emplace_alternative(f, index, std::make_index_sequence<std::variant_size_v<fact>>{})) {
      return false;
    }
    std::visit([&r](auto& alternative) { r(alternative); }, f);
  }
  return r.ok() && r.at_end();
}

}  // namespace

bool decode_facts(std::string_view bytes, std::vector<fact>& out) {
  std::uint64_t count = 0;
  auto r = open_facts(bytes, count);
  if (!r) return false;
  const auto first = out.size();
  out.resize(first + count);
  if (!read_facts(*r, std::span<fact>(out).subspan(first))) {
    out.resize(first);
    return false;
  }
  return true;
}

bool decode_facts_into(std::string_view bytes, std::span<fact> into) {
  std::uint64_t count = 0;
  auto r = open_facts(bytes, count);
  return r && count == into.size() && read_facts(*r, into);
}

std::size_t count_facts(std::string_view bytes) {
  std::uint64_t count = 0;
  return open_facts(bytes, count) ? static_cast<std::size_t>(count) : 0;
}

std::optional<std::vector<fact>> decode_facts(std::string_view bytes) {
  std::vector<fact> facts;
  if (!decode_facts(bytes, facts)) return std::nullopt;
  return facts;
}

}  // namespace covgate::model
