#include "covgate/hl7v2/er7.hpp"

#include <bit>
#include <charconv>
#include <cstring>

namespace covgate::hl7v2 {
namespace {

// The first `c` in [p, end), or end. Eight bytes at a time (the classic "has zero byte" test on
// the word XOR the pattern; only the lowest flag is exact, which is the one taken), so a field
// scan costs about one step per word instead of per byte; a plain loop on big-endian targets.
[[gnu::always_inline]] inline const char* find_char(const char* p, const char* end,
                                                    char c) noexcept {
  if constexpr (std::endian::native == std::endian::little) {
    const std::uint64_t pattern = 0x0101010101010101ULL * static_cast<unsigned char>(c);
    while (end - p >= 8) {
      std::uint64_t word;
      std::memcpy(&word, p, 8);
      word ^= pattern;
      const std::uint64_t hit = (word - 0x0101010101010101ULL) & ~word & 0x8080808080808080ULL;
      if (hit != 0) return p + (std::countr_zero(hit) >> 3);
      p += 8;
    }
  }
  while (p != end && *p != c) ++p;
  return p;
}

bool alnum(char c) noexcept {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z');
}

bool usable_delimiter(char c) noexcept { return c != 0 && !alnum(c) && c != '\r' && c != '\n'; }

bool header_id(std::string_view id) noexcept { return id == "MSH" || id == "BHS" || id == "FHS"; }

bool digits(std::string_view text, std::size_t from, std::size_t count, int& out) noexcept {
  if (from + count > text.size()) return false;
  out = 0;
  for (std::size_t i = from; i < from + count; ++i) {
    if (text[i] < '0' || text[i] > '9') return false;
    out = out * 10 + (text[i] - '0');
  }
  return true;
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return -1;
}

void append_latin1(std::string& out, unsigned char byte, bool latin1) {
  if (latin1 && byte >= 0x80) {
    out += static_cast<char>(0xC0 | (byte >> 6));
    out += static_cast<char>(0x80 | (byte & 0x3F));
  } else {
    out += static_cast<char>(byte);
  }
}

// The parts of a DTM, validated.
struct dtm_parts {
  int year = 0, month = 1, day = 1, hour = 0, minute = 0;
  std::string_view seconds;  // "SS" or "SS.ffff", empty when absent
  int precision = 0;         // 4 year, 6 month, 8 day, 10 hour, 12 minute, 14 second
  bool has_offset = false;
  int offset_minutes = 0;  // east of UTC positive
  model::date date;
};

std::optional<dtm_parts> split_dtm(std::string_view text) noexcept {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  dtm_parts p;
  std::size_t digits_end = 0;
  while (digits_end < text.size() && text[digits_end] >= '0' && text[digits_end] <= '9') {
    ++digits_end;
  }
  const std::size_t n = digits_end;
  if (n != 4 && n != 6 && n != 8 && n != 10 && n != 12 && n != 14) return std::nullopt;
  p.precision = static_cast<int>(n);
  (void)digits(text, 0, 4, p.year);
  if (n >= 6) (void)digits(text, 4, 2, p.month);
  if (n >= 8) (void)digits(text, 6, 2, p.day);
  if (n >= 10) (void)digits(text, 8, 2, p.hour);
  if (n >= 12) (void)digits(text, 10, 2, p.minute);
  std::size_t at = n;
  if (n == 14) {
    int second = 0;
    (void)digits(text, 12, 2, second);
    if (second > 60) return std::nullopt;
    std::size_t end = 14;
    if (at < text.size() && text[at] == '.') {
      end = at + 1;
      while (end < text.size() && end < at + 5 && text[end] >= '0' && text[end] <= '9') ++end;
      if (end == at + 1) return std::nullopt;
      at = end;
    }
    p.seconds = text.substr(12, end - 12);
  }
  if (at < text.size()) {
    if ((text[at] != '+' && text[at] != '-') || text.size() != at + 5) return std::nullopt;
    int zh = 0, zm = 0;
    if (!digits(text, at + 1, 2, zh) || !digits(text, at + 3, 2, zm) || zh > 14 || zm > 59) {
      return std::nullopt;
    }
    p.has_offset = true;
    p.offset_minutes = (text[at] == '+' ? 1 : -1) * (zh * 60 + zm);
  }
  if (p.year < 1 || p.month < 1 || p.month > 12 || p.hour > 23 || p.minute > 59) {
    return std::nullopt;
  }
  const char buffer[8] = {
      static_cast<char>('0' + p.year / 1000),    static_cast<char>('0' + p.year / 100 % 10),
      static_cast<char>('0' + p.year / 10 % 10), static_cast<char>('0' + p.year % 10),
      static_cast<char>('0' + p.month / 10),     static_cast<char>('0' + p.month % 10),
      static_cast<char>('0' + p.day / 10),       static_cast<char>('0' + p.day % 10)};
  const auto parsed = model::parse_ccyymmdd({buffer, 8});
  if (!parsed) return std::nullopt;
  p.date = *parsed;
  return p;
}

// Days since 1970-01-01 → civil date (H. Hinnant's algorithm, public domain description).
void civil_from_days(std::int64_t z, int& y, int& m, int& d) noexcept {
  z += 719468;
  const std::int64_t era = (z >= 0 ? z : z - 146096) / 146097;
  const auto doe = static_cast<unsigned>(z - era * 146097);
  const unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
  const unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
  const unsigned mp = (5 * doy + 2) / 153;
  d = static_cast<int>(doy - (153 * mp + 2) / 5 + 1);
  m = static_cast<int>(mp < 10 ? mp + 3 : mp - 9);
  y = static_cast<int>(static_cast<std::int64_t>(yoe) + era * 400 + (m <= 2 ? 1 : 0));
}

void append_2(std::string& out, int v) {
  out += static_cast<char>('0' + v / 10 % 10);
  out += static_cast<char>('0' + v % 10);
}

void append_4(std::string& out, int v) {
  append_2(out, v / 100);
  append_2(out, v % 100);
}

}  // namespace

std::string_view first_line(std::string_view text) noexcept {
  // A plain loop: find_first_of("\r\n") calls memchr once per byte.
  std::size_t i = 0;
  while (i < text.size() && text[i] != '\r' && text[i] != '\n') ++i;
  return text.substr(0, i);
}

std::optional<delimiters> delimiters_of(std::string_view segment) noexcept {
  if (segment.size() < 4 || !header_id(segment.substr(0, 3))) return std::nullopt;
  delimiters d;
  d.field = segment[3];
  if (!usable_delimiter(d.field)) return std::nullopt;
  std::size_t end = 4;
  while (end < segment.size() && segment[end] != d.field && segment[end] != '\r' &&
         segment[end] != '\n') {
    ++end;
  }
  const auto encoding = segment.substr(4, end - 4);
  if (encoding.empty() || encoding.size() > 5) return std::nullopt;
  char* slots[] = {&d.component, &d.repetition, &d.escape, &d.subcomponent, &d.truncation};
  for (std::size_t i = 0; i < encoding.size(); ++i) {
    if (!usable_delimiter(encoding[i])) return std::nullopt;
    *slots[i] = encoding[i];
  }
  // Defaults stand in for the absent ones; every delimiter must differ from the others.
  const char used[] = {d.field, d.component, d.repetition, d.escape, d.subcomponent, d.truncation};
  const std::size_t count = encoding.size() == 5 ? 6 : 5;
  for (std::size_t i = 0; i < count; ++i) {
    for (std::size_t j = i + 1; j < count; ++j) {
      if (used[i] == used[j]) return std::nullopt;
    }
  }
  return d;
}

// Fields and components are short: find_char beats a memchr call per part.
std::string_view part(std::string_view text, char separator, std::size_t n) noexcept {
  if (n == 0) return {};
  const char* p = text.data();
  const char* const end = p + text.size();
  for (std::size_t i = 1; i < n; ++i) {
    p = find_char(p, end, separator);
    if (p == end) return {};
    ++p;
  }
  const char* const start = p;
  p = find_char(p, end, separator);
  return {start, static_cast<std::size_t>(p - start)};
}

std::size_t split(std::string_view text, char separator, std::string_view* out,
                  std::size_t max) noexcept {
  const char* p = text.data();
  const char* const end = p + text.size();
  std::size_t count = 0;
  while (count < max) {
    const char* const start = p;
    p = find_char(p, end, separator);
    out[count++] = {start, static_cast<std::size_t>(p - start)};
    if (p == end) break;
    ++p;
  }
  return count;
}

void field_index::reset(std::string_view segment, const delimiters& d) noexcept {
  count_ = 0;
  const char* const begin = segment.data();
  const char* const end = begin + segment.size();
  const char* p = find_char(begin, end, d.field);
  set({begin, static_cast<std::size_t>(p - begin)});
  if (p == end) return;
  if (p - begin == 3 && header_id({begin, 3})) set({p, 1});
  ++p;
  while (count_ < max_fields) {
    const char* const start = p;
    p = find_char(p, end, d.field);
    set({start, static_cast<std::size_t>(p - start)});
    if (p == end) return;
    ++p;
  }
}

bool split_segments(std::string_view text, std::vector<segment_view>& out,
                    std::size_t max_segments) {
  out.clear();
  const char* const data = text.data();
  const std::size_t size = text.size();
  const bool cr_mode = std::memchr(data, '\r', size) != nullptr;
  const char terminator = cr_mode ? '\r' : '\n';
  std::uint32_t line = 1;
  std::size_t at = 0;
  while (at < size) {
    // LFs opening a segment: the LF of a CRLF (same line) or blank lines.
    while (at < size && data[at] == '\n') {
      if (!(at > 0 && data[at - 1] == '\r')) ++line;
      ++at;
    }
    if (at >= size) break;
    const void* hit = std::memchr(data + at, terminator, size - at);
    const std::size_t end =
        hit ? static_cast<std::size_t>(static_cast<const char*>(hit) - data) : size;
    if (end > at) {
      if (out.size() == max_segments) return false;
      out.push_back({text.substr(at, end - at), line});
    }
    at = end + 1;
    ++line;
  }
  return true;
}

std::string_view unescape(std::string_view text, const delimiters& d, std::string& scratch,
                          bool latin1) {
  if (!has_escape(text, d)) return text;
  scratch.clear();
  scratch.reserve(text.size());
  std::size_t i = 0;
  while (i < text.size()) {
    const char c = text[i];
    if (c != d.escape) {
      scratch += c;
      ++i;
      continue;
    }
    const auto close = text.find(d.escape, i + 1);
    if (close == std::string_view::npos) {
      scratch.append(text.substr(i));  // a lone escape character stays itself
      break;
    }
    const auto seq = text.substr(i + 1, close - i - 1);
    if (seq == "F") {
      scratch += d.field;
    } else if (seq == "S") {
      scratch += d.component;
    } else if (seq == "T") {
      scratch += d.subcomponent;
    } else if (seq == "R") {
      scratch += d.repetition;
    } else if (seq == "E") {
      scratch += d.escape;
    } else if (seq == "P" && d.truncation != 0) {
      scratch += d.truncation;
    } else if (seq == ".br") {
      scratch += '\n';
    } else if (seq.size() >= 3 && seq.size() % 2 == 1 && seq[0] == 'X') {
      bool hex = true;
      for (std::size_t k = 1; k < seq.size(); ++k) hex = hex && hex_value(seq[k]) >= 0;
      if (hex) {
        for (std::size_t k = 1; k + 1 < seq.size(); k += 2) {
          const auto byte =
              static_cast<unsigned char>(hex_value(seq[k]) * 16 + hex_value(seq[k + 1]));
          append_latin1(scratch, byte, latin1);
        }
      } else {
        scratch.append(text.substr(i, close - i + 1));
      }
    } else {
      scratch.append(text.substr(i, close - i + 1));  // \H\ \N\ \Zxx\ \Cxxyy\ … verbatim
    }
    i = close + 1;
  }
  return scratch;
}

void escape_into(std::string& out, std::string_view value, const delimiters& d) {
  for (const char c : value) {
    if (c == d.field) {
      out += d.escape;
      out += 'F';
      out += d.escape;
    } else if (c == d.component) {
      out += d.escape;
      out += 'S';
      out += d.escape;
    } else if (c == d.subcomponent) {
      out += d.escape;
      out += 'T';
      out += d.escape;
    } else if (c == d.repetition) {
      out += d.escape;
      out += 'R';
      out += d.escape;
    } else if (c == d.escape) {
      out += d.escape;
      out += 'E';
      out += d.escape;
    } else if (d.truncation != 0 && c == d.truncation) {
      out += d.escape;
      out += 'P';
      out += d.escape;
    } else if (c == '\r' || c == '\n') {
      out += d.escape;
      out += c == '\r' ? "X0D" : "X0A";
      out += d.escape;
    } else {
      out += c;
    }
  }
}

charset charset_named(std::string_view msh18) noexcept {
  while (!msh18.empty() && msh18.front() == ' ') msh18.remove_prefix(1);
  while (!msh18.empty() && msh18.back() == ' ') msh18.remove_suffix(1);
  if (msh18.empty() || msh18 == "ASCII") return charset::ascii;
  if (msh18 == "8859/1" || msh18 == "8859/15") return charset::latin1;
  if (msh18 == "UNICODE UTF-8" || msh18 == "UTF-8") return charset::utf8;
  return charset::unknown;
}

bool is_ascii(std::string_view text) noexcept {
  // Eight bytes at a time: this runs over every message.
  std::uint64_t any = 0;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word;
    std::memcpy(&word, text.data() + i, 8);
    any |= word;
  }
  for (; i < text.size(); ++i) any |= static_cast<unsigned char>(text[i]);
  return (any & 0x8080808080808080ULL) == 0;
}

