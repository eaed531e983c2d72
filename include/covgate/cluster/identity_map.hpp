// The identity map (docs/cluster.md §4): where a front sends facts whose patient is named only
// by a local identity (a FHIR "Patient/123" the message does not identify, the Patient an HL7 v2
// PID's medical record number names) instead of a Medicare identifier.
//
// A single process keeps such facts in its linker until a Patient with that identity and a
// Medicare identifier arrives, then files them under that patient. Across a cluster the facts
// and the Patient may reach different fronts, so the linker's table lives in KV cg-ident, one
// entry per identity token (identity_token(): a keyed hash, never the identity itself):
//
//   absent            nothing was ever held for the identity and it is linked to no one
//   ""                facts of the identity wait on CG_WAIT (cg.wait.<token>.<kind>)
//   "<pkey>:forward"  linked to the patient of <pkey>; facts may still wait on CG_WAIT
//   "<pkey>"          linked, nothing waits
//
// A front routing facts of an identity calls route(): a pkey means "publish under it" (what
// waited is forwarded first, so a later version of a resource never arrives before an older
// one); nullopt means "hold them on CG_WAIT", and after the hold is stored the front calls
// held(), which forwards them itself when a link was written meanwhile (the linking front may
// have read CG_WAIT just before this hold landed). A front routing a message whose Patient
// carries both the identity and a Medicare identifier calls link() before publishing it.
//
// Every write is a compare-and-set, and forwarding is idempotent (the forwarder republishes
// each held message under a message id of its CG_WAIT sequence and purges only what it read),
// so fronts may race: the last state is the same. Linked facts are never moved again: an
// identity linked anew to another patient routes its later facts there, as a single process's
// linker does.
#pragma once

#include <chrono>
#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

#include "covgate/cluster/kv_bucket.hpp"

namespace covgate::cluster {

class identity_map {
 public:
  /// Republishes every message held on CG_WAIT under identity token `token` to the partition
  /// of `pkey`, then purges them. Throws on failure (the state stays "<pkey>:forward", so the
  /// next front to meet the identity tries again).
  using forwarder = std::function<void(const std::string& token, const std::string& pkey)>;

  /// `bucket` (KV cg-ident) outlives the map. `remembered` links this front has read or
  /// written are kept (up to `cache_limit`, for `cache_ttl`) so that a message of a patient it
  /// has linked already costs no KV read; a link changed by another front meanwhile is seen
  /// when the remembered one expires.
  identity_map(kv_bucket& bucket, std::string secret, forwarder forward,
               std::size_t cache_limit = 100'000,
               std::chrono::milliseconds cache_ttl = std::chrono::seconds(30));

  /// The KV key and CG_WAIT subject token of `identity`.
  [[nodiscard]] std::string token_of(std::string_view identity) const;

  /// Where facts of `identity` go now: the partition key it is linked to (facts that waited
  /// are forwarded first), or nullopt: hold them on CG_WAIT under token_of(identity) (the entry
  /// now says so). Throws nats_error when KV does not answer, std::runtime_error for an entry
  /// no front writes.
  [[nodiscard]] std::optional<std::string> route(std::string_view identity);

  /// The partition key `identity` is linked to, as route() says it (facts that waited are
  /// forwarded first), but an identity linked to no one is left as it is: nothing is marked
  /// waiting. For a message that goes only if each of its identities is linked already.
  /// Throws as route() does.
  [[nodiscard]] std::optional<std::string> linked_to(std::string_view identity);

  /// After a hold under `identity` was stored: forwards it when a link came meanwhile.
  void held(std::string_view identity);

  /// Records that `identity` is the patient of `pkey` (a partition key), forwarding whatever
  /// waited for it.
  void link(std::string_view identity, std::string_view pkey);

 private:
  struct state {
    std::string pkey;      // "" while facts wait and no link is known
    bool forward = false;  // "<pkey>:forward"
    std::uint64_t revision = 0;
  };
  [[nodiscard]] std::optional<state> read(const std::string& token);
  // Forwards what waits for a "<pkey>:forward" entry and marks it "<pkey>" (a lost
  // compare-and-set means another front moved it on: nothing more to do here).
  void finish_forward(const std::string& token, const state& s);
  [[nodiscard]] bool remembered(const std::string& token, std::string_view pkey);
  void remember(const std::string& token, const std::string& pkey);

  kv_bucket& bucket_;
  std::string secret_;
  forwarder forward_;
  std::size_t cache_limit_;
  std::chrono::milliseconds cache_ttl_;
  struct cached {
    std::string pkey;
    std::chrono::steady_clock::time_point until;
  };
  std::unordered_map<std::string, cached> cache_;  // token → a plain link
};

}  // namespace covgate::cluster
