// The cluster's names as text: the subject a producer publishes on, the server mapping that
// turns it into a partition, the subjects and names of the streams, consumers and KV keys.
// Pure: every name the workers, the front and the test harness use comes from here, so a
// producer in another language only has to follow the table in docs/cluster.md.
//
//   producer subject   cg.in.<pkey>.<kind>                       (pkey: partition_key())
//   server mapping     cg.in.*.* -> cg.p.{{partition(N,1)}}.{{wildcard(1)}}.{{wildcard(2)}}
//   stream CG_IN       cg.p.>       consumer part-NN: FilterSubject cg.p.<n>.>
//   stream CG_OUT      cg.out.>     a release on cg.out.rel.<token>, one message per subject
//   stream CG_REF      cg.ref.>     reference data on cg.ref.<kind>, read whole by every worker
//   stream CG_WAIT     cg.wait.>    facts waiting for their patient's Medicare identifier, on
//                                   cg.wait.<identity token>.<kind> (identity_map.hpp)
//   KV cg-ident        <identity token> -> the pkey it is linked to, or "" (facts wait)
//   KV cg-owners       part-<n> -> lease (lease.hpp);  KV cg-workers  <worker id> -> presence
//   KV cg-control      isa13 -> the next free block of control numbers (control_numbers.hpp)
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace covgate::cluster {

/// What a message on cg.in carries. The kind rides in the subject so that a consumer can
/// tell a claim from a fact without opening the body, and so that subjects stay bounded
/// (a closed set, never free text). A review is a reviewer's release or cancel of a claim,
/// published by the worker that took the request (review_message.hpp), so that it is applied
/// in stream order by whoever holds the patient's partition, and again by any rebuild.
enum class message_kind { claim, hl7v2, fhir, rekey, review };

/// The subject token of a kind: "clm", "hl7", "fhir", "rekey", "rev".
[[nodiscard]] std::string_view kind_token(message_kind kind) noexcept;

/// The kind a mapped subject ("cg.p.<n>.<pkey>.<kind>") carries, or nullopt when its last
/// token names none (or the subject does not have that shape).
[[nodiscard]] std::optional<message_kind> kind_of_subject(std::string_view subject) noexcept;

inline constexpr std::string_view in_stream = "CG_IN";
/// Reference data every worker applies whole (a Practitioner, a PractitionerRole): §5f.
inline constexpr std::string_view reference_stream = "CG_REF";
inline constexpr std::string_view out_stream = "CG_OUT";
/// Facts a front holds until their patient's Medicare identifier is known (§4).
inline constexpr std::string_view wait_stream = "CG_WAIT";
/// The latest snapshot of each partition, in chunks and a manifest (§5j).
inline constexpr std::string_view snapshot_stream = "CG_SNAP";
/// KV of local identities: identity token -> the partition key it is linked to (§4).
inline constexpr std::string_view identity_bucket = "cg-ident";
inline constexpr std::string_view owners_bucket = "cg-owners";
inline constexpr std::string_view workers_bucket = "cg-workers";
/// KV of control numbers handed out in blocks (control_numbers.hpp): key "isa13".
inline constexpr std::string_view control_bucket = "cg-control";
/// KV bucket of the releases a receiver never took (dead letters), shared by the fronts.
inline constexpr std::string_view dead_letters_bucket = "cg-dead";

/// Most partitions a cluster may be configured with. The count is fixed for the life of a
/// stream (changing it moves patients between partitions); 1024 keeps consumer names at four
/// digits and is far beyond the machines a partition set is shared by.
inline constexpr int max_partitions = 1024;

/// "cg.in.<pkey>.<kind>". Throws std::invalid_argument when `pkey` is not a partition key
/// (is_partition_key()): a subject must never carry anything else in that place.
[[nodiscard]] std::string producer_subject(std::string_view pkey, message_kind kind);

/// The server-side mapping of producer subjects onto `partitions` partitions, as one line of
/// a nats-server configuration's `mappings` block:
/// "cg.in.*.*": "cg.p.{{partition(N,1)}}.{{wildcard(1)}}.{{wildcard(2)}}".
/// Every node of the cluster must carry the same line. Throws std::invalid_argument for a
/// count outside 1..max_partitions.
[[nodiscard]] std::string partition_mapping_line(int partitions);

/// The subjects stream CG_IN stores: "cg.p.>".
[[nodiscard]] std::string in_stream_subject();
/// The subjects stream CG_OUT stores: "cg.out.>".
[[nodiscard]] std::string out_stream_subject();

/// The subject of one release on CG_OUT: "cg.out.rel.<token>". Throws
/// std::invalid_argument when `token` is not the shape release_token() returns.
[[nodiscard]] std::string release_subject(std::string_view token);

/// The subjects stream CG_REF stores: "cg.ref.>".
[[nodiscard]] std::string reference_stream_subject();
/// The subject a front publishes reference data on: "cg.ref.<kind>" (no patient in it).
[[nodiscard]] std::string reference_subject(message_kind kind);
/// The subjects stream CG_WAIT stores: "cg.wait.>".
[[nodiscard]] std::string wait_stream_subject();
/// Where a front holds a message of facts whose patient is known only by a local identity:
/// "cg.wait.<identity token>.<kind>". Throws std::invalid_argument when `identity_token` is
/// not a token's shape (is_partition_key()).
[[nodiscard]] std::string wait_subject(std::string_view identity_token, message_kind kind);
/// The subjects stream CG_SNAP stores: "cg.snap.>".
[[nodiscard]] std::string snapshot_stream_subject();
/// Chunk `chunk` of partition `partition`'s snapshot: "cg.snap.<partition>.<chunk>".
[[nodiscard]] std::string snapshot_chunk_subject(int partition, std::size_t chunk);
/// The manifest of partition `partition`'s snapshot: "cg.snap.<partition>.m".
[[nodiscard]] std::string snapshot_manifest_subject(int partition);
/// Every wait subject of one identity token, a filter: "cg.wait.<identity token>.*". Throws
/// std::invalid_argument when `identity_token` is not a token's shape.
[[nodiscard]] std::string wait_subjects_of(std::string_view identity_token);
/// A CG_WAIT subject's identity token (a view into `subject`) and kind.
struct wait_subject_parts {
  std::string_view identity_token;
  message_kind kind;
};
/// The parts of a CG_WAIT subject, or nullopt when it has not that shape.
[[nodiscard]] std::optional<wait_subject_parts> parse_wait_subject(
    std::string_view subject) noexcept;
/// The kind a CG_WAIT subject carries, or nullopt when it has not that shape.
[[nodiscard]] std::optional<message_kind> kind_of_wait_subject(std::string_view subject) noexcept;

/// Where a worker's store records how far it applied CG_REF: a partition number no partition
/// has (one past the largest), so that the same applied-position table and rule serve both.
inline constexpr int reference_partition = max_partitions;

/// The filter of partition `partition`'s consumer: "cg.p.<n>.>".
[[nodiscard]] std::string partition_filter_subject(int partition);

/// The durable consumer of a partition: "part-00" … "part-63" (two digits at least, so names
/// sort in partition order up to 100 partitions; four digits beyond).
[[nodiscard]] std::string partition_consumer(int partition, int partitions);

/// The key of a partition's lease in KV cg-owners: "part-<n>".
[[nodiscard]] std::string lease_key(int partition);

/// The partition the servers' mapping routes a patient's token to, computed here as
/// nats-server's partition(N, 1) computes it: FNV-1a (32 bits) of the token, modulo N. Lets a
/// worker tell whether a claim in its store belongs to a partition it holds now. The cluster
/// test checks it against the servers' routing. Throws std::invalid_argument for a count
/// outside 1..max_partitions.
[[nodiscard]] int partition_of_token(std::string_view pkey, int partitions);

/// Core NATS subject of a claim lookup across the workers (a front's GET /claims/{id}): every
/// worker listens, the holder of the claim's partition answers with the claim.
inline constexpr std::string_view claim_query_subject = "cg.q.claim";
/// Several claims in one question (a front's reviewers' bulk actions, §5e): the body their
/// ids, one per line.
inline constexpr std::string_view claim_batch_query_subject = "cg.q.claimids";
/// The same for a FHIR resource's facts (a front's GET /fhir/{type}/{id}, §5g): the holder of
/// the partition the facts are filed under answers.
inline constexpr std::string_view resource_query_subject = "cg.q.fhir";
/// Where a front asks every worker for its partitions' worklist counts (GET /queues, §5h).
inline constexpr std::string_view queues_query_subject = "cg.q.queues";
/// Where a front asks every worker for its partitions' chart counts (GET /charts, §5h).
inline constexpr std::string_view charts_query_subject = "cg.q.charts";
/// Where a front asks every worker for its partitions' audit rows (GET /audit/csii, §5h).
inline constexpr std::string_view audit_query_subject = "cg.q.audit";
/// Where a front asks every worker for its page of a worklist list (GET /claims, §5h).
inline constexpr std::string_view list_query_subject = "cg.q.claims";
/// Where a front asks every worker for its store's version (GET /changes, §5h).
inline constexpr std::string_view changes_query_subject = "cg.q.changes";

/// The partition a mapped subject ("cg.p.<n>.<pkey>.<kind>") was routed to, or -1 when the
/// subject does not have that shape.
[[nodiscard]] int partition_of_subject(std::string_view subject) noexcept;

/// True when `subject` may take a reply: a requester's inbox ("_INBOX." or "cg.reply."), at
/// most 255 printable characters, no wildcard, no empty token; never a subject the cluster
/// consumes (a reply published onto cg.in would come back as input). A Cg-Reply-To header is
/// the sender's text: this is its one validating step.
[[nodiscard]] bool is_reply_subject(std::string_view subject) noexcept;

/// True when `id` can name a worker: 1 to 64 characters of [A-Za-z0-9_-] (it becomes a KV key
/// and shows in /metrics).
[[nodiscard]] bool is_worker_id(std::string_view id) noexcept;

}  // namespace covgate::cluster
