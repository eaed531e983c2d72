#include "covgate/cluster/front_route.hpp"

#include <rapidjson/document.h>
#include <rapidjson/memorystream.h>
#include <rapidjson/reader.h>

#include <pugixml.hpp>

#include <algorithm>
#include <charconv>
#include <iterator>
#include <map>
#include <set>
#include <span>
#include <sstream>
#include <stdexcept>
#include <tuple>
#include <unordered_map>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/engine/x12_input.hpp"
#include "covgate/fhir/linker.hpp"
#include "covgate/hl7v2/splitter.hpp"
#include "covgate/model/date.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/envelope_edit.hpp"
#include "covgate/x12/split_by_patient.hpp"

namespace covgate::cluster {
namespace {

std::string_view text_of(const rapidjson::Value& object, const char* name) {
  const auto member = object.FindMember(name);
  if (member == object.MemberEnd() || !member->value.IsString()) return {};
  return {member->value.GetString(), member->value.GetStringLength()};
}

// A part that is a whole message (or a whole X12 part), for one patient or, with no key, for
// every worker.
routed_part whole_part(std::string patient_key, message_kind kind, std::string payload) {
  routed_part part;
  part.patient_key = std::move(patient_key);
  part.kind = kind;
  part.payload = std::move(payload);
  return part;
}

// ---- X12 ---------------------------------------------------------------------------------

// One interchange read as the gate reads it: how many claims it would hand over, and the
// reader's verdict.
struct interchange_reading final : engine::x12_input::handler {
  std::uint32_t claims = 0;
  std::uint32_t interchanges = 0;
  x12::interchange_result result;
  engine::interchange_verdict verdict;
  void accepted_set(std::span<model::claim> set_claims, const x12::set_result&) override {
    claims += static_cast<std::uint32_t>(set_claims.size());
  }
  void interchange_end(const x12::interchange_result& r,
                       const engine::interchange_verdict& v) override {
    ++interchanges;
    result = r;
    verdict = v;
  }
};

std::string ordinal_text(std::size_t index) { return "interchange " + std::to_string(index + 1); }

void plan_x12(std::string_view message, const route_settings& settings, std::int64_t unix_ms,
              route_plan& plan) {
  const auto pieces = x12::split_interchanges(message);
  for (std::size_t i = 0; i < pieces.size(); ++i) {
    const auto text = pieces[i];
    interchange_reading reading;
    {
      engine::x12_input input(reading, settings.x12);
      input.put(text);
      input.finish();
    }
    route_piece piece;
    piece.text = text;
    if (reading.claims == 0) {
      piece.local = true;  // refused whole, or nothing in it: the answer is the reader's alone
    } else if (reading.interchanges != 1 || !reading.verdict.all_accepted) {
      plan.refusal = ordinal_text(i) +
                     " is only partly accepted by the 837 reader (a set, group or trailer is "
                     "rejected): a cluster front routes an interchange only when all of it or "
                     "none of it is accepted; correct it, or send its accepted sets in an "
                     "interchange of their own";
      plan.pieces.clear();
      return;
    } else {
      x12::split_options split;
      split.reader = settings.x12;
      auto result = x12::split_by_patient(text, split);
      if (!result.ok()) {
        plan.refusal = ordinal_text(i) + " cannot be split by patient: " + result.error;
        plan.pieces.clear();
        return;
      }
      for (auto& part : result.parts) {
        piece.parts.push_back(whole_part(std::move(part.patient_key), message_kind::claim,
                                         std::move(part.interchange)));
      }
      if (reading.verdict.acknowledge) {
        x12::ack_settings ack;
        const auto at = model::utc_stamp(unix_ms);
        ack.date = at.substr(2, 6);
        ack.time = at.substr(8, 4);
        ack.control = 1;
        piece.acknowledgment = x12::write_acknowledgment(reading.result, ack);
      }
    }
    plan.pieces.push_back(std::move(piece));
  }
}

// ---- facts (FHIR, HL7 v2) ------------------------------------------------------------------

// Which patients the facts of one message belong to, once linked within the message.
struct patients_of_facts {
  std::set<std::string> keys;  // canonical patient keys
  // The local identities of the facts whose patient the message names without a Medicare
  // identifier: the Patient a reference names that the message does not identify...
  std::set<std::string> identities;
  // ...and the Patients (PIDs) with local identifiers only (their resource ids). With no key
  // in the message, the identity map routes by the one of either (identity_map.hpp). Beside a
  // key, such a Patient gets a part of its own in a message that is split (NDJSON, a
  // collection, batch or searchset Bundle: its own identity routes it), and travels with that
  // patient's facts in one that is not (an HL7 v2 message, a transaction Bundle).
  std::set<std::string> keyless_patients;
  std::size_t anonymous = 0;  // facts naming no patient at all (an empty reference)
  // Each Patient the message identifies by a Medicare identifier: its resource id and key,
  // which the front links in the identity map.
  std::vector<std::pair<std::string, std::string>> links;
  std::size_t about_a_patient = 0;  // facts filed under a patient
  std::size_t facts = 0;
};

// Reference data: a fact about a provider, which concerns every patient's claims.
bool is_reference(const model::fact& f) noexcept {
  return std::holds_alternative<model::practitioner>(f) ||
         std::holds_alternative<model::practitioner_role>(f);
}

// What the front learnt from the identity map, as plan_route was given it.
struct patient_links {
  const same_patients& keys;       // plan_route's `linked`
  const same_identities& aliases;  // plan_route's `aliases`
};
const same_patients no_keys;
const same_identities no_aliases;
const patient_links no_links{no_keys, no_aliases};

// The patient of facts named by local `identity`: {"", identity}, {key, ""} when the front
// knows the identity is linked to the patient of that key (plan_route's `linked`), or
// {"", other} when it is the same patient as the message's local identity `other`
// (plan_route's `aliases`).
std::pair<std::string, std::string> patient_of_identity(const patient_links& linked,
                                                        const std::string& identity) {
  if (const auto at = linked.keys.find(identity); at != linked.keys.end()) return {at->second, {}};
  if (const auto at = linked.aliases.find(identity); at != linked.aliases.end()) {
    return {{}, at->second};
  }
  return {{}, identity};
}

patients_of_facts patients_of(std::vector<model::fact> facts,  // by value: linked in place
                              const patient_links& linked = no_links) {
  patients_of_facts out;
  out.facts = facts.size();
  fhir::linker link([&](model::fact&& f) {
    const auto& key = model::patient_key_of(f);
    if (key.empty()) {
      if (const auto* p = std::get_if<model::patient>(&f)) {
        // By local identifiers only (a Patient the front knows linked goes with its patient).
        auto [linked_key, identity] = patient_of_identity(linked, p->resource_id);
        if (linked_key.empty()) {
          out.keyless_patients.insert(std::move(identity));
        } else {
          out.keys.insert(std::move(linked_key));
        }
      } else if (!is_reference(f)) {
        ++out.anonymous;
      }
      return;
    }
    ++out.about_a_patient;
    out.keys.insert(canonical_patient_key(key));
    if (const auto* p = std::get_if<model::patient>(&f); p != nullptr && !p->resource_id.empty()) {
      out.links.emplace_back(p->resource_id, canonical_patient_key(key));
    }
  });
  for (auto& f : facts) link.add(std::move(f));
  for (const auto& f : link.take_waiting()) {
    const auto& reference = model::patient_reference_of(f);
    if (reference.empty()) {
      ++out.anonymous;
    } else if (auto [linked_key, identity] = patient_of_identity(linked, reference);
               !linked_key.empty()) {
      ++out.about_a_patient;
      out.keys.insert(std::move(linked_key));
    } else {
      out.identities.insert(std::move(identity));
    }
  }
  return out;
}

// The resource ids of the Patients in `links` that are `key`'s, for a part of that patient.
std::vector<std::string> links_of(const std::vector<std::pair<std::string, std::string>>& links,
                                  const std::string& key) {
  std::vector<std::string> out;
  for (const auto& [resource, linked_key] : links) {
    if (linked_key == key && std::find(out.begin(), out.end(), resource) == out.end()) {
      out.push_back(resource);
    }
  }
  return out;
}

// Why a message cannot go whole to one patient, or "" when it can (one key, or one local
// identity and no key).
std::string whole_refusal(const patients_of_facts& who) {
  if (who.anonymous > 0) {
    return std::to_string(who.anonymous) +
           " facts name no patient (an empty reference): a cluster front cannot tell whose "
           "partition they belong to";
  }
  auto local = who.identities;
  if (who.keys.empty()) local.insert(who.keyless_patients.begin(), who.keyless_patients.end());
  const auto patients = who.keys.size() + local.size();
  if (patients <= 1) return {};
  if (!who.keys.empty() && !who.identities.empty()) {
    return "the message holds facts of " + std::to_string(patients) +
           " patients, some named only by a local identity (a reference the message does not "
           "identify, or a Patient without a Medicare identifier): a cluster front routes one "
           "patient's facts per message; send each patient's facts in a message of their own";
  }
  return "the message holds facts of " + std::to_string(patients) +
         " patients: a cluster front routes one patient's facts per message; send each "
         "patient's facts in a message of their own";
}

// The local identity a message's facts go by when they carry no key: a reference the message
// does not identify, else a keyless Patient's own id; nullptr when there is none.
const std::string* local_identity_of(const patients_of_facts& who) {
  if (!who.identities.empty()) return &*who.identities.begin();
  if (!who.keyless_patients.empty()) return &*who.keyless_patients.begin();
  return nullptr;
}

// The part of a message that goes whole to its one patient.
routed_part part_of_patient(const patients_of_facts& who, message_kind kind,
                            std::string_view message) {
  if (who.keys.empty()) {  // named by a local identity: the identity map routes it
    auto part = whole_part({}, kind, std::string(message));
    part.patient_identity = *local_identity_of(who);
    return part;
  }
  auto part = whole_part(*who.keys.begin(), kind, std::string(message));
  part.links = links_of(who.links, part.patient_key);
  return part;
}

// Plans a FHIR or HL7 v2 message that goes whole: to the one patient its facts (`who`) are
// about (by Medicare identifier, or by a local identity through the identity map), to every
// worker as reference data, answered by the front, or refused.
void plan_whole(std::string_view message, const patients_of_facts& who, message_kind kind,
                route_plan& plan) {
  route_piece piece;
  piece.text = message;
  if (who.facts == 0) {
    piece.local = true;  // refused, or nothing a worker would keep: the reader's answer alone
    plan.pieces.push_back(std::move(piece));
    return;
  }
  if (auto why = whole_refusal(who); !why.empty()) {
    plan.refusal = std::move(why);
    return;
  }
  if (who.keys.empty() && who.identities.empty() && who.keyless_patients.empty()) {
    // reference data alone: for every worker
    piece.reference = true;
    piece.parts.push_back(whole_part({}, kind, std::string(message)));
    plan.pieces.push_back(std::move(piece));
    return;
  }
  piece.parts.push_back(part_of_patient(who, kind, message));
  plan.pieces.push_back(std::move(piece));
}

void plan_facts(std::string_view message, std::vector<model::fact> facts, message_kind kind,
                const patient_links& linked, route_plan& plan) {
  plan_whole(message, patients_of(std::move(facts), linked), kind, plan);
}

// ---- NDJSON of several patients ------------------------------------------------------------

// One resource line of an NDJSON message, read by itself.
struct ndjson_line {
  std::uint32_t number = 0;  // the sender's line number, from 1
  std::string_view text;
  std::vector<model::fact> facts;
  std::vector<fhir::issue> issues;  // "line <number>: …"
};

std::vector<ndjson_line> ndjson_lines(std::string_view message, const mapping::tables& tables,
                                      const fhir::read_limits& limits) {
  std::vector<ndjson_line> lines;
  if (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);
  for (std::uint32_t number = 1; !message.empty(); ++number) {
    const auto end = message.find('\n');
    auto row = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    while (!row.empty() && (row.back() == '\r' || row.back() == ' ')) row.remove_suffix(1);
    if (row.empty()) continue;  // as the reader: a blank line is no resource
    auto read = fhir::read_ndjson(row, number, tables, limits);
    lines.push_back({number, row, std::move(read.facts), std::move(read.issues)});
  }
  return lines;
}

// The parts of a message split by patient may hold at most 4 × its size + 1 MiB in all (what
// belongs to no patient is copied into every part); false, with the refusal, past that.
// `pieces` names what is copied ("lines", "entries"), `unit` the message ("message", "Bundle").
bool within_split_budget(std::size_t message_bytes, std::size_t part_bytes, std::size_t patients,
                         std::string_view pieces, std::string_view unit, route_plan& plan) {
  if (part_bytes <= 4 * message_bytes + (std::size_t{1} << 20)) return true;
  plan.refusal = "the " + std::string(unit) + "'s " + std::string(pieces) +
                 " of no patient (reference data) copied to each of its " +
                 std::to_string(patients) +
                 " patients would exceed four times its size: send fewer patients per " +
                 std::string(unit) + ", or reference data with the patients it concerns";
  return false;
}

// Splits NDJSON, read line by line into `lines`, by the patient of each line; false when the
// message is not one to split (one patient or none: the caller routes it whole, with the
// facts of `lines`, which are then left as read), with plan.refusal set when it cannot be sent.
// The lines that yield no fact are answered by the front from its own read of each line: a
// worker given such a line within a part might read the part as one JSON document (a reader
// takes a payload for NDJSON only when its second line starts an object).
bool split_ndjson(std::string_view message, std::vector<ndjson_line>& lines,
                  const patient_links& linked, route_plan& plan) {
  // A Patient with the Medicare identifier names the key its references resolve to.
  std::unordered_map<std::string, std::string> key_of_reference;
  for (const auto& line : lines) {
    for (const auto& f : line.facts) {
      if (const auto* p = std::get_if<model::patient>(&f); p != nullptr && !p->key.empty()) {
        key_of_reference.emplace(p->resource_id, canonical_patient_key(p->key));
      }
    }
  }
  enum class belongs : std::uint8_t { no_fact, everyone, one_patient, nobody_identified };
  std::vector<belongs> of(lines.size(), belongs::no_fact);
  std::vector<std::size_t> owner(lines.size());  // index into `patients`
  // In order of first appearance: a patient key, or a local identity (a reference no Patient
  // of the message identifies, or a Patient with local identifiers only), which the identity
  // map routes as it routes a whole message of that identity.
  struct patient_of_part {
    std::string key;
    std::string identity;
  };
  std::vector<patient_of_part> patients;
  std::map<std::pair<std::string, std::string>, std::size_t> index_of;
  std::size_t first_unidentified = 0;  // a line with facts that name no patient at all
  std::size_t shared_bytes = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    std::set<std::pair<std::string, std::string>> whose;  // {key, identity}, one of them set
    bool unidentified = false;
    for (const auto& f : lines[i].facts) {
      if (const auto& key = model::patient_key_of(f); !key.empty()) {
        whose.insert({canonical_patient_key(key), {}});
      } else if (const auto* p = std::get_if<model::patient>(&f);
                 p != nullptr && !p->resource_id.empty()) {
        whose.insert(patient_of_identity(linked, p->resource_id));  // local identifiers only
      } else if (const auto& reference = model::patient_reference_of(f); !reference.empty()) {
        const auto found = key_of_reference.find(reference);
        if (found == key_of_reference.end()) {
          // A patient this message does not identify.
          whose.insert(patient_of_identity(linked, reference));
        } else {
          whose.insert({found->second, {}});
        }
      } else if (!is_reference(f)) {
        unidentified = true;
      }
    }
    if (whose.size() > 1) {
      plan.refusal = "line " + std::to_string(lines[i].number) + " holds facts of " +
                     std::to_string(whose.size()) +
                     " patients: a cluster front splits NDJSON by line; send each patient's "
                     "resources on lines of their own";
      return false;
    }
    if (whose.empty()) {
      if (unidentified) {
        of[i] = belongs::nobody_identified;
        if (first_unidentified == 0) first_unidentified = lines[i].number;
      } else if (!lines[i].facts.empty()) {
        of[i] = belongs::everyone;
        shared_bytes += lines[i].text.size() + 1;
      }
      continue;
    }
    of[i] = belongs::one_patient;
    const auto [at, added] = index_of.emplace(*whose.begin(), patients.size());
    if (added) patients.push_back({whose.begin()->first, whose.begin()->second});
    owner[i] = at->second;
  }
  if (patients.size() < 2) return false;
  if (first_unidentified > 0) {
    plan.refusal = "line " + std::to_string(first_unidentified) +
                   ": facts name no patient (an empty reference): a cluster front cannot tell "
                   "whose partition they belong to";
    return false;
  }
  if (!within_split_budget(message.size(), message.size() + shared_bytes * patients.size(),
                           patients.size(), "lines", "message", plan)) {
    return false;
  }

