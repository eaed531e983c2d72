// A thin RAII layer over nats.c 3.4.1 for what the cluster needs: a connection to several
// servers that reconnects on its own, JetStream publishes with a message id, the CG_IN and
// CG_OUT streams, durable pull consumers created ahead of the workers and bound to (never
// created by a subscription), and KV buckets with compare-and-set. No covgate logic here.
//
// Errors: every failure is a nats_error whose message names the operation and the object
// (stream, consumer, bucket, key; subjects carry only partition keys) and NATS's own text,
// never a message body. Operations that are safe to repeat are retried through leader
// elections (retry.hpp); a nats_error after that means the cluster stayed unavailable.
//
// Threads: nats.c connections are thread-safe; these objects are not: use each from one
// thread at a time (a worker owns one pull_subscription per partition it holds).
//
// Gotchas of nats.c 3.4.1 this layer avoids (docs/cluster.md): a pull subscription that
// created its durable deletes it on natsSubscription_Unsubscribe, so consumers are made with
// ensure_consumer() and subscriptions are only bound to them (unsubscribing a bound one leaves
// the consumer); and a subscription freed while the connection's reader handles a message for
// it can crash the reader, so every one is unsubscribed and flushed before it is freed.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/cluster/kv_bucket.hpp"
#include "covgate/cluster/retry.hpp"

namespace covgate::cluster {

/// A failed NATS operation. `retryable()` says whether the same call may succeed later
/// (a timeout, no responders, JetStream temporarily unavailable).
class nats_error : public std::runtime_error {
 public:
  nats_error(const std::string& what, bool retryable)
      : std::runtime_error(what), retryable_(retryable) {}
  [[nodiscard]] bool retryable() const noexcept { return retryable_; }

