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
constexpr char format_version = 1;
}  // namespace

void encode(const decision& d, std::string& out) {
  out += format_version;
  archive::writer w(out);
  w(d);
}

std::optional<decision> decode_decision(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != format_version) return std::nullopt;
  archive::reader r(bytes.substr(1));
  decision d;
  r(d);
  if (!r.ok() || !r.at_end() || d.result > outcome::hold_invalid) return std::nullopt;
  return d;
}

}  // namespace covgate::model