  route_piece piece;
  piece.text = message;
  piece.parts.resize(patients.size());
  for (std::size_t p = 0; p < patients.size(); ++p) {
    piece.parts[p].patient_key = patients[p].key;
    piece.parts[p].patient_identity = patients[p].identity;
    piece.parts[p].kind = message_kind::fhir;
  }
  for (const auto& [resource, key] : key_of_reference) {
    if (const auto at = index_of.find({key, {}}); at != index_of.end()) {
      piece.parts[at->second].links.push_back(resource);
    }
  }
  for (auto& part : piece.parts) std::sort(part.links.begin(), part.links.end());
  fhir::read_result own;  // the lines no worker reads
  const auto add = [](routed_part& part, const ndjson_line& line, bool shared) {
    part.payload.append(line.text).push_back('\n');
    part.lines.push_back(line.number);
    if (shared) part.shared_lines.push_back(line.number);
  };
  for (std::size_t i = 0; i < lines.size(); ++i) {
    switch (of[i]) {
      case belongs::one_patient:
        add(piece.parts[owner[i]], lines[i], false);
        break;
      case belongs::everyone:
        for (auto& part : piece.parts) add(part, lines[i], true);
        piece.repeated_facts +=
            static_cast<std::uint32_t>(lines[i].facts.size() * (piece.parts.size() - 1));
        break;
      case belongs::no_fact:
      case belongs::nobody_identified:
        for (auto& issue : lines[i].issues) own.issues.push_back(std::move(issue));
        break;
    }
  }
  if (!own.issues.empty()) {
    piece.own_outcome = fhir::operation_outcome_json(own);
    piece.own_rejected = own.has_errors();
  }
  plan.pieces.push_back(std::move(piece));
  return true;
}

// One issue of a worker's OperationOutcome, placed on the sender's line or entry.
struct placed_issue {
  std::uint32_t line = 0;  // 0: about no line
  std::string severity, code, diagnostics;
  std::vector<std::string> expression;
};

// ---- Bundles of several patients ----------------------------------------------------------

// "Bundle.entry[12].resource.code" → 12; nullopt when the path names no entry of the Bundle.
std::optional<std::uint32_t> entry_index(std::string_view expression) {
  constexpr std::string_view prefix = "Bundle.entry[";
  if (!expression.starts_with(prefix)) return std::nullopt;
  expression.remove_prefix(prefix.size());
  std::uint32_t index = 0;
  const auto [end, error] =
      std::from_chars(expression.data(), expression.data() + expression.size(), index);
  if (error != std::errc{} || end == expression.data() + expression.size() || *end != ']') {
    return std::nullopt;
  }
  return index;
}

// The same path with entry `index` in place of the one it names (entry_index must have read it).
std::string with_entry_index(std::string_view expression, std::uint32_t index) {
  const auto close = expression.find(']');
  return "Bundle.entry[" + std::to_string(index) + std::string(expression.substr(close));
}

// A Bundle's types a front splits: their entries stand each by itself. A transaction is all
// or nothing and a message or document is one unit, so they are never cut.
bool splittable_bundle_type(std::string_view type) {
  return type == "collection" || type == "batch" || type == "searchset";
}

// The bytes of each element of a JSON Bundle's root "entry" array, by one iterative SAX pass
// (the same flags as the FHIR reader): a split copies each entry as the sender wrote it, so
// no number is rewritten and no nesting is walked recursively. {0, 0} for an element that is
// not an object. In iterative parsing the handler sees '{' and '}' before they are taken.
class entry_ranges final : public rapidjson::BaseReaderHandler<rapidjson::UTF8<>, entry_ranges> {
 public:
  explicit entry_ranges(const rapidjson::MemoryStream& stream) : stream_(stream) {}
  std::vector<std::pair<std::size_t, std::size_t>> ranges;

