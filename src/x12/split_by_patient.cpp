// split_by_patient: the 837 reader vouches for the input, one tokenizing pass indexes its loops,
// and each part is assembled from byte ranges of the input with only the counted segments (HL,
// SE, GE, IEA) and ISA13 rewritten.
#include "covgate/x12/split_by_patient.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstdint>
#include <optional>
#include <unordered_map>

#include "covgate/x12/segment_reader.hpp"

namespace covgate::x12 {
namespace {

// ---- validation by the reader ----------------------------------------------------------------

struct verdict_sink final : reader_sink {
  std::vector<interchange_result> interchanges;
  void on_claim(const model::claim& /*claim*/) override {}
  void on_interchange_end(const interchange_result& result) override {
    interchanges.push_back(result);
  }
};

std::string where_text(const location& where) {
  return "segment " + std::to_string(where.ordinal) + " (byte offset " +
         std::to_string(where.offset) + ", line " + std::to_string(where.line) + ")";
}

// Finds where the `wanted`-th ST (0-based) of the input is. The reader reports set-level errors
// (a miscounted SE01) without a location, and a refusal should say where to look; this runs only
// on that path, so a second tokenizing pass costs nothing that matters.
class st_locator {
 public:
  explicit st_locator(std::size_t wanted) : wanted_(wanted) {}
  void on_reader_error(const reader_event& /*event*/) {}
  void on_segment(const segment& seg) {
    if (seg.is("ST") && seen_++ == wanted_) found_ = seg.where();
  }
  [[nodiscard]] const std::optional<location>& found() const noexcept { return found_; }

 private:
  std::size_t wanted_;
  std::size_t seen_ = 0;
  std::optional<location> found_;
};

std::optional<location> locate_st(std::string_view input, const reader_limits& limits,
                                  std::size_t set_index) {
  st_locator locator(set_index);
  segment_reader tokenizer(limits);
  tokenizer.put(input, locator);
  tokenizer.finish(locator);
  return locator.found();
}

// Why the reader refused the set, from its first rejecting finding (ids, positions and codes).
std::string set_refusal(std::string_view input, const reader_options& options,
                        const set_result& set, std::size_t set_index) {
  std::string text = "transaction set " + std::to_string(set_index) + " (ST02 " + set.control;
  if (const auto st = locate_st(input, options.limits, set_index))
    text += ", ST at " + where_text(*st);
  text += ") was rejected by the 837 reader";
  for (const auto& finding : set.segments) {
    if (!finding.rejects) continue;
    return text + ": " + finding.segment_id + " at position " + std::to_string(finding.position) +
           " of the set, " + where_text(finding.where) + ": " + std::string(describe(finding.code));
  }
  if (!set.errors.empty()) text += ": " + std::string(describe(set.errors.front()));
  return text;
}

// "" when the reader accepts every part of the input; otherwise the first reason it did not.
std::string refusal_by_reader(std::string_view input, const reader_options& options) {
  verdict_sink sink;
  {
    interchange_reader reader(sink, options);
    reader.put(input);
    reader.finish();
  }
  if (sink.interchanges.size() != 1) {
    return "the input holds " + std::to_string(sink.interchanges.size()) +
           " interchanges; split_by_patient takes exactly one";
  }
  const auto& result = sink.interchanges.front();
  if (result.rejected) {
    std::string text =
        "the interchange (ISA at " + where_text(result.where) + ") was rejected by the 837 reader";
    if (!result.errors.empty()) text += ": " + std::string(describe(result.errors.front()));
    return text;
  }
  std::size_t set_index = 0;
  for (const auto& group : result.groups) {
    if (group.rejected) {
      std::string text =
          "the functional group with GS06 " + group.control + " was rejected by the 837 reader";
      if (!group.errors.empty()) text += ": " + std::string(describe(group.errors.front()));
      return text;
    }
    for (const auto& set : group.sets) {
      if (set.rejected) return set_refusal(input, options, set, set_index);
      ++set_index;
    }
  }
  return {};
}

// ---- the index of the input's loops ----------------------------------------------------------

// A range of the input; views of it are taken only once tokenizing is over, since the tokenizer
// hands some segments (the ISA, an unterminated last one) over in a buffer of its own.
struct span {
  std::size_t begin = 0;
  std::size_t size = 0;
};

enum class segment_kind : std::uint8_t { other, hl_provider, hl_subscriber, hl_patient };

// One per segment of the input, so kept to 16 bytes.
struct indexed_segment {
  std::uint64_t offset = 0;  // first byte of the segment's text
  std::uint32_t length = 0;  // text without terminator (bounded by reader_limits)
  segment_kind kind = segment_kind::other;
};
static_assert(sizeof(indexed_segment) == 16);

struct group_index {
  std::size_t gs = 0;
  span gs06;
  std::size_t ge = 0;
};

struct set_index {
  std::size_t group = 0;
  std::size_t st = 0;
  std::size_t first_hl = 0;  // end of the header (ST..1000B)
  std::size_t se = 0;
  span st02;
};

struct provider_loop {
  std::size_t set = 0;
  std::size_t begin = 0;  // its HL
  std::size_t end = 0;    // its first subscriber HL (or the next HL, SE)
};

struct subscriber_loop {
  std::size_t provider = 0;
  std::size_t begin = 0;  // its HL
  std::size_t end = 0;    // the next level 20 or 22 HL, or SE
  location where;         // of its HL, for a refusal
  std::optional<span> member_id;
  bool has_patients = false;
  bool claim_seen = false;  // an NM1*IL after CLM is another payer's subscriber (2330A)
};

struct interchange_index {
  std::vector<indexed_segment> segments;
  std::size_t isa = 0;
  span isa13;
  std::size_t iea = 0;
  std::vector<group_index> groups;
  std::vector<set_index> sets;
  std::vector<provider_loop> providers;
  std::vector<subscriber_loop> subscribers;
  std::string error;
};

// Tokenizer handler that builds the index. The reader has already accepted the input, so the
// checks here guard the index's own assumptions rather than the guide.
class indexer {
 public:
  explicit indexer(interchange_index& index) : index_(index) {}

