#include "covgate/hl7v2/reader.hpp"

#include <algorithm>
#include <deque>
#include <iterator>

#include "covgate/hl7v2/er7.hpp"
#include "identity.hpp"

namespace covgate::hl7v2 {
namespace {

constexpr std::string_view fasting_status_loinc = "49541-6";  // AOE "Fasting status - Reported"

bool segment_id(std::string_view id) noexcept {
  if (id.size() != 3) return false;
  for (const char c : id) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Blanks around a value go; so does the explicit null "" (an A08's "delete this value"): for
// what covgate reads, both mean "no value".
std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s == "\"\"") return {};
  return s;
}

bool iequals(std::string_view a, std::string_view b) noexcept {
  if (a.size() != b.size()) return false;
  for (std::size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'a' && x <= 'z') x = static_cast<char>(x - 'a' + 'A');
    if (y >= 'a' && y <= 'z') y = static_cast<char>(y - 'a' + 'A');
    if (x != y) return false;
  }
  return true;
}

// A number that may carry a comparator ("<0.10", ">= 60"): the bound is the value (see
// README: the same reading as a FHIR valueQuantity whose comparator the FHIR reader ignores).
std::optional<double> number_with_comparator(std::string_view text) {
  text = trim(text);
  if (text.substr(0, 2) == "<=" || text.substr(0, 2) == ">=") {
    text.remove_prefix(2);
  } else if (!text.empty() && (text.front() == '<' || text.front() == '>' || text.front() == '=')) {
    text.remove_prefix(1);
  }
  return parse_number(text);
}

// OBX-7 in the forms labs write it: "0.8-3.5", "0.8 - 3.5", "70_105", "4.3 to 6.2", ">59",
// ">=60", "<5", "<=0.02", optionally followed by the OBX-6 unit.
struct range {
  std::optional<double> low, high;
};

std::optional<double> take_number(std::string_view& text) {
  std::size_t i = 0;
  if (i < text.size() && (text[i] == '-' || text[i] == '+')) ++i;
  const std::size_t digits_from = i;
  while (i < text.size() && ((text[i] >= '0' && text[i] <= '9') || text[i] == '.')) ++i;
  if (i == digits_from) return std::nullopt;
  const auto value = parse_number(text.substr(0, i));
  if (value) text.remove_prefix(i);
  return value;
}

bool rest_is_unit(std::string_view rest, std::string_view unit) {
  rest = trim(rest);
  return rest.empty() || (!unit.empty() && iequals(rest, unit));
}

std::optional<range> parse_range(std::string_view text, std::string_view unit) {
  text = trim(text);
  range r;
  std::string_view comparator;
  for (const std::string_view c : {"<=", ">=", "\xE2\x89\xA4", "\xE2\x89\xA5", "<", ">"}) {
    if (text.substr(0, c.size()) == c) {
      comparator = c;
      text.remove_prefix(c.size());
      break;
    }
  }
  if (!comparator.empty()) {
    text = trim(text);
    const auto v = take_number(text);
    if (!v || !rest_is_unit(text, unit)) return std::nullopt;
    const bool upper = comparator == "<" || comparator == "<=" || comparator == "\xE2\x89\xA4";
    (upper ? r.high : r.low) = v;
    return r;
  }
  const auto low = take_number(text);
  if (!low) return std::nullopt;
  text = trim(text);
  bool separated = false;
  for (const std::string_view s : {"-", "_", "to", "TO", "\xE2\x80\x93", "\xE2\x80\x94"}) {
    if (text.substr(0, s.size()) == s) {
      text.remove_prefix(s.size());
      separated = true;
      break;
    }
  }
  if (!separated) return std::nullopt;
  text = trim(text);
  const auto high = take_number(text);
  if (!high || !rest_is_unit(text, unit)) return std::nullopt;
  r.low = low;
  r.high = high;
  return r;
}

// OBX-11 (table 0085): what each status does.
enum class status_effect : std::uint8_t { counts, retracts, not_counted, unknown };

status_effect effect_of_status(std::string_view s, std::string& fhir_status) {
  if (s.size() != 1) return status_effect::unknown;
  switch (s[0]) {
    case 'F':
    case 'U':  // final, without the values sent again: a value here is the final one
    case 'B':  // appended report (v2.8): the values are unchanged
    case 'V':  // verified (v2.8)
      fhir_status = "final";
      return status_effect::counts;
    case 'C':
      fhir_status = "corrected";
      return status_effect::counts;
    case 'A':  // amended (v2.8)
      fhir_status = "amended";
      return status_effect::counts;
    case 'D':
    case 'W':
      return status_effect::retracts;
    case 'P':
    case 'R':
    case 'S':
    case 'I':
    case 'X':
    case 'O':
    case 'N':
      return status_effect::not_counted;
    default:
      return status_effect::unknown;
  }
}

bool is_coded(std::string_view type) {
  return type == "CWE" || type == "CE" || type == "CNE" || type == "CF" || type == "ID" ||
         type == "IS";
}
bool is_text(std::string_view type) { return type == "ST" || type == "TX" || type == "FT"; }

class mapper {
 public:
  mapper(std::string_view text, const mapping::tables& tables, const read_options& options,
         read_result& out)
      : text_(text), t_(tables), o_(options), out_(out) {}

  void run() {
    if (!prepare()) return;
    if (!check_header()) return;
    const auto type = out_.header->message_type;
    if (type == "ORU") {
      oru();
    } else if (type == "ADT") {
      adt();
    }
  }

 private:
  static constexpr std::size_t no_segment = static_cast<std::size_t>(-1);

