// Retrying a NATS operation through a JetStream leader election. While a stream's or the
// meta group's leader is being elected (a node died, a few seconds on a loaded machine),
// requests time out or find no responders; the same request a moment later succeeds. Only
// idempotent operations are retried: publishes carry a Nats-Msg-Id (the stream drops the
// second copy), acks are idempotent, and a KV compare-and-set retried after its first attempt
// landed fails as a conflict, which the lease protocol treats as a loss (safe).
#pragma once

#include <algorithm>
#include <chrono>

namespace covgate::cluster {

struct retry_policy {
  int attempts = 12;                           ///< tries in all, the first included
  std::chrono::milliseconds first_delay{100};  ///< wait after the first failure
  std::chrono::milliseconds max_delay{1'000};  ///< the doubling stops here
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

}  // namespace covgate::cluster
