#include "covgate/cluster/worker.hpp"

#include <algorithm>
#include <future>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>

#include "covgate/cluster/snapshot_book.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/store/partition_snapshot.hpp"

namespace covgate::cluster {

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string joined_lengths(const std::vector<std::size_t>& parts) {
  std::string out;
  for (const auto n : parts) {
    if (!out.empty()) out += ',';
    out += std::to_string(n);
  }
  return out;
}

}  // namespace

bool handed_in_turn(std::optional<std::uint64_t> last,
                    const std::vector<std::uint64_t>& deliveries) noexcept {
  if (!last) return false;
  for (const auto d : deliveries) {
    if (d != *last + 1) return false;
    last = d;
  }
  return true;
}

// One held partition: catch-up, then the durable consumer, on a thread of its own until
// told to stop. Restarts from the catch-up after a NATS failure (everything it repeats is
// skipped by the store's position).
class worker::partition_runner {
 public:
  partition_runner(worker& owner, int partition, std::uint64_t epoch)
      : owner_(owner), partition_(partition), epoch_(epoch) {
    thread_ = std::thread([this] {
      run();
      finished_ = true;
    });
  }
  ~partition_runner() {
    stop();
    if (thread_.joinable()) thread_.join();
  }
  partition_runner(const partition_runner&) = delete;
  partition_runner& operator=(const partition_runner&) = delete;

  void stop() noexcept { stopping_ = true; }
  /// Its thread has returned (destroying it joins at once).
  [[nodiscard]] bool finished() const noexcept { return finished_; }
  [[nodiscard]] int partition() const noexcept { return partition_; }
  [[nodiscard]] std::uint64_t epoch() const noexcept { return epoch_; }
  [[nodiscard]] partition_progress progress() const {
    return {epoch_,
            applied_.load(),
            caught_up_from_.load(),
            caught_up_.load(),
            snapshot_loaded_.load(),
            snapshot_written_.load(),
            gap_.load(),
            applied_in_place_.load()};
  }

