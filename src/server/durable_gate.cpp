#include "covgate/server/durable_gate.hpp"

#include <openssl/crypto.h>
#include <openssl/sha.h>

#include <algorithm>
#include <future>
#include <memory>

#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/server/log.hpp"
#include "covgate/store/later_answer.hpp"
#include "covgate/store/message_source.hpp"

namespace covgate::server {
namespace {

// A message refused whole is journaled as this many first bytes and the digest of all.
constexpr std::size_t refused_journal_bytes = 1024;

// The store files rows under a stream message's partition while it is applied (none for a
// message that did not come from a stream).
class writing_partition {
 public:
  writing_partition(store::sqlite_store& store, const stream_position* position) : store_(store) {
    if (position != nullptr) store_.set_writing_partition(position->partition);
  }
  ~writing_partition() { store_.set_writing_partition(std::nullopt); }
  writing_partition(const writing_partition&) = delete;
  writing_partition& operator=(const writing_partition&) = delete;

 private:
  store::sqlite_store& store_;
};

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (const unsigned char b : digest) {
    out += hex[b >> 4];
    out += hex[b & 0xF];
  }
  return out;
}

// One message's answer for its sender, and the changes it caused to earlier claims.
class collected_answer final : public engine::answer_sink {
 public:
  collected_answer(metrics& m, bool with_decisions)
      : metrics_(m), with_decisions_(with_decisions) {}
  void x12(std::string_view text) override { add(text, "application/edi-x12"); }
  void fhir(std::string_view text) override { add(text, "application/fhir+json"); }
  void hl7v2(std::string_view text) override {
    add(text, "x-application/hl7-v2+er7");
    acks.emplace_back(text);
  }
  void on_event(const engine::event& e, bool is_later) override {
    metrics_.event(e.kind);
    if (with_decisions_ && e.kind != engine::event_kind::repeat) {
      model::append_json(decisions, e.decision, e.claim().billing.npi, engine::name(e.kind),
                         e.source);
      decisions += '\n';
    }
    if (is_later) {
      later.push_back(e);
    } else {
      first = engine::combined(first, engine::disposition_of(e));
    }
  }

  std::string body;
  std::string_view content_type;
  std::vector<std::string> acks;
  std::vector<engine::event> later;
  engine::disposition first = engine::disposition::accepted;  // of the first answers
  std::string decisions;

 private:
  void add(std::string_view text, std::string_view type) {
    body += text;
    content_type = type;
  }
  metrics& metrics_;
  bool with_decisions_;
};

}  // namespace

engine::intake_settings intake_settings_of(const server_config& c) {
  engine::intake_settings s;
  s.reader = c.x12;
  s.fhir = c.fhir;
  s.profile = c.strict_277ca ? x12::status_profile::acknowledgment_x214
                             : x12::status_profile::notification_x212;
  s.sender_qualifier = c.sender_qualifier;
  s.sender_id = c.sender_id;
  s.duplicates = c.reject_repeated_interchanges ? engine::duplicate_interchanges::reject
                                                : engine::duplicate_interchanges::answer_again;
  s.hl7v2 = c.hl7v2;
  return s;
}

std::string_view outcome_name(const reply& r) noexcept {
  if (!r.durable) return "unavailable";
  if (r.refused) return "refused";
  if (r.unrecognized) return "unrecognized";
  if (!r.rejected) return "accepted";
  return r.claims + r.facts + r.repeated_interchanges > 0 ? "partly-rejected" : "rejected";
}

std::int64_t durable_gate::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

durable_gate::durable_gate(const server_config& config, const policy::policy_file& policy,
                           const mapping::tables& tables, metrics& counters)
    : config_(config),
      metrics_(counters),
      store_(config.store.directory, config.store.synchronous_full),
      intake_(policy, tables, store_, intake_settings_of(config)),
      destinations_(
          std::make_shared<const std::vector<destination_config>>(config.outbox.destinations)) {
  // A commit waits for the disk in the committer, outside the gate's lock (commit_loop).
  if (config.store.synchronous_full) store_.defer_sync();
  store_.pace_checkpoints();  // the checkpointer below runs beside the commits
  store_.limit_journal_bytes(config.store.journal_max_bytes);
  if (const auto& dir = config.store.directory; !dir.empty() && dir != ":memory:") {
    reader_.emplace(dir, store::read_only);
  }
  intake_.restore();
  // The threads below digest with OpenSSL, which keeps per-thread state freed when a thread
  // ends, unless its exit-time cleanup has already run. Initialised here, before any thread,
  // that cleanup is registered before the owner of a gate kept in a static can register its
  // destructor, and so runs after it: a host that destroys the gate at exit (a plugin's
  // global, a fuzz target's fixture) joins the threads first and leaks nothing. The flags are
  // what a first digest asks for; none (0) would return before registering anything.
  OPENSSL_init_crypto(OPENSSL_INIT_ADD_ALL_CIPHERS | OPENSSL_INIT_ADD_ALL_DIGESTS, nullptr);
  committer_ = std::thread([this] { commit_loop(); });
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
  processor_ = std::thread([this] { process_loop(); });
}

