#include "covgate/cluster/review_message.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>

#include <array>
#include <stdexcept>
#include <utility>

#include "covgate/model/json_writer.hpp"

namespace covgate::cluster {

namespace {

constexpr std::array<std::pair<review_answer, std::string_view>, 6> answer_words{{
    {review_answer::done, "done"},
    {review_answer::unknown_claim, "unknown-claim"},
    {review_answer::already_closed, "already-closed"},
    {review_answer::not_reviewable, "not-reviewable"},
    {review_answer::malformed, "malformed"},
    {review_answer::unavailable, "unavailable"},
}};

// A text field of the body: present, a string, within `limit` bytes (and not empty when
// `required`). Sets `problem` and returns nullopt otherwise.
std::optional<std::string> text_field(const rapidjson::Document& doc, const char* name,
                                      std::size_t limit, bool required, std::string& problem) {
  const auto member = doc.FindMember(name);
  if (member == doc.MemberEnd() || !member->value.IsString()) {
    problem = std::string("a review message's \"") + name + "\" is missing or not a string";
    return std::nullopt;
  }
  const std::string_view value(member->value.GetString(), member->value.GetStringLength());
  if (value.size() > limit || (required && value.empty())) {
    problem = std::string("a review message's \"") + name + "\" is " +
              (value.empty() ? "empty" : "longer than " + std::to_string(limit) + " bytes");
    return std::nullopt;
  }
  return std::string(value);
}

}  // namespace

std::string encode_review(const review_message& review) {
  if (review.claim_id.empty() || review.claim_id.size() > max_review_claim_bytes ||
      review.reviewer.size() > max_review_reviewer_bytes ||
      review.reason.size() > max_review_reason_bytes || review.at_ms < 0) {
    throw std::invalid_argument("a review message's fields are beyond their limits");
  }
  std::string out;
  model::json_writer w(out);
  w.begin_object()
      .key("action")
      .value(review.release ? "release" : "cancel")
      .key("claim")
      .value(review.claim_id)
      .key("by")
      .value(review.reviewer)
      .key("reason")
      .value(review.reason)
      .key("at")
      .value(review.at_ms)
      .end_object();
  return out;
}

std::variant<review_message, std::string> decode_review(std::string_view body) {
  if (body.size() > max_review_bytes) {
    return "a review message is longer than " + std::to_string(max_review_bytes) + " bytes";
  }
  rapidjson::Document doc;
  doc.Parse(body.data(), body.size());
  if (doc.HasParseError()) {
    return std::string("a review message is not JSON: ") +
           rapidjson::GetParseError_En(doc.GetParseError()) + " at byte " +
           std::to_string(doc.GetErrorOffset());
  }
  if (!doc.IsObject()) return std::string("a review message is not a JSON object");
  std::string problem;
  review_message out;
  const auto action = text_field(doc, "action", 16, true, problem);
  if (!action) return problem;
  if (*action != "release" && *action != "cancel") {
    return std::string("a review message's \"action\" is neither release nor cancel");
  }
  out.release = *action == "release";
  auto claim = text_field(doc, "claim", max_review_claim_bytes, true, problem);
  if (!claim) return problem;
  auto reviewer = text_field(doc, "by", max_review_reviewer_bytes, false, problem);
  if (!reviewer) return problem;
  auto reason = text_field(doc, "reason", max_review_reason_bytes, false, problem);
  if (!reason) return problem;
  const auto at = doc.FindMember("at");
  if (at == doc.MemberEnd() || !at->value.IsInt64() || at->value.GetInt64() < 0) {
    return std::string("a review message's \"at\" is missing or not a time in milliseconds");
  }
  out.claim_id = std::move(*claim);
  out.reviewer = std::move(*reviewer);
  out.reason = std::move(*reason);
  out.at_ms = at->value.GetInt64();
  return out;
}

std::string_view review_answer_word(review_answer answer) noexcept {
  for (const auto& [a, word] : answer_words) {
    if (a == answer) return word;
  }
  return "unavailable";
}

std::optional<review_answer> review_answer_of(std::string_view word) noexcept {
  for (const auto& [a, w] : answer_words) {
    if (w == word) return a;
  }
  return std::nullopt;
}

}  // namespace covgate::cluster
