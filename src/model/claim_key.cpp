#include "covgate/model/claim_key.hpp"

namespace covgate::model {

std::string claim_key(std::string_view clm01, std::string_view billing_npi) {
  std::string key;
  key.reserve(clm01.size() + 1 + billing_npi.size());
  key.append(clm01);
  if (!billing_npi.empty()) key.append(1, claim_key_separator).append(billing_npi);
  return key;
}

std::string claim_key(const claim& c) { return claim_key(c.id, c.billing.npi); }

void append_claim_key(std::string& out, const claim& c) {
  out.append(c.id);
  if (!c.billing.npi.empty()) out.append(1, claim_key_separator).append(c.billing.npi);
}

claim_key_parts split_claim_key(std::string_view key) noexcept {
  const auto at = key.find(claim_key_separator);
  if (at == std::string_view::npos) return {key, {}};
  return {key.substr(0, at), key.substr(at + 1)};
}

claim_key_range claim_keys_of(std::string_view clm01) {
  claim_key_range range{std::string(clm01), std::string(clm01)};
  range.last.push_back(static_cast<char>(claim_key_separator + 1));
  return range;
}

namespace {

std::string delivery_prefix(std::string_view clm01, std::string_view billing_npi) {
  std::string prefix;
  if (!billing_npi.empty()) prefix.append(billing_npi).push_back('_');
  prefix.append(clm01);
  return prefix;
}

}  // namespace

std::string delivery_key(const claim& c, std::uint32_t sequence) {
  return delivery_prefix(c.id, c.billing.npi).append(1, '-').append(std::to_string(sequence));
}

std::string delivery_prefix(std::string_view claim_key) {
  const auto parts = split_claim_key(claim_key);
  return delivery_prefix(parts.clm01, parts.billing_npi);
}

}  // namespace covgate::model
