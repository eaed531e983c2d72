#include "covgate/x12/interchange_reader.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <optional>
#include <set>
#include <utility>

#include "claim_walker.hpp"
#include "schema_837.hpp"

namespace covgate::x12 {
namespace {

// A 64-bit hash over each segment's bytes, eight at a time (the reader's hot path pays about
// a multiply per word), then a separator: the digest of an interchange's content whatever its
// line breaks and however it was split into reads. Stored, so it must not change.
constexpr std::uint64_t fnv_offset_basis = 14695981039346656037ull;
std::uint64_t digest_segment(std::uint64_t h, std::string_view text) noexcept {
  constexpr std::uint64_t k = 0x9E3779B97F4A7C15ull;
  std::size_t i = 0;
  for (; i + 8 <= text.size(); i += 8) {
    std::uint64_t word = 0;
    std::memcpy(&word, text.data() + i, 8);
    h = (h ^ word) * k;
    h ^= h >> 29;
  }
  std::uint64_t tail = text.size() - i;  // the length of the tail keeps "A" and "A\0" apart
  for (; i < text.size(); ++i) tail = (tail << 8) | static_cast<unsigned char>(text[i]);
  h = (h ^ tail) * k;
  h ^= h >> 29;
  return (h ^ 0x1E) * k;
}

}  // namespace

std::uint32_t group_result::accepted_sets() const noexcept {
  return static_cast<std::uint32_t>(
      std::count_if(sets.begin(), sets.end(), [](const set_result& s) { return !s.rejected; }));
}

char group_result::ack_code() const noexcept {
  const auto accepted = accepted_sets();
  if (rejected || accepted == 0) return 'R';
  if (accepted < sets.size()) return 'P';
  const bool noted = !errors.empty() || std::any_of(sets.begin(), sets.end(), [](const auto& s) {
    return s.ack_code() == 'E';
  });
  return noted ? 'E' : 'A';
}

bool interchange_result::any_accepted() const noexcept {
  if (rejected) return false;
  return std::any_of(groups.begin(), groups.end(),
                     [](const group_result& g) { return !g.rejected && g.accepted_sets() > 0; });
}

namespace {

std::string_view trim(std::string_view text);

constexpr std::array<leniency_name, 7> leniency_table{{
    {leniency::hl_chain, "hl-chain"},
    {leniency::hi_split, "hi-split"},
    {leniency::clm05, "clm05"},
    {leniency::rd8_single_date, "rd8-single-date"},
    {leniency::segment_repeats, "segment-repeats"},
    {leniency::isa11_letter, "isa11-letter"},
    {leniency::counts, "counts"},
}};

}  // namespace

std::span<const leniency_name> leniency_names() noexcept { return leniency_table; }

std::optional<leniency> parse_leniency(std::string_view list, std::string* unknown) {
  leniency out = leniency::none;
  while (!list.empty()) {
    const auto cut = list.find(',');
    const auto name = list.substr(0, cut);
    list.remove_prefix(cut == std::string_view::npos ? list.size() : cut + 1);
    if (name.empty()) continue;
    if (name == "all") {
      for (const auto& l : leniency_table) out = out | l.value;
      continue;
    }
    const auto* it = std::find_if(leniency_table.begin(), leniency_table.end(),
                                  [&](const leniency_name& l) { return l.name == name; });
    if (it == leniency_table.end()) {
      if (unknown) unknown->assign(name);
      return std::nullopt;
    }
    out = out | it->value;
  }
  return out;
}

std::string interchange_result::sender_control() const {
  return sender_qualifier + '/' + std::string(trim(sender_id)) + '/' + control;
}

namespace {

std::string_view trim(std::string_view text) {
  while (!text.empty() && text.back() == ' ') text.remove_suffix(1);
  while (!text.empty() && text.front() == ' ') text.remove_prefix(1);
  return text;
}

std::uint32_t to_count(std::string_view text, bool& ok) {
  std::uint32_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  ok = ec == std::errc{} && end == text.data() + text.size() && !text.empty();
  return value;
}

bool all_digits(std::string_view text) {
  return !text.empty() &&
         std::all_of(text.begin(), text.end(), [](char c) { return c >= '0' && c <= '9'; });
}

// The implementation guides this reader maps, with their published errata.
std::optional<model::claim_kind> implementation_kind(std::string_view guide) {
  if (guide == "005010X222A1" || guide == "005010X222A2") return model::claim_kind::professional;
  if (guide == "005010X223A2" || guide == "005010X223A3") return model::claim_kind::institutional;
  return std::nullopt;
}

}  // namespace

struct interchange_reader::impl {
  impl(reader_sink& sink_in, reader_options options_in)
      : sink(sink_in),
        options(options_in),
        tokenizer(options.limits),
        walker(
            options, [this](const model::claim& c) { sink.on_claim(c); },
            [this] { return sink.claim_slot(); }) {}