  void on_reader_error(const reader_event& /*event*/) {}

  void on_segment(const segment& seg) {
    if (!index_.error.empty()) return;
    const std::size_t at = index_.segments.size();
    index_.segments.push_back(
        {seg.where().offset, static_cast<std::uint32_t>(seg.text().size()), segment_kind::other});
    if (seg.is("ISA")) {
      index_.isa = at;
      index_.isa13 = element_span(seg, 13);
    } else if (seg.is("GS")) {
      index_.groups.push_back({at, element_span(seg, 6), 0});
    } else if (seg.is("GE")) {
      if (!index_.groups.empty()) index_.groups.back().ge = at;
    } else if (seg.is("ST")) {
      open_set(seg, at);
    } else if (seg.is("SE")) {
      end_provider_segments(at);
      close_subscriber(at);
      if (in_set_) index_.sets.back().se = at;
      in_set_ = in_provider_ = false;
    } else if (seg.is("IEA")) {
      index_.iea = at;
    } else if (in_set_ && seg.is("HL")) {
      on_hl(seg, at);
    } else if (in_subscriber_ && seg.is("CLM")) {
      index_.subscribers.back().claim_seen = true;
    } else if (in_subscriber_ && seg.is("NM1") && seg.element(1) == "IL") {
      on_subscriber_name(seg);
    }
  }

 private:
  // Where element `n` of `seg` lies in the input.
  static span element_span(const segment& seg, std::uint32_t n) {
    const std::string_view value = seg.element(n);
    if (value.empty()) return {seg.where().offset, 0};
    return {seg.where().offset + static_cast<std::size_t>(value.data() - seg.text().data()),
            value.size()};
  }

  void fail(const segment& seg, std::string_view why) {
    index_.error =
        std::string(seg.id()) + " at " + where_text(seg.where()) + ": " + std::string(why);
  }

  void open_set(const segment& seg, std::size_t at) {
    if (index_.groups.empty()) return fail(seg, "a transaction set outside a functional group");
    index_.sets.push_back({index_.groups.size() - 1, at, 0, 0, element_span(seg, 2)});
    in_set_ = true;
    seen_hl_ = in_provider_ = in_subscriber_ = false;
  }

