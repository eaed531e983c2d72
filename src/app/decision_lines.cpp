#include "decision_lines.hpp"

#include <utility>

#include "covgate/model/decision_json.hpp"

namespace covgate::app {

decision_lines::decision_lines(std::function<void(std::string_view)> write, bool own_thread)
    : write_(std::move(write)) {
  if (own_thread) thread_ = std::thread([this] { run(); });
}

decision_lines::~decision_lines() {
  if (!thread_.joinable()) return;
  {
    const std::lock_guard lock(mutex_);
    stop_ = true;
  }
  changed_.notify_all();
  thread_.join();
}

void decision_lines::add(const model::decision& decision, std::string_view billing_npi,
                         std::string_view event, std::string_view source) {
  auto& b = filling_;
  if (b.size == b.lines.size()) b.lines.emplace_back();
  auto& l = b.lines[b.size++];
  l.decision = decision;
  l.billing_npi.assign(billing_npi);
  l.event.assign(event);
  l.source.assign(source);
  if (!thread_.joinable()) {
    write_batch(b);
    return;
  }
  if (b.size == batch_lines) hand_over();
}

void decision_lines::flush() {
  if (!thread_.joinable()) return;
  hand_over();
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !busy_; });
  rethrow_if_failed();
}

void decision_lines::write_batch(batch& b) {
  text_.clear();
  for (std::size_t i = 0; i < b.size; ++i) {
    const auto& l = b.lines[i];
    model::append_json(text_, l.decision, l.billing_npi, l.event, l.source);
    text_ += '\n';
  }
  b.size = 0;
  if (!text_.empty()) write_(text_);
}

void decision_lines::hand_over() {
  std::unique_lock lock(mutex_);
  changed_.wait(lock, [this] { return !busy_; });
  rethrow_if_failed();
  if (filling_.size == 0) return;
  std::swap(filling_, writing_);
  busy_ = true;
  lock.unlock();
  changed_.notify_all();
}

void decision_lines::run() {
  std::unique_lock lock(mutex_);
  for (;;) {
    changed_.wait(lock, [this] { return busy_ || stop_; });
    if (!busy_) return;  // stopped, nothing left
    lock.unlock();
    std::exception_ptr error;
    try {
      write_batch(writing_);
    } catch (...) {
      error = std::current_exception();
      writing_.size = 0;
    }
    lock.lock();
    if (error && !failed_) failed_ = error;
    busy_ = false;
    changed_.notify_all();
  }
}

void decision_lines::rethrow_if_failed() {
  if (failed_) std::rethrow_exception(failed_);
}

}  // namespace covgate::app