  enum class where_in : std::uint8_t { outside, interchange, group, set };

  reader_sink& sink;
  reader_options options;
  segment_reader tokenizer;
  claim_walker walker;
  where_in at = where_in::outside;
  interchange_result current;
  bool interchange_open = false;
  bool skip_interchange = false;        // header rejected: ignore up to IEA
  std::set<std::string> seen_controls;  // sender + ISA13
  std::set<std::string> group_set_controls;
  std::uint32_t set_position = 0;
  bool set_supported = false;
  model::envelope_ref envelope;

  // segment_reader handler ------------------------------------------------------------------
  void on_reader_error(const reader_event& event) {
    if (event.code == error::interchange_trailer_missing && interchange_open) {
      current.errors.push_back(event.code);
      current.rejected = true;
      end_interchange();
      return;
    }
    // A header that could not be read, bytes between interchanges, no ISA at all: there is
    // no open interchange to attach it to, so it gets a TA1 of its own.
    begin_failed_interchange(event);
  }

  void begin_failed_interchange(const reader_event& event) {
    if (interchange_open) end_interchange();
    current = {};
    current.where = event.where;
    current.control = "000000000";
    current.errors.push_back(event.code);
    current.rejected = true;
    sink.on_interchange_end(current);
    current = {};
  }

  void on_segment(const segment& seg) {
    const auto id = seg.id();
    const auto key = seg.key();
    if (key == segment_key("ISA")) {
      begin_interchange(seg);
      current.content_digest = digest_segment(fnv_offset_basis, seg.text());
      return;
    }
    if (!interchange_open) return;  // tokenizer only yields segments inside an interchange
    current.content_digest = digest_segment(current.content_digest, seg.text());
    if (key == segment_key("IEA")) return end_interchange_at(seg);
    if (skip_interchange) return;
    if (key == segment_key("GS")) return begin_group(seg);
    if (key == segment_key("GE")) return end_group_at(seg);
    if (key == segment_key("ST")) return begin_set(seg);
    if (key == segment_key("TA1") && at == where_in::interchange) return;  // sent to us
    if (at != where_in::set) {
      if (std::find(current.errors.begin(), current.errors.end(),
                    error::invalid_control_structure) == current.errors.end()) {
        current.errors.push_back(error::invalid_control_structure);
      }
      return;
    }
    ++set_position;
    auto& set = current.groups.back().sets.back();
    if (set_position == options.max_segments_per_set + 1) {
      set.rejected = true;
      set.segments.push_back({std::string(id.substr(0, 3)),
                              set_position,
                              "",
                              "",
                              error::too_many_segments,
                              {},
                              seg.where()});
    }
    if (key == segment_key("SE")) return end_set_at(seg);
    if (set_supported && set_position <= options.max_segments_per_set) {
      walker.on_segment(seg, set_position);
    }
  }

