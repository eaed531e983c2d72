#include "covgate/model/boundary.hpp"

#include <array>
#include <cstdint>
#include <cstring>

namespace covgate::boundary {
namespace {

constexpr std::string_view hex_digits = "0123456789ABCDEF";

// The bytes a JSON string holds as they are: printable ASCII but the quote and the backslash.
constexpr auto json_plain = [] {
  std::array<bool, 256> table{};
  for (std::size_t b = 0x20; b < 0x80; ++b) table[b] = b != '"' && b != '\\';
  return table;
}();

// True when one of the eight bytes of `word` is not in json_plain: below 0x20, 0x80 and up,
// the quote or the backslash (bit tricks that are exact for "any byte", not for which one).
constexpr bool any_json_special(std::uint64_t word) noexcept {
  constexpr std::uint64_t ones = 0x0101010101010101ULL;
  constexpr std::uint64_t tops = 0x8080808080808080ULL;
  const auto any_zero = [](std::uint64_t x) { return ((x - ones) & ~x & tops) != 0; };
  const bool below_blank = ((word - 0x20 * ones) & ~word & tops) != 0;
  return (word & tops) != 0 || below_blank || any_zero(word ^ ('"' * ones)) ||
         any_zero(word ^ ('\\' * ones));
}
static_assert(!any_json_special(0x2020202020202020ULL) && any_json_special(0x2020202020202220ULL) &&
              any_json_special(0x2020205C20202020ULL) && any_json_special(0x1F20202020202020ULL) &&
              any_json_special(0x2020202020202080ULL) && !any_json_special(0x7F7E5D5B23212020ULL));

// The first position at or after `i` whose byte is not in json_plain (text.size() if none),
// eight bytes a step while they are all plain.
std::size_t plain_run_end(std::string_view text, std::size_t i) noexcept {
  for (std::uint64_t word = 0; i + 8 <= text.size(); i += 8) {
    std::memcpy(&word, text.data() + i, 8);
    if (any_json_special(word)) break;
  }
  while (i < text.size() && json_plain[static_cast<unsigned char>(text[i])]) ++i;
  return i;
}

// True when every byte of `text` is in json_plain. Most values and every key are a few bytes
// long, so short ones are read as two overlapping words, not byte by byte.
bool all_json_plain(std::string_view text) noexcept {
  const char* const p = text.data();
  const std::size_t n = text.size();
  if (n >= 8) {
    std::uint64_t word = 0;
    std::size_t i = 0;
    for (; i + 8 <= n; i += 8) {
      std::memcpy(&word, p + i, 8);
      if (any_json_special(word)) return false;
    }
    if (i == n) return true;
    std::memcpy(&word, p + n - 8, 8);  // the last eight bytes, overlapping plain ones
    return !any_json_special(word);
  }
  if (n >= 4) {
    std::uint32_t head = 0;
    std::uint32_t tail = 0;
    std::memcpy(&head, p, 4);
    std::memcpy(&tail, p + n - 4, 4);
    return !any_json_special(std::uint64_t{head} << 32 | tail);
  }
  for (std::size_t i = 0; i < n; ++i) {
    if (!json_plain[static_cast<unsigned char>(p[i])]) return false;
  }
  return true;
}

// The length of the well-formed UTF-8 sequence at text[i] (1 to 4), or 0 when the bytes there
// do not start one (RFC 3629 table 3-7: the second byte's range depends on the first).
std::size_t utf8_sequence(std::string_view text, std::size_t i) noexcept {
  const auto byte = [&](std::size_t k) { return static_cast<unsigned char>(text[k]); };
  const unsigned char b0 = byte(i);
  if (b0 < 0x80) return 1;
  std::size_t n = 0;
  unsigned char lo = 0x80, hi = 0xBF;
  if (b0 >= 0xC2 && b0 <= 0xDF) {
    n = 2;
  } else if (b0 >= 0xE0 && b0 <= 0xEF) {
    n = 3;
    if (b0 == 0xE0) lo = 0xA0;  // no overlong forms
    if (b0 == 0xED) hi = 0x9F;  // no surrogates
  } else if (b0 >= 0xF0 && b0 <= 0xF4) {
    n = 4;
    if (b0 == 0xF0) lo = 0x90;  // no overlong forms
    if (b0 == 0xF4) hi = 0x8F;  // nothing above U+10FFFF
  } else {
    return 0;
  }
  if (i + n > text.size()) return 0;
  if (byte(i + 1) < lo || byte(i + 1) > hi) return 0;
  for (std::size_t k = 2; k < n; ++k) {
    if (byte(i + k) < 0x80 || byte(i + k) > 0xBF) return 0;
  }
  return n;
}

void append_percent(std::string& out, unsigned char byte) {
  out.push_back('%');
  out.push_back(hex_digits[byte >> 4]);
  out.push_back(hex_digits[byte & 0xF]);
}

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

}  // namespace

bool valid_utf8(std::string_view text) noexcept {
  for (std::size_t i = 0; i < text.size();) {
    const auto n = utf8_sequence(text, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

namespace {

// append_json_string_contents from `i`, the first byte that is not plain: runs of plain
// bytes are still appended whole.
[[gnu::noinline]] void append_json_escaped(std::string& out, std::string_view text, std::size_t i) {
  std::size_t run = 0;
  for (;;) {
    i = plain_run_end(text, i);
    if (i == text.size()) break;
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      if (const auto n = utf8_sequence(text, i); n > 0) {
        i += n;
        continue;
      }
    }
    out.append(text.substr(run, i - run));
    ++i;
    run = i;
    switch (byte) {
      case '"':
        out.append("\\\"");
        break;
      case '\\':
        out.append("\\\\");
        break;
      case '\n':
        out.append("\\n");
        break;
      case '\r':
        out.append("\\r");
        break;
      case '\t':
        out.append("\\t");
        break;
      default:
        if (byte >= 0x80) {
          out.append("\xEF\xBF\xBD");  // U+FFFD REPLACEMENT CHARACTER
        } else {
          constexpr std::string_view lower_hex = "0123456789abcdef";
          out.append("\\u00");
          out.push_back(lower_hex[byte >> 4]);
          out.push_back(lower_hex[byte & 0xF]);
        }
    }
  }
  out.append(text.substr(run));
}

}  // namespace

bool json_plain(std::string_view text) noexcept { return all_json_plain(text); }

void append_json_string_contents(std::string& out, std::string_view text) {
  // Most values are plain ASCII: one scan, one append, and a call small enough to be cheap;
  // the rest (escapes, UTF-8 checks) is out of line.
  if (all_json_plain(text)) {
    out.append(text);
  } else {
    append_json_escaped(out, text, 0);
  }
}

std::optional<std::string> header_value(std::string_view text, std::size_t max_bytes) {
  std::string out;
  out.reserve(text.size());
  for (const char c : text) {
    const auto byte = static_cast<unsigned char>(c);
    if (byte >= 0x20 && byte <= 0x7E && byte != '%') {
      out.push_back(c);
    } else {
      append_percent(out, byte);
    }
    if (out.size() > max_bytes) return std::nullopt;
  }
  return out;
}

std::optional<std::string> file_name(std::string_view key, std::size_t max_bytes) {
  std::string out;
  out.reserve(key.size());
  for (const char c : key) {
    const bool keep = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                      c == '-' || c == '_';
    if (keep) {
      out.push_back(c);
    } else {
      append_percent(out, static_cast<unsigned char>(c));
    }
    if (out.size() > max_bytes) return std::nullopt;
  }
  if (out.empty()) return std::nullopt;
  return out;
}

bool mllp_payload_ok(std::string_view payload) noexcept {
  return payload.find('\x0B') == std::string_view::npos &&
         payload.find('\x1C') == std::string_view::npos;
}

bool fhir_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '.';
    if (!ok) return false;
  }
  return true;
}

std::optional<std::string> percent_decode(std::string_view text, bool plus_is_space) {
  std::string out;
  out.reserve(text.size());
  for (std::size_t i = 0; i < text.size(); ++i) {
    const char c = text[i];
    if (c == '%') {
      if (i + 2 >= text.size()) return std::nullopt;
      const int high = hex_value(text[i + 1]);
      const int low = hex_value(text[i + 2]);
      if (high < 0 || low < 0) return std::nullopt;
      out.push_back(static_cast<char>(high * 16 + low));
      i += 2;
    } else if (c == '+' && plus_is_space) {
      out.push_back(' ');
    } else {
      out.push_back(c);
    }
  }
  if (!valid_utf8(out)) return std::nullopt;
  return out;
}

void append_html_escaped(std::string& out, std::string_view text) {
  std::size_t run = 0;
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    const bool special = byte == '&' || byte == '<' || byte == '>' || byte == '"' || byte == '\'';
    const bool control =
        (byte < 0x20 && byte != '\t' && byte != '\r' && byte != '\n') || byte == 0x7F;
    if (byte < 0x80 && !special && !control) {
      ++i;
      continue;
    }
    if (byte >= 0x80) {
      if (const auto n = utf8_sequence(text, i); n > 0) {
        i += n;
        continue;
      }
    }
    out.append(text.substr(run, i - run));
    ++i;
    run = i;
    switch (byte) {
      case '&':
        out.append("&amp;");
        break;
      case '<':
        out.append("&lt;");
        break;
      case '>':
        out.append("&gt;");
        break;
      case '"':
        out.append("&quot;");
        break;
      case '\'':
        out.append("&#39;");
        break;
      default:
        out.append("\xEF\xBF\xBD");  // U+FFFD: a control or a byte outside UTF-8
    }
  }
  out.append(text.substr(run));
}

std::string html_escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  append_html_escaped(out, text);
  return out;
}

void append_csv_field(std::string& out, std::string_view text) {
  std::string clean;
  clean.reserve(text.size() + 1);
  if (!text.empty() && (text[0] == '=' || text[0] == '+' || text[0] == '-' || text[0] == '@' ||
                        text[0] == '\t' || text[0] == '\r')) {
    clean.push_back('\'');
  }
  for (std::size_t i = 0; i < text.size();) {
    const auto byte = static_cast<unsigned char>(text[i]);
    if (byte >= 0x80) {
      if (const auto n = utf8_sequence(text, i); n > 0) {
        clean.append(text.substr(i, n));
        i += n;
      } else {
        clean.append("\xEF\xBF\xBD");
        ++i;
      }
      continue;
    }
    clean.push_back(static_cast<char>(byte));
    ++i;
  }
  if (clean.find_first_of(",\"\r\n") == std::string::npos) {
    out.append(clean);
    return;
  }
  out.push_back('"');
  for (const char c : clean) {
    if (c == '"') out.push_back('"');
    out.push_back(c);
  }
  out.push_back('"');
}

}  // namespace covgate::boundary
