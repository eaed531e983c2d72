#include "covgate/transport/service.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <array>
#include <ctime>
#include <future>
#include <iostream>
#include <memory>
#include <unordered_map>

#include "covgate/model/decision_json.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::transport {
namespace {

// Histogram bounds of the message latency, in seconds (Prometheus "le").
constexpr std::array<double, 12> latency_bounds = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.025,
                                                   0.05,   0.1,   0.25,  0.5,   1.0,  5.0};

constexpr std::array<model::outcome, 5> outcomes = {
    model::outcome::release, model::outcome::hold_documentation, model::outcome::hold_review,
    model::outcome::hold_not_covered, model::outcome::hold_invalid};

// A message refused whole is journaled as this many first bytes and the digest of all.
constexpr std::size_t refused_journal_bytes = 1024;

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

// Label values are our own names (kinds, reason codes, listener names): quote them anyway.
std::string label(std::string_view value) {
  std::string out;
  for (const char c : value) {
    if (c == '"' || c == '\\') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

}  // namespace

// Accepted interchanges live in the store, in the open transaction like everything else.
class service::stored_interchanges final : public engine::interchange_memory {
 public:
  stored_interchanges(store::sqlite_store& store, const std::int64_t& now_ms)
      : store_(store), now_ms_(now_ms) {}
  std::optional<answer_given> answer_of(std::string_view sender_control) override {
    auto row = store_.interchange(sender_control);
    if (!row) return std::nullopt;
    return answer_given{std::move(row->answer), row->rejected, row->claims, row->message_digest};
  }
  void remember(std::string_view sender_control, const answer_given& a) override {
    store_.remember_interchange(sender_control, now_ms_,
                                {a.body, a.rejected, a.claims, a.message_digest});
  }

 private:
  store::sqlite_store& store_;
  const std::int64_t& now_ms_;
};

std::int64_t service::now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

engine::message_time service::now_stamp() {
  const std::time_t now = std::chrono::system_clock::to_time_t(std::chrono::system_clock::now());
  std::tm utc{};
  gmtime_r(&now, &utc);
  char buffer[16];
  std::strftime(buffer, sizeof buffer, "%Y%m%d%H%M", &utc);
  return {buffer};
}

service::service(const server_config& config, const policy::policy_file& policy,
                 const mapping::tables& tables)
    : config_(config),
      store_(config.store.directory, config.store.synchronous_full),
      inbox_(policy, tables, store_,
             engine::inbox_settings{{},
                                    config.strict_277ca ? x12::status_profile::acknowledgment_x214
                                                        : x12::status_profile::notification_x212,
                                    config.sender_qualifier,
                                    config.sender_id,
                                    config.reject_repeated_interchanges
                                        ? engine::duplicate_interchanges::reject
                                        : engine::duplicate_interchanges::answer_again},
             static_cast<std::uint32_t>(store_.counter("control", 1))),
      latency_buckets_(latency_bounds.size() + 1, 0),
      interchanges_(std::make_unique<stored_interchanges>(store_, current_ms_)) {
  store_.limit_journal_bytes(config.store.journal_max_bytes);
  inbox_.remember_interchanges(interchanges_.get());
  inbox_.observe_facts([this](const std::vector<model::fact>& facts) { keep(facts); });
  restore_facts();
  inbox_.observe([this](const engine::event& e) { record(e); });
  committer_ = std::thread([this] { commit_loop(); });
  checkpointer_ = std::thread([this] { checkpoint_loop(); });
}

void service::keep(const std::vector<model::fact>& facts) {
  // One row per resource (an Observation and its components together), in message order.
  std::vector<std::pair<std::string, std::vector<model::fact>>> by_resource;
  std::unordered_map<std::string, std::size_t> position;  // a Bundle may hold thousands
  for (const auto& f : facts) {
    auto resource = model::fact_index::resource_of(model::resource_id_of(f));
    const auto [it, added] = position.try_emplace(resource, by_resource.size());
    if (added) by_resource.emplace_back(std::move(resource), std::vector<model::fact>{});
    by_resource[it->second].second.push_back(f);
  }
  std::string encoded;
  for (const auto& [resource, group] : by_resource) {
    encoded.clear();
    model::encode(group, encoded);
    store_.save_facts(resource, model::last_updated_of(group.front()), encoded);
  }
}

void service::restore_facts() {
  // Facts live in memory and come back from the facts table; claims are in the store already.
  // A store written before there was a facts table has them only in its journal: read them
  // from there once, which also fills the table.
  constexpr std::int64_t facts_table = 1;
  if (store_.counter("facts_format", 0) < facts_table) {
    store_.begin();
    store_.for_each_journal("fhir",
                            [&](const store::journal_entry& e) { (void)inbox_.restore(e.body); });
    store_.set_counter("facts_format", facts_table);
    store_.commit();
    return;
  }
  store_.for_each_facts([&](std::string_view encoded) {
    auto facts = model::decode_facts(encoded);
    if (!facts) {
      throw store::store_error(
          "stored facts do not decode (store written by a newer covgate, or damaged)");
    }
    inbox_.restore(std::move(*facts));
  });
}

void service::checkpoint_loop() {
  // Every 100 ms: often enough that the WAL stays small, rarely enough to cost nothing.
  std::unique_lock lock(mutex_);
  while (!stopping_) {
    stop_.wait_for(lock, std::chrono::milliseconds(100), [this] { return stopping_; });
    if (stopping_) break;
    lock.unlock();
    store_.checkpoint();  // its own connection: no need to hold the gate's lock
    lock.lock();
  }
}

void service::record(const engine::event& e) {
  ++events_[std::string(e.kind)];
  if (e.kind == "repeat") return;  // a repeated answer is not a new decision
  store_.record_history(e.claim.id, e.sequence, e.kind, current_ms_, e.decision, e.source);
}

void service::enqueue_later(const std::vector<engine::event>& events,
                            const engine::message_time& at) {
  for (const auto& e : events) {
    const auto body = inbox_.status_message({e}, at);
    for (std::uint32_t d = 0; d < config_.outbox.destinations.size(); ++d) {
      store_.enqueue(
          {0, e.claim.id + ":" + std::to_string(e.sequence), d, "application/edi-x12", body, 0},
          current_ms_);
    }
  }
}

void service::join_group() {
  if (in_group_) return;
  store_.begin();
  in_group_ = true;
}

void service::after_commit(std::function<void(bool)> done) {
  group_.push_back(std::move(done));
  work_.notify_one();
}

void service::commit_loop() {
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
        store_.set_counter("control", inbox_.next_control());
        store_.commit();
        ++groups_;
        grouped_messages_ += group.size();
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
    // Outside the lock: the next group is already being processed while these are answered.
    for (auto& done : group) done(durable);
  }
}