  // interchange ---------------------------------------------------------------------------
  void begin_interchange(const segment& isa) {
    if (interchange_open) end_interchange();
    current = {};
    interchange_open = true;
    skip_interchange = false;
    at = where_in::interchange;
    current.where = isa.where();
    current.delims = isa.delims();
    current.repetition_letter_ignored = tokenizer.repetition_letter_ignored();
    current.sender_qualifier.assign(isa.element(5));
    current.sender_id.assign(isa.element(6));
    current.receiver_qualifier.assign(isa.element(7));
    current.receiver_id.assign(isa.element(8));
    current.date.assign(isa.element(9));
    current.time.assign(isa.element(10));
    current.version.assign(isa.element(12));
    current.control.assign(isa.element(13));
    current.ack_requested = isa.element(14) == "1";
    current.usage = isa.element(15).empty() ? 'P' : isa.element(15)[0];
    auto reject = [&](error e) {
      current.errors.push_back(e);
      current.rejected = true;
      skip_interchange = true;
    };
    if (current.version != "00501") return reject(error::unsupported_interchange_version);
    if (!all_digits(current.control)) return reject(error::invalid_interchange_control_number);
    // The guides' ISA code lists (005010X222A1/X223A2, ISA01..ISA15).
    constexpr std::string_view id_qualifiers = "01,14,20,27,28,29,30,33,ZZ";
    if (!schema::in_list("00,03", isa.element(1))) {
      return reject(error::invalid_authorization_qualifier);
    }
    if (!schema::in_list("00,01", isa.element(3))) return reject(error::invalid_security_qualifier);
    if (!schema::in_list(id_qualifiers, isa.element(5))) {
      return reject(error::invalid_sender_qualifier);
    }
    if (!schema::in_list(id_qualifiers, isa.element(7))) {
      return reject(error::invalid_receiver_qualifier);
    }
    if (!schema::in_list("0,1", isa.element(14))) return reject(error::invalid_ack_requested);
    if (!schema::in_list("P,T", isa.element(15))) return reject(error::invalid_usage_indicator);
    if (current.repetition_letter_ignored && !has(options.lenient, leniency::isa11_letter)) {
      // ISA11 is the repetition separator under 00501; a letter cannot be a delimiter.
      return reject(error::invalid_repetition_separator);
    }
    auto key = current.sender_control();
    const bool known = options.known_interchange && options.known_interchange(key);
    if (!seen_controls.insert(std::move(key)).second || known) {
      reject(error::duplicate_interchange);
    }
    envelope = {};
    envelope.sender_qualifier = current.sender_qualifier;
    envelope.sender_id.assign(trim(current.sender_id));
    envelope.receiver_qualifier = current.receiver_qualifier;
    envelope.receiver_id.assign(trim(current.receiver_id));
    envelope.interchange_control = current.control;
    envelope.usage = current.usage;
  }

  void end_interchange_at(const segment& iea) {
    close_group_if_open();
    if (!skip_interchange) {
      bool ok = false;
      const auto declared = to_count(iea.element(1), ok);
      if (!ok || declared != current.groups.size()) {
        current.errors.push_back(error::group_count_mismatch);
        if (!options.counts_noted()) current.rejected = true;
      }
      if (iea.element(2) != current.control) {
        current.errors.push_back(error::interchange_control_mismatch);
        current.rejected = true;
      }
    }
    finish_interchange();
  }

  void end_interchange() {
    // Ended without IEA (a new ISA or the end of input).
    close_group_if_open();
    if (std::find(current.errors.begin(), current.errors.end(),
                  error::interchange_trailer_missing) == current.errors.end()) {
      current.errors.push_back(error::interchange_trailer_missing);
      current.rejected = true;
    }
    finish_interchange();
  }

  void finish_interchange() {
    interchange_open = false;
    at = where_in::outside;
    sink.on_interchange_end(current);
    current = {};
  }

  // group -----------------------------------------------------------------------------------
  void begin_group(const segment& gs) {
    close_group_if_open();
    at = where_in::group;
    auto& group = current.groups.emplace_back();
    group.functional_id.assign(gs.element(1));
    group.application_sender.assign(gs.element(2));
    group.application_receiver.assign(gs.element(3));
    group.control.assign(gs.element(6));
    group.version.assign(gs.element(8));
    group_set_controls.clear();
    envelope.group_control = group.control;
    envelope.application_sender = group.application_sender;
    envelope.application_receiver = group.application_receiver;
    if (group.functional_id != "HC") {
      group.errors.push_back(error::group_not_supported);
      group.rejected = true;
    } else if (!implementation_kind(group.version)) {
      group.errors.push_back(error::group_version_not_supported);
      group.rejected = true;
    }
  }

