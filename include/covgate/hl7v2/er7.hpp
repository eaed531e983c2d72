// The HL7 v2 ER7 ("pipe and hat") encoding: delimiters from MSH-1/MSH-2, segments, fields,
// repetitions, components, subcomponents, escape sequences, character sets and DTM times.
// Everything here works on views into the caller's buffer: splitting never allocates, and an
// escape sequence is decoded only when the value holds the escape character. Pure; no
// recursion; every loop is bounded by the length of its input.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/model/facts.hpp"

namespace covgate::hl7v2 {

/// The five encoding characters of a message.
struct delimiters {
  char field = '|';
  char component = '^';
  char repetition = '~';
  char escape = '\\';
  char subcomponent = '&';
  char truncation = 0;  ///< v2.7+ fifth character (usually '#'), 0 when absent
  friend bool operator==(const delimiters&, const delimiters&) = default;
};

/// Reads the delimiters of a segment that declares them (MSH, BHS, FHS): the byte after the
/// segment id is the field separator, the text up to the next one is MSH-2 (1 to 5 characters;
/// the absent ones take their defaults when those are not already used). nullopt when the
/// separator is missing, a letter, digit, space, CR or LF, or when two delimiters repeat.
[[nodiscard]] std::optional<delimiters> delimiters_of(std::string_view header_segment) noexcept;

/// The text up to the first CR or LF (the first line).
[[nodiscard]] std::string_view first_line(std::string_view text) noexcept;

/// The n-th part (1-based) of `text` split at `separator`; "" when there are fewer parts.
[[nodiscard]] std::string_view part(std::string_view text, char separator, std::size_t n) noexcept;

/// Splits `text` at `separator` into at most `max` parts written to `out` (the rest of the text
/// is not read); returns how many. One pass: for a CWE's six components at once.
std::size_t split(std::string_view text, char separator, std::string_view* out,
                  std::size_t max) noexcept;

/// The fields of one segment, indexed once, in HL7 numbering: for MSH, BHS and FHS field 1 is
/// the field separator and field 2 the encoding characters; for every other segment field 1 is
/// the text after the first separator. Fields past `max_fields` are not indexed (the readers
/// use none: PV1-52 is the highest they read). Holds views into the segment.
class field_index {
 public:
  static constexpr std::size_t max_fields = 64;

  field_index() = default;
  field_index(std::string_view segment, const delimiters& d) noexcept { reset(segment, d); }
  void reset(std::string_view segment, const delimiters& d) noexcept;

  /// Field n (1-based); "" when absent.
  [[nodiscard]] std::string_view operator[](std::size_t n) const noexcept {
    return n < count_ && n < max_fields ? std::string_view{fields_[n].data, fields_[n].size}
                                        : std::string_view{};
  }
  /// The segment id (the text before the first separator).
  [[nodiscard]] std::string_view id() const noexcept { return (*this)[0]; }
  /// Number of fields indexed, the segment id included.
  [[nodiscard]] std::size_t count() const noexcept { return count_; }

 private:
  struct span {
    const char* data;
    std::size_t size;
  };
  void set(std::string_view v) noexcept { fields_[count_++] = {v.data(), v.size()}; }
  span fields_[max_fields];  // left uninitialized: only the first count_ are ever read
  std::size_t count_ = 0;
};

/// One segment of a message.
struct segment_view {
  std::string_view text;   ///< without its terminator
  std::uint32_t line = 0;  ///< 1-based line of the message text it starts on
};

/// Splits `text` into segments. The terminator is CR; when the text holds no CR at all it is
/// LF (so a CRLF or an LF file reads too). LFs at the start of a segment (CRLF, blank lines)
/// are skipped, empty segments are skipped, and an LF inside a CR-terminated segment stays data.
/// Returns false, with `out` holding the first `max_segments`, when there are more.
bool split_segments(std::string_view text, std::vector<segment_view>& out,
                    std::size_t max_segments);

/// True when `text` holds the escape character (so unescape() has work to do).
[[nodiscard]] inline bool has_escape(std::string_view text, const delimiters& d) noexcept {
  return text.find(d.escape) != std::string_view::npos;
}

/// Decodes the escape sequences of `text`: \F\ \S\ \T\ \R\ \E\ (and \P\, the truncation
/// character) become the delimiters, \Xhh…\ the bytes it spells (as UTF-8 when `latin1` says the
/// message was ISO 8859-1), \.br\ a line feed. Anything else (\H\, \N\, \Zxx\, \Cxxyy\, other
/// formatting commands, a lone escape character) is kept verbatim. Returns `text` itself when
/// it holds no escape character, else a view of `scratch`.
[[nodiscard]] std::string_view unescape(std::string_view text, const delimiters& d,
                                        std::string& scratch, bool latin1 = false);

/// Writes `value` with every delimiter, CR and LF escaped (\F\ \S\ \R\ \E\ \T\ \X0D\ \X0A\),
/// for a field covgate writes into a message.
void escape_into(std::string& out, std::string_view value, const delimiters& d);

/// MSH-18 character sets covgate reads (HL7 table 0211).
enum class charset : std::uint8_t {
  ascii,    ///< empty or "ASCII": 7-bit; 8-bit bytes are read as UTF-8 when valid, else 8859-1
  latin1,   ///< "8859/1" (and "8859/15", whose few differences covgate ignores)
  utf8,     ///< "UNICODE UTF-8"
  unknown,  ///< any other name: read like ascii, with a warning
};
[[nodiscard]] charset charset_named(std::string_view msh18) noexcept;

/// True when `text` is valid UTF-8 (no overlong forms, no surrogates, nothing past U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view text) noexcept;
/// True when every byte is below 0x80.
[[nodiscard]] bool is_ascii(std::string_view text) noexcept;
/// Appends `text`, read as ISO 8859-1, to `out` as UTF-8.
void latin1_to_utf8(std::string_view text, std::string& out);

/// Parses an HL7 DTM/TS value, YYYY[MM[DD[HH[MM[SS[.S…]]]]]][+/-ZZZZ] (a TS's degree of
/// precision, after a component separator, must already be cut off). The day is the calendar
/// date as written; the instant is UTC when an offset is given, the local time as sent when not
/// (as parse_fhir_datetime reads a FHIR dateTime). A value with a date and no time is taken at
/// the start of that day and its offset is ignored. nullopt when malformed.
[[nodiscard]] std::optional<model::moment> parse_dtm(std::string_view text) noexcept;

/// An HL7 DTM as the text the fact index versions by (model::older_version compares text):
/// ISO 8601, in UTC ("…Z") when an offset is given, as sent otherwise, with the precision sent
/// ("2026-03-12", "2026-03-12T15:15:30Z"). "" when malformed.
[[nodiscard]] std::string dtm_to_iso(std::string_view text);

/// Parses a decimal number as HL7 NM writes it: optional sign, digits, optional decimal point
/// and digits (no exponent), blanks around allowed. nullopt otherwise.
[[nodiscard]] std::optional<double> parse_number(std::string_view text) noexcept;

}  // namespace covgate::hl7v2