durable_gate::~durable_gate() { shutdown(); }

void durable_gate::checkpoint_loop() {
  // Every 100 ms: often enough that the WAL stays small, rarely enough to cost nothing.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    std::string failure;
    std::optional<std::string> due;
    try {
      due = store_.checkpoint();  // its own connection: no need to hold the gate's lock
    } catch (const store::store_error& e) {
      failure = e.what();
    }
    lock.lock();
    if (!failure.empty()) store_failed(failure);
    // A copy that failed (a full disk) is tried again at the next turn: said once a minute
    // at most, since the WAL grows meanwhile.
    if (const auto now = std::chrono::steady_clock::now();
        due &&
        (!last_checkpoint_warning_ || now - *last_checkpoint_warning_ >= std::chrono::minutes(1))) {
      last_checkpoint_warning_ = now;
      log().warn("store", "checkpoint failed, tried again", {{"reason", *due}});
    }
  }
}

void durable_gate::enqueue_later(const std::vector<engine::event>& events,
                                 engine::message_time at) {
  const auto count = static_cast<std::uint32_t>(destinations_->size());
  if (count == 0) return;
  for (const auto& e : events) {
    const auto body = intake_.status_message({e}, at);
    std::string packed;  // for CG_OUT: the event and its decision line travel with the 277
    for (std::uint32_t d = 0; d < count; ++d) {
      if ((*destinations_)[d].kind != "cluster") {
        store_.enqueue({0, e.delivery_key(), d, "application/edi-x12", body, 0}, at.unix_ms);
        continue;
      }
      if (packed.empty()) {
        std::string line;
        model::append_json(line, e.decision, e.claim().billing.npi, engine::name(e.kind), e.source);
        packed = store::pack_later(engine::name(e.kind), line, body);
      }
      store_.enqueue({0, e.delivery_key(), d, "application/edi-x12", packed, 0}, at.unix_ms);
    }
  }
}

void durable_gate::join_group() {
  if (in_group_) return;
  store_.begin();
  in_group_ = true;
}

void durable_gate::after_commit(std::function<void(bool)> done) {
  group_.push_back(std::move(done));
  work_.notify_one();
}

void durable_gate::commit_loop() {
  for (;;) {
    std::vector<std::function<void(bool)>> group;
    bool durable = true;
    {
      std::unique_lock lock(mutex_);
      work_.wait(lock, [this] { return stopping_ || !group_.empty(); });
      if (group_.empty()) return;  // stopping, nothing left
      // Under load (more than one message already waiting), let the group grow while
      // messages keep arriving: one commit for more of them. Stops at the first quiet 25 us
      // or after 150 us. A lone message is committed at once: timed waits this short are
      // several times longer in practice (timer slack), which a single sender would feel.
      const auto until = std::chrono::steady_clock::now() + std::chrono::microseconds(150);
      for (auto n = group_.size(); n > 1 && !stopping_ && std::chrono::steady_clock::now() < until;
           n = group_.size()) {
        if (!work_.wait_for(lock, std::chrono::microseconds(25),
                            [&] { return stopping_ || group_.size() > n; })) {
          break;
        }
      }
      group.swap(group_);
      try {
        store_.commit();
        metrics_.committed(group.size());
      } catch (const store::store_error& e) {
        // The gate may already hold what the store lost: refuse everything until a restart
        // rebuilds one from the other.
        try {
          store_.rollback();
        } catch (const store::store_error&) {
        }
        store_failed(e.what());
        durable = false;
      }
      in_group_ = false;
    }
    if (durable && store_.sync_deferred()) {
      // synchronous full: the wait for the disk happens here, outside the lock, so the next
      // group is processed meanwhile; nobody hears of this group before its WAL is synced.
      try {
        store_.sync();
      } catch (const store::store_error& e) {
        std::lock_guard lock(mutex_);
        store_failed(e.what());
        durable = false;
      }
    }
    // Outside the lock: the next group is already being processed while these are answered.
    for (auto& done : group) {
      try {
        done(durable);
      } catch (const std::exception& e) {
        // Thrown out of this thread it would end the process and leave the rest of the group
        // unanswered (the routes answer their own failures; this is the last resort).
        log().error("gate", "an answer could not be completed", {{"reason", e.what()}});
      }
    }
  }
}

