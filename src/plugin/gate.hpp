// The gate behind libcovgate's C ABI (covgate.h): the engine's intake over a memory or SQLite
// state, opened from the text of covgate.json, with an outbox of later answers that the host
// drains (poll), acknowledges (ack) and may have handed out again (redeliver). With
// "cluster": {"role": "front"} the messages go to a cluster's workers instead
// (cluster_link.hpp) and the later answers come from its stream of releases into the same
// outbox. C++ with
// exceptions; src/plugin/covgate.cpp turns them into status codes at the boundary.
// Thread-safe: every member but the destructor may be called from any thread (one lock
// serializes the engine and the store; health_now() takes none of it). Starts no thread of its
// own (pointed at a cluster, the front's and the delivery's); reads the clock when a message
// comes without its time and when it notes a trouble.
#pragma once

#include <atomic>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "covgate/engine/intake.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/server/config.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "trouble_book.hpp"

namespace covgate::plugin {

class cluster_link;

/// Mirrors enum covgate_disposition.
enum class disposition : std::int32_t {
  accepted = 0,
  hold = 1,
  release = 2,
  rejected = 3,
  closed = 4
};

/// Mirrors the COVGATE_* answer flags.
namespace flag {
inline constexpr std::uint32_t part_rejected = 0x1;
inline constexpr std::uint32_t unrecognized = 0x2;
inline constexpr std::uint32_t repeated = 0x4;
inline constexpr std::uint32_t later = 0x8;
}  // namespace flag

/// One answer: for the sender of a message (submit), or a later one (poll).
struct answer {
  disposition result = disposition::accepted;
  std::uint32_t flags = 0;
  std::string body;
  std::string_view content_type;                           ///< static text ("" with an empty body)
  std::vector<std::pair<std::size_t, std::size_t>> parts;  ///< offset, length within body
  std::string decisions;                                   ///< JSON lines, each ending in '\n'
  std::string findings;                                    ///< one line each, each ending in '\n'
  std::uint64_t sequence = 0;                              ///< later answers: what ack() takes
  std::string key;                                         ///< later answers: "NPI_CLM01-sequence"
  std::string event;                                       ///< later answers: the event kind's name
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
};

/// How a handle is doing (mirrors struct covgate_health).
struct health {
  /// Mirrors enum covgate_health_state.
  enum class level : std::int32_t { healthy = 0, degraded = 1, failed = 2 };
  level state = level::healthy;
  bool durable = false;             ///< a SQLite store
  bool cluster = false;             ///< pointed at a cluster
  bool connected = false;           ///< pointed at a cluster: the connection is up right now
  std::uint64_t later_waiting = 0;  ///< later answers not acknowledged
  trouble_book::summary troubles;
};

/// Which kind of message a content-type hint names (nullopt: none, let covgate sniff).
[[nodiscard]] std::optional<engine::payload_kind> hinted_kind(std::string_view content_type);

/// The store failed: nothing more is processed until the gate is opened again.
struct unavailable : store::store_error {
  using store::store_error::store_error;
};

class gate {
 public:
  /// Opens from covgate.json's text (relative paths against `base`). Throws
  /// mapping::config_error naming the setting, store::store_error, or std::runtime_error when
  /// a mapping file cannot be read or stored facts do not decode.
  gate(std::string_view config_text, const std::filesystem::path& base);
  ~gate();
  gate(const gate&) = delete;
  gate& operator=(const gate&) = delete;

  /// One whole message. `unix_ms` 0 reads the clock. Throws unavailable (store failure: the
  /// message's changes were rolled back), cluster_unavailable (pointed at a cluster: not
  /// taken or not answered in time; `source` and `unix_ms` are not used there, as the stream
  /// names and dates each message) and std::bad_alloc; bad input is an answer.
  [[nodiscard]] answer submit(std::string_view message, std::string_view content_type,
                              std::string_view source, std::int64_t unix_ms);

  /// The next later answer not handed out yet, oldest first.
  [[nodiscard]] std::optional<answer> poll();
  /// Forgets later answer `sequence`; false when none waited under it.
  bool ack(std::uint64_t sequence);
  /// Every unacknowledged later answer is handed out again.
  void redeliver();
  /// Readable while poll() has something to hand out (-1 when no eventfd could be made).
  [[nodiscard]] int wait_fd() const noexcept { return wait_fd_; }

  /// A final checkpoint of a durable store. Throws store::store_error.
  void flush();

  [[nodiscard]] bool durable() const noexcept { return sqlite_ != nullptr; }

  /// How the handle is doing, without waiting for a message in progress: failed once the
  /// store failed (until reopened); pointed at a cluster, degraded while the connection is
  /// down or the delivery of later answers is in trouble.
  [[nodiscard]] health health_now() const;

 private:
  struct later_answer {  // memory mode: the outbox in memory
    std::string key, event, decision, body;
    disposition result = disposition::hold;
  };
  class collector;

  void queue_later(const std::vector<engine::event>& events, engine::message_time at);
  // Pointed at a cluster: the message goes to its workers through the link.
  [[nodiscard]] answer submit_to_cluster(std::string_view message);
  // A release from the cluster, kept until the host acknowledges it ("" once kept).
  std::string keep_later(const store::outbox_item& release);
  void signal();  // under mutex_: the wait fd's readiness follows what poll() can hand out
  void maintain(std::int64_t now_ms);  // under mutex_: retention and checkpoints, now and then

  server::server_config config_;
  mapping::tables tables_;
  policy::policy_file policy_;
  std::unique_ptr<engine::state> state_;
  store::sqlite_store* sqlite_ = nullptr;  // state_ when durable
  std::unique_ptr<engine::intake> intake_;

  std::mutex mutex_;
  std::atomic<bool> healthy_{true};  // written under mutex_; health_now() reads it without
  std::atomic<std::uint64_t> later_waiting_{0};  // unacked_.size(), kept by signal()
  trouble_book troubles_;
  std::uint64_t messages_ = 0;  // names messages without a source ("covgate:<n>")
  // Later answers not acknowledged: their ids (durable: the outbox rows under
  // store::host_destination; memory: keys of memory_outbox_). Ids order them by age, but a
  // store row's id is one past the highest the table holds, so once every row is
  // acknowledged the numbers start again: what poll() has to hand out is kept as a set of
  // its own, never as "the ids above the last one handed out".
  std::set<std::uint64_t> unacked_;
  std::set<std::uint64_t> ready_;  // of unacked_: not handed out since open or redeliver()
  std::map<std::uint64_t, later_answer> memory_outbox_;
  std::uint64_t next_memory_id_ = 1;
  int wait_fd_ = -1;
  bool signalled_ = false;
  std::int64_t last_checkpoint_ms_ = 0;
  std::int64_t last_checkpoint_trouble_ms_ = 0;  // maintain(): a failed copy noted then (wall)
  std::int64_t last_prune_ms_ = 0;
  // Last: its delivery thread calls keep_later, so it goes before everything above.
  std::unique_ptr<cluster_link> cluster_;
};

}  // namespace covgate::plugin