  bool Key(const char* name, rapidjson::SizeType length, bool) {
    if (depth_ == 1) entry_key_ = std::string_view(name, length) == "entry";
    return true;
  }
  bool StartObject() {
    if (element_starts()) {
      open_ = stream_.Tell();
      ranges.emplace_back(0, 0);
    }
    ++depth_;
    return true;
  }
  bool EndObject(rapidjson::SizeType) {
    --depth_;
    if (in_entries_ && depth_ == 2) ranges.back() = {open_, stream_.Tell() + 1};
    return true;
  }
  bool StartArray() {
    if (element_starts()) ranges.emplace_back(0, 0);
    ++depth_;
    if (depth_ == 2 && entry_key_) in_entries_ = true;
    return true;
  }
  bool EndArray(rapidjson::SizeType) {
    --depth_;
    if (depth_ == 1) in_entries_ = false;
    return true;
  }
  bool Default() {  // a scalar
    if (element_starts()) ranges.emplace_back(0, 0);
    return true;
  }

 private:
  [[nodiscard]] bool element_starts() const noexcept { return in_entries_ && depth_ == 2; }
  const rapidjson::MemoryStream& stream_;
  int depth_ = 0;
  bool entry_key_ = false;
  bool in_entries_ = false;
  std::size_t open_ = 0;
};

// A Bundle's entries as a split needs them, in JSON or XML: its type, each entry's resource
// identity as the reader names its facts' resources (Type/id, or Type/fullUrl; "" for an entry
// without a resource), each entry's text, and the text around the entries of a part.
class bundle_entries {
 public:
  /// False when `message` is not a Bundle with entries in that encoding.
  bool read(std::string_view message, fhir::encoding how) {
    if (how == fhir::encoding::json) {
      if (message.starts_with("\xEF\xBB\xBF")) message.remove_prefix(3);  // as the reader
      constexpr unsigned flags = rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag;
      json_.Parse<flags>(message.data(), message.size());
      if (json_.HasParseError() || !json_.IsObject() ||
          text_of(json_, "resourceType") != "Bundle") {
        return false;
      }
      const auto entries = json_.FindMember("entry");
      if (entries == json_.MemberEnd() || !entries->value.IsArray()) return false;
      rapidjson::MemoryStream stream(message.data(), message.size());
      entry_ranges ranges(stream);
      rapidjson::Reader sax;
      if (sax.Parse<flags>(stream, ranges).IsError() ||
          ranges.ranges.size() != entries->value.Size()) {
        return false;
      }
      type_ = std::string(text_of(json_, "type"));
      for (std::size_t i = 0; i < ranges.ranges.size(); ++i) {
        const auto& entry = entries->value[static_cast<rapidjson::SizeType>(i)];
        json_entries_.push_back(&entry);
        identities_.push_back(json_identity(entry));
        full_urls_.emplace_back(entry.IsObject() ? text_of(entry, "fullUrl") : "");
        const auto [from, to] = ranges.ranges[i];
        json_texts_.push_back(message.substr(from, to - from));
      }
      return !json_entries_.empty();
    }
    if (how != fhir::encoding::xml) return false;
    if (!xml_.load_buffer(message.data(), message.size(), pugi::parse_default)) return false;
    root_ = xml_.document_element();
    if (std::string_view(root_.name()) != "Bundle") return false;
    type_ = root_.child("type").attribute("value").value();
    for (const auto entry : root_.children("entry")) {
      xml_entries_.push_back(entry);
      const auto resource = entry.child("resource").find_child([](pugi::xml_node n) {
        return n.type() == pugi::node_element;
      });
      std::string_view id = resource.child("id").attribute("value").value();
      if (id.empty()) id = entry.child("fullUrl").attribute("value").value();
      identities_.push_back(resource ? std::string(resource.name()) + "/" + std::string(id)
                                     : std::string());
      full_urls_.emplace_back(entry.child("fullUrl").attribute("value").value());
    }
    return !xml_entries_.empty();
  }

