#include "covgate/cluster/lease.hpp"

#include <doctest/doctest.h>

#include <algorithm>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <utility>

#include "covgate/cluster/lease_manager.hpp"
#include "covgate/cluster/retry.hpp"
#include "covgate/cluster/subjects.hpp"
#include "support/memory_kv.hpp"

using namespace covgate::cluster;
using action = lease_step::action;

namespace {

constexpr lease_timing timing{10'000, 3'000};

observed_lease held_by(const std::string& worker, std::int64_t heartbeat_ms, std::uint64_t revision,
                       std::uint64_t epoch = 0) {
  return observed_lease{lease_record{worker, epoch, heartbeat_ms}, revision};
}

lease_round round_of(std::string_view worker, int partitions, int live, std::int64_t now) {
  lease_round r;
  r.worker = worker;
  r.partitions = partitions;
  r.live_workers = live;
  r.now_ms = now;
  r.timing = timing;
  r.observed.resize(static_cast<std::size_t>(partitions));
  return r;
}

int count(const std::vector<lease_step>& steps, action what) {
  return static_cast<int>(
      std::count_if(steps.begin(), steps.end(), [&](const auto& s) { return s.what == what; }));
}

struct worker_under_test {
  std::set<int> working;  // what the callbacks say this worker works on
  std::map<int, std::uint64_t> epochs;
  std::unique_ptr<lease_manager> manager;

  worker_under_test(memory_kv& owners, memory_kv& workers, std::string id, int partitions) {
    manager = std::make_unique<lease_manager>(
        owners, workers, lease_manager_settings{std::move(id), partitions, timing},
        lease_callbacks{[this](int p, std::uint64_t epoch) {
                          CHECK(working.insert(p).second);
                          epochs[p] = epoch;
                        },
                        [this](int p, std::uint64_t) { CHECK(working.erase(p) == 1); }});
  }
};

// Two workers of four partitions at 1,000,000 ms: wa starts alone and takes all four, then
// sees wb and releases two, which wb takes (its leases renewed last at 1,000,200).
void share_evenly(worker_under_test& a, worker_under_test& b) {
  a.manager->round(1'000'000);
  b.manager->round(1'000'000);
  a.manager->round(1'000'100);
  b.manager->round(1'000'200);
  REQUIRE(a.working.size() == 2);
  REQUIRE(b.working.size() == 2);
}

}  // namespace