 private:
  bool retryable_;
};

struct connection_settings {
  std::vector<std::string> urls;    ///< nats://host:port of every node (client picks, fails over)
  std::string name = "covgate";     ///< shown in the servers' connection lists
  std::string credentials_file;     ///< a .creds file (user JWT and nkey seed), or ""
  std::string user, password;       ///< plain user/password, or ""
  std::string ca_file;              ///< TLS: CA bundle to verify the servers; "" = no TLS
  std::string cert_file, key_file;  ///< TLS client certificate, or ""
  std::chrono::milliseconds connect_timeout{2'000};
  std::chrono::milliseconds reconnect_wait{250};     ///< between reconnect attempts to one server
  std::chrono::milliseconds request_timeout{5'000};  ///< each JetStream API call and publish
  retry_policy retry;
  int max_async_pending = 4'096;  ///< publish_async calls waiting for their acknowledgement
};

struct stream_settings {
  std::string name;                              ///< CG_IN, CG_OUT
  std::string subjects;                          ///< one subject filter: "cg.p.>", "cg.out.>"
  int replicas = 3;                              ///< 3 survives one node of three
  std::chrono::seconds duplicate_window{7'200};  ///< Nats-Msg-Id de-duplication window
  std::chrono::seconds max_age{0};               ///< 0 = keep until max_bytes
  std::int64_t max_bytes = -1;                   ///< -1 = unlimited
  /// One message per subject, and a second one refused rather than replacing the first
  /// (MaxMsgsPerSubject 1, Discard New, DiscardNewPerSubject): CG_OUT, where a subject names
  /// one release, so no second copy is stored however late it comes.
  bool one_message_per_subject = false;
  /// One message per subject, a new one replacing the one before (MaxMsgsPerSubject 1,
  /// Discard Old): CG_SNAP, where a subject holds the latest chunk or manifest of a
  /// partition's snapshot.
  bool latest_per_subject = false;
  /// max_age 0 leaves an existing stream's retention by age as it is (a member that was
  /// not told one does not undo another's); a stream created new keeps everything.
  bool keep_existing_max_age = false;
};

struct consumer_settings {
  std::string stream;
  std::string durable;         ///< part-NN
  std::string filter_subject;  ///< cg.p.<n>.>
  std::chrono::milliseconds ack_wait{30'000};
  std::int64_t max_ack_pending = 256;
};

struct publish_result {
  std::uint64_t sequence = 0;  ///< the stream sequence (the original one for a duplicate)
  bool duplicate = false;      ///< the stream had this message id within its window
  /// Refused because the subject holds a message already, in a stream with
  /// one_message_per_subject (sequence 0): what was to be published is there.
  bool subject_taken = false;
};

/// What became of one jetstream::publish_async.
struct publish_outcome {
  bool stored = false;     ///< the stream acknowledged it (perhaps as a duplicate)
  bool retryable = false;  ///< not stored, and the same publish may succeed later
  std::string error;       ///< not stored: the operation and NATS's text (no message body)
};

/// A message as a stream stores it, read by its sequence.
struct stored_message {
  std::uint64_t sequence = 0;
  std::int64_t stored_ms = 0;  ///< when the stream stored it (Unix milliseconds)
  std::string subject;
  std::string data;
  std::vector<std::pair<std::string, std::string>> headers;  ///< in the message's order
  /// A header's value, or "" when absent.
  [[nodiscard]] std::string header(std::string_view name) const;
};

/// What a consumer's server-side state says (for /metrics and tests).
struct consumer_state {
  std::uint64_t pending = 0;           ///< messages not yet delivered (the partition's lag)
  std::int64_t ack_pending = 0;        ///< delivered, not yet acknowledged
  std::uint64_t ack_floor = 0;         ///< stream sequence every message up to is acknowledged
  std::uint64_t delivered_stream = 0;  ///< last stream sequence delivered
};

/// One message fetched from a pull consumer; owns it until acknowledged or destroyed.
class fetched_message {
 public:
  fetched_message(fetched_message&&) noexcept;
  fetched_message& operator=(fetched_message&&) noexcept;
  ~fetched_message();

  [[nodiscard]] std::string_view subject() const noexcept;
  [[nodiscard]] std::string_view data() const noexcept;
  [[nodiscard]] std::uint64_t stream_sequence() const noexcept { return stream_sequence_; }
  [[nodiscard]] std::uint64_t deliveries() const noexcept { return deliveries_; }
  /// The consumer's count of deliveries, to any client, when it made this one (JetStream's
  /// consumer sequence; a redelivery counts again). One client's deliveries follow each
  /// other in this count unless another client was handed a message in between.
  [[nodiscard]] std::uint64_t delivery_sequence() const noexcept { return delivery_sequence_; }
  /// When the stream stored it (Unix milliseconds; 0 for a core message).
  [[nodiscard]] std::int64_t stored_ms() const noexcept { return stored_ms_; }
  /// Messages of the consumer's filter after this one in the stream when it was delivered
  /// (0: this was the last one then).
  [[nodiscard]] std::uint64_t pending() const noexcept { return pending_; }
  /// A header's value, or "" when absent.
  [[nodiscard]] std::string header(const char* name) const;
  /// Acknowledges and waits for the server to confirm (double ack), retrying through
  /// elections. Throws nats_error.
  void ack_sync(const retry_policy& retry);
  /// Hands the message back for redelivery now (instead of after the consumer's ack_wait).
  /// Best effort: when the server does not hear it, ack_wait redelivers it anyway.
  void nak() noexcept;
  /// Hands the message back for redelivery after `delay` (a receiver that failed is not tried
  /// again at once).
  void nak(std::chrono::milliseconds delay) noexcept;
  /// Tells the server never to deliver the message to this consumer again (a dead letter;
  /// the stream keeps it).
  void term() noexcept;
  /// Tells the server the message is still being worked on: its ack_wait starts again. Best
  /// effort, as nak(). Safe from another thread while the owner does not touch the message.
  void in_progress() noexcept;

 private:
  friend class pull_subscription;
  friend class message_reader;
  explicit fetched_message(void* msg);
  void* msg_ = nullptr;  // natsMsg*
  std::uint64_t stream_sequence_ = 0;
  std::uint64_t deliveries_ = 0;
  std::uint64_t delivery_sequence_ = 0;
  std::uint64_t pending_ = 0;
  std::int64_t stored_ms_ = 0;
};

/// Reads a subscription's messages one by one: a JetStream ordered consumer (read_from: in
/// stream order from a start sequence, ephemeral, no acknowledgements, recreated by nats.c when
/// a gap shows; a worker catching a partition up from its store's position) or a core
/// subscription (subscribe: replies). Destroying it unsubscribes (and deletes the ephemeral
/// consumer), and waits for the server to confirm that before freeing it (see close()).
class message_reader {
 public:
  message_reader(message_reader&&) noexcept;
  message_reader& operator=(message_reader&&) noexcept;
  ~message_reader();

  /// The next message, or nullopt when none came within `wait`. Throws nats_error.
  [[nodiscard]] std::optional<fetched_message> next(std::chrono::milliseconds wait);

 private:
  friend class jetstream;
  message_reader(void* connection, void* sub, std::string filter,
                 std::chrono::milliseconds flush_wait);
  void close() noexcept;
  void* connection_ = nullptr;  // natsConnection*, which outlives the reader
  void* sub_ = nullptr;         // natsSubscription*
  std::string filter_;
  std::chrono::milliseconds flush_wait_{0};
};

/// A header of a core NATS message (send()).
struct message_header {
  const char* name;
  std::string value;
};

/// A pull subscription bound to an existing durable consumer. Destroying it unsubscribes its
/// inbox and waits for the server to confirm that before freeing it (as message_reader does);
/// the consumer (and its acknowledged state) stays on the server: nats.c deletes only a
/// consumer its own subscribe created, and this one is bound.
class pull_subscription {
 public:
  pull_subscription(pull_subscription&&) noexcept;
  pull_subscription& operator=(pull_subscription&&) noexcept;
  ~pull_subscription();

  /// Up to `batch` messages, waiting at most `wait` for the first; empty when none came.
  /// Throws nats_error for anything but "nothing to fetch".
  [[nodiscard]] std::vector<fetched_message> fetch(int batch, std::chrono::milliseconds wait);

 private:
  friend class jetstream;
  pull_subscription(void* connection, void* sub, std::string consumer,
                    std::chrono::milliseconds flush_wait);
  void* connection_ = nullptr;  // natsConnection*, which outlives the subscription
  void* sub_ = nullptr;         // natsSubscription*
  std::string consumer_;
  std::chrono::milliseconds flush_wait_{0};
};

/// A JetStream KV bucket. create() and update() return nullopt when the compare-and-set
/// lost (the key exists / its revision moved on); every operation throws nats_error when the
/// cluster did not answer through the retries.
class key_value final : public kv_bucket {
 public:
  key_value(key_value&&) noexcept;
  key_value& operator=(key_value&&) noexcept;
  ~key_value() override;

  [[nodiscard]] std::optional<kv_entry> get(const std::string& key) override;
  [[nodiscard]] std::optional<std::uint64_t> create(const std::string& key,
                                                    std::string_view value) override;
  [[nodiscard]] std::optional<std::uint64_t> update(const std::string& key, std::string_view value,
                                                    std::uint64_t last_revision) override;
  std::uint64_t put(const std::string& key, std::string_view value) override;
  /// From the subjects of the bucket's stream (one stream-info request): a key whose last
  /// operation was a delete or a purge is listed too, and get() finds nothing for it.
  [[nodiscard]] std::vector<std::string> keys() override;

 private:
  friend class jetstream;
  key_value(void* kv, void* context, std::string bucket, retry_policy retry);
  // The key's last message, from the stream's leader: its entry, and whether it is a delete
  // or purge marker (then get() finds nothing, and create() writes over its revision).
  struct last_message {
    kv_entry entry;
    bool removed = false;
  };
  [[nodiscard]] std::optional<last_message> last(const std::string& key);
  void* kv_ = nullptr;       // kvStore*
  void* context_ = nullptr;  // jsCtx*, owned by the jetstream that opened the bucket
  std::string bucket_;
  retry_policy retry_;
};

struct bucket_settings {
  std::string name;
  int replicas = 3;
  std::chrono::seconds ttl{0};  ///< entries older than this are removed; 0 = never
  /// The operations' retries stop this long after an operation began (retry_policy::budget;
  /// 0: the connection's policy alone). An attempt under way is not cut short: each waits up to
  /// the connection's request timeout.
  std::chrono::milliseconds retry_budget{0};
};

/// A connection and its JetStream context.
class jetstream {
 public:
  /// Connects to one of settings.urls (and keeps reconnecting to any of them for the life of
  /// the object). Throws nats_error when none answers within connect_timeout.
  explicit jetstream(const connection_settings& settings);
  ~jetstream();
  jetstream(const jetstream&) = delete;
  jetstream& operator=(const jetstream&) = delete;

  [[nodiscard]] const retry_policy& retry() const noexcept;
  /// Whether the connection is up right now (false while it reconnects after a lost server).
  [[nodiscard]] bool connected() const noexcept;

  /// Creates the stream, or updates it to these settings when it exists (nats-server 2.9.10
  /// accepted an update from 3 replicas to 1 without an error).
  void ensure_stream(const stream_settings& settings);
  /// The server name of the stream's current leader ("" when it has none right now).
  [[nodiscard]] std::string stream_leader(const std::string& stream);
  /// The stream's last sequence.
  [[nodiscard]] std::uint64_t stream_last_sequence(const std::string& stream);
  /// The first sequence the stream still holds and its last: first is last + 1 when it holds
  /// nothing, and past 1 once its limits or a purge removed its oldest messages.
  struct stream_bounds {
    std::uint64_t first = 0;
    std::uint64_t last = 0;
  };
  [[nodiscard]] stream_bounds stream_sequences(const std::string& stream);
  /// How long the stream keeps a message (0: no limit by age).
  [[nodiscard]] std::chrono::seconds stream_max_age(const std::string& stream);
  /// The message the stream holds at `sequence`, or nullopt when it holds none there (never
  /// stored, deleted, or past the stream's limits). Throws nats_error when the cluster does
  /// not answer through the retries.
  [[nodiscard]] std::optional<stored_message> message(const std::string& stream,
                                                      std::uint64_t sequence);

  /// The last message `stream` holds on `subject`, or nullopt when it holds none. Throws
  /// nats_error when the cluster does not answer through the retries.
  [[nodiscard]] std::optional<stored_message> last_message(const std::string& stream,
                                                           const std::string& subject);

  /// How many messages `stream` holds on the subjects `filter` matches (one stream-info
  /// request, answered by the stream's leader). Throws nats_error.
  [[nodiscard]] std::uint64_t messages_on(const std::string& stream, const std::string& filter);
  /// Each subject of `stream` that `filter` matches, with how many messages it holds (the
  /// same request). Throws nats_error.
  [[nodiscard]] std::vector<std::pair<std::string, std::uint64_t>> subjects_of(
      const std::string& stream, const std::string& filter);
  /// Removes the messages of `subject` in `stream` below `before_sequence` (those after it,
  /// stored meanwhile, stay); nothing for 0. Safe to repeat. Throws nats_error.
  void purge_subject(const std::string& stream, const std::string& subject,
                     std::uint64_t before_sequence);

  /// Creates the durable pull consumer when absent (an identical existing one is fine).
  void ensure_consumer(const consumer_settings& settings);
  [[nodiscard]] consumer_state consumer_info(const std::string& stream, const std::string& durable);
  /// The same with retries of its own (a /metrics scrape must not wait out a whole election).
  [[nodiscard]] consumer_state consumer_info(const std::string& stream, const std::string& durable,
                                             const retry_policy& retry);
  /// A pull subscription bound to an existing durable (ensure_consumer first).
  [[nodiscard]] pull_subscription bind(const std::string& stream, const std::string& durable,
                                       const std::string& filter_subject);

  /// Publishes with a Nats-Msg-Id and waits for the stream's acknowledgement, retrying through
  /// elections (safe: the id makes a repeat a duplicate). `msg_id` must not be empty.
  publish_result publish(const std::string& subject, std::string_view data,
                         const std::string& msg_id,
                         const std::vector<message_header>& headers = {});
  /// The same with retries of its own (a caller that has its own backoff, such as an outbox,
  /// tries once: retry_policy{1}).
  publish_result publish(const std::string& subject, std::string_view data,
                         const std::string& msg_id, const std::vector<message_header>& headers,
                         const retry_policy& retry);

  /// Publishes with a Nats-Msg-Id without waiting for the stream: `done` runs once, on a NATS
  /// thread, when the stream acknowledges the message, refuses it, or request_timeout passes
  /// without an answer (then retryable: the message may have been stored; the same id again
  /// is a duplicate if so). Messages of one connection reach the stream in the order of these
  /// calls. When max_async_pending publishes wait already, the call waits up to 200 ms for
  /// room. Throws nats_error, and never calls `done`, when the message is not sent at all
  /// (still no room: retryable; no connection; an empty or in-flight `msg_id`). `done` must
  /// not call back into this object.
  void publish_async(const std::string& subject, std::string_view data, const std::string& msg_id,
                     const std::vector<message_header>& headers,
                     std::function<void(const publish_outcome&)> done);

  /// Waits until every publish_async has had its `done`, at most `wait`. False when some
  /// still wait.
  bool await_publishes(std::chrono::milliseconds wait);

  /// Reads `filter_subject` of `stream` in order from stream sequence `start` (1: from the
  /// beginning). Throws nats_error.
  [[nodiscard]] message_reader read_from(const std::string& stream,
                                         const std::string& filter_subject, std::uint64_t start);

  /// A core subscription to `subject` (a reply inbox). Throws nats_error.
  [[nodiscard]] message_reader subscribe(const std::string& subject);

  /// A core NATS message (no stream, no acknowledgement: a reply to whoever listens on
  /// `subject` now) with headers. Throws nats_error when the connection refuses it.
  void send(const std::string& subject, std::string_view data,
            const std::vector<message_header>& headers);

  /// Opens the bucket, creating it when absent.
  [[nodiscard]] key_value bucket(const bucket_settings& settings);

 private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// Releases nats.c's process-wide state (its threads and caches) once every connection is
/// gone; for tests and leak checkers. Waits at most `wait`.
void shutdown_nats_library(std::chrono::milliseconds wait);

}  // namespace covgate::cluster
