#include "covgate/cluster/lease_manager.hpp"

#include <algorithm>
#include <charconv>
#include <stdexcept>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

// The presence value: this worker's clock at its last round, as decimal ms.
std::optional<std::int64_t> parse_presence(std::string_view text) {
  std::int64_t ms = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), ms);
  if (error != std::errc{} || end != text.data() + text.size()) return std::nullopt;
  return ms;
}

}  // namespace

std::vector<std::string> live_workers(kv_bucket& workers, std::int64_t now_ms,
                                      const lease_timing& timing) {
  std::vector<std::string> live;
  for (const auto& worker : workers.keys()) {
    const auto entry = workers.get(worker);
    if (!entry) continue;
    const auto seen = parse_presence(entry->value);
    if (seen && !lease_expired(*seen, now_ms, timing)) live.push_back(worker);
  }
  std::sort(live.begin(), live.end());
  return live;
}

lease_manager::lease_manager(kv_bucket& owners, kv_bucket& workers, lease_manager_settings settings,
                             lease_callbacks callbacks)
    : owners_(owners),
      workers_(workers),
      settings_(std::move(settings)),
      callbacks_(std::move(callbacks)) {
  if (!is_worker_id(settings_.worker)) {
    throw std::invalid_argument("lease manager: a worker id is 1 to 64 of [A-Za-z0-9_-]");
  }
  if (settings_.partitions < 1 || settings_.partitions > max_partitions) {
    throw std::invalid_argument("lease manager: the partition count is out of range");
  }
  if (settings_.timing.renew_ms <= 0 || settings_.timing.renew_ms >= settings_.timing.lease_ms) {
    throw std::invalid_argument("lease manager: renew_ms must be positive and below lease_ms");
  }
}

void lease_manager::lose(int partition) {
  const auto it = held_.find(partition);
  if (it == held_.end()) return;
  const std::uint64_t epoch = it->second.epoch;
  held_.erase(it);
  if (callbacks_.lost) callbacks_.lost(partition, epoch);
}

lease_round_report lease_manager::round(std::int64_t now_ms) {
  lease_round_report report;
  const auto& timing = settings_.timing;
  const auto note_failure = [&report](const nats_error& e) {
    ++report.failures;
    report.last_failure = e.what();
  };
  // Every step below goes on when the one before it failed: a round that gave up at its first
  // unanswered request would renew nothing, and the leases it holds would expire while the
  // cluster was only slow (seen with a NATS node of three down).
  try {
    workers_.put(settings_.worker, std::to_string(now_ms));
  } catch (const nats_error& e) {
    note_failure(e);
  }

  lease_round plan_input;
  plan_input.worker = settings_.worker;
  plan_input.partitions = settings_.partitions;
  plan_input.now_ms = now_ms;
  plan_input.timing = timing;
  plan_input.held = held_;
  plan_input.live_workers = 1;  // this one
  try {
    for (const auto& worker : live_workers(workers_, now_ms, timing)) {
      if (worker != settings_.worker) ++plan_input.live_workers;
    }
  } catch (const nats_error& e) {
    // Planned as if alone: everything held is renewed, nothing released, and only absent or
    // expired leases claimed (by compare-and-set); the next round that counts rebalances. A
    // stale count would leave a dead worker's partitions unowned while the listing fails.
    note_failure(e);
    plan_input.live_workers = 1;
  }
  report.live_workers = plan_input.live_workers;

  // A lease not read is planned as unknown: a record that cannot be decoded at revision 0.
  // plan_leases never claims such a partition, and one this worker holds reads as a stale
  // read, so it is renewed by compare-and-set on our last revision, which fails if anyone else
  // wrote since. After the first read that fails the rest are not tried: each would wait out
  // the same timeout, and the round would come too late to renew anything.
  plan_input.observed.resize(static_cast<std::size_t>(settings_.partitions));
  bool reading = true;
  for (int p = 0; p < settings_.partitions; ++p) {
    auto& observed = plan_input.observed[static_cast<std::size_t>(p)];
    if (reading) {
      try {
        if (const auto entry = owners_.get(lease_key(p))) {
          observed = observed_lease{decode_lease(entry->value), entry->revision};
        }
        continue;
      } catch (const nats_error& e) {
        note_failure(e);
        reading = false;
      }
    }
    observed = observed_lease{std::nullopt, 0};
  }

  using action = lease_step::action;
  for (const auto& step : plan_leases(plan_input)) {
    const std::string key = lease_key(step.partition);
    try {
      switch (step.what) {
        case action::drop:
          lose(step.partition);
          ++report.lost;
          break;
        case action::release: {
          // Stop the work first: from the write on, another worker may take it.
          const std::uint64_t epoch = held_.at(step.partition).epoch;
          lose(step.partition);
          ++report.released;
          (void)owners_.update(key, encode_lease({settings_.worker, epoch, 0}),
                               step.expected_revision);
          break;
        }
        case action::renew: {
          auto& held = held_.at(step.partition);
          const auto revision = owners_.update(
              key, encode_lease({settings_.worker, held.epoch, now_ms}), step.expected_revision);
          if (revision) {
            held.revision = *revision;
            held.renewed_at_ms = now_ms;
            ++report.renewed;
          } else {
            lose(step.partition);  // someone else wrote since we read: fenced off
            ++report.lost;
          }
          break;
        }
        case action::create:
        case action::take_over: {
          const std::string record = encode_lease({settings_.worker, 0, now_ms});
          const auto revision = step.what == action::create
                                    ? owners_.create(key, record)
                                    : owners_.update(key, record, step.expected_revision);
          if (revision) {
            held_[step.partition] = held_lease{*revision, *revision, now_ms};
            ++report.acquired;
            if (callbacks_.acquired) callbacks_.acquired(step.partition, *revision);
          }
          break;
        }
      }
    } catch (const nats_error& e) {
      note_failure(e);
    }
  }
  return report;
}

std::optional<std::uint64_t> lease_manager::valid_epoch(int partition,
                                                        std::int64_t now_ms) const noexcept {
  const auto it = held_.find(partition);
  if (it == held_.end() || holder_overdue(it->second.renewed_at_ms, now_ms, settings_.timing)) {
    return std::nullopt;
  }
  return it->second.epoch;
}

void lease_manager::release_all(std::chrono::milliseconds budget) {
  const auto deadline = std::chrono::steady_clock::now() + budget;
  while (!held_.empty()) {
    const auto [partition, held] = *held_.begin();
    lose(partition);
    if (std::chrono::steady_clock::now() >= deadline) continue;  // it expires on its own
    try {
      (void)owners_.update(lease_key(partition), encode_lease({settings_.worker, held.epoch, 0}),
                           held.revision);
    } catch (const nats_error&) {
      // The lease expires on its own, as if this worker had died.
    }
  }
}

}  // namespace covgate::cluster
