#include "covgate/model/decision_codec.hpp"

#include <doctest/doctest.h>

using namespace covgate;

namespace {

// A held decision without findings, every other field set.
model::decision held_decision(const char* policy) {
  model::decision d;
  d.claim_id = "C1";
  d.patient = "1EG4TE5MK73";
  d.dos = {2026, 4, 1};
  d.policy = policy;
  d.result = model::outcome::hold_documentation;
  return d;
}

}  // namespace

TEST_SUITE("model.decision_codec") {
  TEST_CASE("a decision with findings round-trips, its texts coming back from the reason table") {
    auto d = held_decision("NCD223@2026-03-07+LCD-L33794");
    model::finding f{model::reason::csii_c_peptide_not_fasting,
                     2,
                     "Missing: x",
                     {"Observation/cpep", "Observation/glu"}};
    d.findings = {f, f};
    std::string bytes;
    model::encode(d, bytes);
    const auto back = model::decode_decision(bytes);
    REQUIRE(back);
    CHECK(back->claim_id == "C1");
    CHECK(back->dos == d.dos);
    CHECK(back->policy == d.policy);
    CHECK(back->result == d.result);
    REQUIRE(back->findings.size() == 2);
    CHECK(back->findings[1].code() == "csii.c-peptide.not-fasting");
    CHECK(back->findings[1].message() == model::info(f.reason).message);
    CHECK(back->findings[1].line == 2);
    CHECK(back->findings[1].detail == "Missing: x");
    CHECK(back->findings[1].facts_used == f.facts_used);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_decision(std::string_view(bytes).substr(0, n)));
    }
  }

  TEST_CASE("a decision stored by an earlier build (format 1) still decodes") {
    model::decision d;
    d.claim_id = "C1";
    d.dos = {2026, 4, 1};
    d.result = model::outcome::hold_review;
    d.findings = {{model::reason::csii_c_peptide_not_fasting, 3, "x", {"Observation/1"}}};
    std::string fixed;
    model::encode_as(d, 1, fixed);
    const auto back = model::decode_decision(fixed);
    REQUIRE(back);
    CHECK(back->dos == d.dos);
    CHECK(back->result == d.result);
    REQUIRE(back->findings.size() == 1);
    CHECK(back->findings[0].line == 3);
    std::string compact;
    model::encode(d, compact);
    CHECK(compact.front() == 2);
    CHECK(compact.size() < fixed.size());
    auto unknown = compact;
    unknown[0] = 3;
    CHECK_FALSE(model::decode_decision(unknown));
  }

  TEST_CASE("the in-process form keeps every field, a byte a reason, and no store reads it") {
    auto d = held_decision("NCD223@2026-03-07");
    for (std::size_t n = 0; n < model::reason_count; ++n) {
      d.findings.push_back({static_cast<model::reason>(n), 2, n % 2 ? "detail" : "", {}});
    }
    d.findings.back().facts_used = {"Observation/cpep"};
    std::string in_process, stored;
    model::encode_in_process(d, in_process);
    model::encode(d, stored);
    CHECK(in_process.size() + 20 * model::reason_count < stored.size());
    const auto back = model::decode_in_process_decision(in_process);
    REQUIRE(back);
    CHECK(back->claim_id == "C1");
    CHECK(back->patient == d.patient);
    CHECK(back->dos == d.dos);
    CHECK(back->policy == d.policy);
    CHECK(back->result == d.result);
    REQUIRE(back->findings.size() == d.findings.size());
    for (std::size_t n = 0; n < d.findings.size(); ++n) {
      CAPTURE(n);
      CHECK(back->findings[n].reason == d.findings[n].reason);
      CHECK(back->findings[n].line == 2);
      CHECK(back->findings[n].detail == d.findings[n].detail);
      CHECK(back->findings[n].facts_used == d.findings[n].facts_used);
    }
    // Neither form is taken for the other, and a truncation is refused.
    CHECK_FALSE(model::decode_decision(in_process));
    CHECK_FALSE(model::decode_in_process_decision(stored));
    for (std::size_t n = 0; n < in_process.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_in_process_decision(std::string_view(in_process).substr(0, n)));
    }
    // An enumerator past the table is refused (a reason is the first field of a finding).
    model::decision one;
    one.findings = {{model::reason::implantable_review, 0, "", {}}};
    std::string bytes;
    model::encode_in_process(one, bytes);
    const auto at = bytes.size() - 4;  // reason, line, empty detail, no facts
    CHECK(static_cast<std::size_t>(bytes[at]) == model::reason_count - 1);
    bytes[at] = static_cast<char>(model::reason_count);
    CHECK_FALSE(model::decode_in_process_decision(bytes));
  }
}