service::~service() { shutdown(); }

void service::shutdown() {
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

void service::submit(std::string_view payload, std::string_view channel, std::string_view sender,
                     completion done) {
  const auto started = std::chrono::steady_clock::now();
  std::unique_lock lock(mutex_);
  auto out = std::make_shared<reply>();
  out->kind = engine::sniff(payload);
  if (!healthy_ || stopping_) {
    out->durable = false;
    lock.unlock();
    done(std::move(*out));
    return;
  }
  current_ms_ = now_ms();
  const auto at = now_stamp();
  try {
    join_group();
    // The message is named by the journal id it will get while it is processed, and
    // journaled afterwards, in the same transaction: a message refused whole is kept as its
    // first bytes and a digest, so garbage cannot fill the journal.
    out->journal_id = store_.next_journal_id();
    auto answer =
        inbox_.receive(payload, std::string(channel) + ":" + std::to_string(out->journal_id), at);
    store::journal_entry entry{0,
                               current_ms_,
                               std::string(channel),
                               std::string(sender),
                               std::string(engine::name(out->kind)),
                               {},
                               payload.size(),
                               {}};
    const bool refused_whole = answer.rejected && answer.claims == 0 && answer.facts == 0 &&
                               answer.repeated_interchanges == 0;
    if (refused_whole && payload.size() > refused_journal_bytes) {
      entry.body = std::string(payload.substr(0, refused_journal_bytes));
      entry.digest = sha256_hex(payload);
    } else {
      entry.body = std::string(payload);
    }
    if (store_.journal(entry) != out->journal_id) {
      throw store::store_error("journal id changed while the message was processed");
    }
    if (!config_.outbox.destinations.empty()) {
      enqueue_later(answer.later, at);
      if (config_.outbox.every_answer && answer.kind == engine::payload_kind::x12 &&
          !answer.body.empty()) {
        for (std::uint32_t d = 0; d < config_.outbox.destinations.size(); ++d) {
          store_.enqueue({0, "message:" + std::to_string(out->journal_id), d,
                          std::string(answer.content_type), answer.body, 0},
                         current_ms_);
        }
      }
    }
    out->body = std::move(answer.body);
    out->content_type = answer.content_type;
    out->rejected = answer.rejected;
    out->claims = answer.claims;
    out->facts = answer.facts;
    out->repeated_interchanges = answer.repeated_interchanges;
  } catch (const store::store_error& e) {
    // Fails the whole open group at its commit: every message in it is refused.
    store_failed(e.what());
  }
  ++messages_[{std::string(channel), std::string(engine::name(out->kind))}];
  if (out->rejected) ++rejected_[std::string(engine::name(out->kind))];
  repeated_interchanges_ += out->repeated_interchanges;
  const std::string kind(engine::name(out->kind));
  after_commit([this, out, started, done = std::move(done)](bool durable) mutable {
    if (!durable || !healthy_) {
      out->durable = false;
      out->body.clear();
    }
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    {
      std::lock_guard metrics(mutex_);
      std::size_t bucket = 0;
      while (bucket < latency_bounds.size() && seconds > latency_bounds[bucket]) ++bucket;
      ++latency_buckets_[bucket];
      latency_sum_ += seconds;
      ++latency_count_;
    }
    done(std::move(*out));
  });
}

reply service::handle(std::string_view payload, std::string_view channel, std::string_view sender) {
  std::promise<reply> promise;
  auto answer = promise.get_future();
  submit(payload, channel, sender, [&promise](reply r) { promise.set_value(std::move(r)); });
  return answer.get();
}

std::string service::worklist_json(model::outcome result, std::string_view after,
                                   std::size_t limit) {
  std::lock_guard lock(mutex_);
  const auto rows = store_.claims_with(result, after, limit);
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("outcome").value(model::name(result)).key("claims").begin_array();
  for (const auto& row : rows) {
    const auto record = store_.load(row.id);
    if (!record) continue;
    w.begin_object().key("id").value(row.id).key("dos").value(record->decision.dos.iso());
    w.key("reasons").begin_array();
    for (const auto& f : record->decision.findings) w.value(f.reason);
    w.end_array().end_object();
  }
  w.end_array();
  if (rows.size() == limit && !rows.empty()) {
    w.key("next").value(rows.back().id);
  } else {
    w.key("next").null();
  }
  w.end_object();
  return out;
}

std::optional<std::string> service::claim_json(std::string_view claim_id) {
  std::lock_guard lock(mutex_);
  const auto record = store_.load(claim_id);
  if (!record) return std::nullopt;
  std::string current;
  model::append_json(current, record->decision, record->closed ? "closed" : "current",
                     record->source);
  std::string out = "{\"current\":" + current + ",\"history\":[";
  bool first = true;
  for (const auto& h : store_.history(claim_id)) {
    if (!first) out += ',';
    first = false;
    out += "{\"sequence\":" + std::to_string(h.sequence) + ",\"at_ms\":" + std::to_string(h.at_ms) +
           ",\"decision\":" + h.json + "}";
  }
  out += "]}";
  return out;
}

void service::review(std::string_view claim_id, bool release, std::string_view who,
                     std::string_view why, std::function<void(review_status)> done) {
  std::unique_lock lock(mutex_);
  if (!healthy_ || stopping_) {
    lock.unlock();
    done(review_status::unavailable);
    return;
  }
  current_ms_ = now_ms();
  const auto at = now_stamp();
  auto status = review_status::unavailable;
  try {
    join_group();
    // Who and why go into the decision's source, so the history says it.
    auto [result, events] =
        inbox_.review(claim_id, release, "review:" + std::string(who) + ": " + std::string(why));
    if (result == engine::gate::review_result::done && !config_.outbox.destinations.empty()) {
      enqueue_later(events, at);
    }
    switch (result) {
      case engine::gate::review_result::done:
        status = review_status::done;
        break;
      case engine::gate::review_result::unknown_claim:
        status = review_status::unknown_claim;
        break;
      case engine::gate::review_result::not_reviewable:
        status = review_status::not_reviewable;
        break;
    }
  } catch (const store::store_error& e) {
    store_failed(e.what());
  }
  after_commit([status, done = std::move(done)](bool durable) {
    done(durable ? status : review_status::unavailable);
  });
}

review_status service::review(std::string_view claim_id, bool release, std::string_view who,
                              std::string_view why) {
  std::promise<review_status> promise;
  auto answer = promise.get_future();
  review(claim_id, release, who, why, [&promise](review_status s) { promise.set_value(s); });
  return answer.get();
}

std::vector<store::outbox_item> service::due(std::size_t limit) {
  std::lock_guard lock(mutex_);
  return store_.due(now_ms(), limit);
}

void service::delivered(const store::outbox_item& item) {
  std::lock_guard lock(mutex_);
  store_.delivered(item.id);
}

void service::failed(const store::outbox_item& item, std::string_view error) {
  std::lock_guard lock(mutex_);
  // Exponential backoff from the first delay, capped; dead after the configured attempts.
  const auto attempts = item.attempts + 1;
  auto delay = config_.outbox.first_backoff;
  for (std::uint32_t i = 1; i < attempts && delay < config_.outbox.max_backoff; ++i) delay *= 2;
  delay = std::min(delay, config_.outbox.max_backoff);
  store_.failed(item.id, now_ms() + delay.count(), attempts >= config_.outbox.max_attempts, error);
}

std::optional<std::int64_t> service::next_due() {
  std::lock_guard lock(mutex_);
  return store_.next_due();
}

std::uint64_t service::prune() {
  std::lock_guard lock(mutex_);
  try {
    return store_.prune_journal(
        now_ms(),
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.store.journal_max_age),
        config_.store.journal_max_bytes);
  } catch (const store::store_error& e) {
    store_failed(e.what());
    return 0;
  }
}

