// The routing token of one patient in the cluster. Producers publish under a subject that
// carries this token, never the patient's identifier: subjects appear in server logs,
// monitoring endpoints and traces. The token is a keyed hash (HMAC-SHA-256 with a secret the
// cluster shares), so nobody without the secret can test a guessed MBI against it, and 32
// lowercase hex characters are a valid NATS subject token (no '.', '*', '>' or blanks).
#pragma once

#include <string>
#include <string_view>

namespace covgate::cluster {

/// Bytes of the HMAC kept in the token (128 bits: no two patients of a realistic population
/// collide; the server only needs the token to spread evenly over partitions).
inline constexpr std::size_t partition_key_bytes = 16;

/// The canonical form a patient key is hashed in: surrounding blanks dropped and ASCII letters
/// upper-cased, so "1eg4-te5-mk73 " and "1EG4-TE5-MK73" (an MBI as two senders may write it)
/// route to the same worker. Anything else is kept as given.
[[nodiscard]] std::string canonical_patient_key(std::string_view patient_key);

/// HMAC-SHA-256(secret, canonical_patient_key(patient_key)), its first partition_key_bytes as
/// lowercase hex (32 characters). Pure and deterministic. Throws std::invalid_argument for an
/// empty secret or an empty canonical key (a token for "nobody" would put every unlinked fact
/// on one partition); the message never contains the key.
[[nodiscard]] std::string partition_key(std::string_view secret, std::string_view patient_key);

/// The token a release's subject on CG_OUT carries: HMAC-SHA-256(secret, "release\n" + key)
/// of the release's idempotency key ("NPI_CLM01-sequence", taken as it is), first
/// partition_key_bytes as lowercase hex. The key holds a claim id, which is the provider's
/// account number for the patient: hashed with the cluster's secret, it is no more readable in
/// a subject than a patient key. Deterministic, so every worker that makes the same release
/// names the same subject. Throws std::invalid_argument for an empty secret or key.
[[nodiscard]] std::string release_token(std::string_view secret, std::string_view idempotency_key);

/// The token of a patient's local identity (the identity map, docs/cluster.md §4): the
/// reference its facts name when no Medicare identifier is in the message ("Patient/123", or
/// the Patient id an HL7 v2 PID's medical record number gives). HMAC-SHA-256(secret,
/// "identity\n" + identity), first partition_key_bytes as lowercase hex: the key of its entry
/// in KV cg-ident and the last token of its subject on CG_WAIT, where the identity itself
/// never appears. Throws std::invalid_argument for an empty secret or identity.
[[nodiscard]] std::string identity_token(std::string_view secret, std::string_view identity);

/// The message id token of a message held on CG_WAIT for identity token `identity`:
/// HMAC-SHA-256(secret, "hold\n" + identity + "\n" + payload), first partition_key_bytes as
/// lowercase hex. Deterministic, so a sender's repeat of a message (answered "send it again"
/// after its part was held) is stored once within the stream's duplicate window. Throws
/// std::invalid_argument for an empty secret or identity token.
[[nodiscard]] std::string hold_token(std::string_view secret, std::string_view identity,
                                     std::string_view payload);

/// 16 lowercase hex characters of random bytes (OpenSSL's generator): what makes one process
/// start's message ids and reply inboxes its own. Throws std::runtime_error without entropy.
[[nodiscard]] std::string random_nonce();

/// True when `token` has the shape partition_key() returns (32 lowercase hex characters):
/// what a subject builder accepts in the key position.
[[nodiscard]] bool is_partition_key(std::string_view token) noexcept;

}  // namespace covgate::cluster