  // ---- issues ------------------------------------------------------------------------------
  void add(error e, std::size_t seg, std::uint32_t field, std::uint32_t component,
           std::string diagnostics) {
    issue i;
    i.level = severity_of(e);
    i.code = e;
    if (seg != no_segment && seg < segs_.size()) {
      i.segment = std::string(segs_[seg].text.substr(0, 3));
      i.sequence = sequence_of(seg);
      i.line = o_.first_line + segs_[seg].line - 1;
    }
    i.field = field;
    i.component = component;
    i.diagnostics = std::move(diagnostics);
    out_.issues.push_back(std::move(i));
  }
  /// ERR-2's segment sequence: the occurrence of the segment's id in the message (counted
  /// when an issue needs it, not for every message).
  std::uint32_t sequence_of(std::size_t seg) const {
    const auto id = segs_[seg].text.substr(0, 3);
    std::uint32_t n = 0;
    for (std::size_t i = 0; i <= seg; ++i) n += segs_[i].text.substr(0, 3) == id ? 1 : 0;
    return n;
  }
  void reject(error e, std::size_t seg, std::uint32_t field, std::string diagnostics) {
    add(e, seg, field, 0, std::move(diagnostics));
    out_.rejected = true;
    out_.facts.clear();
  }

  // ---- the message as a whole --------------------------------------------------------------
  bool prepare() {
    // A BOM, blanks, an MLLP start block before; blanks and an MLLP end block after.
    if (text_.substr(0, 3) == "\xEF\xBB\xBF") text_.remove_prefix(3);
    while (!text_.empty() &&
           (text_.front() == ' ' || text_.front() == '\t' || text_.front() == '\r' ||
            text_.front() == '\n' || text_.front() == '\x0B')) {
      text_.remove_prefix(1);
    }
    while (!text_.empty() && (text_.back() == '\x1C' || text_.back() == '\r' ||
                              text_.back() == '\n' || text_.back() == ' ')) {
      text_.remove_suffix(1);
    }
    out_.header = parse_msh(text_);
    if (text_.size() > o_.limits.max_message_bytes) {
      reject(error::message_too_large, no_segment, 0,
             "message of " + std::to_string(text_.size()) + " bytes; the limit is " +
                 std::to_string(o_.limits.max_message_bytes));
      return false;
    }
    if (text_.substr(0, 3) != "MSH") {
      reject(error::msh_missing, no_segment, 0, std::string(describe(error::msh_missing)));
      return false;
    }
    const auto d = delimiters_of(first_line(text_));
    if (!d || !out_.header) {
      reject(error::invalid_delimiters, no_segment, 0,
             std::string(describe(error::invalid_delimiters)));
      return false;
    }
    d_ = *d;
    // Character set: MSH-18, else ASCII; 8-bit bytes that are not valid UTF-8 are ISO 8859-1.
    const auto set = charset_named(out_.header->character_set);
    bool transcode = false;
    if (!is_ascii(text_)) {
      if (set == charset::latin1) {
        transcode = true;
      } else if (!valid_utf8(text_)) {
        transcode = true;
        add(error::invalid_character_encoding, no_segment, 0, 0,
            std::string(describe(error::invalid_character_encoding)));
      }
    }
    if (set == charset::unknown) {
      add(error::unknown_character_set, no_segment, 18, 0,
          "MSH-18 names a character set covgate does not decode: read as ASCII or UTF-8");
      // Located in MSH once the segments are known (below).
    }
    if (transcode) {
      owned_.clear();
      latin1_to_utf8(text_, owned_);
      text_ = owned_;
      latin1_ = true;
    }
    segs_.reserve(32);
    if (!split_segments(text_, segs_, o_.limits.max_segments)) {
      reject(error::too_many_segments, no_segment, 0,
             "more than " + std::to_string(o_.limits.max_segments) + " segments");
      return false;
    }
    out_.segments = static_cast<std::uint32_t>(segs_.size());
    // Escape sequences are rare: when no segment after MSH holds the escape character, no
    // value needs decoding (MSH-2 itself always holds it).
    escapes_ =
        segs_.size() > 1 &&
        text_.find(d_.escape, static_cast<std::size_t>(segs_[1].text.data() - text_.data())) !=
            std::string_view::npos;
    out_.facts.reserve(segs_.size());
    for (auto& i : out_.issues) {
      if (i.code == error::unknown_character_set) {
        i.segment = "MSH";
        i.sequence = 1;
        i.line = o_.first_line;
      }
    }
    return true;
  }

  bool check_header() {
    const auto& h = *out_.header;
    msh_.reset(segs_[0].text, d_);
    if (h.message_type.empty()) {
      reject(error::message_type_missing, 0, 9, "MSH-9 (message type) is required");
      return false;
    }
    if (h.control_id.empty()) {
      reject(error::control_id_missing, 0, 10, "MSH-10 (message control id) is required");
      return false;
    }
    if (std::find(o_.processing_ids.begin(), o_.processing_ids.end(), h.processing_id) ==
        o_.processing_ids.end()) {
      reject(error::unsupported_processing_id, 0, 11,
             "MSH-11 processing id '" + h.processing_id + "' is not accepted here");
      return false;
    }
    if (!h.version_given) {
      add(error::version_missing, 0, 12, 0, std::string(describe(error::version_missing)));
    } else if (h.version.size() < 3 || h.version.substr(0, 2) != "2." || h.version[2] < '0' ||
               h.version[2] > '9') {
      reject(error::unsupported_version, 0, 12,
             "MSH-12 version '" + h.version + "': covgate reads HL7 v2.x");
      return false;
    }
    if (h.message_type != "ORU" && h.message_type != "ADT") {
      reject(error::unsupported_message_type, 0, 9,
             "message type " + h.message_type + ": covgate reads ORU^R01 and ADT");
      return false;
    }
    if (h.message_type == "ORU" && !h.trigger_event.empty() && h.trigger_event != "R01") {
      reject(error::unsupported_event, 0, 9,
             "ORU event " + h.trigger_event + ": covgate reads ORU^R01");
      return false;
    }
    // The sender: names for the local-code table, and the normalized form identities use.
    sender_ = normalized(msh_[3]) + "/" + normalized(msh_[4]);
    for (const std::size_t field : {4, 3}) {
      for (const std::size_t component : {1, 2}) {
        const auto name = part(msh_[field], d_.component, component);
        if (!name.empty()) sender_names_[sender_name_count_++] = name;
      }
    }
    last_updated_ = dtm_to_iso(h.timestamp);
    return true;
  }

