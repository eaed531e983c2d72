// Fuzz target: any bytes through a cluster front's routing plan (cluster::plan_route), which
// reads X12, FHIR and HL7 v2 the way a worker will before anything is published.
// Invariants: it never throws or crashes and plans the same twice; a refusal publishes
// nothing; every piece views the input; a routed piece has parts and a local one none; every
// part names a patient, by key or by local identity, but the one part of
// reference data for every worker, only a keyed part links Patients, and every part has the
// message's kind; an HL7 v2 part is its piece's text (the message, or one message of it,
// followed by the later messages of its patient that it carries); a
// FHIR part is the message, or for NDJSON split by patient its lines in order, each with the
// sender's line number, whose merged answers are the parts' own, or for a Bundle split by
// patient a Bundle of its entries in the sender's order that, planned again, routes whole to
// the same patient (key or identity); an X12 part is one
// interchange the front can renumber (ISA13) and that, planned again, routes whole to the same
// patient.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/front_route.hpp"
#include "covgate/x12/envelope_edit.hpp"

using namespace covgate;

namespace {

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

constexpr std::int64_t received_at = 1'764'547'200'000;  // 2025-12-01T00:00:00Z

bool same_plan(const cluster::route_plan& a, const cluster::route_plan& b) {
  if (a.kind != b.kind || a.refusal != b.refusal || a.pieces.size() != b.pieces.size()) {
    return false;
  }
  for (std::size_t i = 0; i < a.pieces.size(); ++i) {
    const auto& x = a.pieces[i];
    const auto& y = b.pieces[i];
    if (x.text != y.text || x.local != y.local || x.reference != y.reference ||
        x.carried_by != y.carried_by || x.own_outcome != y.own_outcome ||
        x.repeated_facts != y.repeated_facts || x.acknowledgment != y.acknowledgment ||
        x.parts.size() != y.parts.size()) {
      return false;
    }
    for (std::size_t p = 0; p < x.parts.size(); ++p) {
      if (x.parts[p].patient_key != y.parts[p].patient_key ||
          x.parts[p].patient_identity != y.parts[p].patient_identity ||
          x.parts[p].links != y.parts[p].links || x.parts[p].kind != y.parts[p].kind ||
          x.parts[p].payload != y.parts[p].payload || x.parts[p].lines != y.parts[p].lines ||
          x.parts[p].shared_lines != y.parts[p].shared_lines ||
          x.parts[p].entries != y.parts[p].entries ||
          x.parts[p].shared_entries != y.parts[p].shared_entries) {
        return false;
      }
    }
  }
  return true;
}

cluster::message_kind kind_of_parts(engine::payload_kind kind) {
  switch (kind) {
    case engine::payload_kind::x12:
      return cluster::message_kind::claim;
    case engine::payload_kind::fhir:
      return cluster::message_kind::fhir;
    default:
      return cluster::message_kind::hl7v2;
  }
}

// A part of NDJSON split by patient: each of its lines is the sender's line of the number it
// records (trailing CR and blanks trimmed), in ascending order; its shared lines are among
// them.
void check_split_lines(std::string_view message, const cluster::routed_part& part) {
  std::vector<std::string_view> lines;
  if (message.substr(0, 3) == "\xEF\xBB\xBF") message.remove_prefix(3);
  while (!message.empty()) {
    const auto end = message.find('\n');
    auto row = message.substr(0, end);
    message.remove_prefix(end == std::string_view::npos ? message.size() : end + 1);
    while (!row.empty() && (row.back() == '\r' || row.back() == ' ')) row.remove_suffix(1);
    lines.push_back(row);
  }
  std::string_view rest = part.payload;
  std::uint32_t previous = 0;
  for (const auto number : part.lines) {
    if (number <= previous || number > lines.size()) std::abort();
    previous = number;
    const auto end = rest.find('\n');
    if (end == std::string_view::npos || rest.substr(0, end) != lines[number - 1]) std::abort();
    rest.remove_prefix(end + 1);
  }
  if (!rest.empty()) std::abort();
  for (const auto shared : part.shared_lines) {
    if (std::find(part.lines.begin(), part.lines.end(), shared) == part.lines.end()) std::abort();
  }
}

// A part of a Bundle split by patient: its entries in ascending sender's order, its shared
// ones among them, and, planned again, one part for its patient alone.
void check_split_entries(const cluster::routed_part& part,
                         const cluster::route_settings& settings) {
  if (!std::is_sorted(part.entries.begin(), part.entries.end()) ||
      std::adjacent_find(part.entries.begin(), part.entries.end()) != part.entries.end()) {
    std::abort();
  }
  for (const auto shared : part.shared_entries) {
    if (!std::binary_search(part.entries.begin(), part.entries.end(), shared)) std::abort();
  }
  const auto again = cluster::plan_route(part.payload, tables(), settings, received_at);
  if (!again.refusal.empty() || again.pieces.size() != 1 || again.pieces[0].local ||
      again.pieces[0].parts.size() != 1 ||
      again.pieces[0].parts[0].patient_key != part.patient_key ||
      again.pieces[0].parts[0].patient_identity != part.patient_identity ||
      !again.pieces[0].parts[0].entries.empty()) {
    std::abort();
  }
}

// A piece split by patient whose part by a local identity is linked (the identity map says so)
// to the patient of a keyed part: planned again with the link known, the identity's part joins
// that patient's, and the rest stays as it was.
void check_joined(const cluster::route_piece& piece, const cluster::route_settings& settings) {
  const auto identity_part =
      std::find_if(piece.parts.begin(), piece.parts.end(),
                   [](const cluster::routed_part& p) { return !p.patient_identity.empty(); });
  const auto keyed_part =
      std::find_if(piece.parts.begin(), piece.parts.end(),
                   [](const cluster::routed_part& p) { return !p.patient_key.empty(); });
  if (identity_part == piece.parts.end() || keyed_part == piece.parts.end()) return;
  const cluster::same_patients linked{{identity_part->patient_identity, keyed_part->patient_key}};
  const auto again = cluster::plan_route(piece.text, tables(), settings, received_at, linked);
  if (!again.refusal.empty() || again.pieces.size() != 1 || again.pieces[0].local ||
      again.pieces[0].parts.size() != piece.parts.size() - 1) {
    std::abort();
  }
  std::size_t of_the_key = 0;
  for (const auto& part : again.pieces[0].parts) {
    if (part.patient_identity == identity_part->patient_identity) std::abort();
    if (part.patient_key == keyed_part->patient_key) ++of_the_key;
  }
  if (of_the_key != 1) std::abort();
}

}  // namespace

