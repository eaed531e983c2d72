// A reviewer's action as a message of its own on CG_IN (docs/cluster.md §5e). A release or a
// cancel changes a claim's history, and a partition rebuilt on another worker replays the
// stream: an action kept only in the store of the worker that took the HTTP request would be
// missing there, and the claim's later events would be numbered differently (their
// idempotency keys would no longer match what CG_OUT holds). So the worker that takes the
// request publishes the action under the patient's partition key (kind "rev") and the holder of
// that partition applies it in stream order, like any message, with the time the reviewer
// acted carried in the message so that every rebuild applies the same action at the same time.
//
// The body is a small JSON object:
//   {"action":"release"|"cancel","claim":"<CLM01>","by":"<reviewer>","reason":"<text>",
//    "at":<Unix ms>}
// The holder answers the request's Cg-Reply-To with one word (review_answer_word).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

namespace covgate::cluster {

struct review_message {
  bool release = false;    ///< release the hold; false: cancel the claim
  std::string claim_id;    ///< the claim (CLM01)
  std::string reviewer;    ///< who acted (the token's name)
  std::string reason;      ///< why, as the reviewer wrote it
  std::int64_t at_ms = 0;  ///< when the reviewer acted (Unix milliseconds)
};

/// Limits a review message must keep (the HTTP API's own limits are tighter or equal).
inline constexpr std::size_t max_review_claim_bytes = 256;
inline constexpr std::size_t max_review_reviewer_bytes = 256;
inline constexpr std::size_t max_review_reason_bytes = 4'096;
/// A whole body: the fields above with every byte escaped as \uXXXX, and the rest.
inline constexpr std::size_t max_review_bytes = 32 * 1'024;

/// The body of `review`. Throws std::invalid_argument for a field beyond its limit, an empty
/// claim id or a negative time (the caller checked them: this is the last guard).
[[nodiscard]] std::string encode_review(const review_message& review);

/// The review a body carries, or why it is not one (a text that names the field, never its
/// value).
[[nodiscard]] std::variant<review_message, std::string> decode_review(std::string_view body);

/// What became of a review, as the holder of the claim's partition answers it.
enum class review_answer : std::uint8_t {
  done,            ///< applied
  unknown_claim,   ///< the holder has no such claim
  already_closed,  ///< cancelled, voided or replaced before
  not_reviewable,  ///< a documentation hold, or a release: no reviewer's action applies
  malformed,       ///< not a review message (never from a worker of this version)
  unavailable,     ///< no answer: the cluster did not take it, or nobody answered in time
};

/// The reply's body for an answer: "done", "unknown-claim", "already-closed",
/// "not-reviewable", "malformed", "unavailable".
[[nodiscard]] std::string_view review_answer_word(review_answer answer) noexcept;
/// The answer a reply's body names, or nullopt.
[[nodiscard]] std::optional<review_answer> review_answer_of(std::string_view word) noexcept;

}  // namespace covgate::cluster