  [[nodiscard]] std::string_view type() const noexcept { return type_; }
  [[nodiscard]] std::size_t size() const noexcept { return identities_.size(); }
  [[nodiscard]] const std::string& identity(std::size_t i) const { return identities_[i]; }
  [[nodiscard]] const std::string& full_url(std::size_t i) const { return full_urls_[i]; }

  /// Every reference (a `reference` element's value) inside entry `i`, as written.
  [[nodiscard]] std::vector<std::string> references(std::size_t i) const {
    std::vector<std::string> out;
    if (!json_entries_.empty()) {
      collect_json(*json_entries_[i], out, 0);
    } else {
      for (const auto& node : xml_entries_[i].select_nodes(".//*[local-name()='reference']")) {
        out.emplace_back(node.node().attribute("value").value());
      }
    }
    return out;
  }

  /// Entry `i` as written into a part.
  [[nodiscard]] std::string text(std::size_t i) const {
    if (!json_entries_.empty()) return std::string(json_texts_[i]);
    std::ostringstream out;
    xml_entries_[i].print(out, "", pugi::format_raw);
    return out.str();
  }

  /// A part's Bundle around its entries: the head (its type, and the opening of the entries),
  /// the separator between two entries, and the tail.
  [[nodiscard]] std::string head() const {
    std::string out;
    if (!json_entries_.empty()) {
      model::json_writer w(out);
      w.begin_object().key("resourceType").value("Bundle").key("type").value(type_);
      out += R"(,"entry":[)";  // the object is closed by the tail
      return out;
    }
    // The root as the sender wrote it, with its namespace declarations, then its type.
    pugi::xml_document copy;
    auto bundle = copy.append_child(root_.name());
    for (const auto attribute : root_.attributes()) bundle.append_copy(attribute);
    bundle.append_child("type").append_attribute("value").set_value(type_.c_str());
    std::ostringstream root;
    bundle.print(root, "", pugi::format_raw);
    out = root.str();
    // "<Bundle …><type value=…/></Bundle>": the entries go before the closing tag.
    out.resize(out.size() - tail().size());
    return out;
  }
  [[nodiscard]] std::string_view separator() const noexcept {
    return json_entries_.empty() ? "" : ",";
  }
  [[nodiscard]] std::string tail() const {
    return json_entries_.empty() ? "</" + std::string(root_.name()) + ">" : std::string("]}");
  }

 private:
  static std::string json_identity(const rapidjson::Value& entry) {
    if (!entry.IsObject()) return {};
    const auto resource = entry.FindMember("resource");
    if (resource == entry.MemberEnd() || !resource->value.IsObject()) return {};
    const auto id = text_of(resource->value, "id");
    return std::string(text_of(resource->value, "resourceType")) + "/" +
           std::string(id.empty() ? text_of(entry, "fullUrl") : id);
  }

