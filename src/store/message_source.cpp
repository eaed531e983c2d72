#include "covgate/store/message_source.hpp"

#include <algorithm>
#include <charconv>

namespace covgate::store {

namespace {

// Where the journal id of `source` is: the digits after the channel's ':' up to the next ':'
// or '#' (or the end). npos when it names none.
struct digits_at {
  std::size_t begin = std::string_view::npos;
  std::size_t end = std::string_view::npos;
};

digits_at journal_digits(std::string_view source) noexcept {
  if (source.starts_with("review:")) return {};
  const auto colon = source.find(':');
  if (colon == std::string_view::npos) return {};
  const auto begin = colon + 1;
  const auto end = std::min(source.find_first_of(":#", begin), source.size());
  if (end == begin) return {};
  for (auto i = begin; i < end; ++i) {
    if (source[i] < '0' || source[i] > '9') return {};
  }
  return {begin, end};
}

template <typename Number>
bool read_number(std::string_view text, Number& out) noexcept {
  if (text.empty()) return false;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  return ec == std::errc{} && end == text.data() + text.size();
}

}  // namespace

std::int64_t journal_id_of(std::string_view source) noexcept {
  const auto at = journal_digits(source);
  if (at.begin == std::string_view::npos) return 0;
  std::int64_t id = 0;
  // More digits than an id has is no id (a journal id is at most 19 digits).
  return read_number(source.substr(at.begin, at.end - at.begin), id) ? id : 0;
}

std::optional<stream_origin> stream_origin_of(std::string_view source) noexcept {
  constexpr std::string_view prefix = "nats.";
  if (!source.starts_with(prefix)) return std::nullopt;
  const auto channel = source.substr(prefix.size(), source.find(':') - prefix.size());
  const auto dot = channel.find('.');
  if (dot == std::string_view::npos) return std::nullopt;
  stream_origin origin;
  if (!read_number(channel.substr(0, dot), origin.partition) ||
      !read_number(channel.substr(dot + 1), origin.sequence)) {
    return std::nullopt;
  }
  return origin;
}

std::string stream_channel(stream_origin origin) {
  return "nats." + std::to_string(origin.partition) + "." + std::to_string(origin.sequence);
}

std::string stream_peer(stream_origin origin) {
  return "part-" + std::to_string(origin.partition) + ":" + std::to_string(origin.sequence);
}

std::string without_journal_id(std::string_view source) {
  const auto at = journal_digits(source);
  if (at.begin == std::string_view::npos) return std::string(source);
  std::string out(source.substr(0, at.begin));
  out += '0';
  out += source.substr(at.end);
  return out;
}

}  // namespace covgate::store
