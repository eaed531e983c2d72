#include "covgate/cluster/control_numbers.hpp"

#include <charconv>
#include <stdexcept>

namespace covgate::cluster {
namespace {

std::string nine_digits(std::uint32_t n) {
  std::string text = std::to_string(n);
  return std::string(9 - text.size(), '0') + text;
}

}  // namespace

control_numbers::control_numbers(kv_bucket& bucket, std::string key, std::uint32_t block)
    : bucket_(bucket), key_(std::move(key)), block_(block == 0 ? 1 : block) {}

std::string control_numbers::next() {
  std::lock_guard lock(mutex_);
  if (next_ == 0 || next_ >= end_) take_block();
  return nine_digits(next_++);
}

void control_numbers::take_block() {
  // Each round either wins the compare-and-set or sees that another process did; a bound on
  // rounds keeps a pathological race from spinning for ever.
  constexpr int most_rounds = 1'000;
  for (int round = 0; round < most_rounds; ++round) {
    const auto entry = bucket_.get(key_);
    std::uint32_t first = 1;
    if (entry) {
      const auto& text = entry->value;
      std::uint64_t value = 0;
      const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
      if (ec != std::errc() || end != text.data() + text.size() || value == 0 ||
          value > max_control_number) {
        throw std::runtime_error("control numbers: key " + key_ +
                                 " does not hold a number from 1 to 999999999");
      }
      first = static_cast<std::uint32_t>(value);
    }
    // A block never crosses the top: the last one is shorter, and the next starts at 1.
    const std::uint64_t end = std::min<std::uint64_t>(std::uint64_t{first} + block_,
                                                      std::uint64_t{max_control_number} + 1);
    const auto following = end > max_control_number ? 1u : static_cast<std::uint32_t>(end);
    const auto written = entry ? bucket_.update(key_, std::to_string(following), entry->revision)
                               : bucket_.create(key_, std::to_string(following));
    if (written) {
      next_ = first;
      end_ = static_cast<std::uint32_t>(end);
      return;
    }
  }
  throw std::runtime_error("control numbers: lost the race for key " + key_ + " " +
                           std::to_string(most_rounds) + " times");
}

}  // namespace covgate::cluster