  // ---- values ------------------------------------------------------------------------------
  /// The decoded text of a raw value (views stay valid until decoded_ is cleared, at the next
  /// OBX or PV1).
  std::string_view text(std::string_view raw) {
    if (!escapes_ || !has_escape(raw, d_)) return raw;
    auto& slot = decoded_.emplace_back();
    return unescape(raw, d_, slot, latin1_);
  }
  std::string_view component(std::string_view field, std::size_t n) {
    return text(part(field, d_.component, n));
  }
  std::string_view subcomponent(std::string_view field, std::size_t n, std::size_t s) {
    return text(part(part(field, d_.component, n), d_.subcomponent, s));
  }

  /// One field's components decoded and joined with '^' (subcomponents with '&'), trailing
  /// empty components dropped: the stable text identities are built from, whatever delimiters
  /// the sender used.
  std::string normalized(std::string_view field) {
    std::string out;
    normalized_into(out, field);
    return out;
  }
  void normalized_into(std::string& out, std::string_view field) {
    std::size_t owed = 0;  // separators before the next non-empty component
    std::size_t start = 0;
    for (std::size_t n = 0; n < 32; ++n) {
      const auto end = field.find(d_.component, start);
      const auto raw = field.substr(start, end == std::string_view::npos ? end : end - start);
      if (!raw.empty()) {
        out.append(owed, '^');
        owed = 0;
        std::size_t sub = 0;
        while (true) {
          const auto sub_end = raw.find(d_.subcomponent, sub);
          const auto value =
              text(raw.substr(sub, sub_end == std::string_view::npos ? sub_end : sub_end - sub));
          for (const char c : value) out += c == '^' || c == '&' || c == '|' ? '_' : c;
          if (sub_end == std::string_view::npos) break;
          out += '&';
          sub = sub_end + 1;
        }
      }
      if (end == std::string_view::npos) break;
      ++owed;
      start = end + 1;
    }
  }

  bool too_long(std::size_t seg, std::uint32_t field, std::string_view value) {
    if (value.size() <= o_.limits.max_field_bytes) return false;
    add(error::field_too_long, seg, field, 0,
        "field of " + std::to_string(value.size()) + " bytes; the limit is " +
            std::to_string(o_.limits.max_field_bytes));
    return true;
  }

  /// Up to max_repetitions repetitions of a field (a warning when there are more).
  template <class F>
  void repetitions(std::size_t seg, std::uint32_t field, std::string_view value, F&& each) {
    std::size_t start = 0;
    for (std::size_t n = 0;; ++n) {
      if (n == o_.limits.max_repetitions) {
        add(error::too_many_repetitions, seg, field, 0,
            "more than " + std::to_string(o_.limits.max_repetitions) +
                " repetitions: the rest are not read");
        return;
      }
      const auto end = value.find(d_.repetition, start);
      each(value.substr(start, end == std::string_view::npos ? end : end - start));
      if (end == std::string_view::npos) return;
      start = end + 1;
    }
  }

  /// A DTM field's time (TS: its first component). nullopt + an error when malformed;
  /// `absent` set when empty.
  std::optional<model::moment> time_of(std::size_t seg, std::uint32_t field, std::string_view raw,
                                       bool& malformed) {
    malformed = false;
    const auto value = trim(part(raw, d_.component, 1));
    if (value.empty()) return std::nullopt;
    auto m = parse_dtm(value);
    if (!m) {
      malformed = true;
      add(error::data_type_error, seg, field, 1,
          "not an HL7 date/time (YYYY[MM[DD[HH[MM[SS]]]]][+/-ZZZZ])");
    }
    return m;
  }

  // ---- PID → model::patient ----------------------------------------------------------------
  struct patient_context {
    bool present = false;
    std::string reference;
    std::string key;
  };

  /// Reads a PID: the patient context for the facts that follow, and a patient fact.
  void pid(std::size_t seg) {
    field_index f(segs_[seg].text, d_);
    patient_ = {};
    patient_.present = true;
    model::patient p;
    struct candidate {
      std::string_view id, type, authority, system;
    };
    std::vector<candidate> ids;
    for (const std::uint32_t field : {3u, 2u, 4u}) {
      if (too_long(seg, field, f[field])) continue;
      repetitions(seg, field, f[field], [&](std::string_view cx) {
        const auto id = trim(component(cx, 1));
        if (id.empty()) return;
        const auto type = trim(component(cx, 5));
        const auto namespace_id = subcomponent(cx, 4, 1);
        const auto universal = subcomponent(cx, 4, 2);
        auto system = t_.hl7v2_identifier_type(type);
        if (system.empty() && !universal.empty()) system = t_.hl7v2_assigning_authority(universal);
        if (system.empty() && !namespace_id.empty()) {
          system = t_.hl7v2_assigning_authority(namespace_id);
        }
        std::string identifier;
        if (!system.empty()) {
          identifier = std::string(system);
        } else if (!universal.empty() && iequals(subcomponent(cx, 4, 3), "ISO")) {
          identifier = "urn:oid:" + std::string(universal);
        } else {
          identifier = std::string(!namespace_id.empty() ? namespace_id : universal);
        }
        p.identifiers.push_back(identifier + "|" + std::string(id));
        ids.push_back({id, type, !universal.empty() ? universal : namespace_id, system});
      });
    }
    for (const auto& system : t_.patient_identifier_systems()) {
      const auto it = std::find_if(ids.begin(), ids.end(),
                                   [&](const candidate& c) { return c.system == system; });
      if (it != ids.end()) {
        p.key = std::string(it->id);
        break;
      }
    }
    // The Patient's identity: its medical record number with the authority that assigned it
    // (so a message without the Medicare number links to one that has both), else the key.
    const candidate* chosen = nullptr;
    for (const std::string_view type : {"MR", "PI", "PT"}) {
      for (const auto& c : ids) {
        if (c.type == type && c.system.empty()) {
          chosen = &c;
          break;
        }
      }
      if (chosen != nullptr) break;
    }
    if (chosen == nullptr) {
      for (const auto& c : ids) {
        if (c.system.empty()) {
          chosen = &c;
          break;
        }
      }
    }
    std::string identity;
    if (chosen != nullptr) {
      identity = "pid|" + std::string(chosen->type) + "|" +
                 (chosen->authority.empty() ? sender_ : std::string(chosen->authority)) + "|" +
                 std::string(chosen->id);
    } else if (!p.key.empty()) {
      identity = "key|" + p.key;
    } else {
      add(error::required_field_missing, seg, 3, 0,
          "PID-3 (patient identifier list) is required to say whose results or visit these are");
      patient_.present = false;
      return;
    }
    if (p.key.empty()) {
      add(error::no_patient_key, seg, 3, 5, std::string(describe(error::no_patient_key)));
    }
    p.resource_id = "Patient/" + stable_id(identity);
    bool malformed = false;
    if (const auto birth = time_of(seg, 7, f[7], malformed)) p.birth_date = birth->day;
    if (malformed) out_.issues.back().level = severity::warning;  // the patient still links
    const auto sex = trim(component(f[8], 1));
    p.sex = sex == "F" ? 'F' : sex == "M" ? 'M' : sex == "O" ? 'O' : sex == "U" ? 'U' : 0;
    patient_.reference = p.resource_id;
    patient_.key = p.key;
    out_.facts.emplace_back(std::move(p));
  }

