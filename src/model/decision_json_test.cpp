#include "covgate/model/decision_json.hpp"

#include <doctest/doctest.h>

#include "covgate/model/json_writer.hpp"

namespace model = covgate::model;

namespace {

// The decision line as json_writer wrote it before the line was put together from fragments:
// the oracle the faster form must match byte for byte.
std::string written_by_json_writer(const model::decision& d, std::string_view event,
                                   std::string_view source,
                                   std::string_view billing_npi = "1999999984") {
  std::string out;
  model::json_writer w(out);
  w.begin_object();
  w.key("event").value(event);
  w.key("claim_id").value(d.claim_id);
  w.key("billing_npi").value(billing_npi);
  w.key("patient").value(d.patient);
  w.key("dos").value(d.dos.iso());
  w.key("policy").value(d.policy);
  w.key("outcome").value(name(d.result));
  w.key("reasons").begin_array();
  for (const auto& f : d.findings) {
    w.begin_object();
    w.key("code").value(f.code());
    w.key("line").value(static_cast<std::int64_t>(f.line));
    w.key("stc").value({f.category(), ":", f.status()});
    w.key("message").value({f.message(), f.detail.empty() ? "" : " ", f.detail});
    if (!f.facts_used.empty()) {
      w.key("facts").begin_array();
      for (const auto& id : f.facts_used) w.value(id);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array();
  w.key("source").value(source);
  w.end_object();
  return out;
}

std::string written(const model::decision& d, std::string_view event, std::string_view source,
                    std::string_view billing_npi = "1999999984") {
  std::string out;
  model::append_json(out, d, billing_npi, event, source);
  return out;
}

model::finding finding_of(model::reason r, std::uint32_t line, std::string detail,
                          std::vector<std::string> facts) {
  model::finding f;
  f.reason = r;
  f.line = line;
  f.detail = std::move(detail);
  f.facts_used = std::move(facts);
  return f;
}

}  // namespace

TEST_SUITE("model.decision_json") {
  TEST_CASE("a hold with findings, details and facts is the documented line") {
    model::decision d;
    d.claim_id = "NP";
    d.patient = "2AA2AA2AA22";
    d.dos = {2026, 4, 1};
    d.policy = "NCD223@2026-03-07";
    d.result = model::outcome::hold_documentation;
    d.findings.push_back(finding_of(model::reason::csii_followup_not_physician, 1, "",
                                    {"Encounter/visit-2AA2AA2AA22"}));
    const auto line = written(d, "hold", "scenarios/22/2-claim.x12:578");
    CHECK(line ==
          R"({"event":"hold","claim_id":"NP","billing_npi":"1999999984",)"
          R"("patient":"2AA2AA2AA22","dos":"2026-04-01",)"
          R"("policy":"NCD223@2026-03-07","outcome":"hold:documentation",)"
          R"("reasons":[{"code":"csii.followup.not-physician","line":1,"stc":"P3:387",)"
          R"("message":"The only follow-up visits in the window were not with a physician.",)"
          R"("facts":["Encounter/visit-2AA2AA2AA22"]}],)"
          R"("source":"scenarios/22/2-claim.x12:578"})");
    CHECK(line == written_by_json_writer(d, "hold", "scenarios/22/2-claim.x12:578"));
  }

  TEST_CASE("every reason, with and without detail, is written as json_writer wrote it") {
    model::decision d;
    d.claim_id = "A\"B\\C";
    d.patient = "caf\xC3\xA9\x01";
    d.policy = "NCD223@2026-03-07+overlay";
    d.result = model::outcome::hold_review;
    for (const auto& row : model::reasons()) {
      d.findings.push_back(finding_of(row.id, 0, "", {}));
      d.findings.push_back(finding_of(row.id, 4294967295u, "missing: \"x\"\n\xFF", {"a", "b\\"}));
    }
    CHECK(written(d, "reopened", "f.x12:0") == written_by_json_writer(d, "reopened", "f.x12:0"));
    d.findings.clear();
    CHECK(written(d, "void", "") == written_by_json_writer(d, "void", ""));
    CHECK(written(d, "void", "").find(R"("dos":"","policy")") != std::string::npos);
  }

  TEST_CASE("text that grows most when escaped fits, in every field, at any length") {
    // A control character is six bytes escaped (\u00XX), an invalid byte three (U+FFFD), a
    // quote or backslash two: each field of the sender's text made of one of them, from empty
    // to longer than any value, is written as json_writer wrote it.
    for (const std::string_view unit : {"\x01", "\xFF", "\"", "\\", "\xE2\x82\xAC", "a"}) {
      for (const std::size_t n : {0, 1, 7, 8, 9, 15, 16, 17, 64, 300, 5000}) {
        std::string text;
        for (std::size_t i = 0; i < n; ++i) text += unit;
        model::decision d;
        d.claim_id = text;
        d.patient = text;
        d.policy = text;
        d.result = model::outcome::hold_documentation;
        d.findings.push_back(
            finding_of(model::reason::csii_criterion_a_mdi, 4294967295u, text, {text, text, ""}));
        d.findings.push_back(finding_of(model::reason::rereview_overdue, 0, "", {}));
        CHECK(written(d, text, text, text) == written_by_json_writer(d, text, text, text));
      }
    }
  }

  TEST_CASE("appends to what the string already holds") {
    std::string out = "x";
    model::decision d;
    model::append_json(out, d, "", "current", "s");
    CHECK(out.substr(0, 2) == "x{");
    CHECK(out.substr(1) == written_by_json_writer(d, "current", "s", ""));
    CHECK(out.find(R"("billing_npi":"",)") != std::string::npos);  // a claim without one
  }
}
