#include "covgate/model/date.hpp"

#include <doctest/doctest.h>

#include <chrono>
#include <cstdio>
#include <string>

using covgate::model::date;
using covgate::model::parse_ccyymmdd;
namespace model = covgate::model;

TEST_SUITE("model.date") {
  TEST_CASE("parses a CCYYMMDD date and prints it as ISO") {
    const auto parsed = parse_ccyymmdd("20260307");
    REQUIRE(parsed.has_value());
    CHECK(parsed->iso() == "2026-03-07");
  }

  TEST_CASE("prints a year below 1000 zero-padded, and dates no parser gives as printf does") {
    CHECK(date{7, 1, 2}.iso() == "0007-01-02");
    CHECK(date{9999, 12, 31}.iso() == "9999-12-31");
    CHECK(date{-5, 1, 2}.iso() == "-005-01-02");
    CHECK(date{12000, 200, 7}.iso() == "12000-200-07");
    CHECK(date{}.iso().empty());
  }

  TEST_CASE("accepts 29 February only in leap years") {
    CHECK(parse_ccyymmdd("20240229").has_value());
    CHECK(parse_ccyymmdd("20000229").has_value());
    CHECK_FALSE(parse_ccyymmdd("19000229").has_value());
    CHECK_FALSE(parse_ccyymmdd("20250229").has_value());
  }

  TEST_CASE("rejects wrong lengths, non-digits and impossible days") {
    CHECK_FALSE(parse_ccyymmdd("2026037").has_value());
    CHECK_FALSE(parse_ccyymmdd("202603071").has_value());
    CHECK_FALSE(parse_ccyymmdd("2026O307").has_value());
    CHECK_FALSE(parse_ccyymmdd("20261301").has_value());
    CHECK_FALSE(parse_ccyymmdd("20260431").has_value());
    CHECK_FALSE(parse_ccyymmdd("00000101").has_value());
  }

  TEST_CASE("agrees with the calendar on every month and day field, and refuses any non-digit") {
    // The parser tests eight bytes as one word; std::chrono is the reference.
    for (const int year : {1, 1900, 1999, 2000, 2024, 2025, 2026, 2100, 2400, 9999}) {
      for (int month = 0; month <= 99; ++month) {
        for (int day = 0; day <= 99; ++day) {
          char text[9];
          std::snprintf(text, sizeof text, "%04d%02d%02d", year, month, day);
          const auto ymd = std::chrono::year{year} / std::chrono::month{unsigned(month)} /
                           std::chrono::day{unsigned(day)};
          INFO(text);
          REQUIRE(parse_ccyymmdd(text).has_value() == ymd.ok());
        }
      }
    }
    for (std::size_t at = 0; at < 8; ++at) {
      for (int byte = 0; byte < 256; ++byte) {
        std::string text = "20260307";
        text[at] = static_cast<char>(byte);
        INFO(at << " " << byte);
        if (byte < '0' || byte > '9') REQUIRE_FALSE(parse_ccyymmdd(text).has_value());
      }
    }
  }

  TEST_CASE("counts days across month and year boundaries") {
    CHECK(date{1970, 1, 1}.days_since_epoch() == 0);
    CHECK(date{2026, 3, 7}.days_since_epoch() - date{2025, 12, 7}.days_since_epoch() == 90);
    CHECK(date{2024, 3, 1}.days_since_epoch() - date{2024, 2, 28}.days_since_epoch() == 2);
  }

  TEST_CASE("orders dates chronologically and the empty date first") {
    CHECK(date{} < date{2020, 1, 1});
    CHECK(date{2020, 1, 31} < date{2020, 2, 1});
    CHECK_FALSE(date{}.valid());
  }

  TEST_CASE("ISO 8601 instants in UTC and ISO dates") {
    CHECK(model::iso_instant(0) == "1970-01-01T00:00:00Z");
    CHECK(model::iso_instant(1775048096789) == "2026-04-01T12:54:56Z");
    CHECK(model::parse_iso_date("2026-02-28")->iso() == "2026-02-28");
    CHECK_FALSE(model::parse_iso_date("2026-02-29"));
    CHECK_FALSE(model::parse_iso_date("20260228"));
    CHECK_FALSE(model::parse_iso_date("2026-2-28x"));
  }
}
