#include "covgate/cluster/release_delivery.hpp"

#include <openssl/sha.h>

#include <algorithm>
#include <condition_variable>
#include <stop_token>

#include "covgate/cluster/release_publisher.hpp"
#include "covgate/cluster/retry.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/store/later_answer.hpp"

namespace covgate::cluster {

namespace {

// While a receiver takes its time, tells the server every `every` that the release is still in
// hand, so that ack_wait can stay short: a release lost in hand comes back after ack_wait, not
// after the longest attempt a receiver may take. Stops (and joins) when destroyed, before the
// release is acknowledged or handed back.
class still_at_work {
 public:
  still_at_work(fetched_message& release, std::chrono::milliseconds every)
      : ticker_([this, &release, every](std::stop_token stop) {
          std::unique_lock lock(mutex_);
          while (!woken_.wait_for(lock, stop, every, [&stop] { return stop.stop_requested(); })) {
            release.in_progress();
          }
        }) {}
  still_at_work(const still_at_work&) = delete;
  still_at_work& operator=(const still_at_work&) = delete;

 private:
  std::mutex mutex_;
  std::condition_variable_any woken_;
  std::jthread ticker_;  // last: stopped and joined before the others go
};

}  // namespace

std::string delivery_consumer(std::string_view identity) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(identity.data()), identity.size(), digest);
  static constexpr char hex[] = "0123456789abcdef";
  std::string name = "out-";
  for (int i = 0; i < 8; ++i) {
    name += hex[digest[i] >> 4];
    name += hex[digest[i] & 0x0f];
  }
  return name;
}

release_delivery::release_delivery(jetstream& js, std::vector<release_target> targets,
                                   release_delivery_settings settings)
    : js_(js),
      targets_(std::move(targets)),
      settings_(std::move(settings)),
      delivering_(targets_.size()) {
  for (const auto& t : targets_) {
    js_.ensure_consumer({std::string(out_stream), delivery_consumer(t.identity),
                         out_stream_subject(), settings_.ack_wait, 1});
  }
  for (std::size_t i = 0; i < targets_.size(); ++i) threads_.emplace_back([this, i] { run(i); });
}

release_delivery::~release_delivery() { stop(); }

void release_delivery::stop() {
  stopping_ = true;
  for (auto& t : threads_) {
    if (t.joinable()) t.join();
  }
}

std::vector<std::uint64_t> release_delivery::backlog() {
  std::vector<std::uint64_t> out;
  for (const auto& t : targets_) {
    // One try each: a scrape during an election answers without this rather than wait.
    const auto state =
        js_.consumer_info(std::string(out_stream), delivery_consumer(t.identity), retry_policy{1});
    out.push_back(state.pending +
                  static_cast<std::uint64_t>(std::max<std::int64_t>(0, state.ack_pending)));
  }
  return out;
}

namespace {

std::int64_t wall_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// What a target is handed as the item's body (release_target::with_event).
std::string body_for(const release_target& target, std::string_view release, std::string_view event,
                     std::string_view decision) {
  if (!target.with_event) return std::string(release);
  return store::pack_later(event.empty() ? "unknown" : event, decision, release);
}

}  // namespace

std::string release_delivery::attempt(std::size_t index, const store::outbox_item& item) {
  std::lock_guard one_at_a_time(delivering_[index]);
  try {
    return targets_[index].deliver(item);
  } catch (const std::exception& e) {
    return e.what();
  }
}

void release_delivery::record_dead(std::size_t index, std::uint64_t sequence,
                                   const std::string& key, std::uint64_t attempts,
                                   const std::string& error) {
  if (settings_.dead_letters == nullptr) return;
  try {
    settings_.dead_letters->record({delivery_consumer(targets_[index].identity), sequence, key,
                                    attempts, wall_ms(), error, false});
  } catch (const std::exception& e) {
    if (settings_.problem) {
      settings_.problem(targets_[index], "could not record the dead letter at CG_OUT sequence " +
                                             std::to_string(sequence) + ": " + e.what());
    }
  }
}

