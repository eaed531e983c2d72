// Retrying a NATS operation through a JetStream leader election. While a stream's or the
// meta group's leader is being elected (a node died, a few seconds on a loaded machine),
// requests time out or find no responders; the same request a moment later succeeds. Only
// idempotent operations are retried: publishes carry a Nats-Msg-Id (the stream drops the
// second copy), acks are idempotent, and a KV compare-and-set retried after its first attempt
// landed fails as a conflict, which the lease protocol treats as a loss (safe).
#pragma once

#include <algorithm>
#include <chrono>
#include <thread>

namespace covgate::cluster {

struct retry_policy {
  int attempts = 12;                           ///< tries in all, the first included
  std::chrono::milliseconds first_delay{100};  ///< wait after the first failure
  std::chrono::milliseconds max_delay{1'000};  ///< the doubling stops here
  /// No retry starts later than this after the first attempt began (0: the attempts alone
  /// bound it). A caller that must not wait long (a lease round, a stopping worker) sets it;
  /// one attempt in progress is not cut short.
  std::chrono::milliseconds budget{0};
};

/// The wait after failed attempt `attempt` (1-based): first_delay doubled each time, capped
/// at max_delay. With the defaults: 100, 200, 400, 800, 1000, 1000, … ms, about 9 s in all
/// over 12 attempts, longer than an election on a loaded 2-core machine.
[[nodiscard]] inline std::chrono::milliseconds retry_delay(const retry_policy& policy,
                                                           int attempt) noexcept {
  auto delay = policy.first_delay;
  for (int i = 1; i < attempt && delay < policy.max_delay; ++i) delay *= 2;
  return std::min(delay, policy.max_delay);
}

/// Runs `attempt` until it returns, retrying a `Failure` whose retryable() is true after
/// retry_delay(), while the policy's attempts and budget allow; the last failure is thrown.
template <class Failure, class Attempt>
auto with_retry(const retry_policy& policy, Attempt&& attempt) {
  const auto started = std::chrono::steady_clock::now();
  for (int i = 1;; ++i) {
    try {
      return attempt();
    } catch (const Failure& e) {
      if (!e.retryable() || i >= policy.attempts) throw;
      const auto delay = retry_delay(policy, i);
      if (policy.budget.count() > 0 &&
          std::chrono::steady_clock::now() + delay - started > policy.budget) {
        throw;
      }
      std::this_thread::sleep_for(delay);
    }
  }
}

}  // namespace covgate::cluster
