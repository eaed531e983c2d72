// The threads a command lends the engine for reading ahead (engine::work_pool).
#pragma once

#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <functional>

#include "covgate/engine/intake.hpp"

namespace covgate::app {

class reading_threads final : public engine::work_pool {
 public:
  explicit reading_threads(unsigned threads) : pool_(threads) {}
  reading_threads(const reading_threads&) = delete;
  reading_threads& operator=(const reading_threads&) = delete;
  ~reading_threads() override { pool_.join(); }
  void run(std::function<void()> work) override { boost::asio::post(pool_, std::move(work)); }

 private:
  boost::asio::thread_pool pool_;
};

}  // namespace covgate::app