void service::store_failed(std::string_view reason) {
  ++store_failures_;
  // Said once per failure, with SQLite's reason (never message content); the first one
  // also says what it means for senders.
  std::cerr << "covgate serve: store failure: " << reason
            << (healthy_ ? " (refusing every message until a restart)" : "") << std::endl;
  healthy_ = false;
}

void service::connection_opened(std::string_view listener) {
  std::lock_guard lock(mutex_);
  ++connections_[std::string(listener)];
}

void service::connection_closed(std::string_view listener) {
  std::lock_guard lock(mutex_);
  --connections_[std::string(listener)];
}

void service::connection_refused(std::string_view listener, std::string_view reason) {
  std::lock_guard lock(mutex_);
  ++refused_[{std::string(listener), std::string(reason)}];
}

std::size_t service::connections(std::string_view listener) {
  std::lock_guard lock(mutex_);
  const auto it = connections_.find(std::string(listener));
  return it == connections_.end() ? 0 : static_cast<std::size_t>(it->second);
}

std::string service::metrics_text() {
  std::lock_guard lock(mutex_);
  std::string out;
  auto line = [&](const std::string& text) { out += text + "\n"; };
  line("# HELP covgate_messages_total Messages accepted and answered, by channel and kind.");
  line("# TYPE covgate_messages_total counter");
  for (const auto& [key, n] : messages_) {
    line("covgate_messages_total{channel=\"" + label(key.first) + "\",kind=\"" + label(key.second) +
         "\"} " + std::to_string(n));
  }
  line("# HELP covgate_messages_rejected_total Messages refused in whole or in part, by kind.");
  line("# TYPE covgate_messages_rejected_total counter");
  for (const auto& [kind, n] : rejected_) {
    line("covgate_messages_rejected_total{kind=\"" + label(kind) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_repeated_interchanges_total Interchanges sent again, answered as before.");
  line("# TYPE covgate_repeated_interchanges_total counter");
  line("covgate_repeated_interchanges_total " + std::to_string(repeated_interchanges_));
  line("# HELP covgate_events_total Claim events (hold, release, reopened, void, repeat...).");
  line("# TYPE covgate_events_total counter");
  for (const auto& [kind, n] : events_) {
    line("covgate_events_total{event=\"" + label(kind) + "\"} " + std::to_string(n));
  }
  const auto s = inbox_.summary();
  line("# HELP covgate_claims Open claims by current outcome.");
  line("# TYPE covgate_claims gauge");
  for (const auto o : outcomes) {
    const auto it = s.by_outcome.find(std::string(model::name(o)));
    line("covgate_claims{outcome=\"" + std::string(model::name(o)) + "\"} " +
         std::to_string(it == s.by_outcome.end() ? 0 : it->second));
  }
  line("# HELP covgate_held_claims_by_reason Open holds by POLICY.md reason code.");
  line("# TYPE covgate_held_claims_by_reason gauge");
  for (const auto& [reason, n] : s.by_reason) {
    line("covgate_held_claims_by_reason{reason=\"" + label(reason) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_message_seconds Time from receipt to commit, per message.");
  line("# TYPE covgate_message_seconds histogram");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_bounds.size(); ++i) {
    cumulative += latency_buckets_[i];
    char bound[32];
    std::snprintf(bound, sizeof bound, "%g", latency_bounds[i]);
    line("covgate_message_seconds_bucket{le=\"" + std::string(bound) + "\"} " +
         std::to_string(cumulative));
  }
  cumulative += latency_buckets_.back();
  line("covgate_message_seconds_bucket{le=\"+Inf\"} " + std::to_string(cumulative));
  char sum[32];
  std::snprintf(sum, sizeof sum, "%.6f", latency_sum_);
  line("covgate_message_seconds_sum " + std::string(sum));
  line("covgate_message_seconds_count " + std::to_string(latency_count_));
  const auto box = store_.outbox();
  line("# HELP covgate_outbox_items Outbox messages by state (dead = gave up after retries).");
  line("# TYPE covgate_outbox_items gauge");
  line("covgate_outbox_items{state=\"pending\"} " + std::to_string(box.pending));
  line("covgate_outbox_items{state=\"delivered\"} " + std::to_string(box.delivered));
  line("covgate_outbox_items{state=\"dead\"} " + std::to_string(box.dead));
  line("# HELP covgate_store_bytes Size of the store's database files.");
  line("# TYPE covgate_store_bytes gauge");
  line("covgate_store_bytes " + std::to_string(store_.file_bytes()));
  line("# HELP covgate_journal_bytes Bytes of raw messages kept in the journal.");
  line("# TYPE covgate_journal_bytes gauge");
  line("covgate_journal_bytes " + std::to_string(store_.journal_bytes()));
  line("# HELP covgate_journal_pruned_total Journal rows deleted by retention.");
  line("# TYPE covgate_journal_pruned_total counter");
  line("covgate_journal_pruned_total " + std::to_string(store_.journal_rows_pruned()));
  line(
      "# HELP covgate_commit_groups_total Store commits; messages per commit = messages / groups.");
  line("# TYPE covgate_commit_groups_total counter");
  line("covgate_commit_groups_total " + std::to_string(groups_));
  line("# HELP covgate_committed_messages_total Messages and reviewer actions committed.");
  line("# TYPE covgate_committed_messages_total counter");
  line("covgate_committed_messages_total " + std::to_string(grouped_messages_));
  line("# HELP covgate_store_failures_total Transactions the store could not commit.");
  line("# TYPE covgate_store_failures_total counter");
  line("covgate_store_failures_total " + std::to_string(store_failures_));
  line("# HELP covgate_connections Open connections by listener.");
  line("# TYPE covgate_connections gauge");
  for (const auto& [listener, n] : connections_) {
    line("covgate_connections{listener=\"" + label(listener) + "\"} " + std::to_string(n));
  }
  line("# HELP covgate_connections_refused_total Connections refused, by listener and reason.");
  line("# TYPE covgate_connections_refused_total counter");
  for (const auto& [key, n] : refused_) {
    line("covgate_connections_refused_total{listener=\"" + label(key.first) + "\",reason=\"" +
         label(key.second) + "\"} " + std::to_string(n));
  }
  return out;
}

}  // namespace covgate::transport
