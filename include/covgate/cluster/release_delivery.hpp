// The front's courier: delivers what the workers published on CG_OUT to the receivers the
// front's configuration names (outbox destinations: a directory, HTTP, MLLP). One durable pull
// consumer per destination, named after the destination (delivery_consumer), so every front
// that names the same receiver shares its consumer and each release reaches it once, whichever
// front delivers it; a front that dies leaves what it had in hand to be redelivered to another.
// A receiver that fails is tried again with a growing delay (the message handed back with a
// delay), up to max_attempts: then the release is a dead letter for that receiver (its
// consumer never offers it again; CG_OUT keeps it, and the log names its sequence), so that
// one release a receiver can never take does not hold back every release after it. A receiver
// keys its copy by the idempotency key it is given, so a redelivery after a lost
// acknowledgement is harmless. A release lost in hand (its front killed, its fetch reply lost
// with a NATS node) comes back after a short ack_wait, which a slow attempt keeps extending.
#pragma once

#include <atomic>
#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "covgate/cluster/dead_letters.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::cluster {

/// One receiver of the releases.
struct release_target {
  /// What names the receiver, stable across restarts and identical on every front that
  /// delivers to it (e.g. "directory|/var/covgate/out"); its consumer is named after it.
  std::string identity;
  std::string kind;  ///< "directory", "http", "mllp": for the counters and the log
  /// One delivery attempt: "" when the receiver took it, else why not. Called from the
  /// target's own thread.
  std::function<std::string(const store::outbox_item& item)> deliver;
  /// The item's body in store::pack_later's form: the release's event (Cg-Event; "unknown"
  /// for a release published without one) and decision line (Cg-Decision) before the 277,
  /// for a receiver that hands all three on (a C ABI host). Otherwise the 277 alone.
  bool with_event = false;
};

struct release_delivery_settings {
  std::chrono::milliseconds first_backoff{500};   ///< the delay after a first failure
  std::chrono::milliseconds max_backoff{60'000};  ///< doubling up to this
  std::uint32_t max_attempts = 8;                 ///< then a dead letter for that receiver
  /// A release in hand this long without a word from its front is redelivered, to this or
  /// another front: one whose front died, or whose fetch reply was lost with a NATS node (with
  /// one release in hand per receiver, every release after it waits that long). While an
  /// attempt runs, the front says it is still at work every quarter of this, so an attempt may
  /// take longer (a transport's attempt times out after 10 s).
  std::chrono::milliseconds ack_wait{10'000};
  std::chrono::milliseconds fetch_wait{1'000};  ///< also how long stop() may wait
  /// Told of every attempt, from the target's thread (`attempt` counts from 1; `dead`: it
  /// failed and was the last one).
  std::function<void(const release_target& target, bool delivered, double seconds,
                     std::uint64_t attempt, std::uint64_t sequence, const std::string& error,
                     bool dead)>
      attempted;
  /// Told of trouble with the cluster (no message content), from the target's thread.
  std::function<void(const release_target& target, const std::string& what)> problem;
  /// Told, from the target's thread, when its consumer answers a fetch again after a
  /// `problem` (the trouble is over; nothing is said while the connection is merely down and
  /// fetches time out).
  std::function<void(const release_target& target)> resumed;
  /// Where dead letters are recorded (KV cg-dead), or none. A record that cannot be written
  /// is reported to `problem`; the release is a dead letter all the same.
  dead_letter_book* dead_letters = nullptr;
};

/// One target's outcome of release_delivery::redeliver.
struct redelivery {
  std::size_t target = 0;  ///< index in the targets
  dead_letter letter;      ///< the record as it stands after this attempt
};

/// The durable consumer of CG_OUT for a receiver: "out-" and the first 16 hex digits of the
/// SHA-256 of its identity. Pure.
[[nodiscard]] std::string delivery_consumer(std::string_view identity);

/// Runs one thread per target from construction until stop() or destruction.
class release_delivery {
 public:
  /// `js` outlives this object. Creates each target's consumer when absent (from the start of
  /// CG_OUT: a receiver added later is sent every release CG_OUT still holds). Throws
  /// nats_error when the cluster refuses.
  release_delivery(jetstream& js, std::vector<release_target> targets,
                   release_delivery_settings settings);
  ~release_delivery();
  release_delivery(const release_delivery&) = delete;
  release_delivery& operator=(const release_delivery&) = delete;

  /// Finishes the attempt in hand and stops.
  void stop();

  /// Per target, in order: what its consumer has not delivered yet plus what is in hand or
  /// waiting to be tried again (a receiver's backlog, for /metrics). Asks the cluster (one
  /// consumer-info request per target). Throws nats_error when it does not answer.
  [[nodiscard]] std::vector<std::uint64_t> backlog();

  /// An operator's retry: delivers the release at CG_OUT `sequence` once more to each target
  /// it is a dead letter for (not yet delivered by hand), now, on the calling thread (one
  /// attempt each, up to a transport's timeout), and records the outcome in the book: a
  /// delivered letter is kept as delivered, a failed one stays dead with one attempt more.
  /// Empty when it is a dead letter for none of the targets, or no book was given. Throws
  /// nats_error when the cluster does not answer.
  [[nodiscard]] std::vector<redelivery> redeliver(std::uint64_t sequence);

 private:
  void run(std::size_t index);
  /// One attempt at `item` for target `index`: "" or why not (the target's deliver, never
  /// two at once for one target).
  std::string attempt(std::size_t index, const store::outbox_item& item);
  void record_dead(std::size_t index, std::uint64_t sequence, const std::string& key,
                   std::uint64_t attempts, const std::string& error);

  jetstream& js_;
  std::vector<release_target> targets_;
  release_delivery_settings settings_;
  std::atomic<bool> stopping_{false};
  std::deque<std::mutex> delivering_;  // per target: its deliver() is called by one at a time
  std::vector<std::thread> threads_;
};

}  // namespace covgate::cluster