bool valid_utf8(std::string_view text) noexcept {
  std::size_t i = 0;
  const std::size_t n = text.size();
  while (i < n) {
    const auto c = static_cast<unsigned char>(text[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    std::size_t len = 0;
    std::uint32_t cp = 0;
    if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
      cp = c & 0x1F;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      cp = c & 0x0F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      cp = c & 0x07;
    } else {
      return false;
    }
    if (i + len > n) return false;
    for (std::size_t k = 1; k < len; ++k) {
      const auto cc = static_cast<unsigned char>(text[i + k]);
      if ((cc & 0xC0) != 0x80) return false;
      cp = (cp << 6) | (cc & 0x3F);
    }
    if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10FFFF)) ||
        (cp >= 0xD800 && cp <= 0xDFFF)) {
      return false;
    }
    i += len;
  }
  return true;
}

void latin1_to_utf8(std::string_view text, std::string& out) {
  out.reserve(out.size() + text.size() + text.size() / 8);
  for (const char c : text) append_latin1(out, static_cast<unsigned char>(c), true);
}

std::optional<model::moment> parse_dtm(std::string_view text) noexcept {
  const auto p = split_dtm(text);
  if (!p) return std::nullopt;
  model::moment m;
  m.day = p->date;
  std::int64_t minutes = std::int64_t{p->date.days_since_epoch()} * 1440;
  if (p->precision >= 10) {
    minutes += p->hour * 60 + p->minute;
    if (p->has_offset) minutes -= p->offset_minutes;
    m.has_time = true;
  }
  m.utc_minutes = minutes;
  return m;
}

