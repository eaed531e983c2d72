#include "covgate/model/date.hpp"

#include <array>
#include <cstdio>

namespace covgate::model {
namespace {

constexpr bool is_leap(int year) noexcept {
  return (year % 4 == 0 && year % 100 != 0) || year % 400 == 0;
}

constexpr int days_in_month(int year, int month) noexcept {
  constexpr std::array<int, 12> days{31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return month == 2 && is_leap(year) ? 29 : days[static_cast<std::size_t>(month - 1)];
}

}  // namespace

std::int32_t date::days_since_epoch() const noexcept {
  // Howard Hinnant's days_from_civil: exact for every proleptic Gregorian date.
  int y = year;
  const int m = month;
  const int d = day;
  y -= m <= 2 ? 1 : 0;
  const int era = (y >= 0 ? y : y - 399) / 400;
  const int yoe = y - era * 400;
  const int doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  const int doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

std::string date::iso() const {
  if (!valid()) return {};
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02d", year, month, day);
  return buffer.data();
}

std::optional<date> parse_ccyymmdd(std::string_view text) noexcept {
  if (text.size() != 8) return std::nullopt;
  int digits[8];
  for (std::size_t i = 0; i < 8; ++i) {
    const char c = text[i];
    if (c < '0' || c > '9') return std::nullopt;
    digits[i] = c - '0';
  }
  const int year = digits[0] * 1000 + digits[1] * 100 + digits[2] * 10 + digits[3];
  const int month = digits[4] * 10 + digits[5];
  const int day = digits[6] * 10 + digits[7];
  if (year == 0 || month < 1 || month > 12 || day < 1 || day > days_in_month(year, month)) {
    return std::nullopt;
  }
  return date{static_cast<std::int16_t>(year), static_cast<std::uint8_t>(month),
              static_cast<std::uint8_t>(day)};
}

}  // namespace covgate::model