  // ---- ORU^R01 -----------------------------------------------------------------------------
  struct order_group {
    std::size_t obr = no_segment;
    std::size_t orc = no_segment;
    std::size_t spm = no_segment;
    std::vector<std::size_t> obx;
  };

  void oru() {
    std::size_t last_orc = no_segment;
    for (std::size_t i = 1; i < segs_.size(); ++i) {
      const auto id = segs_[i].text.substr(0, 3);
      if (!segment_id(id) || (segs_[i].text.size() > 3 && segs_[i].text[3] != d_.field)) {
        add(error::unrecognized_segment, i, 0, 0,
            std::string(describe(error::unrecognized_segment)));
        continue;
      }
      if (id == "PID") {
        flush_group();
        pid(i);
      } else if (id == "ORC") {
        flush_group();
        last_orc = i;
      } else if (id == "OBR") {
        flush_group();
        group_.obr = i;
        group_.orc = last_orc;
        last_orc = no_segment;
      } else if (id == "OBX") {
        ++out_.observations;
        if (group_.obr == no_segment) {
          // An observation of the patient rather than of an order (v2.7+ puts some there): an
          // error only when it is one covgate would have read.
          decoded_.clear();
          const auto c = classify(field_index(segs_[i].text, d_)[3]);
          if (c.lab || c.evidence) {
            add(error::segment_sequence, i, 0, 0, "OBX before any OBR: not read");
          } else {
            ++out_.not_read;
          }
          continue;
        }
        group_.obx.push_back(i);
      } else if (id == "SPM") {
        if (group_.obr != no_segment && group_.spm == no_segment) group_.spm = i;
      } else if (id == "MSH") {
        add(error::segment_sequence, i, 0, 0,
            "a second MSH: one message per read (the rest is not read)");
        break;
      }
      // NTE, PD1, NK1, PV1, PV2, TQ1, TQ2, CTD, FT1, CTI, SFT, DSC, Z-segments: not used.
    }
    flush_group();
  }

  void flush_group() {
    if (group_.obr == no_segment) {
      group_ = {};
      return;
    }
    const auto obr_seg = group_.obr;
    if (!group_.obx.empty() && !patient_.present) {
      add(error::patient_missing, obr_seg, 0, 0,
          "no PID before this order's results: they are not read");
      group_.obx.clear();
    }
    if (group_.obx.empty()) {
      group_ = {};
      return;
    }
    const field_index obr(segs_[obr_seg].text, d_);
    // The order's identity: OBR-3 filler order number (ORC-3), else the placer's (OBR-2,
    // ORC-2), else only this message.
    field_index orc;
    if (group_.orc != no_segment) orc.reset(segs_[group_.orc].text, d_);
    order_identity_.clear();
    struct source {
      const field_index* fields;
      std::uint32_t number;
      std::string_view label;
    };
    for (const source& from : {source{&obr, 3, "filler|"}, source{&orc, 3, "filler|"},
                               source{&obr, 2, "placer|"}, source{&orc, 2, "placer|"}}) {
      const auto value = normalized((*from.fields)[from.number]);
      if (!value.empty()) {
        order_identity_ = std::string(from.label) + value;
        break;
      }
    }
    if (order_identity_.empty()) {
      add(error::no_result_identity, obr_seg, 3, 0,
          std::string(describe(error::no_result_identity)));
      order_identity_ = "message|" + out_.header->control_id + "|" + std::to_string(obr_seg);
    }
    // The order's time: SPM-17 (collection), else OBR-7 (observation date/time).
    group_time_.reset();
    bool malformed = false;
    if (group_.spm != no_segment) {
      const field_index spm(segs_[group_.spm].text, d_);
      group_time_ = time_of(group_.spm, 17, spm[17], malformed);
      if (malformed) return skip_group();
    }
    if (!group_time_) {
      group_time_ = time_of(obr_seg, 7, obr[7], malformed);
      if (malformed) return skip_group();
    }
    // Fasting: an ask-at-order-entry answer (49541-6) anywhere in the order, else OBR-13
    // coded with table 0916 (F fasting, NF not fasting), the v2 source of FHIR's
    // Specimen.collection.fastingStatus.
    group_fasting_ = model::fasting_state::unknown;
    for (const auto obx : group_.obx) {
      // OBX-3 only (part 4 of the segment, the id being part 1): cheap enough for every OBX.
      if (part(segs_[obx].text, d_.field, 4).find(fasting_status_loinc) == std::string_view::npos) {
        continue;
      }
      const field_index f(segs_[obx].text, d_);
      if (!is_code(f[3], fasting_status_loinc)) continue;
      const auto answer = trim(component(part(f[5], d_.repetition, 1), 1));
      if (iequals(answer, "Y") || iequals(answer, "YES")) {
        group_fasting_ = model::fasting_state::fasting;
      } else if (iequals(answer, "N") || iequals(answer, "NO")) {
        group_fasting_ = model::fasting_state::not_fasting;
      }
    }
    if (group_fasting_ == model::fasting_state::unknown) {
      const auto relevant = trim(component(part(obr[13], d_.repetition, 1), 1));
      if (relevant == "F") group_fasting_ = model::fasting_state::fasting;
      if (relevant == "NF") group_fasting_ = model::fasting_state::not_fasting;
    }
    for (const auto obx : group_.obx) observation(obx);
    group_ = {};
  }

