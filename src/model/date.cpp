#include "covgate/model/date.hpp"

#include <array>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstring>

namespace covgate::model {
namespace {

std::chrono::year_month_day civil(const date& d) noexcept {
  return std::chrono::year{d.year} / std::chrono::month{d.month} / std::chrono::day{d.day};
}

date from_civil(const std::chrono::year_month_day& ymd) noexcept {
  return {static_cast<std::int16_t>(static_cast<int>(ymd.year())),
          static_cast<std::uint8_t>(static_cast<unsigned>(ymd.month())),
          static_cast<std::uint8_t>(static_cast<unsigned>(ymd.day()))};
}

}  // namespace

std::int32_t date::days_since_epoch() const noexcept {
  return static_cast<std::int32_t>(std::chrono::sys_days{civil(*this)}.time_since_epoch().count());
}

date date::minus_months(int months) const noexcept {
  // The same day of an earlier month, or its last day when it has fewer (March 31 → Feb 28).
  auto ymd = civil(*this) - std::chrono::months{months};
  if (!ymd.ok()) ymd = ymd.year() / ymd.month() / std::chrono::last;
  return from_civil(ymd);
}

date date::from_days_since_epoch(std::int32_t days) noexcept {
  return from_civil(std::chrono::year_month_day{std::chrono::sys_days{std::chrono::days{days}}});
}

std::string date::iso() const {
  if (!valid()) return {};
  // Every decision line has one: digits by hand cost a tenth of snprintf. A date no parser
  // gives (a negative year, a month above 99) still goes through snprintf, as it always did.
  if (year > 0 && year <= 9999 && month <= 99 && day <= 99) {
    std::string text(10, '-');
    const auto put = [&text](std::size_t at, int value, int width) {
      for (int i = width - 1; i >= 0; --i, value /= 10) text[at + i] = char('0' + value % 10);
    };
    put(0, year, 4);
    put(5, month, 2);
    put(8, day, 2);
    return text;
  }
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02d-%02d", year, month, day);
  return buffer.data();
}

std::optional<date> parse_ccyymmdd(std::string_view text) noexcept {
  // Every date of every claim read comes through here, twice (checked, then mapped): the
  // eight bytes are tested as one word, and the month's length is a table.
  if (text.size() != 8) return std::nullopt;
  std::uint64_t word = 0;
  std::memcpy(&word, text.data(), 8);
  constexpr std::uint64_t zeros = 0x3030303030303030ULL;
  constexpr std::uint64_t high_nibbles = 0xF0F0F0F0F0F0F0F0ULL;
  constexpr std::uint64_t sixes = 0x0606060606060606ULL;
  // Each byte is 0x30..0x39: its high nibble is 3, and adding 6 leaves it there.
  if ((word & high_nibbles) != zeros || ((word + sixes) & high_nibbles) != zeros) {
    return std::nullopt;
  }
  const auto digit = [&text](std::size_t i) { return text[i] - '0'; };
  return calendar_date(digit(0) * 1000 + digit(1) * 100 + digit(2) * 10 + digit(3),
                       digit(4) * 10 + digit(5), digit(6) * 10 + digit(7));
}

std::string utc_stamp(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> at{milliseconds{unix_ms}};
  const auto day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss time{floor<minutes>(at - day)};
  std::array<char, 16> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d%02u%02u%02d%02d", static_cast<int>(ymd.year()),
                static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                static_cast<int>(time.hours().count()), static_cast<int>(time.minutes().count()));
  return buffer.data();
}

std::string iso_instant(std::int64_t unix_ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> at{milliseconds{unix_ms}};
  const auto day = floor<days>(at);
  const year_month_day ymd{day};
  const hh_mm_ss time{floor<seconds>(at - day)};
  std::array<char, 24> buffer{};
  std::snprintf(buffer.data(), buffer.size(), "%04d-%02u-%02uT%02d:%02d:%02dZ",
                static_cast<int>(ymd.year()), static_cast<unsigned>(ymd.month()),
                static_cast<unsigned>(ymd.day()), static_cast<int>(time.hours().count()),
                static_cast<int>(time.minutes().count()), static_cast<int>(time.seconds().count()));
  return buffer.data();
}

std::optional<date> parse_iso_date(std::string_view text) noexcept {
  if (text.size() != 10 || text[4] != '-' || text[7] != '-') return std::nullopt;
  char digits[8];
  for (std::size_t i = 0, j = 0; i < 10; ++i) {
    if (i == 4 || i == 7) continue;
    digits[j++] = text[i];
  }
  return parse_ccyymmdd(std::string_view(digits, 8));
}

std::optional<std::int64_t> unix_ms_of_stamp(std::string_view stamp) noexcept {
  if (stamp.size() != 12) return std::nullopt;
  const auto day = parse_ccyymmdd(stamp.substr(0, 8));
  int hour = 0, minute = 0;
  for (const char c : stamp.substr(8)) {
    if (c < '0' || c > '9') return std::nullopt;
  }
  hour = (stamp[8] - '0') * 10 + (stamp[9] - '0');
  minute = (stamp[10] - '0') * 10 + (stamp[11] - '0');
  if (!day || hour > 23 || minute > 59) return std::nullopt;
  return (std::int64_t{day->days_since_epoch()} * 1440 + hour * 60 + minute) * 60'000;
}

}  // namespace covgate::model