  void on_hl(const segment& seg, std::size_t at) {
    auto& set = index_.sets.back();
    if (!seen_hl_) set.first_hl = at;
    seen_hl_ = true;
    const std::string_view level = seg.element(3);
    // Loops are placed by HL03 and position, as the claim walker places them: a subscriber
    // belongs to the billing provider above it, a patient to the subscriber above it.
    if (level == "20") {
      end_provider_segments(at);
      close_subscriber(at);
      index_.providers.push_back({index_.sets.size() - 1, at, 0});
      in_provider_ = true;
      index_.segments[at].kind = segment_kind::hl_provider;
    } else if (level == "22") {
      if (!in_provider_) return fail(seg, "a subscriber HL (22) with no billing provider HL above");
      end_provider_segments(at);
      close_subscriber(at);
      index_.subscribers.push_back(
          {index_.providers.size() - 1, at, 0, seg.where(), {}, false, false});
      in_subscriber_ = true;
      index_.segments[at].kind = segment_kind::hl_subscriber;
    } else if (level == "23") {
      if (!in_subscriber_) return fail(seg, "a patient HL (23) with no subscriber HL above");
      index_.subscribers.back().has_patients = true;
      index_.segments[at].kind = segment_kind::hl_patient;
    } else {
      fail(seg, "an HL level (HL03) other than 20, 22 or 23");
    }
  }

  void on_subscriber_name(const segment& seg) {
    auto& subscriber = index_.subscribers.back();
    // The first NM1*IL of the loop before any patient HL or claim is 2010BA.
    if (subscriber.member_id || subscriber.has_patients || subscriber.claim_seen) return;
    if (seg.element(8) != "MI") return fail(seg, "a subscriber name (2010BA) without NM108 MI");
    span id = element_span(seg, 9);
    const std::string_view value = seg.element(9);
    const std::size_t first = value.find_first_not_of(' ');
    if (first == std::string_view::npos) {
      return fail(seg, "a subscriber name (2010BA) without a member id (NM109)");
    }
    const std::size_t last = value.find_last_not_of(' ');
    id.begin += first;
    id.size = last + 1 - first;
    subscriber.member_id = id;
  }

  // The provider loop's own segments (2010AA/AB/AC) end at its first subscriber HL.
  void end_provider_segments(std::size_t at) {
    if (in_provider_ && index_.providers.back().end == 0) index_.providers.back().end = at;
  }

  void close_subscriber(std::size_t at) {
    if (in_subscriber_) index_.subscribers.back().end = at;
    in_subscriber_ = false;
  }

  interchange_index& index_;
  bool in_set_ = false;
  bool seen_hl_ = false;
  bool in_provider_ = false;
  bool in_subscriber_ = false;
};

std::string index_refusal(const interchange_index& index) {
  if (!index.error.empty()) return index.error;
  if (index.segments.empty() || index.iea == 0) return "the input has no complete interchange";
  // The reader has vouched for the envelope; these hold for anything it accepts, and are checked
  // so that a gap between the two never writes a part from a half-built index.
  const bool open_group = std::any_of(index.groups.begin(), index.groups.end(),
                                      [](const group_index& g) { return g.ge == 0; });
  const bool open_set = std::any_of(index.sets.begin(), index.sets.end(),
                                    [](const set_index& s) { return s.se == 0; });
  const bool open_loop = std::any_of(index.subscribers.begin(), index.subscribers.end(),
                                     [](const subscriber_loop& s) { return s.end == 0; }) ||
                         std::any_of(index.providers.begin(), index.providers.end(),
                                     [](const provider_loop& p) { return p.end == 0; });
  if (open_group || open_set || open_loop) return "the input has a group, set or loop with no end";
  for (const auto& subscriber : index.subscribers) {
    if (!subscriber.member_id) {
      return "HL at " + where_text(subscriber.where) +
             ": a subscriber loop without a member id (2010BA NM108 MI, NM109)";
    }
  }
  return {};
}

// ---- grouping by patient ---------------------------------------------------------------------

char fold(char c) noexcept { return c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c; }

struct folded_hash {
  std::size_t operator()(std::string_view key) const noexcept {
    std::uint64_t hash = 14695981039346656037ull;  // FNV-1a over the upper-cased bytes
    for (const char c : key) hash = (hash ^ static_cast<unsigned char>(fold(c))) * 1099511628211ull;
    return static_cast<std::size_t>(hash);
  }
};

struct folded_equal {
  bool operator()(std::string_view a, std::string_view b) const noexcept {
    return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin(),
                                              [](char x, char y) { return fold(x) == fold(y); });
  }
};

struct patient_group {
  std::string_view key;
  std::vector<std::size_t> subscribers;  // in input order
};

std::vector<patient_group> group_by_patient(std::string_view input,
                                            const interchange_index& index) {
  std::vector<patient_group> patients;
  std::unordered_map<std::string_view, std::size_t, folded_hash, folded_equal> by_key;
  for (std::size_t s = 0; s < index.subscribers.size(); ++s) {
    const span id = *index.subscribers[s].member_id;
    const std::string_view key = input.substr(id.begin, id.size);
    const auto [it, added] = by_key.try_emplace(key, patients.size());
    if (added) patients.push_back({key, {}});
    patients[it->second].subscribers.push_back(s);
  }
  return patients;
}

// ---- writing a part --------------------------------------------------------------------------

class part_writer {
 public:
  part_writer(std::string_view input, const interchange_index& index, const delimiters& delims,
              std::string& out)
      : input_(input), index_(index), delims_(delims), out_(out) {}