  void skip_group() {
    // The order's date/time is malformed: none of its results can be dated.
    group_ = {};
  }

  /// True when the CWE `field` names LOINC `loinc` in either triplet.
  bool is_code(std::string_view field, std::string_view loinc) {
    return (component(field, 1) == loinc && component(field, 3) == "LN") ||
           (component(field, 4) == loinc && component(field, 6) == "LN");
  }

  struct coded {
    std::string loinc;
    std::optional<mapping::loinc_info> lab;
    std::optional<std::string_view> evidence;
  };

  /// OBX-3 as its two triplets, decoded: {code, system} of the first and of the alternate.
  struct cwe_codes {
    std::string_view triplets[2][2];
  };
  cwe_codes codes_of(std::string_view cwe) {
    std::string_view c[6];
    const auto n = split(cwe, d_.component, c, 6);
    cwe_codes out;
    out.triplets[0][0] = n > 0 ? text(c[0]) : std::string_view{};
    out.triplets[0][1] = n > 2 ? text(c[2]) : std::string_view{};
    out.triplets[1][0] = n > 3 ? text(c[3]) : std::string_view{};
    out.triplets[1][1] = n > 5 ? text(c[5]) : std::string_view{};
    return out;
  }

  coded classify(std::string_view obx3) { return classify(codes_of(obx3)); }

  coded classify(const cwe_codes& codes) {
    coded c;
    const auto& triplets = codes.triplets;
    for (const auto& [code, system] : triplets) {
      if (system == "LN" && !code.empty()) {
        if (const auto info = t_.loinc(code)) {
          c.loinc = std::string(code);
          c.lab = info;
          return c;
        }
      }
    }
    for (const auto& [code, system] : triplets) {
      if (code.empty() || system.empty()) continue;
      if (system == t_.evidence_hl7v2_system()) {
        c.evidence = t_.evidence(t_.evidence_system(), code);
      } else if (const auto uri = t_.hl7v2_coding_system(system); !uri.empty()) {
        c.evidence = t_.evidence(uri, code);
      }
      if (c.evidence) return c;
    }
    for (const auto& [code, system] : triplets) {
      if (code.empty() || system.empty() || system == "LN") continue;
      std::string_view loinc;
      for (std::size_t n = 0; n < sender_name_count_; ++n) {
        const auto name = sender_names_[n];
        loinc = t_.hl7v2_local_code(name, system, code);
        if (!loinc.empty()) break;
      }
      if (loinc.empty()) loinc = t_.hl7v2_local_code("", system, code);
      if (!loinc.empty()) {
        c.loinc = std::string(loinc);
        c.lab = t_.loinc(loinc);
        return c;
      }
    }
    return c;
  }

  void observation(std::size_t seg) {
    decoded_.clear();
    const field_index f(segs_[seg].text, d_);
    for (const std::uint32_t field : {2u, 3u, 4u, 5u, 6u, 7u, 8u, 11u, 14u, 19u}) {
      if (too_long(seg, field, f[field])) return;
    }
    const auto codes = codes_of(f[3]);
    const auto c = classify(codes);
    if (!c.lab && !c.evidence) {
      const auto& t = codes.triplets;
      const bool aoe = (t[0][0] == fasting_status_loinc && t[0][1] == "LN") ||
                       (t[1][0] == fasting_status_loinc && t[1][1] == "LN");
      if (!aoe) ++out_.not_read;  // the fasting answer is read with its order
      return;
    }
    const auto code_name = c.lab ? c.loinc : std::string(*c.evidence);
    // Identity: sender + order + OBX-3 (first triplet as sent) + OBX-4 sub-id.
    identity_.assign("obx|").append(sender_).append(1, '|').append(order_identity_);
    identity_.append(1, '|').append(codes.triplets[0][0]).append(1, '^');
    identity_.append(codes.triplets[0][1]).append(1, '|');
    normalized_into(identity_, f[4]);
    std::string id;
    id.reserve(47);
    id.assign("Observation/");
    append_stable_id(id, identity_);
    const auto status = trim(part(f[11], d_.component, 1));
    std::string fhir_status;
    switch (effect_of_status(status, fhir_status)) {
      case status_effect::retracts:
        out_.facts.emplace_back(model::retraction{id, patient_.reference, patient_.key});
        ++out_.mapped;
        return;
      case status_effect::not_counted:
        add(error::status_not_counted, seg, 11, 0,
            "OBX-11 status " + std::string(status) + " of " + code_name +
                " does not count (F, C and U do)");
        return;
      case status_effect::unknown:
        if (status.empty()) {
          add(error::required_field_missing, seg, 11, 0, "OBX-11 (result status) is required");
        } else {
          add(error::table_value_not_found, seg, 11, 0,
              "OBX-11 result status is not in table 0085");
        }
        return;
      case status_effect::counts:
        break;
    }
    // When: the order's (SPM-17, OBR-7), else OBX-14.
    model::moment effective;
    if (group_time_) {
      effective = *group_time_;
    } else {
      bool malformed = false;
      if (const auto m = time_of(seg, 14, f[14], malformed)) effective = *m;
      if (malformed) return;
    }
    auto updated = last_updated_;
    if (updated.empty()) updated = dtm_to_iso(trim(part(f[19], d_.component, 1)));
    const auto value_type = trim(f[2]);
    if (value_type.empty() && !f[5].empty()) {
      add(error::required_field_missing, seg, 2, 0,
          "OBX-2 (value type) is required when OBX-5 is valued");
      return;
    }
    const std::size_t before = out_.facts.size();
    if (c.lab) {
      if (!lab(seg, f, *c.lab, c.loinc, std::move(id), effective, fhir_status, updated)) return;
    } else {
      if (!evidence(seg, f, *c.evidence, id, effective, updated)) return;
    }
    if (out_.facts.size() == before) return;
    if (!effective.valid()) {
      out_.facts.resize(before);
      add(error::no_effective_time, seg, 14, 0, std::string(describe(error::no_effective_time)));
      return;
    }
    ++out_.mapped;
  }