std::vector<redelivery> release_delivery::redeliver(std::uint64_t sequence) {
  std::vector<redelivery> out;
  if (settings_.dead_letters == nullptr) return out;
  std::optional<stored_message> release;
  for (std::size_t index = 0; index < targets_.size(); ++index) {
    auto letter =
        settings_.dead_letters->find(delivery_consumer(targets_[index].identity), sequence);
    if (!letter || letter->delivered) continue;
    if (!release) {
      release = js_.message(std::string(out_stream), sequence);
      if (!release) {
        letter->error = "CG_OUT no longer holds sequence " + std::to_string(sequence);
        out.push_back({index, *letter});
        continue;
      }
    }
    std::string content_type = release->header("Content-Type");
    if (content_type.empty()) content_type = "application/edi-x12";
    const store::outbox_item item{
        0,
        release->header(release_key_header),
        static_cast<std::uint32_t>(index),
        content_type,
        body_for(targets_[index], release->data, release->header(release_event_header),
                 release->header(release_decision_header)),
        static_cast<std::uint32_t>(letter->attempts)};
    const auto started = std::chrono::steady_clock::now();
    const auto error = attempt(index, item);
    const double seconds =
        std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
    ++letter->attempts;
    letter->at_ms = wall_ms();
    letter->error = error;
    letter->delivered = error.empty();
    settings_.dead_letters->record(*letter);
    if (settings_.attempted) {
      settings_.attempted(targets_[index], error.empty(), seconds, letter->attempts, sequence,
                          error, false);
    }
    out.push_back({index, std::move(*letter)});
  }
  return out;
}

void release_delivery::run(std::size_t index) {
  const auto& target = targets_[index];
  const auto consumer = delivery_consumer(target.identity);
  bool troubled = false;
  const auto trouble = [&](const std::string& what) {
    troubled = true;
    if (settings_.problem) settings_.problem(target, what);
  };
  while (!stopping_) {
    try {
      // Again at every (re)bind: a consumer deleted by hand, or lost with the stream, comes back.
      js_.ensure_consumer(
          {std::string(out_stream), consumer, out_stream_subject(), settings_.ack_wait, 1});
      auto sub = js_.bind(std::string(out_stream), consumer, out_stream_subject());
      auto checked = std::chrono::steady_clock::now();
      while (!stopping_) {
        // One at a time: an attempt may take a transport's whole timeout, and a batch held
        // meanwhile would outlive ack_wait.
        auto fetched = sub.fetch(1, settings_.fetch_wait);
        // A fetch for a consumer that is gone (a node back without its JetStream state) may
        // just time out, as an idle one does: while idle, the consumer is checked every ten
        // fetch waits, so that its loss is a problem (and comes back at the rebind).
        if (fetched.empty() &&
            std::chrono::steady_clock::now() - checked > 10 * settings_.fetch_wait) {
          checked = std::chrono::steady_clock::now();
          js_.ensure_consumer(
              {std::string(out_stream), consumer, out_stream_subject(), settings_.ack_wait, 1});
        }
        if (troubled) {
          troubled = false;
          if (settings_.resumed) settings_.resumed(target);
        }
        for (auto& m : fetched) {
          const auto key = m.header(release_key_header);
          if (key.empty()) {  // not a worker's release: nothing names it for the receiver
            trouble("CG_OUT sequence " + std::to_string(m.stream_sequence()) + " has no " +
                    release_key_header + "; skipped");
            m.ack_sync(js_.retry());
            continue;
          }
          std::string content_type = m.header("Content-Type");
          if (content_type.empty()) content_type = "application/edi-x12";
          const store::outbox_item item{
              0,
              key,
              static_cast<std::uint32_t>(index),
              content_type,
              body_for(target, m.data(), m.header(release_event_header),
                       m.header(release_decision_header)),
              static_cast<std::uint32_t>(m.deliveries() > 0 ? m.deliveries() - 1 : 0)};
          const auto started = std::chrono::steady_clock::now();
          const std::string error = [&] {
            const still_at_work in_hand(m, settings_.ack_wait / 4);
            return attempt(index, item);
          }();
          const double seconds =
              std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
          const bool dead = !error.empty() && m.deliveries() >= settings_.max_attempts;
          if (settings_.attempted) {
            settings_.attempted(target, error.empty(), seconds, m.deliveries(), m.stream_sequence(),
                                error, dead);
          }
          if (error.empty()) {
            m.ack_sync(js_.retry());
            continue;
          }
          if (dead) {  // never offered to this receiver again; CG_OUT keeps it
            record_dead(index, m.stream_sequence(), key, m.deliveries(), error);
            m.term();
            continue;
          }
          m.nak(retry_delay({0, settings_.first_backoff, settings_.max_backoff},
                            static_cast<int>(std::min<std::uint64_t>(m.deliveries(), 64))));
        }
      }
    } catch (const std::exception& e) {
      trouble(e.what());
      // An election or a lost node: bind again after a pause (what was in hand is redelivered).
      for (int i = 0; i < 10 && !stopping_; ++i) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
    }
  }
}

}  // namespace covgate::cluster
