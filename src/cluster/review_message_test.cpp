#include "covgate/cluster/review_message.hpp"

#include <doctest/doctest.h>

#include <stdexcept>
#include <string>

using namespace covgate::cluster;

namespace {

review_message sample() {
  review_message r;
  r.release = true;
  r.claim_id = "CSII-REV-1";
  r.reviewer = "Dr. \"Q\" Reviewer";
  r.reason = "reviewed the chart:\nC-peptide on file\t\x01 (control bytes kept)";
  r.at_ms = 1'780'000'000'123;
  return r;
}

std::string problem_of(std::string_view body) {
  const auto decoded = decode_review(body);
  const auto* problem = std::get_if<std::string>(&decoded);
  return problem != nullptr ? *problem : std::string();
}

}  // namespace

TEST_SUITE("cluster.review_message") {
  TEST_CASE("a review survives its body: every field, quotes and control bytes included") {
    for (const bool release : {true, false}) {
      auto r = sample();
      r.release = release;
      const auto decoded = decode_review(encode_review(r));
      REQUIRE(std::holds_alternative<review_message>(decoded));
      const auto& back = std::get<review_message>(decoded);
      CHECK(back.release == release);
      CHECK(back.claim_id == r.claim_id);
      CHECK(back.reviewer == r.reviewer);
      CHECK(back.reason == r.reason);
      CHECK(back.at_ms == r.at_ms);
    }
  }

  TEST_CASE("the fields at their limits pass; one byte more is refused when encoding") {
    auto r = sample();
    r.claim_id.assign(max_review_claim_bytes, 'C');
    r.reviewer.assign(max_review_reviewer_bytes, 'R');
    r.reason.assign(max_review_reason_bytes, '\x02');  // escaped as \u0002: six bytes each
    const auto body = encode_review(r);
    CHECK(body.size() <= max_review_bytes);
    const auto decoded = decode_review(body);
    REQUIRE(std::holds_alternative<review_message>(decoded));
    CHECK(std::get<review_message>(decoded).reason == r.reason);
    for (const auto field :
         {&review_message::claim_id, &review_message::reviewer, &review_message::reason}) {
      auto longer = r;
      (longer.*field).push_back('x');
      CHECK_THROWS_AS((void)encode_review(longer), std::invalid_argument);
    }
    auto empty = sample();
    empty.claim_id.clear();
    CHECK_THROWS_AS((void)encode_review(empty), std::invalid_argument);
    auto negative = sample();
    negative.at_ms = -1;
    CHECK_THROWS_AS((void)encode_review(negative), std::invalid_argument);
  }

  TEST_CASE("what is not a review is refused with the field named, never its value") {
    CHECK(problem_of("").find("not JSON") != std::string::npos);
    CHECK(problem_of("{\"action\":").find("not JSON") != std::string::npos);
    CHECK(problem_of("[]") == "a review message is not a JSON object");
    CHECK(problem_of(R"({"claim":"A","at":1})").find("\"action\"") != std::string::npos);
    CHECK(problem_of(R"({"action":"void","claim":"SECRET-1","at":1})") ==
          "a review message's \"action\" is neither release nor cancel");
    CHECK(problem_of(R"({"action":"cancel","claim":"","by":"","reason":"","at":1})")
              .find("\"claim\" is empty") != std::string::npos);
    CHECK(problem_of(R"({"action":"cancel","claim":7,"by":"","reason":"","at":1})")
              .find("\"claim\" is missing or not a string") != std::string::npos);
    CHECK(problem_of(R"({"action":"cancel","claim":"A","reason":"","at":1})").find("\"by\"") !=
          std::string::npos);
    CHECK(problem_of(R"({"action":"cancel","claim":"A","by":"","reason":"","at":-5})")
              .find("\"at\"") != std::string::npos);
    CHECK(problem_of(R"({"action":"cancel","claim":"A","by":"","reason":"","at":"1"})")
              .find("\"at\"") != std::string::npos);
    const std::string long_claim(max_review_claim_bytes + 1, 'C');
    const auto too_long = problem_of(R"({"action":"cancel","claim":")" + long_claim +
                                     R"(","by":"","reason":"","at":1})");
    CHECK(too_long.find("longer than 256 bytes") != std::string::npos);
    CHECK(too_long.find("CCCC") == std::string::npos);
    CHECK(problem_of(std::string(max_review_bytes + 1, ' ')).find("longer than") !=
          std::string::npos);
    CHECK(problem_of(R"({"action":"void","claim":"SECRET-1","at":1})").find("SECRET") ==
          std::string::npos);
  }

  TEST_CASE("answers are single words, read back exactly") {
    for (const auto a :
         {review_answer::done, review_answer::unknown_claim, review_answer::already_closed,
          review_answer::not_reviewable, review_answer::malformed, review_answer::unavailable}) {
      CHECK(review_answer_of(review_answer_word(a)) == a);
    }
    CHECK(review_answer_word(review_answer::unknown_claim) == "unknown-claim");
    CHECK_FALSE(review_answer_of("Done"));
    CHECK_FALSE(review_answer_of(""));
  }
}