void durable_gate::process_loop() {
  // The listeners' messages, taken in arrival order by this one thread. A listener's thread
  // only queues (it never waits for the gate's lock, so it goes on reading its other
  // connections), and whatever queued while a batch was processed is the next batch: under
  // load a commit groups more messages, and the lock changes hands once per batch rather
  // than once per message. A batch gives the lock up every max_batch_under_lock messages so
  // that the committer, a reviewer's action and in-memory reads wait a bounded time.
  constexpr std::size_t max_batch_under_lock = 32;
  std::vector<queued_message> batch;
  for (;;) {
    {
      std::unique_lock lock(inbox_mutex_);
      inbox_ready_.wait(lock, [this] { return inbox_closed_ || !inbox_.empty(); });
      if (inbox_.empty()) return;  // closed, and everything queued was processed
      batch.swap(inbox_);
    }
    for (std::size_t first = 0; first < batch.size(); first += max_batch_under_lock) {
      const std::size_t last = std::min(batch.size(), first + max_batch_under_lock);
      std::unique_lock lock(mutex_);
      for (std::size_t i = first; i < last; ++i) {
        auto& m = batch[i];
        process_locked(lock, m.payload, m.channel, m.sender, nullptr, std::move(m.done),
                       m.received);
      }
    }
    batch.clear();
  }
}

void durable_gate::shutdown() {
  {
    // What the listeners queued is processed first, and answered by the committer's last
    // commit; a message submitted from now on is refused (process() sees stopping_).
    std::lock_guard lock(inbox_mutex_);
    inbox_closed_ = true;
  }
  inbox_ready_.notify_all();
  if (processor_.joinable()) processor_.join();
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  work_.notify_all();
  stop_.notify_all();
  if (committer_.joinable()) committer_.join();
  if (checkpointer_.joinable()) checkpointer_.join();
  std::lock_guard lock(mutex_);
  if (in_group_) {
    store_.rollback();  // nothing is left uncommitted with a waiting sender
    in_group_ = false;
  }
}

void durable_gate::store_failed(std::string_view reason) {
  metrics_.store_failure();
  // Said once per failure, with SQLite's reason (never message content); the first one
  // also says what it means for senders.
  log().error(
      "store", "store failure",
      {{"reason", reason},
       {"effect", healthy_ ? "refusing every message until a restart" : "already refusing"}});
  healthy_ = false;
}

void durable_gate::submit(std::string payload, std::string_view channel, std::string_view sender,
                          completion done) {
  {
    std::lock_guard lock(inbox_mutex_);
    if (!inbox_closed_) {
      const bool was_empty = inbox_.empty();
      inbox_.push_back({std::move(payload), std::string(channel), std::string(sender),
                        std::move(done), std::chrono::steady_clock::now()});
      if (was_empty) inbox_ready_.notify_one();  // else the processor is awake already
      return;
    }
  }
  process(payload, channel, sender, nullptr, std::move(done));  // shutting down
}

void durable_gate::submit_from_stream(std::string_view payload, stream_position position,
                                      completion done) {
  const auto sender = store::stream_peer({position.partition, position.sequence});
  process(payload, "nats", sender, &position, std::move(done));
}

void durable_gate::process(std::string_view payload, std::string_view channel,
                           std::string_view sender, const stream_position* position,
                           completion done) {
  std::unique_lock lock(mutex_);
  process_locked(lock, payload, channel, sender, position, std::move(done),
                 std::chrono::steady_clock::now());
}