  bool lab(std::size_t seg, const field_index& f, const mapping::loinc_info& info,
           const std::string& loinc, std::string id, const model::moment& effective,
           const std::string& status, const std::string& updated) {
    // Built in place (a lab_result holds ten strings); dropped again when it cannot be read.
    auto& r =
        std::get<model::lab_result>(out_.facts.emplace_back(std::in_place_type<model::lab_result>));
    auto drop = [&] {
      out_.facts.pop_back();
      return false;
    };
    r.resource_id = std::move(id);
    r.patient = patient_.reference;
    r.patient_key = patient_.key;
    r.kind = info.kind;
    r.loinc = loinc;
    r.effective = effective;
    r.status = status;
    r.last_updated = updated;
    r.fasting = info.fasting ? model::fasting_state::fasting : group_fasting_;
    const auto type = trim(f[2]);
    const auto value = f[5];
    if (type == "NM") {
      const auto raw = trim(part(value, d_.repetition, 1));
      if (!raw.empty()) {
        const auto n = parse_number(text(raw));
        if (!n) {
          add(error::data_type_error, seg, 5, 0, "OBX-5 is not a number (OBX-2 NM)");
          return drop();
        }
        r.has_value = true;
        r.original_value = *n;
      }
    } else if (type == "SN") {
      const auto sn = part(value, d_.repetition, 1);
      const auto comparator = trim(component(sn, 1));
      const auto first = trim(component(sn, 2));
      const auto separator = trim(component(sn, 3));
      const auto second = trim(component(sn, 4));
      if (!first.empty() && separator.empty() && second.empty()) {
        if (comparator != "" && comparator != "=" && comparator != "<" && comparator != ">" &&
            comparator != "<=" && comparator != ">=") {
          add(error::value_not_read, seg, 5, 1,
              "OBX-5 SN comparator is not one of = < > <= >=: value not read");
        } else {
          const auto n = parse_number(first);
          if (!n) {
            add(error::data_type_error, seg, 5, 2, "OBX-5 SN number is not a number");
            return drop();
          }
          r.has_value = true;
          r.original_value = *n;
        }
      } else if (!first.empty() || !second.empty()) {
        add(error::value_not_read, seg, 5, 3,
            "OBX-5 SN is a range or a ratio: no single value to read");
      }
    } else if (is_text(type)) {
      if (const auto n = number_with_comparator(text(part(value, d_.repetition, 1)))) {
        r.has_value = true;
        r.original_value = *n;
      }
    } else if (is_coded(type)) {
      repetitions(seg, 5, value, [&](std::string_view cwe) {
        for (const std::size_t n : {1, 4}) {
          const auto code = trim(component(cwe, n));
          if (code == "POS" || code == "10828004" || code == "positive") {
            r.interpretation.emplace_back("POS");
            break;
          }
          if (code == "NEG" || code == "260385009" || code == "negative") {
            r.interpretation.emplace_back("NEG");
            break;
          }
        }
      });
    }
    if (r.has_value) {
      r.original_unit = std::string(trim(component(f[6], 1)));
      if (r.original_unit.empty()) r.original_unit = std::string(trim(component(f[6], 2)));
      const auto conversion = t_.conversion(info.kind, r.original_unit);
      if (conversion) {
        r.value = conversion->apply(r.original_value);
        r.unit = std::string(conversion->unit);
        r.unit_known = true;
      } else {
        r.value = r.original_value;
        r.unit = r.original_unit;
        add(error::unit_unknown, seg, 6, 1,
            "unit '" + r.original_unit + "' is not listed for " +
                std::string(mapping::quantity_of(info.kind)) + " in units.json: kept, flagged");
      }
      const auto reference = trim(text(f[7]));
      if (!reference.empty()) {
        if (const auto bounds = parse_range(reference, r.original_unit)) {
          auto convert = [&](std::optional<double> v) -> std::optional<double> {
            if (!v || !conversion) return std::nullopt;
            return conversion->apply(*v);
          };
          r.low = convert(bounds->low);
          r.high = convert(bounds->high);
        } else if (reference.find_first_of("0123456789") != std::string_view::npos) {
          add(error::reference_range_unread, seg, 7, 0,
              std::string(describe(error::reference_range_unread)));
        }
      }
    }
    repetitions(seg, 8, f[8], [&](std::string_view flag) {
      const auto code = trim(component(flag, 1));
      if (!code.empty()) r.interpretation.emplace_back(code);
    });
    if (!r.has_value && r.interpretation.empty()) {
      add(error::value_not_read, seg, 5, 0,
          "no value or interpretation covgate reads (OBX-2 " + std::string(type) + ")");
      return drop();
    }
    return true;
  }

  bool evidence(std::size_t seg, const field_index& f, std::string_view code, const std::string& id,
                const model::moment& effective, const std::string& updated) {
    model::evidence e;
    e.resource_id = id;
    e.patient = patient_.reference;
    e.patient_key = patient_.key;
    e.code = std::string(code);
    e.value_type = std::string(t_.evidence_value_type(code));
    e.effective = effective;
    e.last_updated = updated;
    const auto type = trim(f[2]);
    const auto first = part(f[5], d_.repetition, 1);
    bool has_number = false;
    bool read = false;
    if (trim(first).empty()) {
      add(error::required_field_missing, seg, 5, 0,
          "evidence '" + e.code + "' needs a value (" + e.value_type + ")");
      return false;
    }
    if (is_coded(type)) {
      const auto answer = trim(component(first, 1));
      if (iequals(answer, "Y") || iequals(answer, "N")) {
        e.flag = iequals(answer, "Y");
        read = true;
      } else if (e.value_type == "string") {
        e.text = std::string(answer);
        e.flag = true;
        read = true;
      }
    } else if (type == "NM" || type == "SN") {
      const auto n = type == "NM" ? parse_number(text(first)) : parse_number(component(first, 2));
      if (n) {
        e.number = *n;
        e.flag = true;
        has_number = read = true;
      }
    } else if (is_text(type)) {
      const auto s = trim(text(first));
      if (e.value_type == "boolean" && (iequals(s, "Y") || iequals(s, "N"))) {
        e.flag = iequals(s, "Y");
        read = true;
      } else if (const auto n = e.value_type == "quantity" ? number_with_comparator(s)
                                                           : std::optional<double>{}) {
        e.number = *n;
        e.flag = true;
        has_number = read = true;
      } else {
        e.text = std::string(s);
        e.flag = true;
        read = true;
      }
    }
    if (!read) {
      add(error::data_type_error, seg, 5, 0,
          "evidence '" + e.code + "' needs a " + e.value_type +
              " (Y/N as CWE for a boolean, NM for a quantity, ST for a string)");
      return false;
    }
    if (e.value_type == "quantity" && !has_number) {
      add(error::data_type_error, seg, 5, 0, "evidence '" + e.code + "' must be a quantity (NM)");
      return false;
    }
    out_.facts.emplace_back(std::move(e));
    return true;
  }

