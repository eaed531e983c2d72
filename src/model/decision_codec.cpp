#include "covgate/model/decision_codec.hpp"

#include "binary_archive.hpp"

namespace covgate::model {

template <class Archive, class Self>
void codec_fields(Archive& a, Self& f) requires archive::unqualified_is<Self, finding> {
  a(f.reason), a(f.line), a(f.detail), a(f.facts_used);
}
template <class Archive, class Self>
void codec_fields(Archive& a, Self& d) requires archive::unqualified_is<Self, decision> {
  a(d.claim_id), a(d.patient), a(d.dos), a(d.policy), a(d.result), a(d.findings);
}

namespace {
// 1: scalars fixed-width (stores written before). 2: the archive's compact layout.
constexpr char fixed_version = 1;
constexpr char format_version = 2;
// The in-process form: format 2 with reasons by enumerator (never in a store).
constexpr char in_process_version = 0x7F;

archive::layout layout_of(char version) {
  return version == fixed_version ? archive::layout::fixed : archive::layout::compact;
}
}  // namespace

void encode(const decision& d, std::string& out) { encode_as(d, format_version, out); }

void encode_as(const decision& d, int version, std::string& out) {
  out += static_cast<char>(version);
  archive::writer w(out, version, layout_of(static_cast<char>(version)));
  w(d);
}

namespace {

// Reads a decision after its version byte: nullopt unless the bytes are exactly one valid one.
std::optional<decision> read_decision(std::string_view body, int version, archive::layout layout,
                                      archive::reason_form reasons = archive::reason_form::code) {
  archive::reader r(body, version, layout, reasons);
  decision d;
  r(d);
  if (!r.ok() || !r.at_end() || d.result > outcome::hold_invalid) return std::nullopt;
  return d;
}

}  // namespace

std::optional<decision> decode_decision(std::string_view bytes) {
  if (bytes.empty() || (bytes.front() != fixed_version && bytes.front() != format_version)) {
    return std::nullopt;
  }
  return read_decision(bytes.substr(1), bytes.front(), layout_of(bytes.front()));
}

void encode_in_process(const decision& d, std::string& out) {
  out += in_process_version;
  archive::writer w(out, format_version, archive::layout::compact,
                    archive::reason_form::enumerator);
  w(d);
}

std::optional<decision> decode_in_process_decision(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != in_process_version) return std::nullopt;
  return read_decision(bytes.substr(1), format_version, archive::layout::compact,
                       archive::reason_form::enumerator);
}

}  // namespace covgate::model
