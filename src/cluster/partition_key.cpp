#include "covgate/cluster/partition_key.hpp"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace covgate::cluster {

namespace {

bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\r' || c == '\n'; }

std::string lowercase_hex(const unsigned char* bytes, std::size_t count) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * count);
  for (std::size_t i = 0; i < count; ++i) {
    out += hex[bytes[i] >> 4];
    out += hex[bytes[i] & 0x0f];
  }
  return out;
}

}  // namespace

std::string canonical_patient_key(std::string_view patient_key) {
  while (!patient_key.empty() && is_blank(patient_key.front())) patient_key.remove_prefix(1);
  while (!patient_key.empty() && is_blank(patient_key.back())) patient_key.remove_suffix(1);
  std::string canonical(patient_key);
  for (char& c : canonical) {
    if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 'a' + 'A');
  }
  return canonical;
}

namespace {

// HMAC-SHA-256(secret, text), its first partition_key_bytes as lowercase hex.
std::string keyed_token(std::string_view secret, std::string_view text, const char* who) {
  if (secret.empty())
    throw std::invalid_argument(std::string(who) + ": the cluster secret is empty");
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (HMAC(EVP_sha256(), secret.data(), static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest,
           &length) == nullptr ||
      length < partition_key_bytes) {
    throw std::runtime_error(std::string(who) + ": HMAC-SHA-256 failed in OpenSSL");
  }
  return lowercase_hex(digest, partition_key_bytes);
}

}  // namespace

std::string partition_key(std::string_view secret, std::string_view patient_key) {
  if (secret.empty()) throw std::invalid_argument("partition_key: the cluster secret is empty");
  const std::string canonical = canonical_patient_key(patient_key);
  if (canonical.empty()) throw std::invalid_argument("partition_key: the patient key is empty");
  return keyed_token(secret, canonical, "partition_key");
}

std::string release_token(std::string_view secret, std::string_view idempotency_key) {
  if (idempotency_key.empty()) {
    throw std::invalid_argument("release_token: the idempotency key is empty");
  }
  // A prefix no canonical patient key starts with keeps the two kinds of token apart.
  return keyed_token(secret, "release\n" + std::string(idempotency_key), "release_token");
}

std::string hold_token(std::string_view secret, std::string_view identity,
                       std::string_view payload) {
  if (identity.empty()) throw std::invalid_argument("hold_token: the identity token is empty");
  std::string text = "hold\n";
  text += identity;
  text += '\n';
  text += payload;
  return keyed_token(secret, text, "hold_token");
}

std::string identity_token(std::string_view secret, std::string_view identity) {
  if (identity.empty()) throw std::invalid_argument("identity_token: the identity is empty");
  return keyed_token(secret, "identity\n" + std::string(identity), "identity_token");
}

std::string random_nonce() {
  unsigned char bytes[8];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    throw std::runtime_error("cluster: OpenSSL has no random bytes");
  }
  return lowercase_hex(bytes, sizeof bytes);
}

bool is_partition_key(std::string_view token) noexcept {
  if (token.size() != 2 * partition_key_bytes) return false;
  for (const char c : token) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

}  // namespace covgate::cluster