// A refused message the front plans again (front::plan_with_links) when the identity map links
// every local identity it names to its one keyed patient: planned with those links, no part
// goes by one of them.
void check_linked_again(std::string_view message, const cluster::route_settings& settings) {
  const auto named = cluster::patients_named(message, tables(), settings);
  if (named.keys.size() != 1 || named.identities.empty()) return;
  cluster::same_patients linked;
  for (const auto& identity : named.identities) linked.emplace(identity, *named.keys.begin());
  const auto again = cluster::plan_route(message, tables(), settings, received_at, linked);
  for (const auto& piece : again.pieces) {
    for (const auto& part : piece.parts) {
      if (linked.contains(part.patient_identity)) std::abort();
    }
  }
}

// A message naming no key, refused as several patients, planned again with every local
// identity and keyless Patient it names an alias of one of them (what the front does when the
// identity map links them all to one partition): no part goes by an alias, since the message
// is then routed by that one identity.
void check_aliased_again(std::string_view message, const cluster::route_settings& settings) {
  const auto named = cluster::patients_named(message, tables(), settings);
  if (!named.keys.empty()) return;
  auto local = named.identities;
  local.insert(named.keyless_patients.begin(), named.keyless_patients.end());
  if (local.size() < 2) return;
  cluster::same_identities aliases;
  for (const auto& identity : local) {
    if (identity != *local.begin()) aliases.emplace(identity, *local.begin());
  }
  const auto again = cluster::plan_route(message, tables(), settings, received_at, {}, aliases);
  if (!again.refusal.empty() && !again.pieces.empty()) std::abort();
  for (const auto& piece : again.pieces) {
    for (const auto& part : piece.parts) {
      if (aliases.contains(part.patient_identity)) std::abort();
    }
  }
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const cluster::route_settings settings;
  const auto plan = cluster::plan_route(message, tables(), settings, received_at);
  if (!same_plan(plan, cluster::plan_route(message, tables(), settings, received_at))) {
    std::abort();
  }
  if (!plan.refusal.empty() && !plan.pieces.empty()) std::abort();
  if (!plan.refusal.empty()) {
    check_linked_again(message, settings);
    check_aliased_again(message, settings);
  }
  for (const auto& piece : plan.pieces) {
    if (piece.text.data() < message.data() ||
        piece.text.data() + piece.text.size() > message.data() + message.size()) {
      std::abort();
    }
    // A later HL7 v2 message of a patient rides in an earlier piece's part.
    if (piece.carried_by && (*piece.carried_by >= plan.pieces.size() ||
                             plan.pieces[*piece.carried_by].parts.size() != 1 || piece.local)) {
      std::abort();
    }
    if ((piece.local || piece.carried_by.has_value()) != piece.parts.empty()) std::abort();
    if (piece.reference && piece.parts.size() != 1) std::abort();
    check_joined(piece, settings);
    for (const auto& part : piece.parts) {
      // A part goes to CG_REF, or to a patient by exactly one of a key and a local identity;
      // only a keyed part links, and a part by identity among others is FHIR split by
      // patient (lines of NDJSON or entries of a Bundle).
      const bool by_identity = !part.patient_identity.empty();
      if ((part.patient_key.empty() && !by_identity) != piece.reference) std::abort();
      if (by_identity && (!part.patient_key.empty() || !part.links.empty())) std::abort();
      if (by_identity && piece.parts.size() > 1 &&
          (part.kind != cluster::message_kind::fhir ||
           (part.lines.empty() && part.entries.empty()))) {
        std::abort();
      }
      if (!part.links.empty() && part.patient_key.empty()) std::abort();
      if (part.kind != kind_of_parts(plan.kind)) std::abort();
      if (part.kind == cluster::message_kind::hl7v2) {
        // Its piece's message, then those of the pieces it carries, in order.
        std::string carried(piece.text);
        for (const auto& other : plan.pieces) {
          if (other.carried_by && &plan.pieces[*other.carried_by] == &piece) carried += other.text;
        }
        if (part.payload != carried) std::abort();
        continue;
      }
      if (part.kind == cluster::message_kind::fhir) {
        if (!part.entries.empty()) {
          check_split_entries(part, settings);
          continue;
        }
        if (part.lines.empty()) {
          if (part.payload != message) std::abort();
          continue;
        }
        check_split_lines(message, part);
        continue;
      }
      std::string renumbered = part.payload;
      if (!x12::set_interchange_control(renumbered, "000000042")) std::abort();
      const auto again = cluster::plan_route(part.payload, tables(), settings, received_at);
      if (!again.refusal.empty() || again.pieces.size() != 1 || again.pieces[0].local ||
          again.pieces[0].parts.size() != 1 ||
          again.pieces[0].parts[0].patient_key != part.patient_key) {
        std::abort();
      }
    }
  }
  return 0;
}