  // ---- ADT ---------------------------------------------------------------------------------
  void adt() {
    auto event = out_.header->trigger_event;
    std::size_t pid_seg = no_segment, pv1_seg = no_segment, evn_seg = no_segment;
    for (std::size_t i = 1; i < segs_.size(); ++i) {
      const auto id = segs_[i].text.substr(0, 3);
      if (!segment_id(id) || (segs_[i].text.size() > 3 && segs_[i].text[3] != d_.field)) {
        add(error::unrecognized_segment, i, 0, 0,
            std::string(describe(error::unrecognized_segment)));
        continue;
      }
      if (id == "PID" && pid_seg == no_segment) pid_seg = i;
      if (id == "PV1" && pv1_seg == no_segment) pv1_seg = i;
      if (id == "EVN" && evn_seg == no_segment) evn_seg = i;
    }
    if (event.empty() && evn_seg != no_segment) {
      event = std::string(trim(part(field_index(segs_[evn_seg].text, d_)[1], d_.component, 1)));
    }
    static constexpr std::string_view merges[] = {"A18", "A30", "A34", "A35", "A36",
                                                  "A39", "A40", "A41", "A42", "A37"};
    if (std::find(std::begin(merges), std::end(merges), event) != std::end(merges)) {
      reject(error::unsupported_event, 0, 9,
             "ADT " + event + " merges or links patients: covgate does not apply it yet");
      return;
    }
    const bool visit = event == "A01" || event == "A03" || event == "A04" || event == "A08";
    const bool cancel = event == "A11" || event == "A13";
    if (pid_seg == no_segment) {
      if (visit || cancel) {
        add(error::patient_missing, no_segment, 0, 0, "ADT " + event + " without a PID segment");
      } else {
        add(error::event_not_read, 0, 9, 0, "ADT " + event + " gives no fact");
      }
      return;
    }
    pid(pid_seg);
    if (!patient_.present) return;
    if (!visit && !cancel) {
      add(error::event_not_read, 0, 9, 0,
          "ADT " + (event.empty() ? std::string("without an event") : event) +
              ": only its patient is read");
      return;
    }
    if (pv1_seg == no_segment) {
      add(error::segment_sequence, pid_seg, 0, 0,
          "ADT " + event + " needs a PV1 segment after the PID");
      return;
    }
    encounter(pv1_seg, event);
  }

  void encounter(std::size_t seg, const std::string& event) {
    decoded_.clear();
    const field_index f(segs_[seg].text, d_);
    for (const std::uint32_t field : {2u, 3u, 7u, 8u, 9u, 17u, 19u, 44u, 45u}) {
      if (too_long(seg, field, f[field])) return;
    }
    // Identity: the visit number (PV1-19) with the authority that assigned it, else the
    // sender's.
    const auto visit_number = trim(component(f[19], 1));
    std::string identity;
    if (!visit_number.empty()) {
      auto authority = normalized(part(f[19], d_.component, 4));
      if (authority.empty()) authority = sender_;
      identity = "pv1|" + authority + "|" + std::string(visit_number);
    } else {
      add(error::no_visit_number, seg, 19, 0, std::string(describe(error::no_visit_number)));
      if (event == "A11" || event == "A13") return;  // nothing names the visit to cancel
      identity = "message|" + sender_ + "|" + out_.header->control_id;
    }
    const auto id = "Encounter/" + stable_id(identity);
    if (event == "A11" || event == "A13") {
      out_.facts.emplace_back(model::retraction{id, patient_.reference, patient_.key});
      ++out_.visits;
      return;
    }
    model::encounter e;
    e.resource_id = id;
    e.patient = patient_.reference;
    e.patient_key = patient_.key;
    e.last_updated = last_updated_;
    const auto patient_class = trim(component(f[2], 1));
    if (patient_class.empty()) {
      add(error::required_field_missing, seg, 2, 0, "PV1-2 (patient class) is required");
      return;
    }
    const auto mapped = t_.hl7v2_patient_class(patient_class);
    e.class_code = std::string(mapped.empty() ? patient_class : mapped);
    if (mapped.empty()) {
      add(error::segment_not_read, seg, 2, 0,
          "PV1-2 patient class " + std::string(patient_class) +
              " is not in hl7v2.json: kept as sent (no visit class the rules read)");
    }
    bool malformed = false;
    if (const auto start = time_of(seg, 44, f[44], malformed)) e.start = *start;
    if (malformed) return;
    if (const auto end = time_of(seg, 45, part(f[45], d_.repetition, 1), malformed)) e.end = *end;
    if (malformed) return;
    if (!e.start.valid()) {
      add(error::visit_date_missing, seg, 44, 0, std::string(describe(error::visit_date_missing)));
    }
    e.status = event == "A03" || e.end.valid() ? "finished" : "in-progress";
    if (!trim(f[3]).empty()) {
      e.locations.push_back("Location/" + stable_id("pl|" + sender_ + "|" + normalized(f[3])));
    }
    const std::size_t practitioners_from = out_.facts.size();
    for (const auto& [field, role] : {std::pair{7u, "ATND"}, std::pair{8u, "REF"},
                                      std::pair{9u, "CON"}, std::pair{17u, "ADM"}}) {
      const std::string_view participation = role;  // clang 14 lambdas cannot capture bindings
      repetitions(seg, field, f[field], [&](std::string_view xcn) {
        provider(xcn, participation, e.participants, practitioners_from);
      });
    }
    out_.facts.emplace_back(std::move(e));
    ++out_.visits;
  }