  static void collect_json(const rapidjson::Value& v, std::vector<std::string>& out, int depth) {
    if (depth > 64) return;  // a reference nested deeper is not followed (never one in FHIR)
    if (v.IsArray()) {
      for (const auto& item : v.GetArray()) collect_json(item, out, depth + 1);
    } else if (v.IsObject()) {
      for (const auto& m : v.GetObject()) {
        if (m.value.IsString() && std::string_view(m.name.GetString()) == "reference") {
          out.emplace_back(m.value.GetString(), m.value.GetStringLength());
        } else {
          collect_json(m.value, out, depth + 1);
        }
      }
    }
  }

  rapidjson::Document json_;
  std::vector<const rapidjson::Value*> json_entries_;
  std::vector<std::string_view> json_texts_;  // viewing the caller's message
  pugi::xml_document xml_;
  pugi::xml_node root_;
  std::vector<pugi::xml_node> xml_entries_;
  std::string type_;
  std::vector<std::string> identities_;
  std::vector<std::string> full_urls_;
};

// Splits a Bundle (JSON or XML), read whole into `read`, by the patient of each entry; false
// when it is not one to split (one patient or none, or a fact the front cannot place in an
// entry: the caller routes it whole, or refuses it, with the facts of `read`), with
// plan.refusal set when it cannot be sent. Each part is a Bundle of the same type with that
// patient's entries and the entries of no patient (reference data); the entries that yield no
// fact are answered by the front from its own read, with the sender's entry numbers. A Bundle
// of a type that is never split is refused as several patients, unless `may_go_whole` (one
// keyed patient, with at most Patients of local identifiers beside it): then false, and the
// caller routes it whole as before.
bool split_bundle(std::string_view message, fhir::encoding how, const fhir::read_result& read,
                  bool may_go_whole, const patient_links& linked, route_plan& plan) {
  if (read.rejected || read.facts.empty()) return false;
  bundle_entries bundle;
  if (!bundle.read(message, how)) return false;
  const auto count = bundle.size();

  // Each entry by its identity; two entries of one resource are never placed apart.
  constexpr std::size_t ambiguous = static_cast<std::size_t>(-1);
  std::unordered_map<std::string, std::size_t> entry_of;
  for (std::size_t i = 0; i < count; ++i) {
    if (bundle.identity(i).empty()) continue;
    const auto [at, added] = entry_of.emplace(bundle.identity(i), i);
    if (!added) at->second = ambiguous;
  }

  // Whose facts each entry holds: {patient key, ""} or {"", local identity} (a reference no
  // Patient of the Bundle identifies, a Patient with local identifiers only), as in NDJSON.
  std::vector<std::set<std::pair<std::string, std::string>>> keys(count);
  std::vector<std::uint8_t> has_fact(count, 0), unidentified(count, 0);
  std::vector<std::size_t> facts_of(count, 0);
  std::vector<std::pair<std::string, std::string>> links;  // keyed Patients: resource id, key
  bool placed_all = true;
  fhir::linker link([&](model::fact&& f) {
    const auto& resource = resource_id_of(f);
    const auto found = entry_of.find(resource.substr(0, resource.find('#')));
    if (found == entry_of.end() || found->second == ambiguous) {
      placed_all = false;
      return;
    }
    const auto i = found->second;
    has_fact[i] = 1;
    ++facts_of[i];
    if (const auto& key = model::patient_key_of(f); !key.empty()) {
      keys[i].insert({canonical_patient_key(key), {}});
      if (const auto* p = std::get_if<model::patient>(&f)) {
        links.emplace_back(p->resource_id, canonical_patient_key(key));
      }
    } else if (const auto* p = std::get_if<model::patient>(&f);
               p != nullptr && !p->resource_id.empty()) {
      keys[i].insert(patient_of_identity(linked, p->resource_id));  // local identifiers only
    } else if (!is_reference(f)) {
      unidentified[i] = 1;
    }
  });
  for (const auto& f : read.facts) link.add(model::fact(f));
  // What the linker still holds names a patient the Bundle does not identify: by that identity.
  for (const auto& f : link.take_waiting()) {
    const auto& resource = resource_id_of(f);
    const auto found = entry_of.find(resource.substr(0, resource.find('#')));
    const auto& reference = model::patient_reference_of(f);
    if (found == entry_of.end() || found->second == ambiguous || reference.empty()) {
      placed_all = false;
      continue;
    }
    has_fact[found->second] = 1;
    ++facts_of[found->second];
    keys[found->second].insert(patient_of_identity(linked, reference));
  }
  if (!placed_all) return false;  // refused or routed whole by plan_facts

  std::vector<std::pair<std::string, std::string>> patients;  // in order of first appearance
  std::map<std::pair<std::string, std::string>, std::size_t> index_of;
  std::vector<std::size_t> owner(count, 0);
  for (std::size_t i = 0; i < count; ++i) {
    if (keys[i].size() > 1) {
      plan.refusal = "Bundle.entry[" + std::to_string(i) + "] holds facts of " +
                     std::to_string(keys[i].size()) +
                     " patients: a cluster front splits a Bundle by entry; send each patient's "
                     "resources in entries of their own";
      return false;
    }
    if (keys[i].size() == 1) {
      const auto [at, added] = index_of.emplace(*keys[i].begin(), patients.size());
      if (added) patients.push_back(*keys[i].begin());
      owner[i] = at->second;
    }
  }
  if (patients.size() < 2) return false;
  const auto type = bundle.type();
  if (!splittable_bundle_type(type)) {
    if (may_go_whole) return false;
    plan.refusal = "a " + std::string(type) + " Bundle holds facts of " +
                   std::to_string(patients.size()) +
                   " patients: a cluster front splits collection, batch and searchset Bundles "
                   "by patient, never a transaction (all or nothing), a message or a document; "
                   "send each patient's resources in a Bundle of their own";
    return false;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (keys[i].empty() && unidentified[i] != 0) {
      plan.refusal = "Bundle.entry[" + std::to_string(i) +
                     "]: facts name no patient (an empty reference): a cluster front cannot "
                     "tell whose partition they belong to";
      return false;
    }
  }

  // Which entries each part carries: its patient's and those of no patient, and then every
  // entry of no fact that one of them refers to (a Patient the reader resolved a reference
  // through but took no fact from): the worker must be able to resolve it the same way.
  std::unordered_map<std::string_view, std::size_t> by_url;
  for (std::size_t i = 0; i < count; ++i) {
    // Two entries of one fullUrl: the reader resolves it to the last, a split could not
    // tell which part needs which. Routed whole (refused as several patients) instead.
    if (!bundle.full_url(i).empty() && !by_url.emplace(bundle.full_url(i), i).second) {
      return false;
    }
  }
  const auto referred = [&](std::string_view reference) -> std::optional<std::size_t> {
    if (const auto at = by_url.find(reference); at != by_url.end()) return at->second;
    if (reference.find("://") != std::string_view::npos) {  // [base]/Type/id[/_history/v]
      reference = reference.substr(0, reference.find("/_history/"));
      const auto last = reference.rfind('/');
      if (last == std::string_view::npos || last == 0) return std::nullopt;
      const auto before = reference.rfind('/', last - 1);
      reference.remove_prefix(before == std::string_view::npos ? 0 : before + 1);
    }
    const auto at = entry_of.find(std::string(reference));
    if (at == entry_of.end() || at->second == ambiguous) return std::nullopt;
    return at->second;
  };
  // The entries of no fact each entry refers to, found once (a part follows them from its own).
  std::vector<std::vector<std::size_t>> refers_to(count);
  for (std::size_t i = 0; i < count; ++i) {
    for (const auto& reference : bundle.references(i)) {
      if (const auto j = referred(reference); j && has_fact[*j] == 0) refers_to[i].push_back(*j);
    }
  }
  std::vector<std::vector<std::uint8_t>> carries(patients.size(),
                                                 std::vector<std::uint8_t>(count, 0));
  std::vector<std::size_t> carried_by(count, 0);  // how many parts carry each entry
  for (std::size_t p = 0; p < patients.size(); ++p) {
    std::vector<std::size_t> todo;
    for (std::size_t i = 0; i < count; ++i) {
      if (has_fact[i] != 0 && (keys[i].empty() || owner[i] == p)) todo.push_back(i);
    }
    while (!todo.empty()) {
      const auto i = todo.back();
      todo.pop_back();
      if (carries[p][i] != 0) continue;
      carries[p][i] = 1;
      ++carried_by[i];
      for (const auto j : refers_to[i]) {
        if (carries[p][j] == 0) todo.push_back(j);
      }
    }
  }

  // Each entry as its own text, written once.
  std::vector<std::string> texts(count);
  std::size_t part_bytes = 0;
  for (std::size_t i = 0; i < count; ++i) {
    if (carried_by[i] == 0) continue;
    texts[i] = bundle.text(i);
    part_bytes += (texts[i].size() + 1) * carried_by[i];
  }
  if (!within_split_budget(message.size(), part_bytes, patients.size(), "entries", "Bundle",
                           plan)) {
    return false;
  }

  route_piece piece;
  piece.text = message;
  piece.parts.resize(patients.size());
  const auto head = bundle.head();
  const auto separator = bundle.separator();
  const auto tail = bundle.tail();
  for (std::size_t p = 0; p < patients.size(); ++p) {
    auto& part = piece.parts[p];
    part.patient_key = patients[p].first;
    part.patient_identity = patients[p].second;
    part.kind = message_kind::fhir;
    if (!part.patient_key.empty()) part.links = links_of(links, part.patient_key);
    part.payload = head;
    for (std::size_t i = 0; i < count; ++i) {
      if (carries[p][i] == 0) continue;
      if (!part.entries.empty()) part.payload += separator;
      part.payload += texts[i];
      part.entries.push_back(static_cast<std::uint32_t>(i));
      if (carried_by[i] > 1) part.shared_entries.push_back(static_cast<std::uint32_t>(i));
    }
    part.payload += tail;
  }
  for (std::size_t i = 0; i < count; ++i) {
    if (carried_by[i] > 1) {
      piece.repeated_facts += static_cast<std::uint32_t>(facts_of[i] * (carried_by[i] - 1));
    }
  }
  // The front answers for the entries no part carries, and for the Bundle itself.
  fhir::read_result own;
  for (const auto& issue : read.issues) {
    const auto index = entry_index(issue.expression);
    if (!index || *index >= count || carried_by[*index] == 0) own.issues.push_back(issue);
  }
  if (!own.issues.empty()) {
    piece.own_outcome = fhir::operation_outcome_json(own);
    piece.own_rejected = own.has_errors();
  }
  plan.pieces.push_back(std::move(piece));
  return true;
}

// One HL7 v2 message of a payload: where it is in the payload and the facts it yields.
struct hl7v2_message {
  std::string_view text;  // viewing the caller's payload
  std::vector<model::fact> facts;
  std::string control_id;  // MSH-10, "" when the header was not read
};

// The messages of an HL7 v2 payload, each read by itself; empty when a message's bytes are not
// where the splitter says (they always are: the check keeps every view into the payload).
std::vector<hl7v2_message> hl7v2_messages(std::string_view payload, const mapping::tables& tables,
                                          const route_settings& settings, bool& viewable) {
  std::vector<hl7v2_message> out;
  viewable = true;
  hl7v2::splitter_limits limits;
  limits.max_message_bytes = settings.hl7v2.limits.max_message_bytes;
  hl7v2::message_splitter splitter(
      [&](std::string_view text, const hl7v2::message_info& where) {
        hl7v2_message m;
        if (where.offset + text.size() > payload.size() ||
            payload.substr(where.offset, text.size()) != text) {
          viewable = false;
          return;
        }
        m.text = payload.substr(where.offset, text.size());
        if (!where.oversize) {
          auto options = settings.hl7v2;
          options.first_line = where.line;
          auto r = hl7v2::read(text, tables, options);
          if (r.header) m.control_id = r.header->control_id;
          if (!r.rejected) m.facts = std::move(r.facts);
        }
        out.push_back(std::move(m));
      },
      {}, limits);
  splitter.put(payload);
  splitter.finish();
  return out;
}

// HL7 v2 messages of several patients in one payload (a batch file over HTTP): one piece per
// message, in the payload's order. Each patient's messages travel as one part, in order,
// carried by the piece of the first of them (a part sent again after a failed publish could
// otherwise land after the same patient's next message); the later ones name that piece
// (carried_by), and the front hands each message its ACKs by MSA-2, so a patient's messages
// need distinct MSH-10s. False when the payload is not one to split (one patient or none: the
// caller routes it whole), with plan.refusal set when it cannot be sent.
bool split_hl7v2(const std::vector<hl7v2_message>& messages, route_plan& plan) {
  if (messages.size() < 2) return false;
  // A message's patient: its key, or its local identity (after a byte no key holds).
  const auto patient_of = [](const patients_of_facts& who) -> std::string {
    if (!who.keys.empty()) return *who.keys.begin();
    const auto* identity = local_identity_of(who);
    return identity != nullptr ? '\x01' + *identity : std::string();
  };
  std::set<std::string> everyone;
  std::vector<patients_of_facts> who;
  for (auto& m : messages) {
    who.push_back(patients_of(m.facts));  // a copy: the facts stay for the checks below
    if (!whole_refusal(who.back()).empty()) return false;  // refused by plan_facts, with it
    if (auto patient = patient_of(who.back()); !patient.empty()) everyone.insert(patient);
  }
  if (everyone.size() < 2) return false;
  std::unordered_map<std::string, std::size_t> carrier;  // patient -> the piece of its part
  std::unordered_map<std::string, std::set<std::string>> control_ids;  // patient -> MSH-10s
  for (std::size_t i = 0; i < messages.size(); ++i) {
    const auto refuse = [&](const std::string& why) {
      plan.refusal = "message " + std::to_string(i + 1) + " of the payload " + why;
      plan.pieces.clear();
      return false;
    };
    route_piece piece;
    piece.text = messages[i].text;
    piece.control_id = messages[i].control_id;
    const auto patient = patient_of(who[i]);
    if (messages[i].facts.empty()) {
      piece.local = true;  // refused, or nothing to keep: the front's own ACK
    } else if (patient.empty()) {
      piece.reference = true;
      piece.parts.push_back(whole_part({}, message_kind::hl7v2, std::string(piece.text)));
    } else {
      if (messages[i].control_id.empty() ||
          !control_ids[patient].insert(messages[i].control_id).second) {
        return refuse(
            "has no MSH-10, or repeats one of an earlier message of its patient in the payload: "
            "a cluster front sends a patient's messages together and returns each one's ACKs "
            "by MSA-2");
      }
      if (const auto at = carrier.find(patient); at != carrier.end()) {
        piece.carried_by = at->second;
        auto& part = plan.pieces[at->second].parts.front();
        part.payload.append(piece.text);
        for (auto& resource : links_of(who[i].links, part.patient_key)) {
          if (std::find(part.links.begin(), part.links.end(), resource) == part.links.end()) {
            part.links.push_back(std::move(resource));
          }
        }
      } else {
        carrier.emplace(patient, plan.pieces.size());
        piece.parts.push_back(part_of_patient(who[i], message_kind::hl7v2, piece.text));
      }
    }
    plan.pieces.push_back(std::move(piece));
  }
  return true;
}

std::vector<model::fact> hl7v2_facts(std::string_view message, const mapping::tables& tables,
                                     const route_settings& settings) {
  std::vector<model::fact> facts;
  hl7v2::splitter_limits limits;
  limits.max_message_bytes = settings.hl7v2.limits.max_message_bytes;
  hl7v2::message_splitter splitter(
      [&](std::string_view text, const hl7v2::message_info& where) {
        if (where.oversize) return;
        auto options = settings.hl7v2;
        options.first_line = where.line;
        auto r = hl7v2::read(text, tables, options);
        if (r.rejected) return;
        for (auto& f : r.facts) facts.push_back(std::move(f));
      },
      {}, limits);
  splitter.put(message);
  splitter.finish();
  return facts;
}

}  // namespace

