#include "covgate/x12/interchange_reader.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <array>

#include "covgate/model/claim_json.hpp"
#include "support/x12_fixtures.hpp"

using namespace covgate;
using namespace covgate::x12;
using test::interchange;
using test::professional_body;
using test::read;

namespace {

bool has(const std::vector<error>& errors, error e) {
  return std::find(errors.begin(), errors.end(), e) != errors.end();
}

std::vector<std::string> replace(std::vector<std::string> body, std::size_t index,
                                 std::string segment) {
  body[index] = std::move(segment);
  return body;
}

const segment_finding* finding_for(const set_result& set, std::string_view id, error code) {
  for (const auto& f : set.segments) {
    if (f.segment_id == id && f.code == code) return &f;
  }
  return nullptr;
}

}  // namespace

TEST_SUITE("x12.interchange_reader") {
  TEST_CASE("maps an 837P claim with its lines, providers and envelope") {
    const auto sink = read(interchange(professional_body()));
    REQUIRE(sink.claims.size() == 1);
    const auto& c = sink.claims.front();
    CHECK(c.kind == model::claim_kind::professional);
    CHECK(c.id == "PUMP001");
    CHECK(c.total_charge_cents == 500000);
    CHECK(c.place_of_service == "12");
    CHECK(c.frequency == '1');
    CHECK(c.prior_authorization == "PA12345");
    REQUIRE(c.diagnoses.size() == 2);
    CHECK(c.diagnoses[0] == model::diagnosis{"ABK", "E1065"});
    CHECK(c.subscriber.member_id == "1EG4TE5MK73");
    CHECK(c.subscriber.member_id_qualifier == "MI");
    CHECK(c.subscriber.birth_date == model::date{1950, 1, 2});
    CHECK(c.subscriber.sex == 'F');
    CHECK(c.payer_id == "16013");
    CHECK(c.claim_filing_indicator == "MB");
    CHECK(c.billing.npi == "1999999984");
    CHECK(c.billing.taxonomy == "332B00000X");
    CHECK(c.rendering.npi == "1234567893");
    CHECK(c.rendering.taxonomy == "207RE0101X");
    REQUIRE(c.lines.size() == 2);
    CHECK(c.lines[0].procedure_code == "E0784");
    CHECK(c.lines[0].modifiers == std::vector<std::string>{"KX", "NU"});
    CHECK(c.lines[0].charge_cents == 482155);
    CHECK(c.lines[0].place_of_service == "12");
    CHECK(c.lines[0].service_dates.from == model::date{2026, 3, 10});
    CHECK(c.lines[0].line_control_number == "PUMP001L1");
    CHECK(c.lines[0].ordering.npi == "1234567891");
    CHECK(c.lines[1].units == doctest::Approx(2.0));
    CHECK(c.lines[1].service_dates.to == model::date{2026, 4, 9});
    CHECK(c.envelope.interchange_control == "000000101");
    CHECK(c.envelope.group_control == "42");
    CHECK(c.envelope.set_control == "0001");
    CHECK(c.envelope.originator_reference == "BATCH42");
    CHECK(c.envelope.sender_id == "SUBMITTER");
    REQUIRE(sink.interchanges.size() == 1);
    CHECK(sink.interchanges[0].ack_code() == 'A');
    CHECK(sink.interchanges[0].groups[0].ack_code() == 'A');
  }

  TEST_CASE("maps an 837I claim: bill type, statement dates, attending, revenue code") {
    std::vector<std::string> body = {
        "BHT*0019*00*B1*20260310*1200*CH",
        "NM1*41*2*SUBMITTER*****46*S1",
        "PER*IC*DESK*TE*5555550100",
        "NM1*40*2*MAC*****46*R1",
        "HL*1**20*1",
        "NM1*85*2*GENERAL HOSPITAL*****XX*1999999984",
        "N3*1 HOSPITAL WAY",
        "N4*DAYTON*OH*45402",
        "REF*EI*311234567",
        "HL*2*1*22*0",
        "SBR*P*18*******MA",
        "NM1*IL*1*DOE*JANE****MI*1EG4TE5MK73",
        "NM1*PR*2*MEDICARE*****PI*15004",
        "CLM*INST9*900***13:A:1**A*Y*Y",
        "DTP*434*RD8*20260301-20260305",
        "CL1*1*1*01",
        "HI*ABK:E1065",
        "NM1*71*1*ATTEND*AL****XX*1234567893",
        "PRV*AT*PXC*207R00000X",
        "LX*1",
        "SV2*0291*HC:E0784:KX*900*UN*1",
        "DTP*472*D8*20260305",
    };
    const auto sink = read(interchange(body, 1, "000000202", "005010X223A2"));
    REQUIRE(sink.claims.size() == 1);
    const auto& c = sink.claims.front();
    CHECK(c.kind == model::claim_kind::institutional);
    CHECK(c.facility_type == "13");
    CHECK(c.bill_type() == "131");
    CHECK(c.statement_dates.from == model::date{2026, 3, 1});
    CHECK(c.attending.npi == "1234567893");
    CHECK(c.attending.taxonomy == "207R00000X");
    CHECK(c.lines[0].revenue_code == "0291");
    CHECK(c.lines[0].procedure_code == "E0784");
    CHECK(sink.sets[0].ack_code() == 'A');
  }

  TEST_CASE("byte-at-a-time input gives the same claims and findings as whole input") {
    auto body = professional_body();
    body.insert(body.begin() + 20, "BADSEG!*1");
    const auto text = interchange(body, 3);
    const auto whole = read(text);
    const auto bytewise = read(text, 1);
    REQUIRE(whole.claims.size() == bytewise.claims.size());
    for (std::size_t i = 0; i < whole.claims.size(); ++i) {
      std::string a, b;
      model::append_json(a, whole.claims[i]);
      model::append_json(b, bytewise.claims[i]);
      CHECK(a == b);
    }
    REQUIRE(whole.sets.size() == bytewise.sets.size());
    for (std::size_t i = 0; i < whole.sets.size(); ++i) {
      CHECK(whole.sets[i].segments.size() == bytewise.sets[i].segments.size());
      CHECK(whole.sets[i].errors == bytewise.sets[i].errors);
    }
  }

  TEST_CASE("several claims per subscriber and several subscribers each get their context") {
    auto body = professional_body();
    const std::vector<std::string> more = {"CLM*PUMP002*10***12:B:1*Y*A*Y*Y",
                                           "HI*ABK:E1065",
                                           "LX*1",
                                           "SV1*HC:A4224:KX*10*UN*1***1",
                                           "DTP*472*D8*20260311",
                                           "HL*3*1*22*0",
                                           "SBR*P*18*******MB",
                                           "NM1*IL*1*ROE*RAY****MI*2EG4TE5MK74",
                                           "NM1*PR*2*MEDICARE*****PI*16013",
                                           "CLM*PUMP003*10***12:B:1*Y*A*Y*Y",
                                           "HI*ABK:E1065",
                                           "LX*1",
                                           "SV1*HC:A4224:KX*10*UN*1***1",
                                           "DTP*472*D8*20260311"};
    body.insert(body.end(), more.begin(), more.end());
    const auto sink = read(interchange(body));
    REQUIRE(sink.claims.size() == 3);
    CHECK(sink.claims[1].subscriber.member_id == "1EG4TE5MK73");
    CHECK(sink.claims[1].rendering.npi.empty());
    CHECK(sink.claims[2].subscriber.member_id == "2EG4TE5MK74");
    CHECK(sink.claims[2].subscriber.birth_date == model::date{});
    CHECK(sink.sets[0].ack_code() == 'A');
  }

  TEST_CASE("a sink lending claim slots gets each claim built in its slot, as a plain sink does") {
    // Two slots used in turn, so most claims are built over an earlier one and every field
    // must be overwritten (a bare claim over a full one, too).
    struct lending_sink final : reader_sink {
      std::array<model::claim, 2> slots;
      std::size_t next = 0;
      std::vector<model::claim> claims;
      bool built_in_slot = true;
      model::claim* claim_slot() override { return &slots[next % slots.size()]; }
      void on_claim(const model::claim& c) override {
        built_in_slot = built_in_slot && &c == &slots[next % slots.size()];
        claims.push_back(c);
        ++next;
      }
      void on_interchange_end(const interchange_result&) override {}
    };
    auto body = professional_body();
    const std::vector<std::string> bare = {"CLM*PUMP002*10***12:B:1*Y*A*Y*Y", "HI*ABK:E1065",
                                           "LX*1", "SV1*HC:A4224*10*UN*1***1",
                                           "DTP*472*D8*20260311"};
    body.insert(body.end(), bare.begin(), bare.end());
    const auto text = interchange(professional_body(), 3) + interchange(body, 1, "000000102");
    const auto plain = read(text);
    lending_sink lending;
    interchange_reader reader(lending);
    reader.put(text);
    reader.finish();
    CHECK(lending.built_in_slot);
    REQUIRE(plain.claims.size() == 5);
    CHECK(lending.claims == plain.claims);
  }

  TEST_CASE("a wrong SE01 rejects the set (strict) or is noted (warn)") {
    auto text = interchange(professional_body());
    text.replace(text.find("SE*30*"), 6, "SE*25*");
    const auto strict = read(text);
    CHECK(has(strict.sets[0].errors, error::segment_count_mismatch));
    CHECK(strict.sets[0].ack_code() == 'R');
    reader_options warn;
    warn.envelope_counts = count_policy::warn;
    const auto lenient = read(text, 0, warn);
    CHECK(lenient.sets[0].ack_code() == 'E');
    CHECK(lenient.interchanges[0].any_accepted());
  }

  TEST_CASE("a wrong GE01 or IEA01 is named at its level") {
    auto text = interchange(professional_body());
    text.replace(text.find("GE*1*"), 5, "GE*2*");
    text.replace(text.find("IEA*1*"), 6, "IEA*3*");
    const auto sink = read(text);
    const auto& r = sink.interchanges[0];
    CHECK(has(r.groups[0].errors, error::set_count_mismatch));
    CHECK(r.groups[0].ack_code() == 'R');
    CHECK(has(r.errors, error::group_count_mismatch));
    CHECK(r.ack_code() == 'R');
  }

  TEST_CASE("mismatched control numbers are rejected at their level") {
    auto text = interchange(professional_body());
    text.replace(text.find("SE*30*0001"), 10, "SE*30*0009");
    text.replace(text.find("GE*1*42"), 7, "GE*1*43");
    text.replace(text.rfind("IEA*1*000000101"), 15, "IEA*1*000000102");
    const auto sink = read(text);
    const auto& r = sink.interchanges[0];
    CHECK(has(r.groups[0].sets[0].errors, error::set_control_mismatch));
    CHECK(has(r.groups[0].errors, error::group_control_mismatch));
    CHECK(has(r.errors, error::interchange_control_mismatch));
    CHECK(ack_code(error::interchange_control_mismatch) == "001");
  }

  TEST_CASE("a duplicate ISA13 from the same sender is rejected with TA1 025") {
    const auto once = interchange(professional_body());
    const auto sink = read(once + once);
    REQUIRE(sink.interchanges.size() == 2);
    CHECK(sink.interchanges[0].ack_code() == 'A');
    CHECK(has(sink.interchanges[1].errors, error::duplicate_interchange));
    CHECK(sink.claims.size() == 1);
  }

  TEST_CASE("4010 is refused with a reason at interchange and group level") {
    auto text = interchange(professional_body());
    text.replace(text.find("00501"), 5, "00401");
    CHECK(has(read(text).interchanges[0].errors, error::unsupported_interchange_version));
    const auto old_guide = read(interchange(professional_body(), 1, "000000101", "004010X098A1"));
    CHECK(has(old_guide.interchanges[0].groups[0].errors, error::group_version_not_supported));
    CHECK(old_guide.claims.empty());
  }

  TEST_CASE("accepts the errata guide ids 005010X222A2 and 005010X223A3") {
    CHECK(read(interchange(professional_body(), 1, "000000101", "005010X222A2")).claims.size() ==
          1);
  }

  TEST_CASE("a set that is not an 837 is answered IK5 1 and nothing is mapped") {
    auto text = interchange(professional_body());
    text.replace(text.find("ST*837"), 6, "ST*270");
    const auto sink = read(text);
    CHECK(has(sink.sets[0].errors, error::set_not_supported));
    CHECK(sink.claims.empty());
  }

  TEST_CASE("missing trailers are reported at the level they close") {
    auto text = interchange(professional_body());
    text.erase(text.find("SE*30*0001~\n"), 12);
    const auto no_se = read(text);
    CHECK(has(no_se.sets[0].errors, error::set_trailer_missing));
    auto text2 = interchange(professional_body());
    text2.erase(text2.find("GE*1*42~\n"), 9);
    CHECK(has(read(text2).interchanges[0].groups[0].errors, error::group_trailer_missing));
    auto text3 = interchange(professional_body());
    text3.erase(text3.rfind("IEA"));
    CHECK(has(read(text3).interchanges[0].errors, error::interchange_trailer_missing));
  }

  TEST_CASE("an ST outside a functional group is an invalid control structure") {
    auto text = interchange(professional_body());
    text.erase(text.find("GS*"), text.find("ST*") - text.find("GS*"));
    CHECK(has(read(text).interchanges[0].errors, error::invalid_control_structure));
  }

  TEST_CASE("one bad set does not reject the good ones in its group (AK9 P)") {
    auto text = interchange(professional_body(), 2);
    const auto second = text.find("ST*837*0002");
    text.replace(text.find("NM1*85", second), 6, "NM1*86");
    const auto sink = read(text);
    const auto& group = sink.interchanges[0].groups[0];
    CHECK(group.sets[0].ack_code() == 'A');
    CHECK(group.sets[1].ack_code() == 'R');
    CHECK(group.ack_code() == 'P');
    CHECK(group.accepted_sets() == 1);
  }

  TEST_CASE("structural errors name segment, position and loop") {
    SUBCASE("an unrecognised segment id") {
      const auto sink = read(interchange(replace(professional_body(), 8, "Nd4*COLUMBUS")));
      const auto* f = finding_for(sink.sets[0], "Nd4", error::unrecognized_segment_id);
      REQUIRE(f);
      CHECK(f->position == 10);
    }
    SUBCASE("a required segment missing") {
      auto body = professional_body();
      body.erase(body.begin() + 7);  // N3 of 2010AA
      const auto sink = read(interchange(body));
      const auto* f = finding_for(sink.sets[0], "N3", error::required_segment_missing);
      REQUIRE(f);
      CHECK(f->loop == "2010AA");
    }
    SUBCASE("a segment out of sequence") {
      auto body = professional_body();
      std::swap(body[7], body[8]);  // N4 before N3
      const auto sink = read(interchange(body));
      CHECK(finding_for(sink.sets[0], "N3", error::segment_not_in_sequence));
    }
    SUBCASE("a loop over its maximum") {
      auto body = professional_body();
      body.insert(body.begin() + 10, {"NM1*85*2*AGAIN*****XX*1999999984", "N3*X", "N4*Y*OH*1"});
      const auto sink = read(interchange(body));
      CHECK(finding_for(sink.sets[0], "NM1", error::loop_over_maximum));
    }
    SUBCASE("an invalid code value and a missing element") {
      const auto sink = read(interchange(replace(professional_body(), 3, "NM1*40**MAC*****46*R1")));
      const auto* f = finding_for(sink.sets[0], "NM1", error::segment_has_element_errors);
      REQUIRE(f);
      REQUIRE(f->elements.size() == 1);
      CHECK(f->elements[0].position == 2);
      CHECK(f->elements[0].code == error::required_element_missing);
      CHECK(f->elements[0].reference == 1065);
    }
    SUBCASE("a qualifier that is a run of the list's codes, or a code behind a NUL, is no code") {
      // Both are read like any other code the position does not list (REF*XX): the segment
      // is not placed as REF*EI, and its REF01 is reported as an invalid code.
      for (const auto& ref : {std::string("REF*EI,SY*311234567"),
                              std::string("REF*\0EI*311234567", 17), std::string("REF*XX*1")}) {
        CAPTURE(ref);
        const auto sink = read(interchange(replace(professional_body(), 9, ref)));
        const auto* f = finding_for(sink.sets[0], "REF", error::segment_has_element_errors);
        REQUIRE(f);
        REQUIRE(f->elements.size() == 1);
        CHECK(f->elements[0].position == 1);
        CHECK(f->elements[0].code == error::invalid_code_value);
        CHECK(finding_for(sink.sets[0], "REF", error::required_segment_missing));
      }
    }
    SUBCASE("an invalid date qualifier and date") {
      const auto sink = read(interchange(replace(professional_body(), 22, "DTP*472*D8*20260230")));
      const auto* f = finding_for(sink.sets[0], "DTP", error::segment_has_element_errors);
      REQUIRE(f);
      CHECK(f->elements[0].code == error::invalid_date);
      CHECK(f->claim_id == "PUMP001");
    }
    SUBCASE("an unknown but well-formed segment is skipped") {
      auto body = professional_body();
      body.insert(body.begin() + 20, "ZZZ*PRIVATE");
      const auto sink = read(interchange(body));
      CHECK(sink.sets[0].ack_code() == 'A');
    }
  }

  TEST_CASE("a broken HL chain is rejected, and only noted with leniency hl-chain") {
    const auto text = interchange(replace(professional_body(), 10, "HL*2*7*22*0"));
    const auto strict = read(text);
    CHECK(strict.sets[0].ack_code() == 'R');
    const auto* f = finding_for(strict.sets[0], "HL", error::segment_has_element_errors);
    REQUIRE(f);
    REQUIRE(f->elements.size() == 1);
    CHECK(f->elements[0].position == 2);
    CHECK(f->elements[0].code == error::invalid_hierarchy);
    reader_options options;
    options.lenient = leniency::hl_chain;
    const auto lenient = read(text, 0, options);
    CHECK(lenient.sets[0].ack_code() == 'E');
    CHECK(lenient.claims.size() == 1);
  }

  TEST_CASE("regression: HL01 numbering that starts at 63 in a set is rejected (the guide)") {
    auto body = professional_body();
    body[4] = "HL*63**20*1";
    body[10] = "HL*64*63*22*0";
    const auto strict = read(interchange(body));
    CHECK(strict.sets[0].ack_code() == 'R');
    const auto* f = finding_for(strict.sets[0], "HL", error::segment_has_element_errors);
    REQUIRE(f);
    CHECK(f->elements[0].position == 1);
    CHECK(f->elements[0].reference == 628);
    reader_options options;
    options.lenient = leniency::hl_chain;
    CHECK(read(interchange(body), 0, options).sets[0].ack_code() == 'E');
  }

  TEST_CASE("claims per set at the limit pass and one more rejects the set") {
    auto body = professional_body();
    body.insert(body.end(), {"CLM*PUMP002*10***12:B:1*Y*A*Y*Y", "HI*ABK:E1065", "LX*1",
                             "SV1*HC:A4224:KX*10*UN*1***1", "DTP*472*D8*20260311"});
    reader_options options;
    options.max_claims_per_set = 2;
    CHECK(read(interchange(body), 0, options).sets[0].ack_code() == 'A');
    options.max_claims_per_set = 1;
    const auto over = read(interchange(body), 0, options);
    CHECK(over.sets[0].ack_code() == 'R');
    CHECK(finding_for(over.sets[0], "CLM", error::too_many_claims));
  }

  TEST_CASE("segments per set at the limit pass and one more rejects the set") {
    reader_options options;
    options.max_segments_per_set = 30;  // ST + 28 + SE
    CHECK(read(interchange(professional_body()), 0, options).sets[0].ack_code() == 'A');
    options.max_segments_per_set = 29;
    CHECK(read(interchange(professional_body()), 0, options).sets[0].ack_code() == 'R');
  }
}

