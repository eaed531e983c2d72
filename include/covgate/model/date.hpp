// Calendar dates as the X12 and FHIR inputs carry them (CCYYMMDD), without time zones.
#pragma once

#include <compare>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace covgate::model {

/// A proleptic Gregorian calendar date. Value type; the default value is "no date" (year 0).
struct date {
  std::int16_t year = 0;
  std::uint8_t month = 0;
  std::uint8_t day = 0;

  /// True when this holds a real date (the default-constructed value does not).
  [[nodiscard]] constexpr bool valid() const noexcept { return year != 0; }

  /// Days since 1970-01-01 (negative before), for "within N days" comparisons.
  [[nodiscard]] std::int32_t days_since_epoch() const noexcept;
  /// The date from days since 1970-01-01.
  [[nodiscard]] static date from_days_since_epoch(std::int32_t days) noexcept;
  /// The same day `months` months earlier, or that month's last day when it is shorter.
  [[nodiscard]] date minus_months(int months) const noexcept;

  /// "YYYY-MM-DD", or "" for no date.
  [[nodiscard]] std::string iso() const;

  friend constexpr auto operator<=>(const date&, const date&) = default;
};

/// Parses exactly eight digits CCYYMMDD naming a real calendar date (leap years included).
/// Returns nullopt for anything else; never throws.
[[nodiscard]] std::optional<date> parse_ccyymmdd(std::string_view text) noexcept;

namespace detail {
inline constexpr std::uint8_t days_in_month[13] = {0,  31, 29, 31, 30, 31, 30,
                                                   31, 31, 30, 31, 30, 31};
}  // namespace detail

/// The date `year`-`month`-`day` when it is a real calendar day (years 1 to 9999, leap years
/// included), else nullopt; never throws. Inline: both date parsers end in it, once per date.
[[nodiscard]] constexpr std::optional<date> calendar_date(int year, int month, int day) noexcept {
  // Each range as one unsigned compare (a value below its first wraps round to a large one).
  if (static_cast<unsigned>(year - 1) > 9998u || static_cast<unsigned>(month - 1) > 11u ||
      static_cast<unsigned>(day - 1) >= detail::days_in_month[month]) {
    return std::nullopt;
  }
  if (month == 2 && day == 29 && !(year % 4 == 0 && (year % 100 != 0 || year % 400 == 0))) {
    return std::nullopt;
  }
  return date{static_cast<std::int16_t>(year), static_cast<std::uint8_t>(month),
              static_cast<std::uint8_t>(day)};
}

/// "CCYYMMDDHHMM" in UTC for a Unix time in milliseconds (the stamp X12 and HL7 answers carry).
[[nodiscard]] std::string utc_stamp(std::int64_t unix_ms);
/// "YYYY-MM-DDTHH:MM:SSZ" (ISO 8601, UTC) for a Unix time in milliseconds.
[[nodiscard]] std::string iso_instant(std::int64_t unix_ms);
/// Parses exactly "YYYY-MM-DD" naming a real calendar date; nullopt for anything else.
[[nodiscard]] std::optional<date> parse_iso_date(std::string_view text) noexcept;
/// The Unix time in milliseconds of a "CCYYMMDDHHMM" UTC stamp, or nullopt when malformed.
[[nodiscard]] std::optional<std::int64_t> unix_ms_of_stamp(std::string_view stamp) noexcept;

/// A closed range of dates; `from == to` for a single day.
struct date_range {
  date from;
  date to;
  friend constexpr bool operator==(const date_range&, const date_range&) = default;
};

}  // namespace covgate::model