std::string dtm_to_iso(std::string_view text) {
  const auto p = split_dtm(text);
  if (!p) return {};
  std::string out;
  out.reserve(32);
  if (p->precision < 10) {
    append_4(out, p->year);
    if (p->precision >= 6) {
      out += '-';
      append_2(out, p->month);
    }
    if (p->precision >= 8) {
      out += '-';
      append_2(out, p->day);
    }
    return out;
  }
  int year = p->year, month = p->month, day = p->day;
  int minutes = p->hour * 60 + p->minute;
  if (p->has_offset) {
    const std::int64_t utc =
        std::int64_t{p->date.days_since_epoch()} * 1440 + minutes - p->offset_minutes;
    const std::int64_t days = utc >= 0 ? utc / 1440 : -((-utc + 1439) / 1440);
    minutes = static_cast<int>(utc - days * 1440);
    civil_from_days(days, year, month, day);
  }
  append_4(out, year);
  out += '-';
  append_2(out, month);
  out += '-';
  append_2(out, day);
  out += 'T';
  append_2(out, minutes / 60);
  out += ':';
  append_2(out, minutes % 60);
  out += ':';
  if (p->seconds.empty()) {
    out += "00";
  } else {
    out.append(p->seconds);
  }
  if (p->has_offset) out += 'Z';
  return out;
}

std::optional<double> parse_number(std::string_view text) noexcept {
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  if (!text.empty() && text.front() == '+') text.remove_prefix(1);
  if (text.empty()) return std::nullopt;
  std::size_t i = text.front() == '-' ? 1 : 0;
  std::size_t digit_count = 0;
  bool point = false;
  for (; i < text.size(); ++i) {
    const char c = text[i];
    if (c >= '0' && c <= '9') {
      ++digit_count;
    } else if (c == '.' && !point) {
      point = true;
    } else {
      return std::nullopt;
    }
  }
  if (digit_count == 0) return std::nullopt;
  double value = 0;
  const auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc{} || ptr != text.data() + text.size()) return std::nullopt;
  return value;
}

}  // namespace covgate::hl7v2