part_joins joins_of(const identity_routes& routed,
                    const std::map<std::string, std::string, std::less<>>& keyed) {
  part_joins out;
  std::map<std::string_view, const std::string*> first_of_pkey;  // of the keys no part has
  for (const auto& [identity, pkey] : routed) {
    if (!pkey) continue;
    if (const auto at = keyed.find(*pkey); at != keyed.end()) {
      out.linked.emplace(identity, at->second);
    } else if (const auto [first, added] = first_of_pkey.emplace(*pkey, &identity); !added) {
      out.aliases.emplace(identity, *first->second);
    }
  }
  return out;
}

route_plan plan_route(std::string_view message, const mapping::tables& tables,
                      const route_settings& settings, std::int64_t unix_ms,
                      const same_patients& linked_keys, const same_identities& aliases) {
  const patient_links linked{linked_keys, aliases};
  route_plan plan;
  plan.kind = engine::sniff(message);
  switch (plan.kind) {
    case engine::payload_kind::x12:
      plan_x12(message, settings, unix_ms, plan);
      break;
    case engine::payload_kind::fhir: {
      if (fhir::sniff(message) == fhir::encoding::ndjson) {
        // Each line is read once: to split the message, or else for its facts as a whole. (A
        // second read of the whole message also applied the message-size limit, which the
        // worker's reader applies per line: an NDJSON of one patient past it was answered by
        // the front and never reached a worker.)
        auto lines = ndjson_lines(message, tables, settings.fhir);
        if (split_ndjson(message, lines, linked, plan) || !plan.refusal.empty()) break;
        std::vector<model::fact> facts;
        for (auto& line : lines)
          std::move(line.facts.begin(), line.facts.end(), std::back_inserter(facts));
        plan_facts(message, std::move(facts), message_kind::fhir, linked, plan);
        break;
      }
      if (message.size() > settings.fhir.max_bytes) {
        plan_whole(message, {}, message_kind::fhir, plan);  // the reader's refusal, by the front
        break;
      }
      const auto how = fhir::sniff(message);
      const auto r = fhir::read(message, how, tables, settings.fhir);
      const auto who = r.rejected ? patients_of_facts{} : patients_of(r.facts, linked);
      // Only a message of several patients (by Medicare identifier or local identity) is read
      // again as a Bundle to split: the one patient's message, by far the most common, costs
      // no second parse.
      const auto named = who.keys.size() + who.identities.size() + who.keyless_patients.size();
      if (named > 1 && who.anonymous == 0 &&
          split_bundle(message, how, r, whole_refusal(who).empty(), linked, plan)) {
        break;
      }
      if (!plan.refusal.empty()) break;
      plan_whole(message, who, message_kind::fhir, plan);
      break;
    }
    case engine::payload_kind::hl7v2: {
      // Each message is read once: to split the payload, or else for its facts as a whole.
      bool viewable = true;
      auto messages = hl7v2_messages(message, tables, settings, viewable);
      if (viewable && split_hl7v2(messages, plan)) break;
      if (!plan.refusal.empty()) break;
      std::vector<model::fact> facts;
      if (viewable) {
        for (auto& m : messages)
          std::move(m.facts.begin(), m.facts.end(), std::back_inserter(facts));
      } else {
        facts = hl7v2_facts(message, tables, settings);
      }
      plan_facts(message, std::move(facts), message_kind::hl7v2, linked, plan);
      break;
    }
    case engine::payload_kind::mllp:
    case engine::payload_kind::unknown:
      // Not a message a worker would read: answered (or called unrecognized) by the front.
      plan.pieces.push_back({message, true, {}, false, {}, false, 0, {}, {}, {}});
      break;
  }
  return plan;
}