  /// One XCN: a participant (and a practitioner fact when its credential is known).
  void provider(std::string_view xcn, std::string_view role,
                std::vector<model::participant>& participants, std::size_t practitioners_from) {
    const auto id = trim(component(xcn, 1));
    const auto family = trim(component(xcn, 2));
    const auto type_code = trim(component(xcn, 13));
    const auto authority_ns = subcomponent(xcn, 9, 1);
    const auto authority_id = subcomponent(xcn, 9, 2);
    std::string credential;
    auto type = mapping::provider_type::unknown;
    // The credential: XCN-21 (professional suffix), else the deprecated XCN-7 (degree), else a
    // degree some senders put in XCN-5 (suffix).
    for (const std::size_t n : {21, 7, 5}) {
      const auto code = trim(component(xcn, n));
      if (code.empty()) continue;
      const auto t = t_.qualification(code);
      if (t != mapping::provider_type::unknown) {
        credential = std::string(code);
        type = t;
        break;
      }
    }
    const bool npi = !id.empty() && (type_code == "NPI" || authority_ns == "NPI" ||
                                     authority_id == "2.16.840.1.113883.4.6");
    std::string reference;
    if (npi) {
      reference = "Practitioner/npi-";
      for (const char c : id) reference += (c >= '0' && c <= '9') ? c : '_';
    } else if (!id.empty()) {
      reference = "Practitioner/" +
                  stable_id("xcn|" +
                            (authority_ns.empty() && authority_id.empty()
                                 ? sender_
                                 : std::string(authority_ns) + "&" + std::string(authority_id)) +
                            "|" + std::string(id));
    } else if (!family.empty()) {
      reference = "Practitioner/" + stable_id("xcn-name|" + sender_ + "|" + normalized(xcn));
    } else {
      return;
    }
    participants.push_back({reference, type, {std::string(role)}});
    if (type == mapping::provider_type::unknown) return;
    for (std::size_t i = practitioners_from; i < out_.facts.size(); ++i) {
      if (model::resource_id_of(out_.facts[i]) == reference) return;
    }
    model::practitioner p;
    p.resource_id = reference;
    if (npi) p.npi = std::string(id);
    p.qualifications.push_back(credential);
    p.type = type;
    out_.facts.emplace_back(std::move(p));
  }

  std::string_view text_;
  const mapping::tables& t_;
  const read_options& o_;
  read_result& out_;
  std::string owned_;  // the message as UTF-8 when it was transcoded
  bool latin1_ = false;
  delimiters d_{};
  std::vector<segment_view> segs_;
  bool escapes_ = true;
  field_index msh_;
  std::string sender_;
  std::string_view sender_names_[4];  // MSH-4.1, MSH-4.2, MSH-3.1, MSH-3.2 (those valued)
  std::size_t sender_name_count_ = 0;
  std::string last_updated_;
  std::deque<std::string> decoded_;
  patient_context patient_;
  order_group group_;
  std::string order_identity_;
  std::string identity_;  // reused: the text a result's id is hashed from
  std::optional<model::moment> group_time_;
  model::fasting_state group_fasting_ = model::fasting_state::unknown;
};

}  // namespace

std::string to_string(const issue& i) {
  std::string out;
  if (i.line != 0) out += "line " + std::to_string(i.line) + ": ";
  if (!i.segment.empty()) {
    out += i.segment;
    if (i.sequence != 0) out += "[" + std::to_string(i.sequence) + "]";
    if (i.field != 0) {
      out += "-" + std::to_string(i.field);
      if (i.component != 0) out += "." + std::to_string(i.component);
    }
    out += ": ";
  } else if (i.field != 0) {
    out += "MSH-" + std::to_string(i.field) + ": ";
  }
  out += i.diagnostics;
  return out;
}

ack_code read_result::ack() const noexcept {
  if (rejected) return ack_code::application_reject;
  return has_errors() ? ack_code::application_error : ack_code::application_accept;
}

bool read_result::has_errors() const noexcept {
  return rejected || std::any_of(issues.begin(), issues.end(),
                                 [](const issue& i) { return i.level == severity::error; });
}

ack_outcome read_result::outcome() const {
  ack_outcome o;
  o.application = ack();
  for (const auto& i : issues) {
    if (i.level == severity::information) continue;
    ack_error e;
    e.code = i.code;
    e.level = i.level;
    e.segment = i.segment.empty() && i.field != 0 ? "MSH" : i.segment;
    e.sequence = i.segment.empty() && i.field != 0 ? 1 : i.sequence;
    e.field = i.field;
    e.component = i.component;
    e.text = i.diagnostics;
    o.errors.push_back(std::move(e));
  }
  return o;
}

std::string read_result::dedupe_key() const {
  return header ? hl7v2::dedupe_key(*header) : std::string{};
}

read_result read(std::string_view message, const mapping::tables& tables,
                 const read_options& options) {
  read_result out;
  mapper m(message, tables, options, out);
  m.run();
  return out;
}

read_result refuse(std::string_view message, error why, const read_options& options) {
  read_result out;
  out.header = parse_msh(message);
  issue i;
  i.level = severity_of(why);
  i.code = why;
  i.line = options.first_line;
  i.diagnostics = std::string(describe(why));
  out.issues.push_back(std::move(i));
  out.rejected = true;
  return out;
}

std::vector<std::string> write_acks(const read_result& result, const hl7_ack_settings& settings,
                                    bool stored) {
  auto outcome = result.outcome();
  outcome.stored = stored;
  return write_acks(result.header ? &*result.header : nullptr, outcome, settings);
}

}  // namespace covgate::hl7v2
