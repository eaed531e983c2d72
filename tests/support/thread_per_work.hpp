// Threads lent to the engine in tests (engine::work_pool): each piece of work on a thread of
// its own, all joined at the end, so a test can count the pieces it ran.
#pragma once

#include <functional>
#include <thread>
#include <vector>

#include "covgate/engine/intake.hpp"

namespace covgate::test {

struct thread_per_work final : engine::work_pool {
  std::vector<std::thread> threads;
  void run(std::function<void()> work) override { threads.emplace_back(std::move(work)); }
  thread_per_work() = default;
  thread_per_work(const thread_per_work&) = delete;
  thread_per_work& operator=(const thread_per_work&) = delete;
  ~thread_per_work() override {
    for (auto& t : threads) t.join();
  }
};

}  // namespace covgate::test