  // Writes the part of `patient` numbered `control` and returns the input sets it used.
  std::vector<std::size_t> write(const patient_group& patient, std::string_view control) {
    std::vector<std::size_t> sets_used;
    write_isa(control);
    std::size_t groups = 0;
    std::optional<std::size_t> group, set, provider;
    std::size_t sets_in_group = 0;
    for (const std::size_t s : patient.subscribers) {
      const auto& subscriber = index_.subscribers[s];
      const auto& this_provider = index_.providers[subscriber.provider];
      const std::size_t this_set = this_provider.set;
      const std::size_t this_group = index_.sets[this_set].group;
      if (set != this_set) {
        if (set) close_set(*set);
        if (group != this_group) {
          if (group) close_group(*group, sets_in_group);
          open_group(this_group);
          group = this_group;
          ++groups;
          sets_in_group = 0;
        }
        open_set(this_set);
        set = this_set;
        sets_used.push_back(this_set);
        ++sets_in_group;
        provider.reset();
      }
      if (provider != subscriber.provider) {
        write_provider(this_provider);
        provider = subscriber.provider;
      }
      write_subscriber(subscriber);
    }
    if (set) close_set(*set);
    if (group) close_group(*group, sets_in_group);
    write_iea(groups, control);
    return sets_used;
  }

 private:
  std::string_view text(std::size_t segment) const {
    const auto& seg = index_.segments[segment];
    return input_.substr(seg.offset, seg.length);
  }
  // The bytes after the segment's text up to the next segment: its terminator and line break.
  std::string_view suffix(std::size_t segment) const {
    const auto& seg = index_.segments[segment];
    const std::size_t from = seg.offset + seg.length;
    if (segment + 1 < index_.segments.size()) {
      return input_.substr(from, index_.segments[segment + 1].offset - from);
    }
    std::size_t to = from;  // the last segment: its terminator and the line break after it
    if (to < input_.size() && input_[to] == delims_.segment) ++to;
    while (to < input_.size() && (input_[to] == '\r' || input_[to] == '\n')) ++to;
    return input_.substr(from, to - from);
  }
  std::string_view view(span s) const { return input_.substr(s.begin, s.size); }

  void copy(std::size_t begin, std::size_t end) {
    if (begin >= end) return;
    const std::size_t from = index_.segments[begin].offset;
    const std::size_t to = index_.segments[end - 1].offset + index_.segments[end - 1].length;
    out_.append(input_.substr(from, to - from)).append(suffix(end - 1));
    segments_in_set_ += end - begin;
  }

  void element(std::string_view value) { out_.append(1, delims_.element).append(value); }
  void element(std::size_t value) {
    std::array<char, 24> digits{};
    const auto end = std::to_chars(digits.data(), digits.data() + digits.size(), value).ptr;
    element(std::string_view(digits.data(), static_cast<std::size_t>(end - digits.data())));
  }

  void write_isa(std::string_view control) {
    const auto& isa = index_.segments[index_.isa];
    const std::string_view isa_text = text(index_.isa);
    const std::size_t at = index_.isa13.begin - isa.offset;
    out_.append(isa_text.substr(0, at)).append(control).append(isa_text.substr(at + 9));
    out_.append(suffix(index_.isa));
  }
  void write_iea(std::size_t groups, std::string_view control) {
    out_.append("IEA");
    element(groups);
    element(control);
    out_.append(suffix(index_.iea));
  }