TEST_SUITE("cluster.lease") {
  TEST_CASE("a lease record round-trips through its JSON text") {
    const lease_record r{"w-2", 17, 1'700'000'000'123};
    CHECK(encode_lease(r) == R"({"worker":"w-2","epoch":17,"hb":1700000000123})");
    CHECK(decode_lease(encode_lease(r)) == r);
  }

  TEST_CASE("a record that is not ours reads as nothing") {
    CHECK_FALSE(decode_lease(""));
    CHECK_FALSE(decode_lease("not json"));
    CHECK_FALSE(decode_lease(R"({"worker":"w1","epoch":1})"));
    CHECK_FALSE(decode_lease(R"({"worker":"w 1","epoch":1,"hb":2})"));
    CHECK_FALSE(decode_lease(R"({"worker":"w1","epoch":-1,"hb":2})"));
    CHECK_FALSE(decode_lease(R"(["w1",1,2])"));
  }

  TEST_CASE("the epoch of a fresh claim is its revision; renewals carry it") {
    CHECK(held_by("w1", 5, 42).epoch() == 42);
    CHECK(held_by("w1", 5, 57, 42).epoch() == 42);
    CHECK(observed_lease{std::nullopt, 9}.epoch() == 0);
  }

  TEST_CASE("expiry is at lease_ms exactly") {
    CHECK_FALSE(lease_expired(1'000, 10'999, timing));
    CHECK(lease_expired(1'000, 11'000, timing));
    CHECK(lease_expired(0, 11'000, timing));  // a released record
  }

  TEST_CASE("the fair share is the partition count over live workers, rounded up") {
    CHECK(fair_share(64, 1) == 64);
    CHECK(fair_share(64, 3) == 22);
    CHECK(fair_share(8, 3) == 3);
    CHECK(fair_share(8, 8) == 1);
    CHECK(fair_share(8, 20) == 1);
    CHECK(fair_share(8, 0) == 8);
  }

  TEST_CASE("a lone worker in an empty cluster creates every lease") {
    const auto steps = plan_leases(round_of("w1", 8, 1, 50'000));
    CHECK(steps.size() == 8);
    CHECK(count(steps, action::create) == 8);
    std::set<int> partitions;
    for (const auto& s : steps) partitions.insert(s.partition);
    CHECK(partitions.size() == 8);
  }

  TEST_CASE("claims stop at the fair share") {
    const auto steps = plan_leases(round_of("w1", 8, 3, 50'000));
    CHECK(count(steps, action::create) == 3);
  }

  TEST_CASE("fresh leases of others are left alone; expired and released ones are taken over") {
    auto r = round_of("w2", 4, 2, 50'000);
    r.observed[0] = held_by("w1", 45'000, 10);  // fresh
    r.observed[1] = held_by("w1", 40'000, 11);  // exactly lease_ms old: expired
    r.observed[2] = held_by("w1", 0, 12, 7);    // released
    r.observed[3] = held_by("w1", 49'999, 13);  // fresh
    const auto steps = plan_leases(r);
    REQUIRE(steps.size() == 2);
    for (const auto& s : steps) {
      CHECK(s.what == action::take_over);
      CHECK((s.partition == 1 || s.partition == 2));
      CHECK(s.expected_revision == static_cast<std::uint64_t>(10 + s.partition));
    }
  }

  TEST_CASE("a record that does not decode is never taken over") {
    auto r = round_of("w2", 1, 1, 50'000);
    r.observed[0] = observed_lease{std::nullopt, 3};
    CHECK(plan_leases(r).empty());
  }

  TEST_CASE("a holder renews what is still its own, on the revision of its last write") {
    auto r = round_of("w1", 2, 1, 50'000);
    r.observed[0] = held_by("w1", 47'000, 20, 5);
    r.observed[1] = held_by("w1", 47'000, 21, 6);
    r.held[0] = held_lease{5, 20, 47'000};
    r.held[1] = held_lease{6, 21, 47'000};
    const auto steps = plan_leases(r);
    CHECK(steps == std::vector<lease_step>{{action::renew, 0, 20}, {action::renew, 1, 21}});
  }

  TEST_CASE("a holder drops at once what someone else wrote, or what vanished") {
    auto r = round_of("w1", 3, 2, 50'000);
    r.observed[0] = held_by("w2", 49'000, 30);  // taken over (revision and holder moved)
    r.observed[1] = held_by("w1", 49'000, 31);  // our name, but not our last write
    r.held[0] = held_lease{5, 20, 47'000};
    r.held[1] = held_lease{6, 21, 47'000};
    r.held[2] = held_lease{7, 22, 47'000};  // key absent
    const auto steps = plan_leases(r);
    CHECK(count(steps, action::drop) == 3);
    CHECK(count(steps, action::renew) == 0);
    // Nothing just lost is claimed back in the same round.
    for (const auto& s : steps) CHECK(s.what == action::drop);
  }

  TEST_CASE("a holder that could not renew drops one round period before others may take over") {
    auto r = round_of("w1", 1, 1, 0);
    r.observed[0] = held_by("w1", 40'000, 20, 5);
    r.held[0] = held_lease{5, 20, 40'000};
    r.now_ms = 46'999;  // lease_ms - renew_ms = 7000 not reached
    CHECK(plan_leases(r) == std::vector<lease_step>{{action::renew, 0, 20}});
    r.now_ms = 47'000;
    CHECK(plan_leases(r) == std::vector<lease_step>{{action::drop, 0, 20}});
    CHECK_FALSE(lease_expired(40'000, 47'000, timing));  // nobody else may take it yet
  }

  TEST_CASE("a holder above its share releases its highest partitions") {
    auto r = round_of("w1", 4, 2, 50'000);
    for (int p = 0; p < 4; ++p) {
      r.observed[static_cast<std::size_t>(p)] =
          held_by("w1", 49'000, static_cast<std::uint64_t>(40 + p), 1);
      r.held[p] = held_lease{1, static_cast<std::uint64_t>(40 + p), 49'000};
    }
    CHECK(plan_leases(r) == std::vector<lease_step>{{action::renew, 0, 40},
                                                    {action::renew, 1, 41},
                                                    {action::release, 2, 42},
                                                    {action::release, 3, 43}});
  }

  TEST_CASE(
      "retries stop at their attempts, at a failure that is not retryable, or at the budget") {
    int attempts = 0;
    const auto failing = [&](bool retryable) {
      return [&attempts, retryable]() -> int {
        ++attempts;
        throw nats_error("no answer (test)", retryable);
      };
    };
    const retry_policy five{5, std::chrono::milliseconds(1), std::chrono::milliseconds(1)};
    CHECK_THROWS_AS(with_retry<nats_error>(five, failing(true)), nats_error);
    CHECK(attempts == 5);
    attempts = 0;
    CHECK_THROWS_AS(with_retry<nats_error>(five, failing(false)), nats_error);
    CHECK(attempts == 1);
    // 10 ms between attempts and 1,000 allowed, but no retry may start 100 ms after the first
    // attempt: about ten, never more than eleven.
    attempts = 0;
    retry_policy bounded{1'000, std::chrono::milliseconds(10), std::chrono::milliseconds(10)};
    bounded.budget = std::chrono::milliseconds(100);
    CHECK_THROWS_AS(with_retry<nats_error>(bounded, failing(true)), nats_error);
    CHECK(attempts >= 2);
    CHECK(attempts <= 11);
    // A success ends it.
    attempts = 0;
    const auto third_time_lucky = [&attempts] {
      if (++attempts < 3) throw nats_error("no answer (test)", true);
      return 7;
    };
    CHECK(with_retry<nats_error>(five, third_time_lucky) == 7);
    CHECK(attempts == 3);
  }

  TEST_CASE("retries back off by doubling up to the cap") {
    const retry_policy p{12, std::chrono::milliseconds(100), std::chrono::milliseconds(1000)};
    CHECK(retry_delay(p, 1).count() == 100);
    CHECK(retry_delay(p, 2).count() == 200);
    CHECK(retry_delay(p, 4).count() == 800);
    CHECK(retry_delay(p, 5).count() == 1000);
    CHECK(retry_delay(p, 11).count() == 1000);
  }
}

TEST_SUITE("cluster.lease_manager") {
  TEST_CASE("three workers joining one by one end balanced, never sharing a partition") {
    memory_kv owners, workers;
    constexpr int partitions = 8;
    std::vector<std::unique_ptr<worker_under_test>> w;
    for (const char* id : {"w1", "w2", "w3"}) {
      w.push_back(std::make_unique<worker_under_test>(owners, workers, id, partitions));
    }
    const auto no_overlap = [&] {
      std::set<int> all;
      std::size_t total = 0;
      for (const auto& x : w) {
        total += x->working.size();
        all.insert(x->working.begin(), x->working.end());
      }
      CHECK(all.size() == total);
      return total;
    };
    std::int64_t now = 1'000'000;
    // w1 alone takes everything.
    w[0]->manager->round(now);
    CHECK(w[0]->working.size() == 8);
    // w2 and w3 join; every worker runs a round every renew_ms.
    for (int i = 0; i < 4; ++i) {
      now += timing.renew_ms;
      for (std::size_t k = 0; k < w.size(); ++k) {
        w[k]->manager->round(now + static_cast<std::int64_t>(k));
        no_overlap();
      }
    }
    CHECK(no_overlap() == 8);
    for (const auto& x : w) CHECK(x->working.size() <= 3);  // ceil(8 / 3)
    // The KV says the same as the callbacks.
    for (std::size_t k = 0; k < w.size(); ++k) {
      for (const int p : w[k]->working) {
        const auto record = decode_lease(owners.get(lease_key(p))->value);
        REQUIRE(record);
        CHECK(record->worker == (k == 0 ? "w1" : k == 1 ? "w2" : "w3"));
      }
    }
  }

  TEST_CASE("a dead worker's partitions are taken over with higher epochs; its renewal is fenced") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 4);
    worker_under_test b(owners, workers, "wb", 4);
    std::int64_t now = 1'000'000;
    a.manager->round(now);
    b.manager->round(now);
    now += timing.renew_ms;
    a.manager->round(now);  // sees wb: releases 2
    b.manager->round(now);  // takes them
    REQUIRE(a.working.size() == 2);
    REQUIRE(b.working.size() == 2);
    const auto a_epochs = a.epochs;
    const auto a_partitions = a.working;

    // wa stops (a stalled process: no rounds); wb keeps going until wa's leases expire.
    for (int i = 0; i < 4; ++i) {
      now += timing.renew_ms;
      b.manager->round(now);
    }
    CHECK(b.working.size() == 4);
    for (const int p : a_partitions) CHECK(b.epochs.at(p) > a_epochs.at(p));

    // wa wakes up: it still believes it holds them, and its first round drops them all.
    CHECK(a.working.size() == 2);
    const auto report = a.manager->round(now);
    CHECK(report.lost == 2);
    CHECK(a.working.empty());
    CHECK(b.working.size() == 4);
  }

  TEST_CASE("a renewal that loses the compare-and-set drops the partition at once") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 1);
    a.manager->round(1'000'000);
    REQUIRE(a.working == std::set<int>{0});
    // wa reads its lease as its own and plans a renewal; before its write lands, wz takes the
    // partition over (as if wa had stalled past the lease).
    owners.before_next_write = [&] {
      const auto entry = owners.get(lease_key(0));
      REQUIRE(owners.update(lease_key(0), encode_lease({"wz", 0, 1'011'000}), entry->revision));
    };
    const auto report = a.manager->round(1'003'000);
    CHECK(report.lost == 1);
    CHECK(report.renewed == 0);
    CHECK(a.working.empty());
    CHECK(a.manager->held().empty());
    CHECK(decode_lease(owners.get(lease_key(0))->value)->worker == "wz");
  }

  TEST_CASE("a read older than the holder's own last write does not drop the lease") {
    // Seen in CI: a KV read answered by a replica behind its leader showed a lease as it was
    // before its holder's last renewal; the holder dropped it, and the partition had no owner
    // until the lease expired.
    auto r = round_of("w1", 1, 1, 50'000);
    r.observed[0] = held_by("w2", 40'000, 19);  // older than our write at revision 20
    r.held[0] = held_lease{5, 20, 47'000};
    CHECK(plan_leases(r) == std::vector<lease_step>{{action::renew, 0, 20}});

    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 1);
    a.manager->round(1'000'000);
    const auto first = *owners.get(lease_key(0));
    a.manager->round(1'003'000);  // renewed: a newer revision
    REQUIRE(owners.get(lease_key(0))->revision > first.revision);
    owners.stale_once[lease_key(0)] = first;
    const auto report = a.manager->round(1'006'000);
    CHECK(report.lost == 0);
    CHECK(report.renewed == 1);
    CHECK(a.working == std::set<int>{0});
    // Someone else's write since ours still wins: the compare-and-set fails, the lease goes.
    const auto mine = *owners.get(lease_key(0));
    REQUIRE(owners.update(lease_key(0), encode_lease({"wz", 0, 1'020'000}), mine.revision));
    owners.stale_once[lease_key(0)] = mine;
    CHECK(a.manager->round(1'009'000).lost == 1);
    CHECK(a.working.empty());
  }

  TEST_CASE("a claim that loses the race to another worker is not taken") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 1);
    owners.before_next_write = [&] {
      REQUIRE(owners.create(lease_key(0), encode_lease({"wz", 0, 1'000'000})));
    };
    const auto report = a.manager->round(1'000'000);
    CHECK(report.acquired == 0);
    CHECK(a.working.empty());
    CHECK(decode_lease(owners.get(lease_key(0))->value)->worker == "wz");
  }

  TEST_CASE("unanswered renewals keep the lease until it is overdue, then drop it") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 1);
    a.manager->round(1'000'000);
    owners.fail_writes = true;
    workers.fail_writes = true;
    // The presence write fails, then the renewal: both counted, the lease kept for now.
    auto report = a.manager->round(1'003'000);
    CHECK(report.failures == 2);
    CHECK(report.renewed == 0);
    CHECK(a.working.size() == 1);
    workers.fail_writes = false;
    report = a.manager->round(1'005'000);
    CHECK(report.failures == 1);
    CHECK(a.working.size() == 1);
    report = a.manager->round(1'007'000);  // lease_ms - renew_ms after the last renewal
    CHECK(report.lost == 1);
    CHECK(a.working.empty());
  }

  TEST_CASE("a round that cannot list the workers renews, releases nothing, takes the expired") {
    // Seen in the cluster test: with a NATS node of three down, every listing of cg-workers
    // timed out, each round gave up before renewing, and the survivors lost their partitions.
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 4);
    worker_under_test b(owners, workers, "wb", 4);
    share_evenly(a, b);
    workers.fail_listing = true;
    auto report = a.manager->round(1'003'000);
    CHECK(report.failures == 1);
    CHECK(report.last_failure.find("list") != std::string::npos);
    CHECK(report.live_workers == 1);  // as if alone: a share of everything
    CHECK(report.renewed == 2);
    CHECK(report.released == 0);
    CHECK(report.acquired == 0);  // wb's leases are fresh: not taken
    CHECK(a.working.size() == 2);
    // wb dies while the listing keeps failing: wa takes its partitions over once they expire.
    for (std::int64_t t = 1'006'000; t <= 1'009'000; t += 3'000) a.manager->round(t);
    report = a.manager->round(1'012'000);
    CHECK(report.acquired == 2);
    CHECK(a.working.size() == 4);
  }

  TEST_CASE("a lease read that fails: held leases renewed by compare-and-set, none claimed") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 4);
    worker_under_test b(owners, workers, "wb", 4);
    share_evenly(a, b);
    // wb stalls; wa renews until wb's leases have expired, then its lease reads fail.
    for (std::int64_t t = 1'003'000; t <= 1'009'000; t += 3'000) a.manager->round(t);
    REQUIRE(a.working.size() == 2);
    owners.fail_reads = true;
    owners.reads_tried = 0;
    auto report = a.manager->round(1'011'000);
    CHECK(owners.reads_tried == 1);  // the first failure ends the reading
    CHECK(report.failures == 1);
    CHECK(report.renewed == 2);
    CHECK(report.acquired == 0);  // wb's expired leases were not read: not claimed
    CHECK(a.working.size() == 2);
    // A held lease someone else wrote since is still not renewed: the compare-and-set fails.
    const int mine = *a.working.begin();
    const auto entry = *owners.peek(lease_key(mine));
    REQUIRE(owners.update(lease_key(mine), encode_lease({"wz", 0, 1'013'000}), entry.revision));
    report = a.manager->round(1'014'000);
    CHECK(report.lost == 1);
    CHECK(a.working.size() == 1);
    owners.fail_reads = false;
    report = a.manager->round(1'017'000);
    CHECK(report.acquired == 2);  // wb's, read now
    CHECK(a.working.size() == 3);
  }

  TEST_CASE("a holder commits under its epoch only while its own renewal is recent enough") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 2);
    a.manager->round(1'000'000);
    REQUIRE(a.working.size() == 2);
    CHECK(a.manager->valid_epoch(0, 1'000'000) == a.epochs.at(0));
    CHECK(a.manager->valid_epoch(1, 1'006'999) == a.epochs.at(1));
    // Stalled past lease_ms - renew_ms: no commit, though round() has not run yet.
    CHECK_FALSE(a.manager->valid_epoch(0, 1'007'000));
    CHECK_FALSE(a.manager->valid_epoch(5, 1'000'000));  // not held
    a.manager->round(1'003'000);                        // renewed
    CHECK(a.manager->valid_epoch(0, 1'009'000) == a.epochs.at(0));
  }

  TEST_CASE("release_all hands every partition back for an immediate take-over") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 3);
    worker_under_test b(owners, workers, "wb", 3);
    a.manager->round(1'000'000);
    REQUIRE(a.working.size() == 3);
    a.manager->release_all(std::chrono::seconds(5));
    CHECK(a.working.empty());
    CHECK(a.manager->held().empty());
    // wb sees wa's presence as fresh (share 2) but takes the released ones at once.
    b.manager->round(1'000'100);
    CHECK(b.working.size() == 2);
  }

  TEST_CASE(
      "release_all with the cluster out of reach stops work at once and writes within its budget") {
    memory_kv owners, workers;
    worker_under_test a(owners, workers, "wa", 10);
    a.manager->round(1'000'000);
    REQUIRE(a.working.size() == 10);
    owners.fail_writes = true;
    owners.write_delay = std::chrono::milliseconds(30);  // each write waits, then fails
    owners.writes_tried = 0;
    a.manager->release_all(std::chrono::milliseconds(100));
    CHECK(a.working.empty());  // every partition's work stopped, written or not
    CHECK(a.manager->held().empty());
    // A write starts only before the budget is spent: at 30 ms each, at most 4 of the 10.
    CHECK(owners.writes_tried >= 1);
    CHECK(owners.writes_tried <= 4);
  }

  TEST_CASE("refuses a bad worker id, partition count or timing") {
    memory_kv owners, workers;
    CHECK_THROWS_AS(lease_manager(owners, workers, {"w.1", 8, timing}, {}), std::invalid_argument);
    CHECK_THROWS_AS(lease_manager(owners, workers, {"w1", 0, timing}, {}), std::invalid_argument);
    CHECK_THROWS_AS(lease_manager(owners, workers, {"w1", 8, {1000, 1000}}, {}),
                    std::invalid_argument);
  }
}