void durable_gate::process_locked(std::unique_lock<std::mutex>& lock, std::string_view payload,
                                  std::string_view channel, std::string_view sender,
                                  const stream_position* position, completion done,
                                  std::chrono::steady_clock::time_point started) {
  auto out = std::make_shared<reply>();
  out->kind = engine::sniff(payload.substr(0, 64));
  if (!healthy_ || stopping_) {
    out->durable = false;
    lock.unlock();
    done(std::move(*out));
    lock.lock();
    return;
  }
  const engine::message_time at{position != nullptr && position->stored_ms > 0 ? position->stored_ms
                                                                               : now_ms()};
  try {
    join_group();
    if (position != nullptr) {
      out->verdict =
          store_.record_applied(position->partition, position->sequence, position->epoch);
    }
  } catch (const store::store_error& e) {
    store_failed(e.what());
  }
  if (out->verdict != store::apply_verdict::apply || !healthy_) {
    // Nothing to process: the answer says why once the open group committed (a redelivery
    // is acknowledged only after what it repeats is durable).
    after_commit([this, out, done = std::move(done)](bool durable) mutable {
      out->durable = durable && healthy_;
      done(std::move(*out));
    });
    return;
  }
  // A cluster worker's rows are filed under the message's partition (its snapshots select
  // them by it), CG_REF's under reference_partition, which no snapshot selects; a facts row
  // of no patient (a Practitioner), from either, as every partition's (shared_part).
  const writing_partition filed(store_, position);
  try {
    // The message is named by the journal id it will get while it is processed, and
    // journaled afterwards, in the same transaction: a message refused whole is kept as its
    // first bytes and a digest, so garbage cannot fill the journal.
    out->journal_id = store_.next_journal_id();
    collected_answer answer(metrics_, position != nullptr && position->with_decisions);
    // A stream message's events name its place in the stream too (store/message_source.hpp):
    // the journal id is this store's alone, the stream position the whole cluster's.
    const auto source_channel =
        position != nullptr ? store::stream_channel({position->partition, position->sequence})
                            : std::string(channel);
    const auto result = intake_.receive(
        payload, source_channel + ":" + std::to_string(out->journal_id), at, answer);
    store::journal_entry entry;
    entry.received_ms = at.unix_ms;
    entry.channel = std::string(channel);
    entry.sender = std::string(sender);
    entry.kind = std::string(engine::name(result.kind));
    entry.received_bytes = payload.size();
    const bool refused_whole = (result.rejected || result.unrecognized) && result.claims == 0 &&
                               result.facts == 0 && result.repeated_interchanges == 0;
    if (refused_whole && payload.size() > refused_journal_bytes) {
      entry.body = std::string(payload.substr(0, refused_journal_bytes));
      entry.digest = sha256_hex(payload);
    } else {
      entry.body = std::string(payload);
    }
    if (store_.journal(entry) != out->journal_id) {
      throw store::store_error("journal id changed while the message was processed");
    }
    enqueue_later(answer.later, at);
    if (config_.outbox.every_answer && result.kind == engine::payload_kind::x12 &&
        !answer.body.empty()) {
      for (std::uint32_t d = 0; d < destinations_->size(); ++d) {
        store_.enqueue({0, "message:" + std::to_string(out->journal_id), d,
                        std::string(answer.content_type), answer.body, 0},
                       at.unix_ms);
      }
    }
    out->kind = result.kind;
    out->body = std::move(answer.body);
    out->acks = std::move(answer.acks);
    out->decisions = std::move(answer.decisions);
    out->content_type = answer.content_type;
    out->rejected = result.rejected;
    out->unrecognized = result.unrecognized;
    out->claims = result.claims;
    out->facts = result.facts;
    out->repeated_interchanges = result.repeated_interchanges;
    out->disposition = answer.first;
  } catch (const store::store_error& e) {
    // Fails the whole open group at its commit: every message in it is refused.
    store_failed(e.what());
  } catch (const std::exception& e) {
    // Anything else (memory ran out) left the gate and the open group half-changed: the same
    // refusal until a restart rebuilds the one from the other, rather than the end of the
    // process on this thread.
    store_failed(std::string("a message could not be processed: ") + e.what());
  }
  metrics_.message(channel, engine::name(out->kind), out->rejected || out->unrecognized,
                   out->repeated_interchanges);
  after_commit([this, out, started, done = std::move(done)](bool durable) mutable {
    if (!durable || !healthy_) {
      out->durable = false;
      out->body.clear();
      out->acks.clear();
    }
    metrics_.latency(
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    done(std::move(*out));
  });
}

reply durable_gate::handle(std::string_view payload, std::string_view channel,
                           std::string_view sender) {
  std::promise<reply> promise;
  auto answer = promise.get_future();
  submit(std::string(payload), channel, sender,
         [&promise](reply r) { promise.set_value(std::move(r)); });
  return answer.get();
}

void durable_gate::review(std::string_view claim_id, bool release, std::string_view who,
                          std::string_view why, std::function<void(review_status)> done) {
  review_at(claim_id, release, who, why, now_ms(), nullptr,
            [done = std::move(done)](stream_review_result r) { done(r.status); });
}

void durable_gate::review_from_stream(std::string_view claim_id, bool release, std::string_view who,
                                      std::string_view why, std::int64_t at_ms,
                                      stream_position position,
                                      std::function<void(stream_review_result)> done) {
  review_at(claim_id, release, who, why, at_ms, &position, std::move(done));
}

void durable_gate::review_at(std::string_view claim_id, bool release, std::string_view who,
                             std::string_view why, std::int64_t at_ms,
                             const stream_position* position,
                             std::function<void(stream_review_result)> done) {
  std::unique_lock lock(mutex_);
  stream_review_result out;
  if (!healthy_ || stopping_) {
    lock.unlock();
    done(out);
    return;
  }
  const engine::message_time at{at_ms};
  try {
    join_group();
    if (position != nullptr) {
      out.verdict = store_.record_applied(position->partition, position->sequence, position->epoch);
    }
    if (out.verdict == store::apply_verdict::apply) {
      const writing_partition filed(store_, position);
      collected_answer answer(metrics_, false);  // a review answers with a word
      // The claim's key, or a CLM01: an action queued before claims were keyed by billing
      // NPI too (on CG_IN, or from a front of that version) names the claim when one
      // provider sent that CLM01.
      std::string key(claim_id);
      if (claim_id.find(model::claim_key_separator) == std::string_view::npos) {
        auto keys = store_.claim_keys_of(claim_id);
        if (keys.size() == 1) key = std::move(keys.front());
        if (keys.size() > 1) key.clear();
      }
      const auto result = key.empty()
                              ? std::nullopt
                              : std::optional(intake_.review(key, release, who, why, at, answer));
      switch (result.value_or(engine::gate::review_result::unknown_claim)) {
        case engine::gate::review_result::done:
          enqueue_later(answer.later, at);
          out.status = review_status::done;
          break;
        case engine::gate::review_result::unknown_claim:
          out.status = review_status::unknown_claim;
          break;
        case engine::gate::review_result::already_closed:
          out.status = review_status::already_closed;
          break;
        case engine::gate::review_result::not_reviewable:
          out.status = review_status::not_reviewable;
          break;
      }
      if (!result) out.status = review_status::ambiguous;
    }
  } catch (const store::store_error& e) {
    store_failed(e.what());
  }
  after_commit([this, out, done = std::move(done)](bool durable) mutable {
    if (!durable || !healthy_) out.status = review_status::unavailable;
    done(out);
  });
}

durable_gate::snapshot_result durable_gate::load_snapshot(std::string_view bytes) {
  return in_next_commit([&] {
    return store_.load_snapshot(
        bytes, {[this](std::string_view encoded) { intake_.restore_facts(encoded); },
                [this](const model::decision& d) { intake_.restore_open_decision(d); }});
  });
}

durable_gate::snapshot_result durable_gate::replace_partition(
    std::string_view bytes, const std::function<bool(std::string_view)>& mine) {
  return in_next_commit([&] {
    // The copy's facts are forgotten resource by resource, then the snapshot's indexed: the
    // other partitions' facts stay where they are. A snapshot's facts row that does not
    // decode throws std::runtime_error after the copy is gone: store_failed, below.
    return store_.replace_partition(
        bytes, mine,
        {[this](std::string_view encoded) { intake_.restore_facts(encoded); },
         [this](const model::decision& d) { intake_.restore_open_decision(d); }},
        [this](const model::decision& d) { intake_.forget_open_decision(d); },
        [this](std::string_view resource) { intake_.forget_fact_resource(resource); });
  });
}

durable_gate::snapshot_result durable_gate::in_next_commit(
    const std::function<store::snapshot_load()>& change) {
  std::promise<bool> committed;
  auto durable = committed.get_future();
  snapshot_result out;
  {
    std::lock_guard lock(mutex_);
    if (!healthy_ || stopping_) {
      out.load.error = "the store is not taking writes";
      return out;
    }
    try {
      join_group();
      out.load = change();
    } catch (const store::store_error& e) {
      // A claim id this store holds (in another partition), or SQLite's failure: the
      // snapshot's rows (and a replaced copy's) were undone, the group's other messages stand.
      out.load.verdict = store::snapshot_load_verdict::malformed;
      out.load.error = e.what();
    } catch (const std::runtime_error& e) {  // facts that do not decode: the index is partial
      store_failed(e.what());
      out.load.error = e.what();
    }
    after_commit([&committed](bool ok) { committed.set_value(ok); });
  }
  out.durable = durable.get() && healthy_ && out.load.error.empty();
  return out;
}

bool durable_gate::change_in_next_commit(const std::function<void()>& change) {
  std::promise<bool> committed;
  auto durable = committed.get_future();
  {
    std::lock_guard lock(mutex_);
    if (!healthy_ || stopping_) return false;
    try {
      join_group();
    } catch (const store::store_error& e) {
      store_failed(e.what());  // no transaction open: nothing to commit
      return false;
    }
    try {
      change();
    } catch (const store::store_error& e) {
      store_failed(e.what());  // the open group fails at its commit
    }
    after_commit([&committed](bool ok) { committed.set_value(ok); });
  }
  return durable.get() && healthy_;
}

bool durable_gate::advance_position(std::uint32_t partition, std::uint64_t stream_seq,
                                    std::uint64_t epoch) {
  bool moved = false;
  const bool durable = change_in_next_commit([&] {
    moved = store_.record_applied(partition, stream_seq, epoch) == store::apply_verdict::apply;
  });
  return durable && moved;
}

review_status durable_gate::review(std::string_view claim_id, bool release, std::string_view who,
                                   std::string_view why) {
  std::promise<review_status> promise;
  auto answer = promise.get_future();
  review(claim_id, release, who, why, [&promise](review_status s) { promise.set_value(s); });
  return answer.get();
}

void durable_gate::read(const std::function<void(const store::sqlite_store&)>& read) {
  if (reader_) {
    std::lock_guard lock(reader_mutex_);
    read(*reader_);
    return;
  }
  std::lock_guard lock(mutex_);
  read(store_);
}

void durable_gate::inspect(
    const std::function<void(const store::sqlite_store&, const engine::intake&)>& read) {
  if (reader_) {
    // intake_.patient_context() is safe beside the gate's thread (the fact index has a lock of
    // its own, held for one entry at a time); the facts may be a message ahead of the store.
    std::lock_guard lock(reader_mutex_);
    read(*reader_, intake_);
    return;
  }
  std::lock_guard lock(mutex_);
  read(store_, intake_);
}

// The outbox's calls come from its worker's thread: a store error is a store failure, never an
// exception out of that thread (it would end the process). A failed store delivers, marks and
// deletes nothing more: the group that failed may have left rows no sender was told of, and
// what the store holds goes out after the restart it needs.
std::vector<store::outbox_item> durable_gate::due(std::size_t limit) {
  std::lock_guard lock(mutex_);
  if (!healthy_) return {};
  try {
    return store_.due(now_ms(), limit);
  } catch (const store::store_error& e) {
    store_failed(e.what());
    return {};
  }
}

void durable_gate::delivered(const store::outbox_item& item) {
  std::lock_guard lock(mutex_);
  if (!healthy_) return;
  try {
    store_.delivered(item.id, now_ms());
  } catch (const store::store_error& e) {
    store_failed(e.what());
  }
}

bool durable_gate::failed(const store::outbox_item& item, std::string_view error) {
  std::lock_guard lock(mutex_);
  if (!healthy_) return false;
  // Exponential backoff from the first delay, capped; dead after the configured attempts.
  const auto attempts = item.attempts + 1;
  auto delay = config_.outbox.first_backoff;
  for (std::uint32_t i = 1; i < attempts && delay < config_.outbox.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, config_.outbox.max_backoff);
  // A cluster worker's one destination is its stream CG_OUT: an outage of the cluster is
  // waited out, never dead-lettered in this store (nothing would make the release again).
  const bool to_cluster = item.destination < destinations_->size() &&
                          (*destinations_)[item.destination].kind == "cluster";
  const bool dead = !to_cluster && attempts >= config_.outbox.max_attempts;
  try {
    store_.failed(item.id, now_ms() + delay.count(), dead, error);
  } catch (const store::store_error& e) {
    store_failed(e.what());
    return false;
  }
  return dead;
}

std::shared_ptr<const std::vector<destination_config>> durable_gate::destinations() {
  std::lock_guard lock(mutex_);
  return destinations_;
}

void durable_gate::set_destinations(std::vector<destination_config> destinations) {
  auto next = std::make_shared<const std::vector<destination_config>>(std::move(destinations));
  std::lock_guard lock(mutex_);
  destinations_ = std::move(next);
}

std::vector<store::outbox_entry> durable_gate::outbox_entries(std::string_view state,
                                                              std::int64_t after_id,
                                                              std::size_t limit) {
  std::lock_guard lock(mutex_);
  return store_.outbox_entries(state, after_id, limit);
}

std::optional<store::outbox_entry> durable_gate::outbox_entry(std::int64_t id) {
  std::lock_guard lock(mutex_);
  return store_.outbox_entry_of(id);
}

void durable_gate::retry(std::int64_t id,
                         std::function<void(std::optional<store::retry_result>)> done) {
  std::unique_lock lock(mutex_);
  if (!healthy_ || stopping_) {
    lock.unlock();
    done(std::nullopt);
    return;
  }
  // Joins the open group like a message: the store has one writer, and the answer waits
  // for the commit.
  std::optional<store::retry_result> result;
  try {
    join_group();
    result = store_.retry(id, now_ms());
  } catch (const store::store_error& e) {
    store_failed(e.what());
  }
  after_commit(
      [result, done = std::move(done)](bool durable) { done(durable ? result : std::nullopt); });
}

std::optional<std::int64_t> durable_gate::next_due() {
  std::lock_guard lock(mutex_);
  if (!healthy_) return std::nullopt;
  try {
    return store_.next_due();
  } catch (const store::store_error& e) {
    store_failed(e.what());
    return std::nullopt;
  }
}

durable_gate::retention_result durable_gate::prune(std::stop_token stop) {
  retention_result pruned;
  const auto now = now_ms();
  {
    std::lock_guard lock(mutex_);
    if (!healthy_) return pruned;
    try {
      pruned.messages = store_.prune_journal(
          now, std::chrono::duration_cast<std::chrono::milliseconds>(config_.store.journal_max_age),
          config_.store.journal_max_bytes);
    } catch (const store::store_error& e) {
      store_failed(e.what());
      return pruned;
    }
  }
  // Delivered items in batches, each in the next commit (with the messages' own group) and
  // waited for, then a pause four times as long as the batch took, commit included (its
  // pages cost the messages' commits too; the lock's time alone let a backlog double their
  // p99): a backlog of a million (retention first enabled on an old store) holds a message
  // up by one batch at most, and takes about a fifth of the gate's time while it lasts.
  const auto before =
      now - std::chrono::duration_cast<std::chrono::milliseconds>(config_.outbox.delivered_max_age)
                .count();
  std::mutex pause_mutex;
  std::condition_variable_any pause;
  while (!stop.stop_requested()) {
    std::uint64_t n = 0;
    const auto started = std::chrono::steady_clock::now();
    if (!change_in_next_commit(
            [&] { n = store_.prune_delivered(before, delivered_pruned_per_batch); })) {
      break;
    }
    pruned.delivered_items += n;
    if (n < delivered_pruned_per_batch) break;
    std::unique_lock idle(pause_mutex);
    (void)pause.wait_for(idle, stop, 4 * (std::chrono::steady_clock::now() - started),
                         [] { return false; });
  }
  return pruned;
}

void durable_gate::sample(metrics::gauges& out) {
  std::lock_guard lock(mutex_);
  out.gate = intake_.summary();
  std::uint64_t held = 0;
  for (const auto o : model::outcomes) {
    if (o != model::outcome::release) held += out.gate.by_outcome[static_cast<std::size_t>(o)];
  }
  const auto now = now_ms();
  // A seek per held outcome in the store's list index: read at every scrape, not cached.
  const auto oldest_hold_ms = held > 0 ? store_.oldest_hold_ms() : std::nullopt;
  out.oldest_hold_seconds =
      oldest_hold_ms ? static_cast<double>(std::max<std::int64_t>(0, now - *oldest_hold_ms)) / 1000
                     : 0.0;
  out.outbox = store_.outbox();  // kept counted by the store: a read of three rows
  out.store_bytes = store_.file_bytes();
  out.journal_bytes = store_.journal_bytes();
  out.journal_pruned = store_.journal_rows_pruned();
}

}  // namespace covgate::server
