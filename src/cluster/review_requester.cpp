#include "covgate/cluster/review_requester.hpp"

#include <charconv>
#include <stdexcept>
#include <utility>
#include <vector>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

using clock = std::chrono::steady_clock;

review_requester_settings checked(review_requester_settings settings) {
  if (!is_worker_id(settings.worker)) {
    throw std::invalid_argument("review requester: the worker id is not [A-Za-z0-9_-]{1,64}");
  }
  if (settings.key_secret.empty()) {
    throw std::invalid_argument("review requester: the key secret is empty");
  }
  return settings;
}

}  // namespace

review_requester::review_requester(jetstream& js, review_requester_settings settings)
    : js_(js),
      settings_(checked(std::move(settings))),
      nonce_(random_nonce()),
      inbox_("_INBOX.cgr." + settings_.worker + "." + nonce_ + "."),
      replies_(js.subscribe(inbox_ + "*")),
      thread_([this] { run(); }) {}

review_requester::~review_requester() { stop(); }

void review_requester::stop() {
  {
    std::lock_guard lock(mutex_);
    if (stopping_ && !thread_.joinable()) return;
    stopping_ = true;
  }
  wake_.notify_all();
  if (thread_.joinable()) thread_.join();
}

void review_requester::request(std::string_view patient_key, review_message review,
                               std::function<void(review_answer)> done) {
  queued q;
  try {
    q.subject =
        producer_subject(partition_key(settings_.key_secret, patient_key), message_kind::review);
    q.body = encode_review(review);
  } catch (const std::invalid_argument&) {
    done(review_answer::malformed);  // an empty patient key, a field beyond its limit
    return;
  }
  q.done = std::move(done);
  q.deadline = clock::now() + settings_.answer_timeout;
  std::unique_lock lock(mutex_);
  if (stopping_) {
    lock.unlock();
    q.done(review_answer::unavailable);
    return;
  }
  queue_.push_back(std::move(q));
  lock.unlock();
  wake_.notify_one();
}

void review_requester::run() {
  for (;;) {
    std::deque<queued> taken;
    {
      std::unique_lock lock(mutex_);
      if (waiting_.empty()) {
        wake_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
      }
      if (stopping_) break;
      taken.swap(queue_);
    }
    for (auto& q : taken) {
      // A stop or a deadline that passed while earlier ones were published (a cluster that
      // does not answer makes each publish wait): answered at once, not published.
      bool stopping = false;
      {
        std::lock_guard lock(mutex_);
        stopping = stopping_;
      }
      if (stopping || clock::now() >= q.deadline) {
        q.done(review_answer::unavailable);
        continue;
      }
      publish(std::move(q), next_number_++);
    }
    // Replies come while requests wait; a new request waits at most this long to be sent.
    if (!waiting_.empty()) collect(std::chrono::milliseconds(20));
    expire(clock::now());
  }
  // Stopping: whatever is queued or waiting is answered, never dropped.
  std::deque<queued> left;
  {
    std::lock_guard lock(mutex_);
    left.swap(queue_);
  }
  for (auto& q : left) q.done(review_answer::unavailable);
  for (auto& [number, w] : waiting_) w.done(review_answer::unavailable);
  waiting_.clear();
}

void review_requester::publish(queued q, std::uint64_t number) {
  const auto id = std::to_string(number);
  try {
    // Two tries under its message id (a repeat is a duplicate): an election's first seconds
    // pass, a cluster that is down does not hold the queue behind it for long.
    (void)js_.publish(q.subject, q.body, "cgr-" + settings_.worker + "-" + nonce_ + "-" + id,
                      {{"Cg-Reply-To", inbox_ + id}}, retry_policy{2});
  } catch (const nats_error&) {
    q.done(review_answer::unavailable);
    return;
  }
  waiting_.emplace(number, waiting{q.deadline, std::move(q.done)});
}

void review_requester::collect(std::chrono::milliseconds wait) {
  try {
    while (auto m = replies_.next(wait)) {
      wait = std::chrono::milliseconds(0);
      const auto subject = m->subject();
      if (subject.size() <= inbox_.size()) continue;
      const auto tail = subject.substr(inbox_.size());
      std::uint64_t number = 0;
      const auto [end, error] = std::from_chars(tail.data(), tail.data() + tail.size(), number);
      if (error != std::errc{} || end != tail.data() + tail.size()) continue;
      const auto found = waiting_.find(number);
      if (found == waiting_.end()) continue;  // answered already (timed out): a late reply
      const auto answer = review_answer_of(m->data()).value_or(review_answer::malformed);
      auto done = std::move(found->second.done);
      waiting_.erase(found);
      done(answer);
    }
  } catch (const nats_error&) {
    // The connection is reconnecting: the deadlines answer what does not come back.
  }
}

void review_requester::expire(clock::time_point now) {
  for (auto it = waiting_.begin(); it != waiting_.end();) {
    if (it->second.deadline > now) {
      ++it;
      continue;
    }
    auto done = std::move(it->second.done);
    it = waiting_.erase(it);
    done(review_answer::unavailable);
  }
}

}  // namespace covgate::cluster
