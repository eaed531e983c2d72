#include "covgate/model/claim_codec.hpp"

#include <doctest/doctest.h>

#include "support/gate_fixtures.hpp"

using namespace covgate;

namespace {

// A claim with every field of every level set to something other than its default.
model::claim full_claim() {
  auto c = test::pump_claim("FULL-CLAIM-WITH-A-LONG-CONTROL-NUMBER", '7');
  c.kind = model::claim_kind::institutional;
  c.total_charge_cents = 1234567;
  c.facility_type = "13";
  c.statement_dates = {{2026, 4, 1}, {2026, 4, 30}};
  c.diagnoses.push_back({"ABF", "I5022"});
  c.payer_claim_number = "ICN123";
  c.attachments.push_back({"LA", "EL", "ATT1"});
  c.subscriber.member_id_qualifier = "MI";
  c.subscriber.birth_date = {1950, 2, 28};
  c.subscriber.sex = 'F';
  c.subscriber.name = {"DOE", "JANE", "Q", "JR"};
  c.patient = c.subscriber;
  c.patient.name.first = "JOHN";
  c.payer_id = "16013";
  c.claim_filing_indicator = "MB";
  c.billing = {"1234567893", "332B00000X", false, {"HOMECARE SUPPLY", "", "", ""}};
  c.rendering = {"1497758544", "207RE0101X", true, {"WELBY", "MARCUS", "", ""}};
  c.attending = {"1245319599", "", true, {"KILDARE", "JAMES", "", ""}};
  auto& line = c.lines.front();
  line.procedure_qualifier = "HC";
  line.modifiers.push_back("RR");
  line.revenue_code = "0274";
  line.charge_cents = -5;
  line.units = 2.5;
  line.unit_basis = "UN";
  line.place_of_service = "12";
  line.line_control_number = "LINE1";
  line.prior_authorization = "PA-LINE";
  line.attachments.push_back({"CT", "AA", ""});
  line.dme_conditions.push_back({true, {"38", "ZV"}});
  line.rendering = c.rendering;
  line.ordering = {"1003000126", "", true, {"ORDER", "ANN", "", ""}};
  c.lines.push_back(line);
  c.lines.back().number = 2;
  c.envelope = {"ZZ",
                "SUBMITTER",
                "ZZ",
                "RECEIVER",
                "000000001",
                'T',
                "1",
                "APPSEND",
                "APPRECV",
                "0001",
                "005010X223A3",
                "BATCH1",
                {"SUBMITTER INC", "", "", ""},
                "S1",
                false};
  c.first_segment = 17;
  c.source_offset = 1ULL << 40;
  return c;
}

}  // namespace

TEST_SUITE("model.claim_codec") {
  TEST_CASE("a claim with every field set decodes to an equal claim") {
    const auto original = full_claim();
    std::string bytes;
    model::encode(original, bytes);
    const auto decoded = model::decode_claim(bytes);
    REQUIRE(decoded);
    CHECK(*decoded == original);
    CHECK(bytes.size() < 800);  // compact: raw strings, varint lengths
  }

  TEST_CASE("a default claim round-trips") {
    std::string bytes;
    model::encode(model::claim{}, bytes);
    const auto decoded = model::decode_claim(bytes);
    REQUIRE(decoded);
    CHECK(*decoded == model::claim{});
  }

  TEST_CASE("every truncation, a trailing byte and a wrong version are refused") {
    std::string bytes;
    model::encode(full_claim(), bytes);
    for (std::size_t n = 0; n < bytes.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_claim(std::string_view(bytes).substr(0, n)));
    }
    CHECK_FALSE(model::decode_claim(bytes + 'x'));
    auto wrong_version = bytes;
    wrong_version[0] = 9;
    CHECK_FALSE(model::decode_claim(wrong_version));
    wrong_version[0] = 0;
    CHECK_FALSE(model::decode_claim(wrong_version));
  }

  TEST_CASE("a claim stored by format version 1 still decodes, without the names it lacked") {
    const auto original = full_claim();
    std::string bytes;
    model::encode_as(original, 1, bytes);
    CHECK(bytes.front() == 1);
    const auto decoded = model::decode_claim(bytes);
    REQUIRE(decoded);
    auto expected = original;
    for (auto* p : {&expected.billing, &expected.rendering, &expected.attending}) p->name = {};
    for (auto& line : expected.lines) line.rendering.name = line.ordering.name = {};
    expected.subscriber.name = expected.patient.name = {};
    expected.envelope.submitter = {};
    expected.envelope.submitter_id.clear();
    expected.envelope.submitter_is_person = false;
    expected.envelope.usage = 'P';  // ISA15 came with format 2 too
    CHECK(*decoded == expected);
    std::string current;
    model::encode(original, current);
    CHECK(current.front() == model::claim_format_version);
    CHECK(current.size() > bytes.size());
  }

  TEST_CASE("a huge declared length is refused without allocating it") {
    std::string bytes(1, '\x01');
    bytes += "\x01";                                  // kind
    bytes += "\xFF\xFF\xFF\xFF\xFF\xFF\xFF\xFF\x7F";  // id length 2^63-1
    CHECK_FALSE(model::decode_claim(bytes));
  }

  TEST_CASE("a claim kept in two parts decodes to an equal claim; each part holds only its own") {
    const auto original = full_claim();
    std::string own, set;
    model::encode_own_part(original, own);
    model::encode_set_part(original, set);
    const auto decoded = model::decode_claim(own, set);
    REQUIRE(decoded);
    CHECK(*decoded == original);
    std::string whole;
    model::encode(original, whole);
    CHECK(own.size() + set.size() == whole.size() + 1);  // a version byte each

    // The set's part is the envelope and the billing provider, nothing of the claim itself.
    auto other = model::claim{};
    other.envelope = original.envelope;
    other.billing = original.billing;
    std::string other_set;
    model::encode_set_part(other, other_set);
    CHECK(other_set == set);
    const auto mixed = model::decode_claim(own, other_set);
    REQUIRE(mixed);
    CHECK(*mixed == original);
  }

  TEST_CASE("parts swapped, truncated or of another version are refused") {
    const auto original = full_claim();
    std::string own, set;
    model::encode_own_part(original, own);
    model::encode_set_part(original, set);
    CHECK_FALSE(model::decode_claim(set, own));
    for (std::size_t n = 0; n < own.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_claim(std::string_view(own).substr(0, n), set));
    }
    for (std::size_t n = 0; n < set.size(); ++n) {
      CAPTURE(n);
      CHECK_FALSE(model::decode_claim(own, std::string_view(set).substr(0, n)));
    }
    CHECK_FALSE(model::decode_claim(own + 'x', set));
    auto old = set;
    old[0] = 2;
    CHECK_FALSE(model::decode_claim(own, old));
  }
}
