// Fuzz target: any bytes through a cluster front's routing plan (cluster::plan_route), which
// reads X12, FHIR and HL7 v2 the way a worker will before anything is published.
// Invariants: it never throws or crashes and plans the same twice; a refusal publishes
// nothing; every piece views the input; a routed piece has parts and a local one none; every
// part names a patient and has the message's kind; a FHIR or HL7 v2 part is the message
// itself; an X12 part is one interchange the front can renumber (ISA13) and that, planned
// again, routes whole to the same patient.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

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
    if (x.text != y.text || x.local != y.local || x.acknowledgment != y.acknowledgment ||
        x.parts.size() != y.parts.size()) {
      return false;
    }
    for (std::size_t p = 0; p < x.parts.size(); ++p) {
      if (x.parts[p].patient_key != y.parts[p].patient_key || x.parts[p].kind != y.parts[p].kind ||
          x.parts[p].payload != y.parts[p].payload) {
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

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view message(reinterpret_cast<const char*>(data), size);
  const cluster::route_settings settings;
  const auto plan = cluster::plan_route(message, tables(), settings, received_at);
  if (!same_plan(plan, cluster::plan_route(message, tables(), settings, received_at))) {
    std::abort();
  }
  if (!plan.refusal.empty() && !plan.pieces.empty()) std::abort();
  for (const auto& piece : plan.pieces) {
    if (piece.text.data() < message.data() ||
        piece.text.data() + piece.text.size() > message.data() + message.size()) {
      std::abort();
    }
    if (piece.local != piece.parts.empty()) std::abort();
    for (const auto& part : piece.parts) {
      if (part.patient_key.empty() || part.kind != kind_of_parts(plan.kind)) std::abort();
      if (part.kind != cluster::message_kind::claim) {
        if (part.payload != message) std::abort();
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
