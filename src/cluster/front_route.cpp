#include "covgate/cluster/front_route.hpp"

#include <set>
#include <span>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/engine/x12_input.hpp"
#include "covgate/fhir/linker.hpp"
#include "covgate/hl7v2/splitter.hpp"
#include "covgate/model/date.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/envelope_edit.hpp"
#include "covgate/x12/split_by_patient.hpp"

namespace covgate::cluster {
namespace {

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
        piece.parts.push_back(
            {std::move(part.patient_key), message_kind::claim, std::move(part.interchange)});
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
  std::set<std::string> keys;       // canonical patient keys
  std::size_t unlinked = 0;         // facts naming a Patient the message does not identify
  std::size_t about_a_patient = 0;  // facts filed under a patient
  std::size_t facts = 0;
};

patients_of_facts patients_of(std::vector<model::fact> facts) {
  patients_of_facts out;
  out.facts = facts.size();
  fhir::linker link([&](model::fact&& f) {
    const auto& key = model::patient_key_of(f);
    if (key.empty()) return;  // a Practitioner, a PractitionerRole: no patient of its own
    ++out.about_a_patient;
    out.keys.insert(canonical_patient_key(key));
  });
  for (auto& f : facts) link.add(std::move(f));
  out.unlinked = link.waiting();
  return out;
}

void plan_facts(std::string_view message, std::vector<model::fact> facts, message_kind kind,
                route_plan& plan) {
  route_piece piece;
  piece.text = message;
  if (facts.empty()) {
    piece.local = true;  // refused, or nothing a worker would keep: the reader's answer alone
    plan.pieces.push_back(std::move(piece));
    return;
  }
  const auto who = patients_of(std::move(facts));
  if (who.unlinked > 0) {
    plan.refusal = std::to_string(who.unlinked) +
                   " facts name their patient only by a reference the message does not "
                   "identify (no Patient with the Medicare identifier in it): a cluster front "
                   "routes by the patient's Medicare identifier, and the identity map that "
                   "would route local identifiers is not built";
    return;
  }
  if (who.keys.empty()) {
    plan.refusal =
        "the message holds reference data only (a Practitioner or PractitionerRole, no "
        "patient's fact): a cluster front sends reference data with the facts of the patient it "
        "concerns, and has no stream to every worker for it yet";
    return;
  }
  if (who.keys.size() > 1) {
    plan.refusal = "the message holds facts of " + std::to_string(who.keys.size()) +
                   " patients: a cluster front routes one patient's facts per message; send "
                   "each patient's facts in a message of their own";
    return;
  }
  piece.parts.push_back({*who.keys.begin(), kind, std::string(message)});
  plan.pieces.push_back(std::move(piece));
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

route_plan plan_route(std::string_view message, const mapping::tables& tables,
                      const route_settings& settings, std::int64_t unix_ms) {
  route_plan plan;
  plan.kind = engine::sniff(message);
  switch (plan.kind) {
    case engine::payload_kind::x12:
      plan_x12(message, settings, unix_ms, plan);
      break;
    case engine::payload_kind::fhir: {
      std::vector<model::fact> facts;
      if (message.size() <= settings.fhir.max_bytes) {
        auto r = fhir::read(message, fhir::sniff(message), tables, settings.fhir);
        if (!r.rejected) facts = std::move(r.facts);
      }
      plan_facts(message, std::move(facts), message_kind::fhir, plan);
      break;
    }
    case engine::payload_kind::hl7v2:
      plan_facts(message, hl7v2_facts(message, tables, settings), message_kind::hl7v2, plan);
      break;
    case engine::payload_kind::mllp:
    case engine::payload_kind::unknown:
      // Not a message a worker would read: answered (or called unrecognized) by the front.
      plan.pieces.push_back({message, true, {}, {}});
      break;
  }
  return plan;
}

}  // namespace covgate::cluster
