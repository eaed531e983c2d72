// Replay's decision lines (NDJSON, one per answered claim), written in order, on a thread of
// their own when replay reads ahead on others: formatting a decision as JSON was 12 % of the
// gate thread's instructions in a claims-only replay, on the thread every claim waits for.
#pragma once

#include <condition_variable>
#include <cstddef>
#include <exception>
#include <functional>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "covgate/model/decision.hpp"

namespace covgate::app {

class decision_lines {
 public:
  /// `write` takes the lines, whole, in the order they were added (a block of them at a
  /// time). With `own_thread` it is called on a thread of the writer's own, never two calls
  /// at once; without, on the caller's thread, from add().
  decision_lines(std::function<void(std::string_view)> write, bool own_thread);
  /// Ends the thread; lines not yet flushed are dropped (flush() first to keep them).
  ~decision_lines();
  decision_lines(const decision_lines&) = delete;
  decision_lines& operator=(const decision_lines&) = delete;

  /// One line: the decision as model::append_json writes it. Copied: the caller's objects
  /// may change as soon as this returns. Throws what `write` threw for an earlier line.
  void add(const model::decision& decision, std::string_view billing_npi, std::string_view event,
           std::string_view source);
  /// Every line added so far handed to `write`, and `write` returned; throws what it threw.
  void flush();

  /// Lines handed to the thread at a time: large enough that a hand-over costs little
  /// beside the lines, small enough that the copies stay in cache.
  static constexpr std::size_t batch_lines = 256;

 private:
  // A line's parts, copied into slots reused batch after batch: a decision copied into one
  // that held another keeps the strings' and the findings' memory.
  struct line {
    model::decision decision;
    std::string billing_npi;
    std::string event;
    std::string source;
  };
  struct batch {
    std::vector<line> lines;
    std::size_t size = 0;
  };

  void write_batch(batch& b);  // formats and writes b's lines (the writer's thread, or add's)
  void hand_over();            // filling_ to the thread, once it is done with the last
  void run();                  // the thread: writes each batch handed over
  void rethrow_if_failed();    // under mutex_

  std::function<void(std::string_view)> write_;
  std::string text_;  // the lines of one batch, formatted (the writer's alone)
  batch filling_;     // the caller's
  batch writing_;     // the thread's while busy_
  std::mutex mutex_;
  std::condition_variable changed_;
  bool busy_ = false;  // writing_ holds lines the thread has not written yet
  bool stop_ = false;
  std::exception_ptr failed_;  // what `write` threw, for the caller to rethrow
  std::thread thread_;         // last: it starts once the members above are ready
};

}  // namespace covgate::app