  void end_group_at(const segment& ge) {
    if (at == where_in::interchange || current.groups.empty()) {
      current.errors.push_back(error::invalid_control_structure);
      return;
    }
    close_set_if_open();
    auto& group = current.groups.back();
    bool ok = false;
    group.declared_sets = to_count(ge.element(1), ok);
    if (!ok || group.declared_sets != group.sets.size()) {
      group.errors.push_back(error::set_count_mismatch);
      if (!options.counts_noted()) group.rejected = true;
    }
    if (ge.element(2) != group.control) {
      group.errors.push_back(error::group_control_mismatch);
      group.rejected = true;
    }
    at = where_in::interchange;
  }

  void close_group_if_open() {
    close_set_if_open();
    if (at == where_in::group) {
      auto& group = current.groups.back();
      group.errors.push_back(error::group_trailer_missing);
      group.rejected = true;
      at = where_in::interchange;
    }
  }

  // set -------------------------------------------------------------------------------------
  void begin_set(const segment& st) {
    if (at == where_in::interchange || current.groups.empty()) {
      current.errors.push_back(error::invalid_control_structure);
      current.rejected = true;
      return;
    }
    close_set_if_open();
    at = where_in::set;
    set_position = 1;
    auto& group = current.groups.back();
    auto& set = group.sets.emplace_back();
    set.group_index = static_cast<std::uint32_t>(current.groups.size() - 1);
    set.id.assign(st.element(1));
    set.control.assign(st.element(2));
    set.implementation.assign(st.element(3).empty() ? std::string_view{group.version}
                                                    : st.element(3));
    set_supported = false;
    bool duplicate_control = false;
    if (!group_set_controls.insert(set.control).second) {
      set.errors.push_back(error::set_control_not_unique);
      duplicate_control = !options.counts_noted();
    }
    if (set.id != "837") {
      set.errors.push_back(error::set_not_supported);
    } else if (const auto kind = implementation_kind(set.implementation); !kind) {
      set.errors.push_back(error::implementation_not_supported);
    } else if (!group.rejected) {
      set_supported = true;
      envelope.set_control = set.control;
      envelope.implementation = set.implementation;
      walker.begin(*kind, envelope, set);
    }
    if (duplicate_control || !set_supported || group.rejected) set.rejected = true;
  }

  void end_set_at(const segment& se) {
    auto& set = current.groups.back().sets.back();
    set.segment_count = set_position;
    if (set_supported) walker.end(set_position);
    bool ok = false;
    const auto declared = to_count(se.element(1), ok);
    if (!ok || declared != set_position) {
      set.errors.push_back(error::segment_count_mismatch);
      if (!options.counts_noted()) set.rejected = true;
    }
    if (se.element(2) != set.control) {
      set.errors.push_back(error::set_control_mismatch);
      set.rejected = true;
    }
    if (std::any_of(set.segments.begin(), set.segments.end(),
                    [](const segment_finding& f) { return f.rejects; })) {
      set.errors.push_back(error::segments_in_error);
      set.rejected = true;
    }
    at = where_in::group;
    sink.on_set_end(set);
  }

  void close_set_if_open() {
    if (at != where_in::set) return;
    auto& set = current.groups.back().sets.back();
    set.segment_count = set_position;
    if (set_supported) walker.end(set_position);
    set.errors.push_back(error::set_trailer_missing);
    if (!set.segments.empty()) set.errors.push_back(error::segments_in_error);
    set.rejected = true;
    at = where_in::group;
    sink.on_set_end(set);
  }
};

interchange_reader::interchange_reader(reader_sink& sink, reader_options options)
    : impl_(std::make_unique<impl>(sink, options)) {}

interchange_reader::~interchange_reader() = default;

void interchange_reader::put(std::string_view bytes) { impl_->tokenizer.put(bytes, *impl_); }

void interchange_reader::finish() {
  impl_->tokenizer.finish(*impl_);
  if (impl_->interchange_open) impl_->end_interchange();
}

std::uint64_t interchange_reader::leading_bytes_skipped() const noexcept {
  return impl_->tokenizer.leading_bytes_skipped();
}

}  // namespace covgate::x12