named_patients patients_named(std::string_view message, const mapping::tables& tables,
                              const route_settings& settings) {
  std::vector<model::fact> facts;
  switch (engine::sniff(message)) {
    case engine::payload_kind::fhir:
      if (fhir::sniff(message) == fhir::encoding::ndjson) {
        for (auto& line : ndjson_lines(message, tables, settings.fhir))
          std::move(line.facts.begin(), line.facts.end(), std::back_inserter(facts));
      } else if (message.size() <= settings.fhir.max_bytes) {
        auto r = fhir::read(message, fhir::sniff(message), tables, settings.fhir);
        if (!r.rejected) facts = std::move(r.facts);
      }
      break;
    case engine::payload_kind::hl7v2:
      facts = hl7v2_facts(message, tables, settings);
      break;
    default:
      return {};
  }
  auto who = patients_of(std::move(facts));
  return {std::move(who.keys), std::move(who.identities), std::move(who.keyless_patients)};
}

namespace {

// The issues of one answer (its "accepted" left out: said once at the end when nothing else
// is), each unplaced. Throws std::invalid_argument when it is not an OperationOutcome.
std::vector<placed_issue> issues_of(std::string_view outcome, std::size_t part_number) {
  rapidjson::Document doc;
  doc.Parse(outcome.data(), outcome.size());
  if (doc.HasParseError() || !doc.IsObject() ||
      text_of(doc, "resourceType") != "OperationOutcome" || !doc.HasMember("issue") ||
      !doc["issue"].IsArray()) {
    throw std::invalid_argument("the answer to part " + std::to_string(part_number) +
                                " is not an OperationOutcome");
  }
  std::vector<placed_issue> out;
  for (const auto& issue : doc["issue"].GetArray()) {
    if (!issue.IsObject()) continue;
    placed_issue placed;
    placed.severity = std::string(text_of(issue, "severity"));
    placed.code = std::string(text_of(issue, "code"));
    placed.diagnostics = std::string(text_of(issue, "diagnostics"));
    if (placed.severity == "information" && placed.code == "informational" &&
        placed.diagnostics == "accepted") {
      continue;
    }
    if (const auto e = issue.FindMember("expression");
        e != issue.MemberEnd() && e->value.IsArray()) {
      for (const auto& x : e->value.GetArray()) {
        if (x.IsString()) placed.expression.emplace_back(x.GetString(), x.GetStringLength());
      }
    }
    out.push_back(std::move(placed));
  }
  return out;
}

// The one OperationOutcome of placed issues, in the order of their place (those of no place
// first), "accepted" alone when there are none.
std::string write_merged(std::vector<placed_issue>& issues) {
  std::stable_sort(issues.begin(), issues.end(),
                   [](const placed_issue& a, const placed_issue& b) { return a.line < b.line; });
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("resourceType").value("OperationOutcome").key("issue").begin_array();
  if (issues.empty()) {
    w.begin_object().key("severity").value("information").key("code").value("informational");
    w.key("diagnostics").value("accepted").end_object();
  }
  for (const auto& i : issues) {
    w.begin_object().key("severity").value(i.severity).key("code").value(i.code);
    w.key("diagnostics").value(i.diagnostics);
    if (!i.expression.empty()) {
      w.key("expression").begin_array();
      for (const auto& x : i.expression) w.value(x);
      w.end_array();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

bool holds(const std::vector<std::uint32_t>& list, std::uint32_t value) {
  return std::find(list.begin(), list.end(), value) != list.end();
}

}  // namespace

std::string merge_ndjson_outcomes(const std::vector<const routed_part*>& parts,
                                  const std::vector<std::string_view>& outcomes,
                                  std::string_view own_outcome) {
  if (parts.size() != outcomes.size()) {
    throw std::invalid_argument("merge_ndjson_outcomes: one answer per part");
  }
  std::vector<placed_issue> issues;
  // The front's own answer comes last, read as a part whose lines are the sender's.
  const routed_part senders_lines;
  const std::size_t answers = outcomes.size() + (own_outcome.empty() ? 0 : 1);
  for (std::size_t p = 0; p < answers; ++p) {
    const bool own = p == outcomes.size();
    const auto& part = own ? senders_lines : *parts[p];
    for (auto& placed : issues_of(own ? own_outcome : outcomes[p], p + 1)) {
      // "line <n>: …" names the part's own line n; a part of one line was read as a single
      // resource, whose issues name no line.
      std::string_view diagnostics = placed.diagnostics;
      std::uint32_t local = 0;
      if (diagnostics.starts_with("line ")) {
        const auto digits = diagnostics.substr(5);
        const auto [end, error] =
            std::from_chars(digits.data(), digits.data() + digits.size(), local);
        const auto rest =
            std::string_view(end, static_cast<std::size_t>(digits.data() + digits.size() - end));
        if (error != std::errc{} || !rest.starts_with(": ")) {
          local = 0;
        } else {
          diagnostics = rest.substr(2);
        }
      } else if (part.lines.size() == 1) {
        local = 1;
      }
      if (!own && local > part.lines.size()) {
        throw std::invalid_argument("the answer to part " + std::to_string(p + 1) +
                                    " names a line the part does not have");
      }
      if (local > 0) {
        placed.line = own ? local : part.lines[local - 1];
        // Every part read a shared line: the first part's issues say it.
        if (p > 0 && holds(part.shared_lines, placed.line)) continue;
        placed.diagnostics =
            "line " + std::to_string(placed.line) + ": " + std::string(diagnostics);
      }
      issues.push_back(std::move(placed));
    }
  }
  return write_merged(issues);
}

std::string merge_bundle_outcomes(const std::vector<const routed_part*>& parts,
                                  const std::vector<std::string_view>& outcomes,
                                  std::string_view own_outcome) {
  if (parts.size() != outcomes.size()) {
    throw std::invalid_argument("merge_bundle_outcomes: one answer per part");
  }
  std::vector<placed_issue> issues;
  std::set<std::tuple<std::string, std::string, std::string, std::vector<std::string>>> unplaced;
  // An entry several parts carry is reported by the first of them (reference data is in every
  // part; an entry of no fact only in the parts that refer to it).
  std::unordered_map<std::uint32_t, std::size_t> first_carrier;
  for (std::size_t p = 0; p < parts.size(); ++p) {
    for (const auto shared : parts[p]->shared_entries) first_carrier.emplace(shared, p);
  }
  const std::size_t answers = outcomes.size() + (own_outcome.empty() ? 0 : 1);
  for (std::size_t p = 0; p < answers; ++p) {
    const bool own = p == outcomes.size();
    for (auto& placed : issues_of(own ? own_outcome : outcomes[p], p + 1)) {
      const auto index =
          placed.expression.empty() ? std::nullopt : entry_index(placed.expression.front());
      if (!index) {
        // About the Bundle itself: every part's is the same Bundle, said once.
        if (!unplaced.emplace(placed.severity, placed.code, placed.diagnostics, placed.expression)
                 .second) {
          continue;
        }
      } else if (own) {
        placed.line = *index + 1;  // the front read the sender's Bundle
      } else {
        const auto& part = *parts[p];
        if (*index >= part.entries.size()) {
          throw std::invalid_argument("the answer to part " + std::to_string(p + 1) +
                                      " names an entry the part does not have");
        }
        const auto sender = part.entries[*index];
        if (const auto first = first_carrier.find(sender);
            first != first_carrier.end() && first->second != p) {
          continue;
        }
        for (auto& x : placed.expression) {
          if (entry_index(x) == index) x = with_entry_index(x, sender);
        }
        placed.line = sender + 1;
      }
      issues.push_back(std::move(placed));
    }
  }
  return write_merged(issues);
}

}  // namespace covgate::cluster