 private:
  void run() {
    bool first = true;
    while (!stopping_) {
      try {
        if (first) load_snapshot();
        first = false;
        if (!catch_up() || stopping_) return;
        caught_up_ = true;
        if (owner_.settings_.ownership) owner_.settings_.ownership(partition_, "caught up", epoch_);
        consume();
        return;
      } catch (const std::exception& e) {
        caught_up_ = false;
        owner_.problem(partition_, e.what());
        // The cluster is unavailable (an election, a lost node): try again shortly. A gap
        // stays until an operator acts: looked at again every 30 s, not every second.
        const int pauses = gap_ ? 600 : 20;
        for (int i = 0; i < pauses && !stopping_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
  }

  // Applies the partition from the stream, in order, from the store's position to its end
  // (read_to_end), after checking that the stream still holds everything after that position
  // (over_a_gap). False when the partition had to stop; throws (the runner starts again) when
  // the read stays silent short of its end.
  bool catch_up() {
    const auto held = owner_.js_.stream_sequences(std::string(in_stream));
    const auto from = over_a_gap(owner_.applier_.applied_sequence(partition_), held.first);
    caught_up_from_ = from;
    if (held.last <= from) return true;
    const auto last = partition_last_sequence();
    if (last <= from) return true;
    return read_to_end(from, last, nullptr);
  }

  // The stream sequence of the partition's last message in CG_IN now (0: none), asked by the
  // partition's wildcard subject.
  [[nodiscard]] std::uint64_t partition_last_sequence() {
    const auto last =
        owner_.js_.last_message(std::string(in_stream), partition_filter_subject(partition_));
    return last ? last->sequence : 0;
  }

  // Reads the partition from the stream after `from` and applies each message in order, to
  // the end: the last message the read says has nothing after it, once the read has reached
  // `must_reach`, the partition's last message when the read began. Silence is no end short of
  // that. (It once ended the catch-up, and a new owner on a busy machine skipped what the
  // previous owner had acknowledged. Then it ended past the consumer's acknowledgement floor,
  // a stream sequence that can stand past the partition's last message, as it moves past other
  // partitions' messages too: a read that found nothing after the store's position would then
  // wait ten silences and start again. The partition's last message is exact.) `batch`: the
  // stream sequences (sorted) of a batch the durable delivered out of turn (consume); the
  // messages read before its last that it does not carry, another client was handed, and
  // are counted (applied_in_place). False when the partition had to stop; throws when the
  // read stays silent short of `must_reach` (the runner starts again).
  bool read_to_end(std::uint64_t from, std::uint64_t must_reach,
                   const std::vector<std::uint64_t>* batch) {
    auto reader = owner_.js_.read_from(std::string(in_stream), partition_filter_subject(partition_),
                                       from + 1);
    std::uint64_t through = from;  // the last stream sequence read
    int silences = 0;
    std::vector<fetched_message> window;
    while (!stopping_) {
      window.clear();
      bool at_end = false;
      auto wait = owner_.settings_.catch_up_wait;
      while (window.size() < static_cast<std::size_t>(owner_.settings_.batch)) {
        auto m = reader.next(wait);
        if (!m) break;
        at_end = m->pending() == 0;
        window.push_back(std::move(*m));
        if (at_end) break;
        wait = std::chrono::milliseconds(20);  // the rest of a window is already on its way
      }
      if (!window.empty()) {
        silences = 0;
        through = window.back().stream_sequence();
        if (!apply_in_order(window, /*acknowledge=*/false)) return false;
        if (batch != nullptr) count_applied_in_place(window, *batch);
        if (at_end && through >= must_reach) break;
        continue;
      }
      if (must_reach <= through) break;
      if (++silences >= max_silences) {
        throw std::runtime_error("the stream read stayed silent before stream sequence " +
                                 std::to_string(must_reach) +
                                 ", the partition's last message when it began: reading again");
      }
    }
    return !stopping_;
  }

  void count_applied_in_place(const std::vector<fetched_message>& window,
                              const std::vector<std::uint64_t>& batch) {
    for (const auto& m : window) {
      const auto at = m.stream_sequence();
      if (at < batch.back() && !std::binary_search(batch.begin(), batch.end(), at)) {
        ++applied_in_place_;
      }
    }
  }

  // CG_IN no longer holds every message after the store's position (its limits trimmed it,
  // or an operator purged it). When the partition's consumer acknowledged a message after
  // that position, the store lacks messages nobody can replay to it: applying the rest would
  // build a state the partition never had, and answer from it. The store's copy is then
  // replaced by the partition's latest snapshot when that one stands past the gap; otherwise
  // the partition is refused, loudly, until an operator acts (docs/cluster.md §5): it stays
  // held and unanswered, and fronts answer "unavailable" for it, which is safe; a wrong
  // release is not. Returns the position to catch up from.
  std::uint64_t over_a_gap(std::uint64_t from, std::uint64_t first) {
    gap_ = false;
    if (first <= from + 1) return from;
    const auto acknowledged = own_consumer().ack_floor;
    if (!catch_up_gap(from, first, acknowledged)) return from;
    if (replace_by_snapshot(first, acknowledged)) {
      return owner_.applier_.applied_sequence(partition_);
    }
    gap_ = true;
    throw std::runtime_error(
        "cannot be caught up: CG_IN starts at stream sequence " + std::to_string(first) +
        ", past the store's position " + std::to_string(from) +
        ", and the partition's consumer acknowledged messages after that position (through " +
        std::to_string(acknowledged) +
        "), and no snapshot of the partition stands past that gap; nothing is applied until "
        "one does or the store is replaced");
  }

  // The store's copy of the partition (stale, or none) replaced by the latest snapshot on
  // CG_SNAP, when there is one past the gap and the host takes it (durably). False, with the
  // reason told, otherwise.
  bool replace_by_snapshot(std::uint64_t first, std::uint64_t acknowledged) {
    if (owner_.settings_.snapshot_every.count() == 0 && !owner_.settings_.load_snapshots) {
      return false;
    }
    std::optional<stored_snapshot> found;
    try {
      found = snapshot_book(owner_.js_).get(partition_);
    } catch (const nats_error& e) {
      owner_.problem(partition_, std::string("no snapshot read over the gap: ") + e.what());
      return false;
    }
    if (!found) return false;
    const auto at = found->manifest.stream_seq;
    if (catch_up_gap(at, first, acknowledged)) {
      owner_.problem(partition_, "the latest snapshot, at stream sequence " + std::to_string(at) +
                                     ", stands before the gap too");
      return false;
    }
    if (stopping_ || !owner_.still_valid(partition_, epoch_)) return false;
    std::string why;
    if (!owner_.applier_.replace_by_snapshot(partition_, found->bytes, why)) {
      owner_.problem(partition_, "the store's copy not replaced by the snapshot: " + why);
      return false;
    }
    snapshot_loaded_ = at;
    snapshot_written_ = at;  // nothing newer to write until it applies
    if (owner_.settings_.ownership) {
      owner_.settings_.ownership(partition_, "replaced its copy by a snapshot", epoch_);
    }
    return true;
  }

  static constexpr int max_silences = 10;

  // What the server says of this partition's durable consumer now.
  [[nodiscard]] consumer_state own_consumer() {
    return owner_.js_.consumer_info(std::string(in_stream),
                                    partition_consumer(partition_, owner_.settings_.partitions));
  }

  // A store that never applied the partition starts from its latest snapshot, when CG_SNAP
  // has one that checks out and the host loads it; otherwise (or when anything fails) the
  // catch-up rebuilds the partition from the stream, as it always could.
  void load_snapshot() {
    if (owner_.settings_.snapshot_every.count() == 0 && !owner_.settings_.load_snapshots) return;
    if (owner_.applier_.applied_sequence(partition_) != 0) return;
    std::optional<stored_snapshot> found;
    try {
      found = snapshot_book(owner_.js_).get(partition_);
    } catch (const nats_error& e) {
      owner_.problem(partition_,
                     std::string("no snapshot read, rebuilding from the stream: ") + e.what());
      return;
    }
    if (!found || stopping_) return;
    std::string why;
    if (!owner_.applier_.load_snapshot(partition_, found->bytes, why)) {
      owner_.problem(partition_, "snapshot not loaded, rebuilding from the stream: " + why);
      return;
    }
    snapshot_loaded_ = found->manifest.stream_seq;
    snapshot_written_ = found->manifest.stream_seq;  // nothing newer to write until it applies
    if (owner_.settings_.ownership) {
      owner_.settings_.ownership(partition_, "loaded a snapshot", epoch_);
    }
  }

  // The store's position follows the partition consumer's acknowledgement floor while nothing
  // is pending or unacknowledged. Every message of the partition up to the floor is then
  // applied to this store: the catch-up read the stream to its end, the durable delivered the
  // rest to this runner or to another client (each applied here before it was acknowledged, or
  // read from the stream in its place, consume), and only a partition's holder acknowledges
  // its messages (a previous holder stops before its lease can be taken over): one another
  // client holds stays unacknowledged, so nothing moves the position past it. The floor is a stream
  // sequence that also moves past other partitions' messages, so the position then says "seen
  // through", and a snapshot carries it: a stream trimmed below it lacks nothing of the partition
  // (catch_up_gap), even for a partition that has had no message for a long time.
  void advance_to_floor() {
    const auto consumer = own_consumer();
    if (consumer.pending != 0 || consumer.ack_pending != 0) return;
    if (consumer.ack_floor <= owner_.applier_.applied_sequence(partition_)) return;
    if (!owner_.still_valid(partition_, epoch_)) return;
    (void)owner_.applier_.advance(partition_, consumer.ack_floor, epoch_);
  }

  // Between batches: the partition's snapshot, every snapshot_every, when it applied anything
  // since the last one (or its position moved to the consumer's floor) and still holds the
  // lease.
  void maybe_write_snapshot() {
    const auto every = owner_.settings_.snapshot_every;
    if (every.count() == 0) return;
    const auto now = std::chrono::steady_clock::now();
    if (now - last_snapshot_ < every) return;
    last_snapshot_ = now;
    try {
      advance_to_floor();
    } catch (const std::exception& e) {
      owner_.problem(partition_,
                     std::string("position not moved to the consumer's floor: ") + e.what());
    }
    try {
      const auto bytes = owner_.applier_.snapshot(partition_);
      if (!bytes) return;
      std::string error;
      const auto header = store::read_snapshot(*bytes, nullptr, error);
      if (!header) {
        owner_.problem(partition_, "the store's snapshot does not read back: " + error);
        return;
      }
      if (header->stream_seq <= snapshot_written_.load()) return;  // nothing new
      if (!owner_.still_valid(partition_, epoch_)) return;
      snapshot_book(owner_.js_).put(partition_, header->stream_seq, header->epoch, *bytes);
      snapshot_written_ = header->stream_seq;
    } catch (const std::exception& e) {
      owner_.problem(partition_, std::string("snapshot not written: ") + e.what());
    }
  }

  // The durable consumer, batch by batch. JetStream lets any client pull it: a pull request
  // of the partition's previous holder (a runner still inside its last fetch, or one whose
  // unsubscribe not every server has seen yet) may be handed the partition's next message. That
  // client hands it back (or dies, and ack_wait does), and by the time it comes here this runner
  // may have applied later ones: the store's position is then past it, and it would count as
  // applied, lost. Seen in the cluster test's handover cases before anything guarded it. So a batch
  // that does not follow this runner's previous delivery (handed_in_turn) is applied only after the
  // partition's messages before it, read from the stream; what another client was handed is then
  // applied in its place, and acknowledged as applied when it comes back. No wait for other
  // clients' pull requests to expire, and no bound on how long they may last.
  void consume() {
    auto subscription = owner_.js_.bind(std::string(in_stream),
                                        partition_consumer(partition_, owner_.settings_.partitions),
                                        partition_filter_subject(partition_));
    last_snapshot_ = std::chrono::steady_clock::now();
    std::optional<std::uint64_t> last_delivery;  // the last delivery this runner was handed
    std::vector<std::uint64_t> deliveries;
    while (!stopping_) {
      maybe_write_snapshot();
      auto batch = subscription.fetch(owner_.settings_.batch, owner_.settings_.fetch_wait);
      if (batch.empty()) continue;
      deliveries.clear();
      for (const auto& m : batch) deliveries.push_back(m.delivery_sequence());
      if (!handed_in_turn(last_delivery, deliveries)) {
        bool went_on = false;
        try {
          went_on = catch_up_before(batch);
        } catch (...) {
          hand_back(batch, 0);  // for the next attempt now, not after ack_wait
          throw;
        }
        if (!went_on) {
          hand_back(batch, 0);
          return;
        }
      }
      last_delivery = deliveries.back();
      if (!apply_in_order(batch, /*acknowledge=*/true)) return;
    }
  }

  // Before a batch the durable delivered out of turn: the partition's messages from the
  // stream, in order, from the store's position to the partition's last message when the
  // batch came (asked of the stream now, after the fetch), so that everything another client
  // was handed before the batch's deliveries is applied first. To the partition's end, not
  // only through the batch: a batch of redeliveries can stand before a message another
  // client holds, and the next batch, in turn, after it. Silence in the read is no end short
  // of that message (a slow machine, an election). Nothing is read when the store holds the
  // partition's last message already (a batch of redeliveries only). False when the partition
  // had to stop; throws when the read stays silent short of its end (the runner starts again;
  // the batch is handed back for it).
  bool catch_up_before(const std::vector<fetched_message>& batch) {
    std::vector<std::uint64_t> in_batch;
    for (const auto& m : batch) in_batch.push_back(m.stream_sequence());
    std::sort(in_batch.begin(), in_batch.end());
    const auto from = owner_.applier_.applied_sequence(partition_);
    const auto partition_end = std::max(partition_last_sequence(), in_batch.back());
    if (partition_end <= from) return true;
    return read_to_end(from, partition_end, &in_batch);
  }

  // Applies `messages` (one commit for all of them), then replies to and acknowledges each in
  // order. Stops at the first that was fenced off or not made durable, handing it and the
  // rest back. False when the partition must stop.
  bool apply_in_order(std::vector<fetched_message>& messages, bool acknowledge) {
    if (stopping_ || !owner_.still_valid(partition_, epoch_)) {
      if (acknowledge) hand_back(messages, 0);
      stopping_ = true;
      return false;
    }
    std::vector<std::future<applied_message>> outcomes;
    outcomes.reserve(messages.size());
    for (const auto& m : messages) {
      auto promise = std::make_shared<std::promise<applied_message>>();
      outcomes.push_back(promise->get_future());
      owner_.applier_.apply({partition_, m.stream_sequence(), epoch_, m.stored_ms(), m.data(),
                             kind_of_subject(m.subject()), m.header("Cg-Decisions") == "want"},
                            [promise](applied_message a) { promise->set_value(std::move(a)); });
    }
    for (std::size_t i = 0; i < messages.size(); ++i) {
      const auto outcome = outcomes[i].get();
      switch (outcome.result) {
        case applied_message::verdict::applied:
          ++applied_;
          reply(messages[i], outcome);
          break;
        case applied_message::verdict::already_applied:
          break;
        case applied_message::verdict::fenced:
        case applied_message::verdict::failed:
          for (std::size_t j = i + 1; j < outcomes.size(); ++j) outcomes[j].wait();
          if (acknowledge) hand_back(messages, i);
          if (outcome.result == applied_message::verdict::failed) owner_.store_failed();
          owner_.problem(partition_, outcome.result == applied_message::verdict::fenced
                                         ? "the store recorded a newer lease epoch: stopped"
                                         : "the store failed: stopped");
          stopping_ = true;
          return false;
      }
      if (acknowledge) messages[i].ack_sync(owner_.js_.retry());
    }
    return true;
  }

  void hand_back(std::vector<fetched_message>& messages, std::size_t from) {
    for (std::size_t j = from; j < messages.size(); ++j) messages[j].nak();
  }

  void reply(const fetched_message& m, const applied_message& outcome) {
    const auto to = m.header("Cg-Reply-To");
    if (to.empty()) return;
    if (!is_reply_subject(to)) {
      owner_.problem(partition_, "a message's Cg-Reply-To is not a reply subject: not answered");
      return;
    }
    std::vector<message_header> headers{
        {"Cg-Outcome", outcome.outcome},
        {"Content-Type", outcome.content_type},
        {"Cg-Worker", owner_.settings_.worker},
        {"Cg-Partition", std::to_string(partition_)},
        {"Cg-Epoch", std::to_string(epoch_)},
        {"Cg-Sequence", std::to_string(m.stream_sequence())},
        {"Cg-Claims", std::to_string(outcome.claims)},
        {"Cg-Facts", std::to_string(outcome.facts)},
    };
    if (!outcome.parts.empty()) headers.push_back({"Cg-Parts", joined_lengths(outcome.parts)});
    if (!outcome.disposition.empty()) headers.push_back({"Cg-Disposition", outcome.disposition});
    // Only a message that asked (Cg-Decisions: want, a C ABI host's front) had its lines written.
    std::string body_and_decisions;
    if (!outcome.decisions.empty()) {
      headers.push_back({"Cg-Decisions-Bytes", std::to_string(outcome.decisions.size())});
      body_and_decisions = outcome.body + outcome.decisions;
    }
    try {
      owner_.js_.send(to, body_and_decisions.empty() ? outcome.body : body_and_decisions, headers);
    } catch (const nats_error& e) {
      // The sender's front answers by its deadline; the message itself is applied.
      owner_.problem(partition_, e.what());
    }
  }

  worker& owner_;
  const int partition_;
  const std::uint64_t epoch_;
  std::atomic<bool> stopping_{false};
  std::atomic<bool> finished_{false};
  std::atomic<bool> caught_up_{false};
  std::atomic<bool> gap_{false};
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<std::uint64_t> applied_in_place_{0};
  std::atomic<std::uint64_t> caught_up_from_{0};
  std::atomic<std::uint64_t> snapshot_loaded_{0};
  std::atomic<std::uint64_t> snapshot_written_{0};
  std::chrono::steady_clock::time_point last_snapshot_{};
  std::thread thread_;  // last: starts once the rest exists
};

// CG_REF, read whole from the store's position for as long as the worker runs (§5f): reference
// data concerns every partition, so every worker applies all of it, in stream order, under the
// position of `reference_partition`. No lease guards it and nothing is acknowledged: the read
// is ordered and the store's position skips what was applied.
class worker::reference_runner {
 public:
  explicit reference_runner(worker& owner) : owner_(owner) {
    thread_ = std::thread([this] { run(); });
  }
  ~reference_runner() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
  }
  reference_runner(const reference_runner&) = delete;
  reference_runner& operator=(const reference_runner&) = delete;

  [[nodiscard]] std::uint64_t applied() const noexcept { return applied_; }
  /// It has applied CG_REF up to where the stream ended when it started: partitions may run
  /// (a rebuild then evaluates claims with the reference data the first holder had, or more).
  [[nodiscard]] bool caught_up() const noexcept { return caught_up_; }

 private:
  // The lease epoch its messages are applied under: constant, as no lease fences them.
  static constexpr std::uint64_t epoch = 1;

  void run() {
    while (!stopping_ && !owner_.store_failed_) {
      try {
        read();
      } catch (const std::exception& e) {
        owner_.problem(reference_partition, e.what());
        for (int i = 0; i < 20 && !stopping_; ++i) {
          std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
      }
    }
  }

  void read() {
    const auto from = owner_.applier_.applied_sequence(reference_partition);
    if (!caught_up_ && owner_.js_.stream_last_sequence(std::string(reference_stream)) <= from) {
      caught_up_ = true;
    }
    auto reader =
        owner_.js_.read_from(std::string(reference_stream), reference_stream_subject(), from + 1);
    while (!stopping_ && !owner_.store_failed_) {
      auto m = reader.next(std::chrono::milliseconds(250));
      if (!m) continue;
      std::promise<applied_message> promise;
      auto outcome = promise.get_future();
      owner_.applier_.apply({reference_partition, m->stream_sequence(), epoch, m->stored_ms(),
                             m->data(), std::nullopt},
                            [&promise](applied_message a) { promise.set_value(std::move(a)); });
      const auto result = outcome.get().result;
      if (result == applied_message::verdict::failed) {
        owner_.store_failed();
        return;
      }
      if (result == applied_message::verdict::applied) ++applied_;
      if (m->pending() == 0) caught_up_ = true;  // the last one there was when it was read
    }
  }

  worker& owner_;
  std::atomic<bool> stopping_{false};
  std::atomic<std::uint64_t> applied_{0};
  std::atomic<bool> caught_up_{false};
  std::thread thread_;  // last: starts once the rest exists
};

worker::worker(jetstream& js, kv_bucket& owners, kv_bucket& workers, message_applier& applier,
               worker_settings settings)
    : js_(js),
      applier_(applier),
      settings_(std::move(settings)),
      leases_(owners, workers, {settings_.worker, settings_.partitions, settings_.timing},
              {[this](int partition, std::uint64_t epoch) {
                 // The runner starts after the round (held_ updated).
                 if (settings_.ownership) settings_.ownership(partition, "acquired", epoch);
               },
               [this](int partition, std::uint64_t epoch) {
                 lost(partition);
                 if (settings_.ownership) settings_.ownership(partition, "left", epoch);
               }}) {}

worker::~worker() { stop(); }

void worker::start() {
  std::lock_guard lock(mutex_);
  if (started_) return;
  started_ = true;
  lease_thread_ = std::thread([this] { lease_loop(); });
  if (settings_.reference_data) reference_ = std::make_unique<reference_runner>(*this);
}

void worker::stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  wake_.notify_all();
  if (lease_thread_.joinable()) lease_thread_.join();
  std::unique_ptr<reference_runner> reference;
  {
    std::lock_guard lock(mutex_);
    reference = std::move(reference_);
  }
  reference.reset();  // joins its thread, outside the lock
}

std::uint64_t worker::reference_applied() const {
  std::lock_guard lock(mutex_);
  return reference_ ? reference_->applied() : 0;
}

void worker::problem(int partition, const std::string& what) {
  if (settings_.problem) settings_.problem(partition, what);
}

void worker::lost(int partition) {
  // At once: another worker may already hold it under a newer epoch.
  {
    std::lock_guard runners(runners_mutex_);
    if (const auto it = running_.find(partition); it != running_.end()) {
      it->second->stop();
      retiring_.push_back(std::move(it->second));  // joined by the next round, not here
      running_.erase(it);
    }
  }
  std::lock_guard lock(mutex_);
  held_.erase(partition);
}

bool worker::still_valid(int partition, std::uint64_t epoch) const {
  if (store_failed_) return false;
  std::lock_guard lock(mutex_);
  const auto it = held_.find(partition);
  return it != held_.end() && it->second.epoch == epoch &&
         !holder_overdue(it->second.renewed_at_ms, wall_ms(), settings_.timing);
}

void worker::store_failed() {
  store_failed_ = true;
  wake_.notify_all();
}

void worker::start_runners() {
  std::map<int, held_lease> held;
  {
    std::lock_guard lock(mutex_);
    // The reference data first: a partition rebuilt before it would evaluate its claims
    // without the providers the first holder knew. CG_REF is small; the leases are renewed
    // meanwhile.
    if (reference_ && !reference_->caught_up()) return;
    held = held_;
  }
  std::lock_guard runners(runners_mutex_);
  for (const auto& [partition, lease] : held) {
    const auto it = running_.find(partition);
    if (it != running_.end() && it->second->epoch() == lease.epoch) continue;
    if (it != running_.end()) {  // re-acquired under a newer epoch: one runner at a time
      it->second->stop();
      retiring_.push_back(std::move(it->second));
      running_.erase(it);
    }
    // A runner of an earlier lease on this partition must be gone before the new one starts;
    // one still inside a slow call (a NATS request retried through an election) is waited
    // for by the next rounds, never here: this thread renews every other lease.
    // (A named copy: clang 14 cannot capture a structured binding.)
    const bool earlier_one_busy =
        std::any_of(retiring_.begin(), retiring_.end(),
                    [p = partition](auto& r) { return r->partition() == p && !r->finished(); });
    if (earlier_one_busy) continue;
    try {
      running_.emplace(partition,
                       std::make_unique<partition_runner>(*this, partition, lease.epoch));
    } catch (const std::system_error& e) {
      // No thread to be had now (a process or cgroup limit): said, and tried again next
      // round, rather than ending the process from the thread that renews every lease.
      problem(partition, std::string("the partition's thread not started: ") + e.what());
    }
  }
}

void worker::lease_loop() {
  std::unique_lock lock(mutex_);
  while (!stopping_ && !store_failed_) {
    lock.unlock();
    // Joins the runners told to stop earlier whose threads have returned. One still in a
    // slow call stays until it returns: joining it here would stop this loop from renewing
    // the other leases, and they would all expire (seen once after a NATS node was killed).
    std::erase_if(retiring_, [](const auto& r) { return r->finished(); });
    std::string failure;
    try {
      const auto report = leases_.round(wall_ms());
      failure = report.last_failure;
    } catch (const std::exception& e) {
      failure = e.what();
    }
    lock.lock();
    held_ = leases_.held();
    last_failure_ = failure;
    lock.unlock();
    if (!failure.empty()) problem(-1, failure);
    start_runners();
    lock.lock();
    wake_.wait_for(lock, std::chrono::milliseconds(settings_.timing.renew_ms),
                   [this] { return stopping_ || store_failed_.load(); });
  }
  lock.unlock();
  // Stop every partition, then hand the leases back so that others need not wait for them
  // to expire.
  {
    std::lock_guard runners(runners_mutex_);
    for (auto& [partition, runner] : running_) runner->stop();
    running_.clear();
    retiring_.clear();
  }
  leases_.release_all(std::chrono::milliseconds(settings_.timing.renew_ms));
  lock.lock();
  held_.clear();
}

std::map<int, partition_progress> worker::progress() const {
  std::map<int, partition_progress> out;
  std::lock_guard runners(runners_mutex_);
  for (const auto& [partition, runner] : running_) out.emplace(partition, runner->progress());
  return out;
}

std::string worker::last_failure() const {
  std::lock_guard lock(mutex_);
  return last_failure_;
}

}  // namespace covgate::cluster
