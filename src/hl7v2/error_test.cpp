#include "covgate/hl7v2/error.hpp"

#include <doctest/doctest.h>

#include <set>
#include <string>

using namespace covgate::hl7v2;

TEST_SUITE("hl7v2.error") {
  TEST_CASE("every error enumerator has a table 0357 code, a severity, an effect and a text") {
    const std::set<std::string> table_0357{"0",   "100", "101", "102", "103", "104",
                                           "200", "201", "202", "203", "207"};
    for (auto v = static_cast<int>(first_error); v <= static_cast<int>(last_error); ++v) {
      const auto e = static_cast<error>(v);
      CAPTURE(v);
      CHECK(table_0357.count(std::string(err_code(e))) == 1);
      CHECK_FALSE(err_code_text(e).empty());
      CHECK_FALSE(describe(e).empty());
      CHECK(make_error_code(e).category().name() == std::string{"covgate.hl7v2"});
      CHECK(make_error_code(e).message() == describe(e));
      // Only errors change MSA-1; a note never reaches the ACK with a code of its own.
      if (severity_of(e) != severity::error) CHECK(effect_of(e) == ack_effect::none);
      if (severity_of(e) == severity::information) CHECK(err_code(e) == "0");
      if (effect_of(e) == ack_effect::reject) CHECK(severity_of(e) == severity::error);
    }
  }

  TEST_CASE("refusals of the message as a whole carry the codes HL7 gives them") {
    CHECK(err_code(error::unsupported_message_type) == "200");
    CHECK(err_code(error::unsupported_event) == "201");
    CHECK(err_code(error::unsupported_processing_id) == "202");
    CHECK(err_code(error::unsupported_version) == "203");
    CHECK(err_code(error::internal_error) == "207");
    CHECK(err_code_text(error::segment_sequence) == "Segment sequence error");
    CHECK(effect_of(error::unsupported_version) == ack_effect::reject);
    CHECK(effect_of(error::data_type_error) == ack_effect::error);
    CHECK(name(severity::warning) == "warning");
  }
}