TEST_SUITE("x12.interchange_reader") {
  TEST_CASE("the names of the 837 reach the claim: submitter, billing provider, people") {
    auto body = professional_body();
    body[12] = "NM1*IL*1*DOE*JANE*Q**JR*MI*1EG4TE5MK73";
    const auto sink = read(interchange(body));
    REQUIRE(sink.claims.size() == 1);
    const auto& c = sink.claims.front();
    CHECK(c.envelope.submitter == model::person_name{"SUBMITTER", "", "", ""});
    CHECK(c.envelope.submitter_id == "S1");
    CHECK_FALSE(c.envelope.submitter_is_person);
    CHECK(c.billing.name.last == "HOMECARE SUPPLY");
    CHECK(c.subscriber.name == model::person_name{"DOE", "JANE", "Q", "JR"});
    CHECK(c.rendering.name == model::person_name{"WELBY", "MARCUS", "", ""});
    CHECK(c.lines[0].ordering.name.last == "ORDER");
  }

  TEST_CASE("the ISA code lists of the guides are checked, each with its TA1 code") {
    struct isa_case {
      std::size_t offset;  // of the element in the fixture's ISA
      std::string_view value;
      error code;
      std::string_view ta105;
    };
    for (const auto& c : {isa_case{4, "01", error::invalid_authorization_qualifier, "010"},
                          isa_case{18, "02", error::invalid_security_qualifier, "012"},
                          isa_case{32, "XX", error::invalid_sender_qualifier, "005"},
                          isa_case{51, "99", error::invalid_receiver_qualifier, "007"},
                          isa_case{100, "2", error::invalid_ack_requested, "019"},
                          isa_case{102, "X", error::invalid_usage_indicator, "020"}}) {
      CAPTURE(c.ta105);
      auto text = interchange(professional_body());
      text.replace(c.offset, c.value.size(), c.value);
      const auto sink = read(text);
      REQUIRE(sink.interchanges.size() == 1);
      CHECK(has(sink.interchanges[0].errors, c.code));
      CHECK(sink.interchanges[0].rejected);
      CHECK(ack_code(c.code) == c.ta105);
      CHECK(sink.claims.empty());
    }
  }

  TEST_CASE("a letter in ISA11 is rejected, and read as no separator with isa11-letter") {
    auto text = interchange(professional_body());
    text.replace(82, 1, "U");
    const auto strict = read(text);
    CHECK(has(strict.interchanges[0].errors, error::invalid_repetition_separator));
    CHECK(strict.claims.empty());
    reader_options options;
    options.lenient = leniency::isa11_letter;
    const auto lenient = read(text, 0, options);
    CHECK(lenient.interchanges[0].errors.empty());
    CHECK(lenient.interchanges[0].repetition_letter_ignored);
    CHECK(lenient.claims.size() == 1);
  }

  TEST_CASE("leniency counts notes a wrong SE01 as envelope_counts warn does") {
    auto text = interchange(professional_body());
    text.replace(text.find("SE*30*"), 6, "SE*25*");
    reader_options options;
    options.lenient = leniency::counts;
    CHECK(read(text, 0, options).sets[0].ack_code() == 'E');
  }

  TEST_CASE("a segment over its maximum use rejects, and is noted with segment-repeats") {
    auto body = professional_body();
    body.insert(body.begin() + 17, "REF*G1*PA99999");  // a second prior authorization
    const auto strict = read(interchange(body));
    CHECK(strict.sets[0].ack_code() == 'R');
    CHECK(finding_for(strict.sets[0], "REF", error::segment_over_maximum_use));
    reader_options options;
    options.lenient = leniency::segment_repeats;
    CHECK(read(interchange(body), 0, options).sets[0].ack_code() == 'E');
  }

  TEST_CASE("a COB claim without its other-payer loop 2330B is rejected") {
    auto body = professional_body();
    body.insert(body.begin() + 20,
                {"SBR*S*18*******MB", "OI***Y*P**Y", "NM1*IL*1*DOE*JANE****MI*1EG4TE5MK73"});
    const auto sink = read(interchange(body));
    const auto* f = finding_for(sink.sets[0], "NM1", error::required_segment_missing);
    REQUIRE(f);
    CHECK(f->loop == "2330B");
    CHECK(sink.sets[0].ack_code() == 'R');
  }

  TEST_CASE("segments that share a position may come in any order") {
    auto body = professional_body();
    // 2300: DTP*454 before DTP*431, REF*D9 before REF*G1 (the guide lists them the other way).
    body.insert(body.begin() + 16, {"DTP*454*D8*20260101", "DTP*431*D8*20260102"});
    body.insert(body.begin() + 18, "REF*D9*TRACE1");
    const auto sink = read(interchange(body));
    CHECK(sink.sets[0].ack_code() == 'A');
    CHECK(sink.claims.size() == 1);
  }

  TEST_CASE("parse_leniency reads switch names, all and nothing") {
    CHECK(parse_leniency("") == leniency::none);
    CHECK(parse_leniency("hl-chain,counts") == (leniency::hl_chain | leniency::counts));
    const auto all = parse_leniency("all");
    REQUIRE(all);
    for (const auto& l : leniency_names()) CHECK(has(*all, l.value));
    std::string unknown;
    CHECK_FALSE(parse_leniency("hl-chain,lax", &unknown));
    CHECK(unknown == "lax");
    CHECK(leniency_names().size() == 7);
  }
}

