// How a cluster front routes a message it received (docs/cluster.md §5c): every claim and fact
// of one patient must reach the worker that owns the patient's partition, so the front reads
// the message the way a worker will and decides, before anything is published:
// - X12: each interchange by itself. One the 837 reader accepts whole is split by patient
//   (x12::split_by_patient), one part per patient; one it accepts nothing of is answered by
//   the front (its 999/TA1 says the same as a worker's would); one it accepts only partly is
//   refused, since its accepted sets cannot be cut out of it without changing what the 999
//   acknowledges.
// - FHIR and HL7 v2: the message goes whole to the partition of the one patient its facts
//   belong to (a Practitioner in it travels with that patient's facts). A message with no fact
//   is answered by the front; one whose facts name their one patient only by a local identity
//   (a reference the message does not identify, a PID with a medical record number alone) is
//   routed by that identity (routed_part::patient_identity, through the identity map); one of
//   no patient at all (reference data alone) goes to every worker (CG_REF).
// - FHIR NDJSON of several patients is split by line: one part per patient with that
//   patient's lines, the lines of no patient (a Practitioner, a PractitionerRole) in every part
//   and the lines that yield no fact (refused, or nothing to keep) answered by the front, each part
//   remembering the sender's line numbers so that the workers' OperationOutcomes merge into
//   the one a single server writes (merge_ndjson_outcomes). A patient named only by a local
//   identity gets a part of its own too, routed by that identity (routed_part::
//   patient_identity), as a whole message of that identity is. HL7 v2 messages of several
//   patients in one payload (a batch over HTTP) become one piece per message, each answered by
//   its patient's worker (or the front), the ACKs in the payload's order.
// - A Bundle of several patients, JSON or XML (collection, batch or searchset), is split by
//   entry the same way: one Bundle of the same type per patient with that patient's entries,
//   the entries of no patient in every part, an entry of no fact that a part's entry refers to
//   with that part, the other entries that yield no fact answered by the front, each
//   part remembering the sender's entry numbers so that the workers' OperationOutcomes merge
//   into the one a single server writes (merge_bundle_outcomes); a patient named only by a
//   local identity as in NDJSON. A transaction (all or
//   nothing), message or document Bundle or a single resource of several patients is
//   refused.
// Pure: no I/O, no clock (the time is an argument), no patient data in any text it writes.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/subjects.hpp"
#include "covgate/engine/sniff.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/x12/interchange_reader.hpp"

