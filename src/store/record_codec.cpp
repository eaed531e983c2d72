#include "covgate/store/record_codec.hpp"

#include <cstdint>
#include <cstring>

#include "covgate/policy/policy.hpp"

namespace covgate::store {
namespace {

constexpr char format_version = 1;
constexpr char history_format = 'H';

void put_varint(std::string& out, std::uint64_t n) {
  while (n >= 0x80) {
    out += static_cast<char>((n & 0x7F) | 0x80);
    n >>= 7;
  }
  out += static_cast<char>(n);
}

void put_string(std::string& out, std::string_view s) {
  put_varint(out, s.size());
  out += s;
}

struct cursor {
  std::string_view in;
  bool ok = true;

  std::uint64_t varint() {
    std::uint64_t n = 0;
    for (int shift = 0; shift < 64 && !in.empty(); shift += 7) {
      const auto byte = static_cast<unsigned char>(in.front());
      in.remove_prefix(1);
      n |= static_cast<std::uint64_t>(byte & 0x7F) << shift;
      if ((byte & 0x80) == 0) return n;
    }
    ok = false;
    return 0;
  }
  std::string_view string() {
    const auto n = varint();
    if (!ok || n > in.size()) {
      ok = false;
      return {};
    }
    const auto s = in.substr(0, n);
    in.remove_prefix(n);
    return s;
  }
};

}  // namespace

void encode(const model::decision& d, std::string& out) {
  out += format_version;
  put_string(out, d.claim_id);
  put_string(out, d.patient);
  put_varint(out, static_cast<std::uint64_t>(static_cast<std::uint16_t>(d.dos.year)));
  put_varint(out, d.dos.month);
  put_varint(out, d.dos.day);
  put_string(out, d.policy);
  put_varint(out, static_cast<std::uint64_t>(d.result));
  put_varint(out, d.findings.size());
  for (const auto& f : d.findings) {
    put_string(out, f.reason);
    put_varint(out, f.line);
    put_string(out, f.detail);
    put_varint(out, f.facts_used.size());
    for (const auto& id : f.facts_used) put_string(out, id);
  }
}

std::optional<model::decision> decode_decision(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != format_version) return std::nullopt;
  cursor c{bytes.substr(1)};
  model::decision d;
  d.claim_id = c.string();
  d.patient = c.string();
  d.dos.year = static_cast<std::int16_t>(static_cast<std::uint16_t>(c.varint()));
  d.dos.month = static_cast<std::uint8_t>(c.varint());
  d.dos.day = static_cast<std::uint8_t>(c.varint());
  d.policy = c.string();
  const auto result = c.varint();
  if (result > static_cast<std::uint64_t>(model::outcome::hold_invalid)) return std::nullopt;
  d.result = static_cast<model::outcome>(result);
  const auto count = c.varint();
  if (!c.ok || count > c.in.size()) return std::nullopt;
  d.findings.reserve(count);
  for (std::uint64_t i = 0; i < count && c.ok; ++i) {
    const auto code = c.string();
    const auto* row = policy::find_reason(code);
    if (row == nullptr) return std::nullopt;
    auto f = policy::finding_of(*row, 0);
    f.line = static_cast<std::uint32_t>(c.varint());
    f.detail = std::string(c.string());
    const auto used = c.varint();
    if (!c.ok || used > c.in.size()) return std::nullopt;
    for (std::uint64_t u = 0; u < used && c.ok; ++u) f.facts_used.emplace_back(c.string());
    d.findings.push_back(std::move(f));
  }
  if (!c.ok || !c.in.empty()) return std::nullopt;
  return d;
}

void encode_history(const model::decision& d, std::string_view source, std::string& out) {
  out += history_format;
  put_string(out, source);
  encode(d, out);
}

std::optional<std::pair<std::string, model::decision>> decode_history(std::string_view bytes) {
  if (bytes.empty() || bytes.front() != history_format) return std::nullopt;
  cursor c{bytes.substr(1)};
  const auto source = c.string();
  if (!c.ok) return std::nullopt;
  auto decision = decode_decision(c.in);
  if (!decision) return std::nullopt;
  return std::pair{std::string(source), std::move(*decision)};
}

}  // namespace covgate::store
