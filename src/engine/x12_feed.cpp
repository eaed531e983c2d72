#include "covgate/engine/x12_feed.hpp"

#include <iterator>
#include <utility>

#include "covgate/model/claim_codec.hpp"

namespace covgate::engine {

namespace {

x12::reader_options asking(x12::reader_options options, bool ahead,
                           std::function<bool(std::string_view)> ask) {
  if (ahead && options.known_interchange) options.known_interchange = std::move(ask);
  return options;
}

}  // namespace

x12_feed::x12_feed(x12_input::handler& receiver, x12::reader_options options, read_ahead ahead)
    : receiver_(receiver),
      ahead_(ahead),
      known_(options.known_interchange),
      input_(*this, asking(std::move(options), this->ahead(),
                           [this](std::string_view key) { return ask(key); })) {}

x12_feed::~x12_feed() {
  {
    std::unique_lock lock(mutex_);
    abandoned_ = true;
    changed_.notify_all();
    changed_.wait(lock, [this] { return done_ == sent_; });
  }
  // The last piece of work counted itself done while it still held the reader.
  const std::lock_guard last_one_gone(reading_);
}

void x12_feed::put(std::string_view bytes) {
  if (!ahead()) return input_.put(bytes);
  chunk c;
  c.bytes = take_spare_bytes();
  c.bytes.assign(bytes);  // the caller's bytes last only as long as this call
  send(std::move(c));
  hand_over(ahead_.chunks);
}

void x12_feed::put_buffer(std::string& buffer) {
  if (!ahead()) return input_.put(buffer);
  // Taken, not copied: copying each megabyte was 2 % of the instructions of the thread a
  // claims-only replay waits for (callgrind), whose file reads can go straight into the
  // buffers chunks read before leave behind.
  chunk c;
  c.bytes = std::exchange(buffer, take_spare_bytes());
  send(std::move(c));
  hand_over(ahead_.chunks);
}

std::string x12_feed::take_spare_bytes() {
  const std::lock_guard lock(mutex_);
  if (spare_bytes_.empty()) return {};
  auto bytes = std::move(spare_bytes_.back());
  spare_bytes_.pop_back();
  return bytes;
}

void x12_feed::finish() {
  if (!ahead()) return input_.finish();
  send({{}, true});
  hand_over(0);
}

void x12_feed::send(chunk c) {
  {
    const std::lock_guard lock(mutex_);
    unread_.push_back(std::move(c));
    ++sent_;
  }
  try {
    ahead_.pool->run([this] { read_next(); });
  } catch (...) {
    // Never to run: the chunks before it are read by the work already sent (each takes the
    // oldest), and this one is taken back.
    const std::lock_guard lock(mutex_);
    unread_.pop_back();
    --sent_;
    throw;
  }
}

void x12_feed::read_next() {
  // Every piece of work takes the oldest chunk while it holds the reader: whichever of the
  // pool's threads runs first, the chunks go through in the order they were sent.
  const std::lock_guard one_at_a_time(reading_);
  chunk c;
  bool skip = false;
  {
    const std::lock_guard lock(mutex_);
    c = std::move(unread_.front());
    unread_.pop_front();
    skip = abandoned_ || failure_ != nullptr;  // nothing after a failure is handed over
  }
  std::exception_ptr failed;
  if (!skip) {
    try {
      if (c.last) {
        input_.finish();
      } else {
        input_.put(c.bytes);
      }
    } catch (...) {
      failed = std::current_exception();
    }
  }
  const std::lock_guard lock(mutex_);
  if (failed && !failure_) failure_ = failed;
  if (!c.last) spare_bytes_.push_back(std::move(c.bytes));
  ++done_;
  // Under the lock: once done_ is seen, the feed may go (~x12_feed), and its condition with it.
  changed_.notify_all();
}

bool x12_feed::ask(std::string_view key) {
  std::unique_lock lock(mutex_);
  question_.emplace(key);
  answer_.reset();
  changed_.notify_all();
  changed_.wait(lock, [this] { return answer_.has_value() || abandoned_; });
  const bool known = answer_.value_or(false);
  answer_.reset();
  return known;
}

// Answers the reader's question, hands over what it read, and returns when nothing read is
// left and at most `unread` chunks are still being read.
void x12_feed::hand_over(std::size_t unread) {
  for (;;) {
    std::vector<step> steps;
    {
      std::unique_lock lock(mutex_);
      for (;;) {
        if (question_) {
          // Asked on the caller's thread, which owns the state; the reader waits for it.
          answer_ = known_(*question_);
          question_.reset();
          changed_.notify_all();
          continue;
        }
        if (!read_.empty()) {
          steps.swap(read_);
          break;
        }
        if (failure_) std::rethrow_exception(failure_);
        if (sent_ - done_ <= unread) return;
        changed_.wait(lock);
      }
    }
    apply(steps);
  }
}

void x12_feed::apply(std::vector<step>& steps) {
  std::size_t next = 0;
  try {
    for (; next < steps.size(); ++next) {
      auto& s = steps[next];
      if (s.end) {
        receiver_.interchange_end(*s.end, s.verdict);
        continue;
      }
      handing_over_ = &s.encoded;
      receiver_.accepted_set(std::span(s.claims).first(s.count), s.set);
      handing_over_ = nullptr;
      const std::lock_guard lock(mutex_);
      spare_sets_.push_back({std::move(s.claims), std::move(s.encoded)});
      changed_.notify_all();
    }
  } catch (...) {
    // The receiver failed (its state, say). The claims it had go back to the reader, which
    // would otherwise wait for them for ever; what was read after them is handed over first
    // at the next put() or finish().
    handing_over_ = nullptr;
    const std::lock_guard lock(mutex_);
    if (!steps[next].end) {
      spare_sets_.push_back({std::move(steps[next].claims), std::move(steps[next].encoded)});
    }
    read_.insert(read_.begin(), std::make_move_iterator(steps.begin() + next + 1),
                 std::make_move_iterator(steps.end()));
    changed_.notify_all();
    throw;
  }
}

encoded_claim x12_feed::encoded(std::size_t i) const noexcept {
  if (handing_over_ == nullptr || i >= handing_over_->own_ends.size()) return {};
  const auto& parts = *handing_over_;
  const auto from = i == 0 ? 0 : parts.own_ends[i - 1];
  return {{parts.own_parts.data() + from, parts.own_ends[i] - from},
          {parts.set_parts.data() + parts.set_from[i], parts.set_ends[i] - parts.set_from[i]}};
}

void x12_feed::accepted_set(std::span<model::claim> claims, const x12::set_result& set) {
  if (!ahead()) return receiver_.accepted_set(claims, set);
  step s;
  s.count = claims.size();
  s.set = set;
  // Encoded here, on the reader's thread, before waiting for the caller: the caller's thread
  // is the one a replay waits for, and encoding a claim for the memory state was 11 % of its
  // instructions (callgrind, a claims-only replay); finding which claims share a set part
  // (some 25 string compares a claim) a further 2.4 %.
  encoded_.clear();
  if (ahead_.encode_claims) {
    for (std::size_t n = 0; n < claims.size(); ++n) {
      const auto& claim = claims[n];
      model::encode_own_part(claim, encoded_.own_parts);
      encoded_.own_ends.push_back(encoded_.own_parts.size());
      if (n == 0 || !model::same_set_part(claim, claims[n - 1])) {
        encoded_.set_from.push_back(encoded_.set_parts.size());
        model::encode_set_part(claim, encoded_.set_parts);
      } else {
        encoded_.set_from.push_back(encoded_.set_from.back());
      }
      encoded_.set_ends.push_back(encoded_.set_parts.size());
    }
  }
  std::unique_lock lock(mutex_);
  // The next set is read into the claims the gate gave back (their buffers reused, and still
  // in cache), or into new ones while fewer than claim_sets exist; its encodings likewise.
  changed_.wait(lock,
                [this] { return !spare_sets_.empty() || claim_sets_ < claim_sets || abandoned_; });
  spare_set spare;
  if (spare_sets_.empty()) {
    ++claim_sets_;
  } else {
    spare = std::move(spare_sets_.back());
    spare_sets_.pop_back();
  }
  s.claims = input_.exchange_claims(std::move(spare.claims));
  s.encoded = std::exchange(encoded_, std::move(spare.encoded));
  // Handed over at once, not at the chunk's end: the gate gives these claims back sooner.
  read_.push_back(std::move(s));
  changed_.notify_all();
}

void x12_feed::interchange_end(const x12::interchange_result& result,
                               const interchange_verdict& verdict) {
  if (!ahead()) return receiver_.interchange_end(result, verdict);
  step s;
  s.end = std::make_unique<x12::interchange_result>(result);
  s.verdict = verdict;
  const std::lock_guard lock(mutex_);
  read_.push_back(std::move(s));
  changed_.notify_all();
}

}  // namespace covgate::engine