namespace covgate::cluster {

struct route_settings {
  x12::reader_options x12;
  fhir::read_limits fhir;
  hl7v2::read_options hl7v2;
};

/// One message to publish: the patient it belongs to (the caller hashes it with
/// partition_key(); it never goes into a subject as it is), its kind, and its bytes.
struct routed_part {
  std::string patient_key;
  /// When patient_key is empty and the part is not reference data: the local identity its
  /// facts name their patient by ("Patient/123"; identity_map.hpp routes it), never hashed
  /// here and never published as it is.
  std::string patient_identity;
  /// The Patients in the part that name patient_key (their resource ids): the front links
  /// each in the identity map before publishing, so that facts naming them only by a local
  /// identity follow to this patient's partition.
  std::vector<std::string> links;
  message_kind kind = message_kind::claim;
  std::string payload;
  /// A part of a split NDJSON message: the sender's line number of each of its lines, in
  /// order (empty: the part is the message, or an X12 part).
  std::vector<std::uint32_t> lines;
  /// Of those, the lines every part carries (reference data): their issues are reported once.
  std::vector<std::uint32_t> shared_lines;
  /// A part of a split Bundle: the sender's index of each of its entries, in order.
  std::vector<std::uint32_t> entries;
  /// Of those, the entries every part carries (reference data).
  std::vector<std::uint32_t> shared_entries;
};

/// One piece of the input answered by itself: an X12 interchange, or a whole FHIR or HL7 v2
/// message.
struct route_piece {
  std::string_view text;  ///< the piece, viewing the caller's input
  /// Nothing in it would be kept by a worker (refused whole, or nothing to store): the front
  /// answers it with an intake of its own, as a worker would.
  bool local = false;
  /// Otherwise: what to publish, each part answered by its partition's worker.
  std::vector<routed_part> parts;
  /// Reference data alone (a Practitioner, a PractitionerRole: facts of no patient): its one
  /// part goes to stream CG_REF, which every worker applies whole, and the front answers it
  /// from its own read once the stream has stored it (no worker replies).
  bool reference = false;
  /// NDJSON split by patient: the OperationOutcome of the lines no part carries (they yield no
  /// fact: not JSON, refused, or nothing the rules read), written by the front from its own
  /// read with the sender's line numbers; "" when they raise no issue.
  std::string own_outcome;
  bool own_rejected = false;  ///< own_outcome refuses a line (an error)
  /// NDJSON split by patient: facts every part but the first reads again (the shared lines'),
  /// which the workers' counts include once per part.
  std::uint32_t repeated_facts = 0;
  /// HL7 v2 split by message: MSH-10 of this piece's message, and, for a later message of a
  /// patient, the piece whose part carries it (this piece has no part of its own; its ACKs are
  /// taken from that part's answer by MSA-2).
  std::string control_id;
  std::optional<std::size_t> carried_by;
  /// X12 that is routed: the interchange's TA1/999 when the reader says one is due (asked for,
  /// or a finding noted), written by the front from its own read with ISA13 000000001 (the
  /// caller renumbers it). A worker's answer to a part carries only its 277s.
  std::string acknowledgment;
};

struct route_plan {
  engine::payload_kind kind = engine::payload_kind::unknown;
  std::vector<route_piece> pieces;
  /// Not "": the message cannot be routed as sent, nothing may be published, and this says
  /// why (positions, counts and codes, never a data value).
  std::string refusal;
};

/// What the front learnt from the identity map after a first plan: local identities (a part's
/// routed_part::patient_identity) linked to the patient of another part of the same message,
/// each with that patient's key (canonical). Planned again with them, a FHIR message puts
/// those facts with that patient's, in one part, as one server reads them in one message:
/// a part of their own would reach the worker as a second message, applied after the first
/// (a claim of the patient evaluated in between, an event one server never writes).
using same_patients = std::map<std::string, std::string, std::less<>>;

/// For a message that names no patient key: local identities the identity map links to the
/// same partition as another local identity of the message, each with that other identity
/// (the one the message is routed by). Planned again with them, the message names one
/// patient, routed by that identity (which the map forwards to the partition), where the
/// worker's own links read every identity as the one patient it is, as one server does.
using same_identities = std::map<std::string, std::string, std::less<>>;

/// How the parts of one split message join, from what the identity map answered for their
/// local identities: `routed` maps each identity to the partition key it is linked to
/// (nothing while it is linked to no one), `keyed` each partition key of the message's keyed
/// parts to that patient's canonical key. An identity linked to a keyed part's patient joins
/// that part (`linked`). Identities linked to one partition key that no part of the message
/// has are one patient too (the key is a keyed hash of one patient's identifier): each joins
/// the first of them (`aliases`), so that their lines or entries go as one part, read in one
/// message as one server reads them.
/// Each local identity with the partition key the identity map links it to, or nothing while
/// it is linked to no one (identity_map::route).
using identity_routes = std::map<std::string, std::optional<std::string>, std::less<>>;
struct part_joins {
  same_patients linked;
  same_identities aliases;
  /// The identities joined to another part: what covgate_front_joined_total counts.
  [[nodiscard]] std::size_t joined() const noexcept { return linked.size() + aliases.size(); }
};
[[nodiscard]] part_joins joins_of(const identity_routes& routed,
                                  const std::map<std::string, std::string, std::less<>>& keyed);

/// Plans the routing of `message` received at `unix_ms` (the time stamps the acknowledgments
/// the front writes). Never throws on input.
[[nodiscard]] route_plan plan_route(std::string_view message, const mapping::tables& tables,
                                    const route_settings& settings, std::int64_t unix_ms,
                                    const same_patients& linked = {},
                                    const same_identities& aliases = {});

/// The patients a FHIR or HL7 v2 message names (nothing for other kinds, or facts that cannot
/// be read): the canonical keys, and the local identities of facts that carry no key (a
/// reference the message does not identify). For a message plan_route() refused as several
/// patients: when the identity map links every such identity to the one keyed patient, the
/// front plans it again with those links (`linked`), and it goes whole to that patient, as one
/// server reads it (a transaction Bundle, an HL7 v2 message, an NDJSON line). With no key:
/// when it links every identity and every keyless Patient to one partition, the front plans
/// it again with the others as aliases of one of them (`aliases`), and it goes whole there.
struct named_patients {
  std::set<std::string> keys;
  std::set<std::string> identities;
  /// The Patients (PIDs) the message identifies by local identifiers only (their resource
  /// ids): beside a key they travel with its patient, and need no link.
  std::set<std::string> keyless_patients;
};
[[nodiscard]] named_patients patients_named(std::string_view message, const mapping::tables& tables,
                                            const route_settings& settings);

/// The one OperationOutcome a single server writes for an NDJSON message, from the workers'
/// answers to its parts (`parts[i]` answered `outcomes[i]`) and the front's own answer to the
/// lines no part carries (route_piece::own_outcome): every issue with the sender's
/// line number ("line 12: …"), in line order, the issues of a line every part carries once,
/// "accepted" alone when there is no other issue. Throws std::invalid_argument when an answer
/// is not an OperationOutcome or names a line its part does not have.
[[nodiscard]] std::string merge_ndjson_outcomes(const std::vector<const routed_part*>& parts,
                                                const std::vector<std::string_view>& outcomes,
                                                std::string_view own_outcome = {});

/// The same for a Bundle split by patient: every issue placed on the sender's entry (its
/// FHIRPath "Bundle.entry[k]…" renumbered), in entry order, those about the Bundle itself
/// first and once. Throws std::invalid_argument when an answer is not an OperationOutcome or
/// names an entry its part does not have.
[[nodiscard]] std::string merge_bundle_outcomes(const std::vector<const routed_part*>& parts,
                                                const std::vector<std::string_view>& outcomes,
                                                std::string_view own_outcome = {});

}  // namespace covgate::cluster