TEST_SUITE("x12.error") {
  TEST_CASE("every error enumerator has a level, an acknowledgment code and a description") {
    for (auto v = static_cast<int>(first_error); v <= static_cast<int>(last_error); ++v) {
      const auto e = static_cast<error>(v);
      CAPTURE(v);
      CHECK_FALSE(ack_code(e).empty());
      CHECK_FALSE(describe(e).empty());
      CHECK(make_error_code(e).category().name() == std::string{"covgate.x12"});
      CHECK(make_error_code(e).message() == describe(e));
      if (level_of(e) == ack_level::interchange) CHECK(ack_code(e).size() == 3);
    }
  }
}

TEST_SUITE("x12.claim_walker") {
  TEST_CASE("reads money exactly, with rounding on a third decimal and negatives") {
    auto body = professional_body();
    body[15] = "CLM*PUMP001*-12.345***12:B:1*Y*A*Y*Y";
    body[21] = "SV1*HC:E0784:KX:NU*.5*UN*1.5*12**1";
    const auto sink = read(interchange(body));
    REQUIRE(sink.claims.size() == 1);
    CHECK(sink.claims[0].total_charge_cents == -1235);
    CHECK(sink.claims[0].lines[0].charge_cents == 50);
    CHECK(sink.claims[0].lines[0].units == doctest::Approx(1.5));
    CHECK(sink.claims[0].lines[1].units == doctest::Approx(2.0));
  }

  TEST_CASE("regression: CLM01 with control bytes or over 20 characters is IK4 6 / 5") {
    // Valid UTF-8 is in the X12 extended character set; what reaches a header, a file name
    // or a frame is encoded at that boundary (model/boundary.hpp) whatever it holds.
    for (const std::string& bad :
         {std::string("A\r\nB"), std::string("A\x0B"), std::string("A\x1C"), std::string("A\0B", 3),
          std::string("caf\xC3")}) {
      auto body = professional_body();
      for (auto& segment : body) {
        if (segment.rfind("CLM*", 0) == 0) segment.replace(4, segment.find('*', 4) - 4, bad);
      }
      const auto r = read(interchange(body));
      REQUIRE(r.interchanges.size() == 1);
      const auto& set = r.interchanges[0].groups.at(0).sets.at(0);
      CHECK(set.rejected);
      bool found = false;
      for (const auto& f : set.segments) {
        for (const auto& e : f.elements) {
          found = found ||
                  (f.segment_id == "CLM" && e.position == 1 && e.code == error::invalid_character);
        }
      }
      CHECK(found);
    }
    auto body = professional_body();
    for (auto& segment : body) {
      if (segment.rfind("CLM*", 0) == 0) {
        segment.replace(4, segment.find('*', 4) - 4, std::string(21, 'C'));
      }
    }
    CHECK(read(interchange(body)).interchanges.at(0).groups.at(0).sets.at(0).rejected);
    for (auto& segment : body) {
      if (segment.rfind("CLM*", 0) == 0) {
        segment.replace(4, segment.find('*', 4) - 4, std::string(20, 'C'));
      }
    }
    CHECK_FALSE(read(interchange(body)).interchanges.at(0).groups.at(0).sets.at(0).rejected);
  }
}