  void open_group(std::size_t group) {
    const std::size_t gs = index_.groups[group].gs;
    out_.append(text(gs)).append(suffix(gs));
  }
  void close_group(std::size_t group, std::size_t sets) {
    const auto& g = index_.groups[group];
    out_.append("GE");
    element(sets);
    element(view(g.gs06));
    out_.append(suffix(g.ge));
  }

  void open_set(std::size_t set) {
    segments_in_set_ = 0;
    next_hl_ = 1;
    copy(index_.sets[set].st, index_.sets[set].first_hl);
  }
  void close_set(std::size_t set) {
    const auto& s = index_.sets[set];
    out_.append("SE");
    element(segments_in_set_ + 1);
    element(view(s.st02));
    out_.append(suffix(s.se));
  }

  // HL01 numbered in the part's order, HL02 its parent's new number, HL04 whether it has
  // children in the part.
  std::size_t write_hl(std::size_t segment, std::optional<std::size_t> parent,
                       std::string_view level, bool has_children) {
    const std::size_t id = next_hl_++;
    out_.append("HL");
    element(id);
    if (parent) {
      element(*parent);
    } else {
      element(std::string_view{});
    }
    element(level);
    element(has_children ? "1" : "0");
    out_.append(suffix(segment));
    ++segments_in_set_;
    return id;
  }

  void write_provider(const provider_loop& provider) {
    provider_hl_ = write_hl(provider.begin, std::nullopt, "20", true);
    copy(provider.begin + 1, provider.end);
  }

  void write_subscriber(const subscriber_loop& subscriber) {
    const std::size_t subscriber_hl =
        write_hl(subscriber.begin, provider_hl_, "22", subscriber.has_patients);
    // Copy runs of ordinary segments whole; only patient HLs are rewritten.
    std::size_t run = subscriber.begin + 1;
    for (std::size_t i = run; i < subscriber.end; ++i) {
      if (index_.segments[i].kind != segment_kind::hl_patient) continue;
      copy(run, i);
      write_hl(i, subscriber_hl, "23", false);
      run = i + 1;
    }
    copy(run, subscriber.end);
  }

  std::string_view input_;
  const interchange_index& index_;
  const delimiters& delims_;
  std::string& out_;
  std::size_t segments_in_set_ = 0;
  std::size_t next_hl_ = 1;
  std::size_t provider_hl_ = 0;
};

bool nine_digits(std::string_view control) {
  return control.size() == 9 &&
         std::all_of(control.begin(), control.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string default_control_number(std::size_t part_index) {
  std::string digits = std::to_string((part_index + 1) % 1'000'000'000);
  return std::string(9 - digits.size(), '0') + digits;
}

}  // namespace

split_result split_by_patient(std::string_view interchange, const split_options& options) {
  split_result result;
  result.error = refusal_by_reader(interchange, options.reader);
  if (!result.ok()) return result;

  interchange_index index;
  index.segments.reserve(interchange.size() / 24);  // a rough segment size: one allocation
  indexer handler(index);
  segment_reader tokenizer(options.reader.limits);
  tokenizer.put(interchange, handler);
  tokenizer.finish(handler);
  result.error = index_refusal(index);
  if (!result.ok()) return result;

  const std::vector<patient_group> patients = group_by_patient(interchange, index);
  result.parts.reserve(patients.size());
  // Each part is written into one scratch buffer that keeps its capacity, then copied out at
  // its exact size: one allocation per part instead of one per doubling.
  std::string scratch;
  for (std::size_t p = 0; p < patients.size(); ++p) {
    const std::string control =
        options.control_number ? options.control_number(p) : default_control_number(p);
    if (!nine_digits(control)) {
      result.parts.clear();
      result.error = "control_number(" + std::to_string(p) + ") is not nine digits";
      return result;
    }
    patient_part part;
    part.patient_key = std::string(patients[p].key);
    scratch.clear();
    part_writer writer(interchange, index, tokenizer.delims(), scratch);
    part.source_sets = writer.write(patients[p], control);
    part.interchange.assign(scratch);
    result.parts.push_back(std::move(part));
  }
  return result;
}

}  // namespace covgate::x12
