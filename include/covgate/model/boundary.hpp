// The one place where untrusted text (claim ids, FHIR ids, reviewer names, anything a sender
// wrote) becomes part of something with a grammar of its own: a JSON string, an HTTP header
// value, a file name, an MLLP frame, a URL path segment. Every function here is total on any
// bytes (CR, LF, NUL, 0x0B, 0x1C, invalid UTF-8, any length) and either encodes the text so it
// cannot break out of its context, or says no. Pure, no allocation beyond the result.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace covgate::boundary {

/// True when `text` is well-formed UTF-8 (RFC 3629: no overlong forms, no surrogates, nothing
/// above U+10FFFF).
[[nodiscard]] bool valid_utf8(std::string_view text) noexcept;

/// Appends `text` as the contents of a JSON string (RFC 8259), without the quotes: quotes,
/// backslashes and control characters escaped, and every byte that is not part of well-formed
/// UTF-8 replaced by U+FFFD, so the output is always valid JSON in valid UTF-8.
void append_json_string_contents(std::string& out, std::string_view text);
/// True when append_json_string_contents() would append `text` as it is (printable ASCII
/// other than '"' and '\\'): a writer can then copy it in one piece with what surrounds it.
[[nodiscard]] bool json_plain(std::string_view text) noexcept;

/// Appends `text` as HTML text or a quoted attribute value: '&', '<', '>', '"' and '\'' become
/// character references, controls other than tab, CR and LF and every byte that is not part of
/// well-formed UTF-8 become U+FFFD, so the text can neither open a tag nor leave an attribute.
void append_html_escaped(std::string& out, std::string_view text);
/// append_html_escaped() into a new string.
[[nodiscard]] std::string html_escaped(std::string_view text);

/// Appends `text` as one CSV field (RFC 4180): quoted when it holds a comma, a quote, CR or LF
/// (quotes doubled); a field starting with '=', '+', '-', '@', tab or CR gets a leading '\''
/// so a spreadsheet never reads it as a formula; invalid UTF-8 becomes U+FFFD.
void append_csv_field(std::string& out, std::string_view text);

/// An HTTP header field value (RFC 9110 field-value) for `text`: visible ASCII and spaces
/// are kept, every other byte (CR, LF, NUL, controls, non-ASCII) and '%' itself become %XX,
/// so the value cannot end the header or start another, and the encoding is reversible.
/// nullopt when the encoded value would be longer than `max_bytes`.
[[nodiscard]] std::optional<std::string> header_value(std::string_view text,
                                                      std::size_t max_bytes = 1024);

/// A file name component for `key`: letters, digits, '-' and '_' are kept and every other
/// byte becomes %XX (so '.', '/', '%' and controls never appear raw: no hidden files, no
/// "..", no path separators). Injective: two different keys never give the same name.
/// nullopt when the name would be longer than `max_bytes` (file systems allow 255).
[[nodiscard]] std::optional<std::string> file_name(std::string_view key,
                                                   std::size_t max_bytes = 200);

/// True when `payload` can travel in an MLLP frame: it holds neither the start block (0x0B)
/// nor the end block (0x1C), which MLLP has no way to escape.
[[nodiscard]] bool mllp_payload_ok(std::string_view payload) noexcept;

/// True when `id` matches the FHIR R4 id datatype: [A-Za-z0-9\-\.]{1,64}.
[[nodiscard]] bool fhir_id(std::string_view id) noexcept;

/// Decodes one URL path segment or query value (RFC 3986 percent-encoding; with
/// `plus_is_space`, '+' is a space as in HTML forms). nullopt when a '%' is not followed by
/// two hex digits or the result is not valid UTF-8.
[[nodiscard]] std::optional<std::string> percent_decode(std::string_view text,
                                                        bool plus_is_space = false);

}  // namespace covgate::boundary
