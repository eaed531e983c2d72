// The envelope followed by its delimiters alone: ISA gives the element separator (the byte
// after "ISA") and the segment terminator (the byte after ISA16); segments are then cut at the
// terminator. Nothing inside the groups is read, so this is cheap and never depends on the 837
// or 277 structure.
#include "covgate/x12/envelope_edit.hpp"

#include <algorithm>
#include <array>
#include <cctype>
#include <optional>

namespace covgate::x12 {
namespace {

struct isa_header {
  char separator = '*';
  char terminator = '~';
  std::size_t control_at = 0;  // ISA13
  std::size_t control_len = 0;
  std::size_t end = 0;  // one past the ISA's terminator
};

bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }

// An ISA at `at` with its sixteen elements, within the 106 bytes of a standard header plus
// room for a lenient sender's padding.
std::optional<isa_header> read_isa(std::string_view s, std::size_t at) {
  constexpr std::size_t longest_header = 256;
  if (s.substr(at, 3) != "ISA" || at + 4 > s.size()) return std::nullopt;
  isa_header h;
  h.separator = s[at + 3];
  const auto sep = static_cast<unsigned char>(h.separator);
  if (std::isalnum(sep) != 0 || std::isspace(sep) != 0) return std::nullopt;
  std::array<std::size_t, 17> found{};
  std::size_t count = 0;
  const auto limit = std::min(s.size(), at + longest_header);
  for (std::size_t i = at + 3; i < limit && count < 16; ++i) {
    if (s[i] == h.separator) found[++count] = i;
  }
  // ISA16 is one byte after the sixteenth separator; the terminator follows it.
  if (count < 16 || found[16] + 2 >= s.size()) return std::nullopt;
  h.terminator = s[found[16] + 2];
  h.control_at = found[13] + 1;
  h.control_len = found[14] - found[13] - 1;
  h.end = found[16] + 3;
  return h;
}

// Blanks between segments, unless a blank is the terminator itself: the same bytes the
// segment reader skips before a segment (segment_reader::is_blank), so that an interchange the
// reader accepts is one this editor can follow.
std::size_t skip_breaks(std::string_view s, std::size_t at, char terminator) {
  const auto blank = [](char c) {
    return c == ' ' || c == '\r' || c == '\n' || c == '\t' || c == '\f' || c == '\v';
  };
  while (at < s.size() && blank(s[at]) && s[at] != terminator) ++at;
  return at;
}

// Calls `visit(begin, end)` for each segment after the ISA until it returns true or the
// input ends; returns where the segment it stopped at ends (past its terminator), or npos.
template <class Visit>
std::size_t walk_segments(std::string_view s, const isa_header& h, Visit&& visit) {
  std::size_t at = skip_breaks(s, h.end, h.terminator);
  while (at < s.size()) {
    const auto end = s.find(h.terminator, at);
    if (end == std::string_view::npos) return std::string_view::npos;
    if (visit(at, end)) return end + 1;
    at = skip_breaks(s, end + 1, h.terminator);
  }
  return std::string_view::npos;
}

bool segment_is(std::string_view s, std::size_t begin, std::size_t end, std::string_view id,
                char separator) {
  return end - begin > id.size() && s.substr(begin, id.size()) == id &&
         s[begin + id.size()] == separator;
}

// Where the IEA segment starts and ends (past its terminator), or nullopt.
std::optional<std::pair<std::size_t, std::size_t>> find_iea(std::string_view s,
                                                            const isa_header& h) {
  std::size_t iea = std::string_view::npos;
  const auto end = walk_segments(s, h, [&](std::size_t b, std::size_t e) {
    if (!segment_is(s, b, e, "IEA", h.separator)) return false;
    iea = b;
    return true;
  });
  if (end == std::string_view::npos) return std::nullopt;
  return std::pair{iea, end};
}

}  // namespace

std::vector<std::string_view> split_interchanges(std::string_view stream) {
  std::vector<std::string_view> pieces;
  std::size_t start = 0;
  auto isa_at = stream.find("ISA");
  while (start < stream.size()) {
    const auto rest = isa_at == std::string_view::npos ? std::string_view() : stream.substr(isa_at);
    const auto header = rest.empty() ? std::nullopt : read_isa(rest, 0);
    const auto iea = header ? find_iea(rest, *header) : std::nullopt;
    if (!iea) {
      // What cannot be followed, or what trails the last interchange, stays whole: with the
      // last piece when it is only what follows one.
      if (isa_at == std::string_view::npos && !pieces.empty()) {
        const auto begin = static_cast<std::size_t>(pieces.back().data() - stream.data());
        pieces.back() = stream.substr(begin);
      } else {
        pieces.push_back(stream.substr(start));
      }
      break;
    }
    auto end = isa_at + iea->second;
    if (end < stream.size() && stream[end] == '\r') ++end;
    if (end < stream.size() && stream[end] == '\n') ++end;
    pieces.push_back(stream.substr(start, end - start));
    start = end;
    isa_at = stream.find("ISA", start);
  }
  return pieces;
}

std::string_view first_functional_id(std::string_view interchange) {
  const auto isa_at = interchange.find("ISA");
  if (isa_at == std::string_view::npos) return {};
  const auto s = interchange.substr(isa_at);
  const auto h = read_isa(s, 0);
  if (!h) return {};
  std::string_view id;
  (void)walk_segments(s, *h, [&](std::size_t b, std::size_t e) {
    if (segment_is(s, b, e, "IEA", h->separator)) return true;
    if (!segment_is(s, b, e, "GS", h->separator)) return false;
    const auto value = s.substr(b + 3, e - b - 3);
    id = value.substr(0, value.find(h->separator));
    return true;
  });
  return id;
}

bool set_interchange_control(std::string& interchange, std::string_view control) {
  if (control.size() != 9 || !std::all_of(control.begin(), control.end(), is_digit)) return false;
  const auto isa_at = std::string_view(interchange).find("ISA");
  if (isa_at == std::string_view::npos) return false;
  const std::string_view s = std::string_view(interchange).substr(isa_at);
  const auto h = read_isa(s, 0);
  if (!h || h->control_len != 9) return false;
  const auto iea = find_iea(s, *h);
  if (!iea) return false;
  // IEA02: after the second separator, up to the terminator.
  const auto iea_end = iea->second - 1;  // the terminator
  const auto first = s.find(h->separator, iea->first);
  const auto second = s.find(h->separator, first + 1);
  if (second == std::string_view::npos || second > iea_end || iea_end - second - 1 != 9) {
    return false;
  }
  interchange.replace(isa_at + h->control_at, 9, control);
  interchange.replace(isa_at + second + 1, 9, control);
  return true;
}

}  // namespace covgate::x12
