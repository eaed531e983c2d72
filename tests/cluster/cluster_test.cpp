// The cluster module against real servers: three nats-server 2.9.10 nodes started by
// tests/cluster/run.sh, found through COVGATE_NATS_URLS (comma-separated), COVGATE_NATS_DIR
// (where <node>.pid files are) and COVGATE_NATS_PARTITIONS (the mapping's partition count).
#include <doctest/doctest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <condition_variable>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <future>
#include <iterator>
#include <map>
#include <mutex>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>
#include <variant>

#include "covgate/cluster/audit_query.hpp"
#include "covgate/cluster/claim_lookup.hpp"
#include "covgate/cluster/control_numbers.hpp"
#include "covgate/cluster/layout.hpp"
#include "covgate/cluster/lease_manager.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/partition_status.hpp"
#include "covgate/cluster/release_delivery.hpp"
#include "covgate/cluster/release_publisher.hpp"
#include "covgate/cluster/review_message.hpp"
#include "covgate/cluster/review_requester.hpp"
#include "covgate/cluster/snapshot_book.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/cluster/waiting_identities.hpp"
#include "covgate/cluster/worker.hpp"
#include "covgate/covgate.h"
#include "covgate/hl7v2/mllp.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/store/partition_snapshot.hpp"
#include "covgate/store/sqlite_store.hpp"

using namespace covgate::cluster;
using namespace std::chrono_literals;

namespace {

std::string env(const char* name) {
  const char* value = std::getenv(name);
  if (value == nullptr || *value == '\0') {
    FAIL("environment variable " << name << " is not set: run tests/cluster/run.sh");
  }
  return value;
}

connection_settings cluster_settings() {
  connection_settings s;
  std::stringstream urls(env("COVGATE_NATS_URLS"));
  for (std::string url; std::getline(urls, url, ',');) s.urls.push_back(url);
  s.name = "covgate-cluster-test";
  s.request_timeout = 2s;  // fail fast into the retries during an election
  s.retry = retry_policy{20, 100ms, 1000ms};
  return s;
}

int partitions() { return std::stoi(env("COVGATE_NATS_PARTITIONS")); }

const std::string secret = "cluster-test-secret";

// A run-unique prefix for message ids: the stream's duplicate window outlives one test case.
std::string run_id() {
  static const std::string id = std::to_string(std::random_device{}());
  return id;
}

cluster_layout test_layout() {
  cluster_layout layout;
  layout.partitions = partitions();
  layout.duplicate_window = 120s;
  layout.in_max_bytes = 64 << 20;
  return layout;
}

lease_buckets ensure_in_stream(jetstream& js) { return ensure_layout(js, test_layout()); }

// The layout and the cluster's control numbers, as a worker's release publisher uses them.
struct cluster_counter {
  explicit cluster_counter(jetstream& js)
      : buckets(ensure_layout(js, test_layout())),
        control(js.bucket({std::string(control_bucket), 3, std::chrono::seconds(0)})),
        numbers(control, "isa13", 10) {}
  lease_buckets buckets;
  key_value control;
  control_numbers numbers;
};

pull_subscription bind_partition(jetstream& js, int partition) {
  return js.bind(std::string(in_stream), partition_consumer(partition, partitions()),
                 partition_filter_subject(partition));
}

// Fetches and acknowledges the subjects of what `sub` delivers until `want` arrived (or,
// for want 0, until `quiet` passes without a message); gives up after 20 s.
std::vector<std::string> take(jetstream& js, pull_subscription& sub, std::size_t want,
                              std::chrono::milliseconds quiet = 200ms) {
  std::vector<std::string> subjects;
  const auto deadline = std::chrono::steady_clock::now() + 20s;
  while (std::chrono::steady_clock::now() < deadline && (want == 0 || subjects.size() < want)) {
    auto batch = sub.fetch(100, quiet);
    if (batch.empty() && want == 0) break;
    for (auto& m : batch) {
      subjects.emplace_back(m.subject());
      m.ack_sync(js.retry());
    }
  }
  return subjects;
}

// Everything a partition's consumer still has, acknowledged (a clean start for a test case).
void drain(jetstream& js, int partition) {
  auto sub = bind_partition(js, partition);
  (void)take(js, sub, 0);
}

}  // namespace

TEST_SUITE("cluster.jetstream") {
  TEST_CASE("the server mapping sends one patient key to one partition and spreads 1,000 keys") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    for (int p = 0; p < partitions(); ++p) drain(js, p);

    // 1,000 patients with a claim each; the first 100 also with a fact, on another subject.
    // The timings are reported (synchronous R3 publishes and double acks on loopback), never
    // asserted.
    const auto publishing = std::chrono::steady_clock::now();
    std::vector<std::string> pkeys;
    for (int i = 0; i < 1000; ++i) {
      pkeys.push_back(partition_key(secret, "MBI-" + std::to_string(i)));
      js.publish(producer_subject(pkeys.back(), message_kind::claim), "claim",
                 run_id() + "-map-clm-" + std::to_string(i));
    }
    for (int i = 0; i < 100; ++i) {
      js.publish(producer_subject(pkeys[static_cast<std::size_t>(i)], message_kind::fhir), "fact",
                 run_id() + "-map-fhir-" + std::to_string(i));
    }

    const auto consuming = std::chrono::steady_clock::now();
    MESSAGE("1,100 synchronous publishes took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(consuming - publishing).count()
            << " ms");
    std::map<std::string, std::set<int>> partitions_of_key;
    std::vector<int> per_partition(static_cast<std::size_t>(partitions()), 0);
    std::size_t received = 0;
    std::vector<pull_subscription> subs;
    for (int p = 0; p < partitions(); ++p) subs.push_back(bind_partition(js, p));
    // Round after round over the partitions until all 1,100 came (delivery is asynchronous).
    const auto deadline = std::chrono::steady_clock::now() + 30s;
    std::vector<std::pair<int, std::string>> delivered;
    while (delivered.size() < 1100 && std::chrono::steady_clock::now() < deadline) {
      for (int p = 0; p < partitions(); ++p) {
        for (auto& subject : take(js, subs[static_cast<std::size_t>(p)], 0, 50ms)) {
          delivered.emplace_back(p, std::move(subject));
        }
      }
    }
    MESSAGE(delivered.size() << " fetched and acknowledged (AckSync) in "
                             << std::chrono::duration_cast<std::chrono::milliseconds>(
                                    std::chrono::steady_clock::now() - consuming)
                                    .count()
                             << " ms");
    // And nothing beyond them.
    for (auto& sub : subs) CHECK(sub.fetch(10, 200ms).empty());
    for (const auto& [p, subject] : delivered) {
      ++received;
      CHECK(partition_of_subject(subject) == p);
      // cg.p.<n>.<pkey>.<kind>: the key and the kind survive the mapping.
      const auto key_start = subject.find('.', 5) + 1;
      const auto pkey = subject.substr(key_start, 32);
      CHECK(is_partition_key(pkey));
      partitions_of_key[pkey].insert(p);
      ++per_partition[static_cast<std::size_t>(p)];
    }
    CHECK(received == 1100);
    CHECK(partitions_of_key.size() == 1000);
    for (const auto& [pkey, ps] : partitions_of_key) CHECK(ps.size() == 1);
    // 1,100 messages over 8 partitions: about 137 each; a third of that is far below any
    // plausible spread of a uniform hash (the standard deviation is about 11).
    for (int p = 0; p < partitions(); ++p) {
      INFO("partition " << p);
      CHECK(per_partition[static_cast<std::size_t>(p)] >= 1100 / partitions() / 3);
    }
  }

  TEST_CASE("publishing one Nats-Msg-Id twice stores it once (PubAck Duplicate)") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    const auto subject = producer_subject(partition_key(secret, "MBI-dedupe"), message_kind::hl7v2);
    const auto first = js.publish(subject, "ORU", run_id() + "-dedupe-1");
    CHECK_FALSE(first.duplicate);
    const auto again = js.publish(subject, "ORU", run_id() + "-dedupe-1");
    CHECK(again.duplicate);
    CHECK(again.sequence == first.sequence);
    const auto other = js.publish(subject, "ORU", run_id() + "-dedupe-2");
    CHECK_FALSE(other.duplicate);
    CHECK(other.sequence > first.sequence);
    CHECK_THROWS_AS(js.publish(subject, "ORU", ""), nats_error);
  }

  TEST_CASE("asynchronous publishes: each is reported once, in order, duplicates and refusals") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    const auto subject = producer_subject(partition_key(secret, "MBI-async"), message_kind::claim);
    const auto first = js.stream_last_sequence(std::string(in_stream));
    std::mutex m;
    std::vector<std::pair<int, publish_outcome>> outcomes;
    const auto record = [&](int n) {
      return [&, n](const publish_outcome& o) {
        std::lock_guard lock(m);
        outcomes.emplace_back(n, o);
      };
    };
    constexpr int n = 500;
    for (int i = 0; i < n; ++i) {
      js.publish_async(subject, "claim " + std::to_string(i),
                       run_id() + "-async-" + std::to_string(i), {{"Cg-Test", std::to_string(i)}},
                       record(i));
    }
    REQUIRE(js.await_publishes(20s));
    {
      std::lock_guard lock(m);
      REQUIRE(outcomes.size() == std::size_t{n});
      std::set<int> seen;
      for (const auto& [i, o] : outcomes) {
        CHECK(o.stored);
        CHECK(o.error.empty());
        seen.insert(i);
      }
      CHECK(seen.size() == std::size_t{n});
    }
    CHECK(js.stream_last_sequence(std::string(in_stream)) >= first + n);
    // The stream holds them in the order of the calls (one connection), under the mapped
    // subject cg.p.<partition>.<pkey>.<kind>.
    const auto stored = "cg.p.*." + subject.substr(std::string_view("cg.in.").size());
    auto reader = js.read_from(std::string(in_stream), stored, first + 1);
    int expected = 0;
    while (expected < n) {
      auto msg = reader.next(5s);
      REQUIRE(msg.has_value());
      CHECK(msg->data() == "claim " + std::to_string(expected));
      CHECK(msg->header("Cg-Test") == std::to_string(expected));
      ++expected;
    }

    // The same ids again are duplicates: stored, and nothing new in the stream.
    outcomes.clear();
    const auto last = js.stream_last_sequence(std::string(in_stream));
    for (int i = 0; i < 10; ++i) {
      js.publish_async(subject, "again", run_id() + "-async-" + std::to_string(i), {}, record(i));
    }
    REQUIRE(js.await_publishes(20s));
    CHECK(outcomes.size() == 10);
    for (const auto& [i, o] : outcomes) CHECK(o.stored);
    CHECK(js.stream_last_sequence(std::string(in_stream)) == last);

    // No stream takes this subject: reported through the callback, retryable (a stream may
    // be being created), with the operation and the subject.
    outcomes.clear();
    js.publish_async("cg.nowhere.async", "x", run_id() + "-nowhere", {}, record(0));
    REQUIRE(js.await_publishes(20s));
    REQUIRE(outcomes.size() == 1);
    CHECK_FALSE(outcomes[0].second.stored);
    CHECK(outcomes[0].second.retryable);
    MESSAGE(outcomes[0].second.error);
    CHECK(outcomes[0].second.error.find("publish to cg.nowhere.async: ") == 0);

    // Refused before sending: no callback.
    CHECK_THROWS_AS(js.publish_async(subject, "x", "", {}, record(0)), nats_error);
    CHECK(outcomes.size() == 1);
    for (int p = 0; p < partitions(); ++p) drain(js, p);  // no claims left for the workers
  }

  TEST_CASE("the layout is idempotent: streams, one durable per partition, buckets") {
    jetstream js(cluster_settings());
    (void)ensure_layout(js, test_layout());
    auto buckets = ensure_layout(js, test_layout());  // a second worker starting
    for (int p = 0; p < partitions(); ++p) {
      CHECK_NOTHROW(
          (void)js.consumer_info(std::string(in_stream), partition_consumer(p, partitions())));
    }
    CHECK_THROWS_AS((void)js.consumer_info(std::string(in_stream),
                                           partition_consumer(partitions(), partitions() + 1)),
                    nats_error);
    CHECK_NOTHROW((void)js.stream_last_sequence(std::string(out_stream)));
    CHECK(buckets.owners.put("layout-probe-" + run_id(), "x") > 0);
    CHECK(buckets.workers.put("layout-probe-" + run_id(), "x") > 0);
    // CG_IN's retention by age (cluster.in_max_age_hours, §5j): set by a member told one,
    // left as it is by a member that was not (it does not undo another's).
    const std::string in(in_stream);
    CHECK(js.stream_max_age(in) == std::chrono::seconds(0));
    auto trimmed = test_layout();
    trimmed.in_max_age = std::chrono::hours(48);
    (void)ensure_layout(js, trimmed);
    CHECK(js.stream_max_age(in) == std::chrono::hours(48));
    (void)ensure_layout(js, test_layout());
    CHECK(js.stream_max_age(in) == std::chrono::hours(48));
    // CG_OUT's the same way (cluster.out_max_age_hours, §5d), its one-release-per-subject
    // rule kept through the update.
    const std::string out(out_stream);
    CHECK(js.stream_max_age(out) == std::chrono::seconds(0));
    trimmed.out_max_age = std::chrono::hours(72);
    (void)ensure_layout(js, trimmed);
    CHECK(js.stream_max_age(out) == std::chrono::hours(72));
    (void)ensure_layout(js, test_layout());
    CHECK(js.stream_max_age(out) == std::chrono::hours(72));
    // Keeping everything again is an operator's edit of the stream (as here, for the other
    // cases).
    const auto layout = test_layout();
    js.ensure_stream({in, in_stream_subject(), layout.replicas, layout.duplicate_window});
    CHECK(js.stream_max_age(in) == std::chrono::seconds(0));
    stream_settings keep_all{out, out_stream_subject(), layout.replicas, layout.duplicate_window};
    keep_all.one_message_per_subject = true;
    js.ensure_stream(keep_all);
    CHECK(js.stream_max_age(out) == std::chrono::seconds(0));
  }

  TEST_CASE("a release is on CG_OUT once, whichever worker publishes it and however late") {
    jetstream js(cluster_settings());
    cluster_counter counter(js);
    release_publisher first(js, counter.numbers, secret, "w-first");
    release_publisher second(js, counter.numbers, secret, "w-second");
    const std::string key = "RELTEST" + run_id() + "-2";
    const std::string isa =
        "ISA*00*          *00*          *ZZ*GATE01         *ZZ*SUBMITTER      *261130*1200*^*"
        "00501*987654321*0*P*:~";
    const std::string body = isa +
                             "GS*HN*GATE01*SUBMITTER*20261130*1200*1*X*005010X212~"
                             "GE*1*1~IEA*1*987654321~";
    const auto made = first.publish(key, "application/edi-x12", body);
    REQUIRE(made.how == release_result::status::published);
    // The partition rebuilt on another worker makes the same release again: within the
    // duplicate window the message id answers, beyond it the subject's one message.
    const auto again = second.publish(key, "application/edi-x12", body);
    CHECK(again.how == release_result::status::already_published);
    CHECK(again.sequence == made.sequence);
    const auto subject = release_subject(release_token(secret, key));
    const auto late = js.publish(subject, "a second copy", "beyond-the-window-" + run_id());
    CHECK(late.subject_taken);
    CHECK(late.sequence == 0);
    // What CG_OUT holds under the subject: the first copy, renumbered from the cluster's
    // counter, with its key and its worker.
    auto reader = js.read_from(std::string(out_stream), subject, 1);
    const auto stored = reader.next(5s);
    REQUIRE(stored);
    CHECK(stored->stream_sequence() == made.sequence);
    CHECK(stored->header(release_key_header) == key);
    CHECK(stored->header(release_worker_header) == "w-first");
    CHECK(stored->header("Content-Type") == "application/edi-x12");
    const std::string text(stored->data());
    CHECK(text.substr(90, 9) != "987654321");  // ISA13 from the cluster's counter
    CHECK(text.find("IEA*1*" + text.substr(90, 9) + "~") != std::string::npos);
    CHECK_FALSE(reader.next(500ms));  // nothing else under that subject
  }

  TEST_CASE("a review is published under its patient and answered by its reply, or not in time") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    review_requester requests(js, {"w-review", secret, 3s});
    const std::string patient = "REVTEST" + run_id();
    const auto pkey = partition_key(secret, patient);
    // What the holder of the patient's partition sees: the review on its subject, in CG_IN.
    auto holder = js.read_from(std::string(in_stream), "cg.p.*." + pkey + ".rev", 1);
    std::promise<review_answer> answered;
    review_message r;
    r.claim_id = "CLM-REV-1";
    r.reviewer = "alice";
    r.reason = "chart reviewed";
    r.at_ms = 1'780'000'000'000;
    requests.request(patient, r, [&](review_answer a) { answered.set_value(a); });
    const auto published = holder.next(10s);
    REQUIRE(published);
    const int partition = partition_of_subject(published->subject());
    CHECK(partition >= 0);
    CHECK(published->subject().find(patient) == std::string_view::npos);
    const auto decoded = decode_review(published->data());
    REQUIRE(std::holds_alternative<review_message>(decoded));
    CHECK(std::get<review_message>(decoded).claim_id == "CLM-REV-1");
    CHECK(std::get<review_message>(decoded).at_ms == r.at_ms);
    const auto reply_to = published->header("Cg-Reply-To");
    CHECK(reply_to.rfind("_INBOX.cgr.w-review.", 0) == 0);
    js.send(reply_to, "already-closed", {});
    auto first = answered.get_future();
    REQUIRE(first.wait_for(10s) == std::future_status::ready);
    CHECK(first.get() == review_answer::already_closed);

    // Nobody answers the second within the deadline: unavailable, and a reply after it is
    // ignored (the request was answered once).
    std::promise<review_answer> unanswered;
    const auto asked = std::chrono::steady_clock::now();
    r.claim_id = "CLM-REV-2";
    requests.request(patient, r, [&](review_answer a) { unanswered.set_value(a); });
    const auto second = holder.next(10s);
    REQUIRE(second);
    auto late = unanswered.get_future();
    REQUIRE(late.wait_for(10s) == std::future_status::ready);
    CHECK(late.get() == review_answer::unavailable);
    CHECK(std::chrono::steady_clock::now() - asked >= 3s);
    js.send(second->header("Cg-Reply-To"), "done", {});

    // Stopping answers what still waits; what comes after is answered at once.
    std::promise<review_answer> waiting;
    requests.request(patient, r, [&](review_answer a) { waiting.set_value(a); });
    REQUIRE(holder.next(10s));
    requests.stop();
    auto stopped = waiting.get_future();
    REQUIRE(stopped.wait_for(1s) == std::future_status::ready);
    CHECK(stopped.get() == review_answer::unavailable);
    std::optional<review_answer> after_stop;
    requests.request(patient, r, [&](review_answer a) { after_stop = a; });
    CHECK(after_stop == review_answer::unavailable);
    // A claim id beyond the message's limit is not published.
    review_requester other(js, {"w-review2", secret, 3s});
    std::optional<review_answer> too_long;
    r.claim_id.assign(max_review_claim_bytes + 1, 'C');
    other.request(patient, r, [&](review_answer a) { too_long = a; });
    CHECK(too_long == review_answer::malformed);
    drain(js, partition);  // the workers of the process suite need not see these
  }

  TEST_CASE("releases reach each receiver once, in order, after retries, or end as dead letters") {
    jetstream js(cluster_settings());
    cluster_counter counter(js);
    release_publisher publisher(js, counter.numbers, secret, "w-courier");
    const std::string prefix = "DELTEST" + run_id() + "-";
    std::vector<std::string> keys;
    for (int i = 1; i <= 3; ++i) {
      keys.push_back(prefix + std::to_string(i));
      REQUIRE(publisher.publish(keys.back(), "application/edi-x12", "release " + keys.back()).how ==
              release_result::status::published);
    }
    // Two receivers: one takes everything, one refuses each release twice before taking it.
    std::mutex mutex;
    std::condition_variable changed;
    std::vector<std::string> taken, taken_late;
    std::map<std::string, int> refusals;
    std::map<std::string, std::uint32_t> attempts_seen;
    const auto ours = [&](const covgate::store::outbox_item& item) {
      return item.key.rfind(prefix, 0) == 0;  // CG_OUT also holds other cases' releases
    };
    std::vector<release_target> targets;
    targets.push_back(
        {"test|steady-" + run_id(), "test", [&](const covgate::store::outbox_item& item) {
           std::lock_guard lock(mutex);
           if (ours(item)) {
             CHECK(item.body == "release " + item.key);
             taken.push_back(item.key);
           }
           changed.notify_all();
           return std::string();
         }});
    targets.push_back(
        {"test|flaky-" + run_id(), "test", [&](const covgate::store::outbox_item& item) {
           std::lock_guard lock(mutex);
           if (!ours(item)) return std::string();
           attempts_seen[item.key] = item.attempts;
           if (refusals[item.key]++ < 2) return std::string("receiver down");
           taken_late.push_back(item.key);
           changed.notify_all();
           return std::string();
         }});
    // A third receiver can never take them: each is tried max_attempts times, then left as a
    // dead letter, until an operator fixes the receiver and asks for them again.
    std::map<std::string, int> hopeless_attempts;
    bool hopeless_fixed = false;
    std::vector<std::string> taken_by_hand;
    targets.push_back(
        {"test|hopeless-" + run_id(), "test", [&](const covgate::store::outbox_item& item) {
           std::lock_guard lock(mutex);
           if (!ours(item)) return std::string();
           if (hopeless_fixed) {
             CHECK(item.body == "release " + item.key);
             taken_by_hand.push_back(item.key);
             return std::string();
           }
           ++hopeless_attempts[item.key];
           changed.notify_all();
           return std::string("receiver refuses this for good");
         }});
    std::atomic<int> failed_attempts{0};
    std::atomic<int> dead_letters{0};
    std::atomic<int> problems{0};
    release_delivery_settings settings;
    settings.first_backoff = 50ms;
    settings.max_backoff = 200ms;
    settings.max_attempts = 4;
    settings.attempted = [&](const release_target& t, bool delivered, double, std::uint64_t,
                             std::uint64_t, const std::string& error, bool dead) {
      if (!delivered && t.identity.find("flaky") != std::string::npos) {
        CHECK(error == "receiver down");
        CHECK_FALSE(dead);
        ++failed_attempts;
      }
      if (dead) ++dead_letters;
    };
    settings.problem = [&](const release_target&, const std::string&) { ++problems; };
    auto dead_bucket = js.bucket({std::string(dead_letters_bucket), 3, 0s});
    dead_letter_book book(dead_bucket);
    settings.dead_letters = &book;
    //   printf 'test|steady' | sha256sum   (its first 16 hex digits)
    CHECK(delivery_consumer("test|steady") == "out-baf30dde9a3b9c5b");
    {
      release_delivery courier(js, targets, settings);
      std::unique_lock lock(mutex);
      CHECK(changed.wait_for(lock, 30s, [&] {
        return taken.size() >= 3 && taken_late.size() >= 3 && hopeless_attempts.size() == 3 &&
               std::all_of(hopeless_attempts.begin(), hopeless_attempts.end(),
                           [](const auto& entry) { return entry.second >= 4; });
      }));
      std::this_thread::sleep_for(500ms);  // room for a fifth attempt, which must not come
    }
    CHECK(taken == keys);       // each once, in CG_OUT's order
    CHECK(taken_late == keys);  // the flaky receiver too, after two refusals each
    CHECK(failed_attempts.load() >= 6);
    CHECK(attempts_seen[keys[0]] == 2);  // the item says how many attempts came before
    for (const auto& [key, attempts] : hopeless_attempts) CHECK_MESSAGE(attempts == 4, key);
    CHECK(dead_letters.load() == 3);  // only ours fail, each once for good
    CHECK(problems.load() == 0);
    // Nothing is left in hand: both consumers acknowledged everything they were given.
    for (const auto& t : targets) {
      const auto state = js.consumer_info(std::string(out_stream), delivery_consumer(t.identity));
      CHECK(state.ack_pending == 0);
    }
    // A second courier on the same receiver (another front) delivers nothing again, and not
    // for want of reaching its consumer.
    {
      std::vector<release_target> again{targets[0]};
      release_delivery courier(js, again, settings);
      std::this_thread::sleep_for(1500ms);
      CHECK(courier.backlog() == std::vector<std::uint64_t>{0});
    }
    CHECK(problems.load() == 0);
    {
      std::lock_guard lock(mutex);
      CHECK(taken == keys);
    }

    // The hopeless receiver's three dead letters are in KV cg-dead, by CG_OUT sequence, with
    // their keys, attempts and the receiver's last word; the other receivers have none.
    const auto hopeless = delivery_consumer(targets[2].identity);
    auto dead = book.list({hopeless}, false, 0, 100);
    REQUIRE(dead.size() == 3);
    for (std::size_t i = 0; i < dead.size(); ++i) {
      CHECK(dead[i].key == keys[i]);
      CHECK(dead[i].attempts == 4);
      CHECK(dead[i].error == "receiver refuses this for good");
      CHECK_FALSE(dead[i].delivered);
    }
    CHECK(
        book.list({delivery_consumer(targets[0].identity), delivery_consumer(targets[1].identity)},
                  false, 0, 100)
            .empty());
    // Fixed, the receiver gets the first of them again by hand: delivered once, recorded as
    // delivered (kept for the record), and a second retry finds nothing to do. The consumer
    // itself never offers them again (a new courier on it delivers nothing).
    {
      std::lock_guard lock(mutex);
      hopeless_fixed = true;
    }
    release_delivery courier(js, targets, settings);
    const auto redone = courier.redeliver(dead[0].sequence);
    REQUIRE(redone.size() == 1);
    CHECK(redone[0].target == 2);
    CHECK(redone[0].letter.delivered);
    CHECK(redone[0].letter.attempts == 5);
    CHECK(redone[0].letter.error.empty());
    CHECK(courier.redeliver(dead[0].sequence).empty());
    CHECK(courier.redeliver(dead[2].sequence + 1'000'000).empty());  // no one's dead letter
    std::this_thread::sleep_for(1500ms);
    courier.stop();
    {
      std::lock_guard lock(mutex);
      CHECK(taken_by_hand == std::vector<std::string>{keys[0]});
    }
    CHECK(book.list({hopeless}, false, 0, 100).size() == 2);
    const auto done = book.list({hopeless}, true, 0, 100);
    REQUIRE(done.size() == 1);
    CHECK(done[0].key == keys[0]);
    CHECK(problems.load() == 0);
  }

  TEST_CASE("a slow receiver keeps its release in hand; one lost in hand comes back soon") {
    jetstream js(cluster_settings());
    cluster_counter counter(js);
    release_publisher publisher(js, counter.numbers, secret, "w-courier");
    const std::string slow_key = "DELTEST" + run_id() + "-slow-1";
    const std::string lost_key = "DELTEST" + run_id() + "-lost-1";
    for (const auto& key : {slow_key, lost_key}) {
      REQUIRE(publisher.publish(key, "application/edi-x12", "release " + key).how ==
              release_result::status::published);
    }
    std::mutex mutex;
    std::condition_variable changed;
    std::map<std::string, int> attempts;  // receiver -> attempts at its release
    std::map<std::string, std::uint32_t> earlier;
    const auto receiver = [&](const std::string& name, const std::string& ours,
                              std::chrono::milliseconds takes) {
      return release_target{"test|" + name + "-" + run_id(), "test",
                            [&, name, ours, takes](const covgate::store::outbox_item& item) {
                              if (item.key != ours) return std::string();
                              std::this_thread::sleep_for(takes);
                              std::lock_guard lock(mutex);
                              ++attempts[name];
                              earlier[name] = item.attempts;
                              changed.notify_all();
                              return std::string();
                            }};
    };
    release_delivery_settings settings;
    settings.ack_wait = 1s;

    // Two fronts share a receiver that takes three times ack_wait: the release stays with the
    // first front that took it (it says it is still at work), and is delivered once.
    {
      const auto slow = receiver("slow", slow_key, 3s);
      release_delivery front_a(js, {slow}, settings);
      release_delivery front_b(js, {slow}, settings);
      std::unique_lock lock(mutex);
      CHECK(changed.wait_for(lock, 30s, [&] { return attempts["slow"] >= 1; }));
      lock.unlock();
      std::this_thread::sleep_for(4s);  // a second attempt would have started and ended
      lock.lock();
      CHECK(attempts["slow"] == 1);
      CHECK(earlier["slow"] == 0);
    }

    // A release fetched and then lost in hand (a front killed before its answer, or a fetch
    // reply lost with a node) by a consumer an older front made with a minute's ack_wait: a
    // front with a short ack_wait sets it on the consumer, and delivers the release well
    // before the minute is out.
    const auto lost = receiver("lost", lost_key, 0ms);
    const auto consumer = delivery_consumer(lost.identity);
    js.ensure_consumer({std::string(out_stream), consumer, out_stream_subject(), 60s, 1});
    {
      auto sub = js.bind(std::string(out_stream), consumer, out_stream_subject());
      bool dropped = false;
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (!dropped && std::chrono::steady_clock::now() < deadline) {
        for (auto& m : sub.fetch(1, 1s)) {
          if (m.header(release_key_header) == lost_key) {
            dropped = true;  // destroyed unacknowledged
          } else {
            m.ack_sync(js.retry());
          }
        }
      }
      REQUIRE(dropped);
    }
    settings.ack_wait = 2s;
    const auto started = std::chrono::steady_clock::now();
    release_delivery front(js, {lost}, settings);
    std::unique_lock lock(mutex);
    CHECK(changed.wait_for(lock, 40s, [&] { return attempts["lost"] >= 1; }));
    const auto took = std::chrono::steady_clock::now() - started;
    MESSAGE("a release lost in hand came back after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count() << " ms");
    CHECK(took < 20s);
    // The lost delivery counts as an attempt: at least one came before. Not exactly one: CI
    // saw 2 once, with a build beside the tests (not reproduced; presumably a fetch of the
    // front's own that expired as the server answered it, a delivery nobody saw that counts).
    CHECK(earlier["lost"] >= 1);
    lock.unlock();
    front.stop();
    CHECK(js.consumer_info(std::string(out_stream), consumer).ack_pending == 0);
  }

  TEST_CASE(
      "a claim lookup is answered by the holder, unknown once the answers cover every "
      "partition, else unavailable") {
    jetstream js(cluster_settings());
    // Two workers: one holds the first half of the partitions (and CLAIM-A), the other the
    // rest, unless it is still catching up the last one.
    const int n = partitions();
    const std::string held = "CLAIM-A-" + run_id();
    std::atomic<int> asked_of_idle{0};
    std::atomic<bool> catching_up{false};
    const auto range = [](int from, int to) {
      std::vector<int> out;
      for (int p = from; p < to; ++p) out.push_back(p);
      return out;
    };
    claim_lookup_responder holder(js, "w-holder", [&](std::string_view id) {
      claim_lookup_answer a;
      a.caught_up = range(0, n / 2);
      if (id == held) a.claim = R"({"claim_id":")" + held + R"("})";
      return a;
    });
    claim_lookup_responder idle(js, "w-idle", [&](std::string_view) {
      ++asked_of_idle;
      claim_lookup_answer a;
      a.caught_up = range(n / 2, catching_up ? n - 1 : n);
      return a;
    });
    std::this_thread::sleep_for(300ms);  // both subscribed
    const auto found = look_up_claim(js, "f-test", held, n, 5s);
    CHECK(found.how == claim_lookup_result::status::found);
    CHECK(found.body == R"({"claim_id":")" + held + R"("})");
    CHECK(found.worker == "w-holder");
    const auto started = std::chrono::steady_clock::now();
    const auto unknown = look_up_claim(js, "f-test", "NO-SUCH-" + run_id(), n, 5s);
    CHECK(unknown.how == claim_lookup_result::status::unknown);
    CHECK(unknown.answers == 2);
    CHECK(std::chrono::steady_clock::now() - started < 4s);  // every partition named: no wait
    // A partition no answer names (its holder died, or its new holder is catching it up) may
    // hold the claim: the cluster cannot say.
    catching_up = true;
    const auto missing = look_up_claim(js, "f-test", "NO-SUCH-" + run_id(), n, 700ms);
    CHECK(missing.how == claim_lookup_result::status::unavailable);
    // Asked at 0 and 250 ms (the next, at 750 ms, is past the wait), each time by both.
    CHECK(missing.answers == 4);
    CHECK(missing.not_held_by.size() == 2);  // each worker named once
    CHECK(missing.uncovered == std::vector<int>{n - 1});
    // A worker that finishes catching the partition up during the wait is heard, because the
    // question is asked again; before, the asker waited out its wait on the first answers.
    std::thread caught_up_later([&] {
      std::this_thread::sleep_for(400ms);
      catching_up = false;
    });
    const auto later = look_up_claim(js, "f-test", "NO-SUCH-" + run_id(), n, 5s);
    caught_up_later.join();
    CHECK(later.how == claim_lookup_result::status::unknown);
    CHECK(later.uncovered.empty());
    // An id no claim can have is not asked.
    const auto before = asked_of_idle.load();
    CHECK(look_up_claim(js, "f-test", std::string(max_lookup_claim_id + 1, 'X'), n, 5s).how ==
          claim_lookup_result::status::unknown);
    CHECK(look_up_claim(js, "f-test", "", n, 5s).how == claim_lookup_result::status::unknown);
    std::this_thread::sleep_for(200ms);
    CHECK(asked_of_idle.load() == before);
    // A query whose reply subject is not an inbox is not answered (it could have been cg.in).
    const std::string not_an_inbox = "cg.test.lookup." + run_id();
    auto listener = js.subscribe(not_an_inbox);
    js.send(std::string(claim_query_subject), held, {{"Cg-Reply-To", not_an_inbox}});
    CHECK_FALSE(listener.next(700ms));
    holder.stop();
    idle.stop();
  }

  TEST_CASE("a batched claim lookup asks once: each claim found, unknown, or unavailable") {
    jetstream js(cluster_settings());
    const int n = partitions();
    const std::string a = "CLAIM-BA-" + run_id(), b = "CLAIM-BB-" + run_id(),
                      c = "CLAIM-BC-" + run_id();
    std::atomic<bool> catching_up{false};
    std::atomic<int> questions{0};
    const auto range = [](int from, int to) {
      std::vector<int> out;
      for (int p = from; p < to; ++p) out.push_back(p);
      return out;
    };
    // Two workers: the first holds the first half of the partitions and claims A and B, the
    // second the rest and claim C, unless it is still catching up the last partition.
    claim_lookup_responder first(js, "w-first", [&](std::string_view id) {
      claim_lookup_answer answer;
      answer.caught_up = range(0, n / 2);
      if (id == a || id == b) answer.claim = R"({"claim_id":")" + std::string(id) + R"("})";
      return answer;
    });
    claim_lookup_responder second(js, "w-second", [&](std::string_view id) {
      if (id == c) ++questions;
      claim_lookup_answer answer;
      answer.caught_up = range(n / 2, catching_up ? n - 1 : n);
      if (id == c) answer.claim = R"({"claim_id":")" + c + R"("})";
      return answer;
    });
    std::this_thread::sleep_for(300ms);  // both subscribed
    using status = claim_lookup_result::status;
    const auto started = std::chrono::steady_clock::now();
    const auto r = look_up_claims(js, "f-test", {a, "NO-SUCH-" + run_id(), c, "", b}, n, 5s);
    CHECK(std::chrono::steady_clock::now() - started < 4s);  // every partition named: no wait
    REQUIRE(r.size() == 5);
    CHECK(r[0].how == status::found);
    CHECK(r[0].body == R"({"claim_id":")" + a + R"("})");
    CHECK(r[0].worker == "w-first");
    CHECK(r[1].how == status::unknown);
    CHECK(r[1].not_held_by.size() == 2);
    CHECK(r[2].how == status::found);
    CHECK(r[2].worker == "w-second");
    CHECK(r[3].how == status::unknown);  // no claim has an empty id: not asked
    CHECK(r[4].how == status::found);
    CHECK(r[4].body == R"({"claim_id":")" + b + R"("})");
    CHECK(questions.load() == 1);  // one question for all of them
    // Every claim found: the answer comes without waiting for every partition.
    const auto all_found = look_up_claims(js, "f-test", {c, a}, n, 5s);
    CHECK(all_found[0].how == status::found);
    CHECK(all_found[1].how == status::found);
    // A partition no answer names may hold what was not found: the cluster cannot say, for
    // those ids only.
    catching_up = true;
    const auto missing = look_up_claims(js, "f-test", {a, "NO-SUCH-" + run_id()}, n, 700ms);
    CHECK(missing[0].how == status::found);
    CHECK(missing[1].how == status::unavailable);
    CHECK(missing[1].uncovered == std::vector<int>{n - 1});
    catching_up = false;
    // Past the batch limit: refused before anything is asked.
    CHECK_THROWS_AS((void)look_up_claims(
                        js, "f-test", std::vector<std::string>(max_lookup_batch + 1, "X"), n, 1s),
                    std::invalid_argument);
    CHECK(look_up_claims(js, "f-test", {}, n, 1s).empty());
    first.stop();
    second.stop();
  }

  TEST_CASE("a worker whose answer throws (a store it cannot read) leaves it unanswered, alive") {
    jetstream js(cluster_settings());
    const int n = partitions();
    const std::string a = "CLAIM-TA-" + run_id();
    std::atomic<bool> failing{true};
    std::vector<int> all;
    for (int p = 0; p < n; ++p) all.push_back(p);
    claim_lookup_responder only(js, "w-only", [&](std::string_view id) {
      if (failing) throw covgate::store::store_error("sqlite: database disk image is malformed");
      claim_lookup_answer answer;
      answer.caught_up = all;
      if (id == a) answer.claim = R"({"claim_id":")" + a + R"("})";
      return answer;
    });
    std::this_thread::sleep_for(300ms);  // subscribed
    using status = claim_lookup_result::status;
    // Before the fix the exception ended the process (std::terminate from the responder's
    // thread); now the question goes unanswered and the asker says the cluster cannot tell.
    const auto while_failing = look_up_claims(js, "f-test", {a}, n, 700ms);
    REQUIRE(while_failing.size() == 1);
    CHECK(while_failing[0].how == status::unavailable);
    CHECK(while_failing[0].uncovered == all);
    // The same thread answers once the store reads again.
    failing = false;
    const auto after = look_up_claims(js, "f-test", {a}, n, 5s);
    REQUIRE(after.size() == 1);
    CHECK(after[0].how == status::found);
    CHECK(after[0].worker == "w-only");
    only.stop();
  }

  TEST_CASE("a CLM01 two billing providers' claims have is ambiguous, on two workers or one") {
    // Claims are keyed by CLM01 and billing NPI: asked by its CLM01 alone, a claim is heard
    // from every partition and the NPIs its holders name are gathered; asked by its key, its
    // holder answers.
    jetstream js(cluster_settings());
    const int n = partitions();
    const std::string two_workers = "AMB-2W-" + run_id(), one_worker = "AMB-1W-" + run_id(),
                      single = "AMB-1P-" + run_id();
    const auto range = [](int from, int to) {
      std::vector<int> out;
      for (int p = from; p < to; ++p) out.push_back(p);
      return out;
    };
    const auto key2 = covgate::model::claim_key(two_workers, "2222222223");
    claim_lookup_responder first(js, "w-first", [&](std::string_view id) {
      claim_lookup_answer answer;
      answer.caught_up = range(0, n / 2);
      if (id == two_workers || id == single) {
        answer.claim = "first " + std::string(id);
        answer.billing_npi = "1111111112";
      } else if (id == one_worker) {  // both providers' claims in this worker's partitions
        answer.claim = "first " + std::string(id);
        answer.billing_npi = "1111111112";
        answer.also_billed_by = {"3333333334"};
      }
      return answer;
    });
    claim_lookup_responder second(js, "w-second", [&](std::string_view id) {
      claim_lookup_answer answer;
      answer.caught_up = range(n / 2, n);
      if (id == two_workers || id == key2) {
        answer.claim = "second " + std::string(id);
        answer.billing_npi = "2222222223";
      }
      return answer;
    });
    std::this_thread::sleep_for(300ms);  // both subscribed
    using status = claim_lookup_result::status;
    const auto across = look_up_claim(js, "f-test", two_workers, n, 5s);
    CHECK(across.how == status::ambiguous);
    CHECK(across.billing_npis == std::vector<std::string>{"1111111112", "2222222223"});
    const auto within = look_up_claim(js, "f-test", one_worker, n, 5s);
    CHECK(within.how == status::ambiguous);
    CHECK(within.billing_npis == std::vector<std::string>{"1111111112", "3333333334"});
    const auto one = look_up_claim(js, "f-test", single, n, 5s);
    CHECK(one.how == status::found);
    CHECK(one.body == "first " + single);
    const auto by_key = look_up_claim(js, "f-test", key2, n, 5s);
    CHECK(by_key.how == status::found);
    CHECK(by_key.worker == "w-second");
    const auto batch = look_up_claims(js, "f-test", {single, two_workers, key2, one_worker}, n, 5s);
    REQUIRE(batch.size() == 4);
    CHECK(batch[0].how == status::found);
    CHECK(batch[1].how == status::ambiguous);
    CHECK(batch[1].billing_npis == std::vector<std::string>{"1111111112", "2222222223"});
    CHECK(batch[2].how == status::found);
    CHECK(batch[2].body == "second " + key2);
    CHECK(batch[3].how == status::ambiguous);
    first.stop();
    second.stop();
  }

  TEST_CASE("a resource lookup is answered with the resource, as retracted, or unknown") {
    jetstream js(cluster_settings());
    const int n = partitions();
    const std::string id = run_id();
    std::vector<int> all;
    for (int p = 0; p < n; ++p) all.push_back(p);
    std::atomic<int> asked{0};
    resource_lookup_responder holder(js, "w-holder", [&](std::string_view resource) {
      ++asked;
      resource_lookup_answer a;
      a.caught_up = all;
      if (resource == "Observation/a-" + id) a.resource = R"({"resourceType":"Observation"})";
      if (resource == "Observation/gone-" + id) a.retracted = true;
      return a;
    });
    std::this_thread::sleep_for(300ms);  // subscribed
    const auto found = look_up_resource(js, "f-test", "Observation/a-" + id, n, 5s);
    CHECK(found.how == claim_lookup_result::status::found);
    CHECK_FALSE(found.gone);
    CHECK(found.body == R"({"resourceType":"Observation"})");
    const auto gone = look_up_resource(js, "f-test", "Observation/gone-" + id, n, 5s);
    CHECK(gone.how == claim_lookup_result::status::found);
    CHECK(gone.gone);
    CHECK(gone.body.empty());
    CHECK(look_up_resource(js, "f-test", "Observation/none-" + id, n, 5s).how ==
          claim_lookup_result::status::unknown);
    // Claims are asked on their own subject: the resource responder does not hear them.
    const auto before = asked.load();
    CHECK(look_up_claim(js, "f-test", "Observation/a-" + id, n, 700ms).how ==
          claim_lookup_result::status::unavailable);
    // Nor is a key longer than a type and an id can be asked.
    CHECK(look_up_resource(js, "f-test", std::string(max_lookup_resource + 1, 'X'), n, 5s).how ==
          claim_lookup_result::status::unknown);
    std::this_thread::sleep_for(200ms);
    CHECK(asked.load() == before);
    holder.stop();
  }

  TEST_CASE("an audit is gathered per partition, rows past a NATS message in chunks, whole") {
    jetstream js(cluster_settings());
    const int n = partitions();
    REQUIRE(n >= 4);
    std::string asked;
    std::mutex asking;
    // Rows that differ byte by byte, so a chunk put in the wrong place shows.
    const auto varied = [](std::size_t size) {
      std::string out(size, '\0');
      for (std::size_t i = 0; i < size; ++i)
        out[i] = static_cast<char>('a' + (i * 7 + i / 4093) % 26);
      return out;
    };
    // Two workers, half the partitions each. Partition 0's rows are exactly as large as one
    // answer may be, partition 1's one byte more (two chunks), partition 2's two and a half
    // answers (three chunks), partition 3's past what one partition may send.
    const auto rows_of = [&](int from, int to, std::string_view request) {
      {
        std::lock_guard lock(asking);
        asked = std::string(request);
      }
      std::map<int, std::string> out;
      for (int p = from; p < to; ++p) out[p] = "rows-" + std::to_string(p);
      if (from == 0) {
        out[0] = std::string(max_audit_part_bytes, 'x');
        out[1] = varied(max_audit_part_bytes + 1);
        out[2] = varied(max_audit_part_bytes * 5 / 2);
        out[3] = std::string(max_audit_partition_bytes + 1, 'y');
      }
      return out;
    };
    audit_parts_responder first(js, "w-first",
                                [&](std::string_view r) { return rows_of(0, n / 2, r); });
    audit_parts_responder second(js, "w-second",
                                 [&](std::string_view r) { return rows_of(n / 2, n, r); });
    std::this_thread::sleep_for(300ms);  // both subscribed
    const auto r = gather_audit_parts(js, "f-test", "2026-04-01,csv", n, 10s);
    CHECK(r.complete);
    CHECK(r.uncovered.empty());
    CHECK(r.broken.empty());
    // One per partition and the chunks after the first; more when a slow answer (64 MB built)
    // let the question be asked again and both workers answer again.
    CHECK(r.answers >= n + 1 + 2);
    {
      std::lock_guard lock(asking);
      CHECK(asked == "2026-04-01,csv");
    }
    REQUIRE(r.rows.count(0) == 1);
    CHECK(r.rows.at(0).size() == max_audit_part_bytes);
    REQUIRE(r.rows.count(1) == 1);
    CHECK(r.rows.at(1) == varied(max_audit_part_bytes + 1));
    REQUIRE(r.rows.count(2) == 1);
    CHECK(r.rows.at(2) == varied(max_audit_part_bytes * 5 / 2));
    CHECK(r.rows.count(3) == 0);
    CHECK(r.too_large == std::map<int, std::size_t>{{3, max_audit_partition_bytes + 1}});
    for (int p = 4; p < n; ++p) CHECK(r.rows.at(p) == "rows-" + std::to_string(p));
    second.stop();
    // Without the second worker, its partitions are not answered for. The first's may not all
    // be either: its replies go out one by one, and under load (an ASan build in CI) building
    // and sending its 64 MB partition outlasted this short wait, once before any reply and
    // once part way through. So the first's count anywhere from none to all.
    const auto half = gather_audit_parts(js, "f-test", "2026-04-01,csv", n, 700ms);
    CHECK_FALSE(half.complete);
    CHECK(half.uncovered.size() >= static_cast<std::size_t>(n - n / 2));
    CHECK(half.uncovered.size() <= static_cast<std::size_t>(n));
    for (int p = n / 2; p < n; ++p) {
      CHECK_MESSAGE(
          std::find(half.uncovered.begin(), half.uncovered.end(), p) != half.uncovered.end(),
          "partition " << p << " counted as answered");
    }
    first.stop();

    // A partition whose last chunk comes without the one before it (lost on the way) is
    // answered for, but its rows are not taken: broken.
    partition_query_responder lossy(
        js, std::string(audit_query_subject), "w-lossy", [&](const fetched_message&) {
          std::vector<partition_query_responder::reply> out;
          for (int p = 0; p < n; ++p) {
            auto replies = audit_replies(p, p == 0 ? varied(max_audit_part_bytes * 3) : "rows",
                                         /*chunked=*/true);
            if (p == 0) replies.erase(replies.begin() + 1);
            for (auto& reply : replies) out.push_back(std::move(reply));
          }
          return out;
        });
    std::this_thread::sleep_for(300ms);
    const auto lost = gather_audit_parts(js, "f-test", "2026-04-01,csv", n, 5s);
    CHECK(lost.complete);
    CHECK(lost.broken == std::vector<int>{0});
    CHECK(lost.rows.count(0) == 0);
    CHECK(lost.rows.size() == static_cast<std::size_t>(n - 1));
    lossy.stop();
  }

  TEST_CASE("a partition's lag counts what its consumer has not delivered yet") {
    jetstream js(cluster_settings());
    auto buckets = ensure_in_stream(js);
    const lease_timing timing;
    const auto before = read_partition_status(js, buckets.owners, partitions(), 0, timing);
    const auto subject = producer_subject(partition_key(secret, "MBI-lag"), message_kind::claim);
    for (int i = 0; i < 3; ++i) js.publish(subject, "x", run_id() + "-lag-" + std::to_string(i));
    const auto after = read_partition_status(js, buckets.owners, partitions(), 0, timing);
    int changed = -1;
    for (int p = 0; p < partitions(); ++p) {
      const auto i = static_cast<std::size_t>(p);
      if (after[i].lag != before[i].lag) {
        CHECK(changed == -1);
        CHECK(after[i].lag == before[i].lag + 3);
        changed = p;
      }
    }
    REQUIRE(changed >= 0);
    drain(js, changed);
    CHECK(read_partition_status(js, buckets.owners, partitions(), 0,
                                timing)[static_cast<std::size_t>(changed)]
              .lag == 0);
  }

  TEST_CASE("partition_of_token names the partition the servers' mapping routes a token to") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    // Twenty patients: each message lands where partition_of_token says, read back from the
    // stream by its sequence (jetstream::message).
    std::set<int> used;
    for (int i = 0; i < 20; ++i) {
      const auto token = partition_key(secret, "MBI-route-" + std::to_string(i));
      const auto stored = js.publish(producer_subject(token, message_kind::claim), "x",
                                     run_id() + "-route-" + std::to_string(i));
      const auto message = js.message(std::string(in_stream), stored.sequence);
      REQUIRE(message);
      CHECK(message->data == "x");
      CHECK_MESSAGE(
          partition_of_subject(message->subject) == partition_of_token(token, partitions()),
          message->subject);
      used.insert(partition_of_token(token, partitions()));
    }
    CHECK(used.size() > 1);
    for (const int p : used) drain(js, p);
    CHECK_FALSE(
        js.message(std::string(in_stream), js.stream_last_sequence(std::string(in_stream)) + 1000));
  }

  TEST_CASE("failures name the operation and the object, and say whether a retry may help") {
    connection_settings nowhere = cluster_settings();
    nowhere.urls = {"nats://127.0.0.1:1"};
    nowhere.connect_timeout = 500ms;
    try {
      jetstream unreachable(nowhere);
      FAIL("connected to a closed port");
    } catch (const nats_error& e) {
      MESSAGE(std::string(e.what()));
      CHECK(std::string(e.what()).find("connect to NATS") == 0);
    }

    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    try {
      (void)js.bind(std::string(in_stream), "part-missing", "cg.p.0.>");
      FAIL("bound to a consumer that does not exist");
    } catch (const nats_error& e) {
      MESSAGE(std::string(e.what()));
      CHECK_FALSE(e.retryable());
      CHECK(std::string(e.what()).find("bind to consumer part-missing of stream CG_IN") == 0);
    }
    try {
      (void)js.stream_last_sequence("NO_SUCH_STREAM");
      FAIL("read a stream that does not exist");
    } catch (const nats_error& e) {
      CHECK_FALSE(e.retryable());
      CHECK(std::string(e.what()).find("read the state of stream NO_SUCH_STREAM") == 0);
    }
    // Placement can fail for a while when the cluster forms or a node is down (JetStream error
    // 10005): that is worth retrying. Five replicas on three nodes never place, so the retries
    // run out and the last failure says so. (CI once met 10005 at the start: regression.)
    connection_settings impatient = cluster_settings();
    impatient.retry = retry_policy{2, 50ms, 50ms};
    jetstream quick(impatient);
    try {
      quick.ensure_stream(stream_settings{"CG_TOO_WIDE", "cg.too-wide.>", 5});
      FAIL("placed five replicas on three nodes");
    } catch (const nats_error& e) {
      MESSAGE(std::string(e.what()));
      CHECK(e.retryable());
      CHECK(std::string(e.what()).find("create or update stream CG_TOO_WIDE") == 0);
    }
  }

  TEST_CASE("TLS with a client certificate and a user's password connect; without either, not") {
    const std::string tls = env("COVGATE_NATS_TLS_DIR");
    connection_settings s;
    s.urls = {env("COVGATE_NATS_TLS_URL")};
    s.connect_timeout = 2s;
    s.ca_file = tls + "/ca.pem";
    s.cert_file = tls + "/client.pem";
    s.key_file = tls + "/client.key";
    s.user = "covgate";
    s.password = "test-password";
    CHECK_NOTHROW(jetstream{s});

    // Each refusal, with the text an operator would read.
    const auto refused = [](const connection_settings& settings) -> std::string {
      try {
        jetstream connected(settings);
      } catch (const nats_error& e) {
        MESSAGE(std::string(e.what()));
        return e.what();
      }
      return "";
    };
    auto wrong_password = s;
    wrong_password.password = "not-it";
    CHECK(refused(wrong_password).find("Authorization Violation") != std::string::npos);
    auto no_certificate = s;
    no_certificate.cert_file.clear();
    no_certificate.key_file.clear();
    // The server drops the handshake; nats.c 3.4.1 reports it as a protocol error.
    CHECK(refused(no_certificate).find("connect to NATS") == 0);
    auto unknown_ca = s;
    unknown_ca.ca_file = tls + "/client.pem";  // not the CA that signed the server
    CHECK(refused(unknown_ca).find("SSL") != std::string::npos);
  }

  TEST_CASE("KV create-if-absent and compare-and-set report a lost race, not an error") {
    jetstream js(cluster_settings());
    auto kv = js.bucket({"cg-test-cas", 3, 0s});
    const std::string key = "k-" + run_id();
    CHECK_FALSE(kv.get(key));
    const auto created = kv.create(key, "one");
    REQUIRE(created);
    CHECK_FALSE(kv.create(key, "two"));
    const auto entry = kv.get(key);
    REQUIRE(entry);
    CHECK(entry->value == "one");
    CHECK(entry->revision == *created);
    const auto updated = kv.update(key, "three", *created);
    REQUIRE(updated);
    CHECK(*updated > *created);
    CHECK_FALSE(kv.update(key, "stale", *created));
    CHECK(kv.get(key)->value == "three");
    // Every read follows the write before it: a read is the stream leader's, never a
    // follower's that may not have applied the write yet (nats.c's direct gets read "one"
    // above once on a loaded machine).
    auto revision = *updated;
    for (int i = 0; i < 100; ++i) {
      const auto value = "v" + std::to_string(i);
      const auto next = kv.update(key, value, revision);
      REQUIRE(next);
      revision = *next;
      const auto read = kv.get(key);
      REQUIRE(read);
      CHECK(read->value == value);
      CHECK(read->revision == revision);
    }
    const auto keys = kv.keys();
    CHECK(std::find(keys.begin(), keys.end(), key) != keys.end());
  }

  TEST_CASE("a bucket's key listing names every key, dotted ones whole") {
    // The listing reads the subjects of the bucket's stream (nats.c 3.4.1's own listing timed
    // out with a NATS node down): every key, by its whole name, and no other bucket's.
    jetstream js(cluster_settings());
    auto kv = js.bucket({"cg-test-keys", 3, 0s});
    auto other = js.bucket({"cg-test-keys-other", 3, 0s});
    const std::string run = run_id();
    std::set<std::string> written;
    for (int i = 0; i < 150; ++i) {
      const std::string key = "r" + run + ".part." + std::to_string(i);
      kv.put(key, "v");
      written.insert(key);
    }
    other.put("r" + run + ".elsewhere", "v");
    std::set<std::string> listed;
    for (const auto& key : kv.keys()) {
      if (key.starts_with("r" + run + ".")) listed.insert(key);
    }
    CHECK(listed == written);
  }

  TEST_CASE("a subject's held messages are counted, and purged below a sequence only") {
    // The identity map's forward (§4): what it read is purged, a hold stored after it stays.
    jetstream js(cluster_settings());
    (void)ensure_layout(js, test_layout());
    const std::string stream(wait_stream);
    const auto token = identity_token(secret, "Patient/purge-" + run_id());
    const auto filter = "cg.wait." + token + ".*";
    CHECK(js.messages_on(stream, filter) == 0);
    std::vector<std::uint64_t> sequences;
    for (int i = 0; i < 3; ++i) {
      const auto kind = i == 1 ? message_kind::hl7v2 : message_kind::fhir;
      sequences.push_back(js.publish(wait_subject(token, kind), "held " + std::to_string(i),
                                     "purge-" + run_id() + "-" + std::to_string(i))
                              .sequence);
    }
    const auto other = identity_token(secret, "Patient/other-" + run_id());
    (void)js.publish(wait_subject(other, message_kind::fhir), "other's", "purge-o-" + run_id());
    CHECK(js.messages_on(stream, filter) == 3);
    // GET /identities/waiting's listing: both identities, the one with more messages first,
    // dated by its oldest message; a limit of one lists that one and still counts both.
    const auto unix_ms = [] {
      return std::chrono::duration_cast<std::chrono::milliseconds>(
                 std::chrono::system_clock::now().time_since_epoch())
          .count();
    };
    const auto before_ms = unix_ms() - 60'000;
    const auto listing = waiting_on_identities(js, 1000, 5s);
    CHECK(listing.messages >= 4);
    CHECK(listing.identities >= 2);
    const auto entry_of = [&](const std::string& t) -> const waiting_identity* {
      for (const auto& e : listing.listed) {
        if (e.token == t) return &e;
      }
      return nullptr;
    };
    const auto* mine = entry_of(token);
    REQUIRE(mine != nullptr);
    CHECK(mine->messages == 3);
    CHECK(mine->fhir == 2);
    CHECK(mine->hl7v2 == 1);
    CHECK(mine->oldest_ms > before_ms);
    CHECK(mine->oldest_ms <= unix_ms() + 5'000);
    const auto* others = entry_of(other);
    REQUIRE(others != nullptr);
    CHECK(others->messages == 1);
    CHECK(others->oldest_ms >= mine->oldest_ms);  // stored after
    const auto one = waiting_on_identities(js, 1, 5s);
    CHECK(one.listed.size() == 1);
    CHECK(one.identities == listing.identities);
    js.purge_subject(stream, filter, sequences[2]);  // the first two were forwarded
    CHECK(js.messages_on(stream, filter) == 1);
    js.purge_subject(stream, filter, sequences[2]);  // a second front's repeat: nothing more
    CHECK(js.messages_on(stream, filter) == 1);
    CHECK(js.messages_on(stream, "cg.wait." + other + ".*") == 1);  // another identity's stays
    auto reader = js.read_from(stream, filter, 1);
    const auto left = reader.next(5s);
    REQUIRE(left);
    CHECK(left->stream_sequence() == sequences[2]);
    CHECK(left->pending() == 0);
    js.purge_subject(stream, filter, sequences[2] + 10);  // a later case counts CG_WAIT
    js.purge_subject(stream, "cg.wait." + other + ".*", sequences[2] + 10);
    CHECK(js.messages_on(stream, "cg.wait.>") == 0);
  }

  TEST_CASE("a partition's snapshot is stored in chunks and read back whole, or not at all") {
    jetstream js(cluster_settings());
    (void)ensure_layout(js, test_layout());
    // A partition number no worker uses (the book takes any), cleared of an earlier run's.
    const int partition = 900 + static_cast<int>(std::random_device{}() % 90);
    const std::string stream(snapshot_stream);
    const auto subjects = "cg.snap." + std::to_string(partition) + ".>";
    js.purge_subject(stream, subjects, js.stream_last_sequence(stream) + 1);
    snapshot_book book(js, 1000);
    CHECK_FALSE(book.get(partition));
    CHECK_FALSE(book.manifest(partition));

    std::string big;
    for (int i = 0; i < 3500; ++i) big.push_back(static_cast<char>(i * 7 % 256));
    const auto first = book.put(partition, 120, 4, big);
    CHECK(first.chunks == 4);
    auto read = book.get(partition);
    REQUIRE(read);
    CHECK(read->bytes == big);
    CHECK(read->manifest.stream_seq == 120);
    CHECK(read->manifest.epoch == 4);
    CHECK(read->manifest.id == first.id);
    CHECK(js.messages_on(stream, subjects) == 5);  // four chunks and the manifest

    // A shorter one replaces it, and the chunks it no longer needs go.
    const auto second = book.put(partition, 180, 5, "small");
    CHECK(second.chunks == 1);
    read = book.get(partition);
    REQUIRE(read);
    CHECK(read->bytes == "small");
    CHECK(read->manifest.stream_seq == 180);
    CHECK(js.messages_on(stream, subjects) == 2);

    // Another writer's chunk landed after this manifest (a snapshot being replaced): none.
    (void)js.publish(snapshot_chunk_subject(partition, 0), "other", "snap-other-" + run_id(),
                     {{"Cg-Snapshot-Id", "0123456789abcdef"}});
    CHECK_FALSE(book.get(partition));
    // A manifest whose digest the chunks do not match (damaged): none either.
    const auto third = book.put(partition, 181, 5, "");
    CHECK(third.chunks == 1);
    REQUIRE(book.get(partition));
    CHECK(book.get(partition)->bytes.empty());
    (void)js.publish(snapshot_manifest_subject(partition), "", "snap-bad-" + run_id(),
                     {{"Cg-Snapshot-Id", third.id},
                      {"Cg-Snapshot-Seq", "181"},
                      {"Cg-Snapshot-Epoch", "5"},
                      {"Cg-Snapshot-Chunks", "1"},
                      {"Cg-Snapshot-Bytes", "0"},
                      {"Cg-Snapshot-Sha256", std::string(64, 'a')}});
    CHECK_FALSE(book.get(partition));
    js.purge_subject(stream, subjects, js.stream_last_sequence(stream) + 1);
  }
}

TEST_SUITE("cluster.lease") {
  TEST_CASE("two lease managers never share a partition; a stalled one is taken over and fenced") {
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const lease_timing timing{10'000, 3'000};
    const int n = partitions();

    struct worker {
      std::set<int> working;
      std::map<int, std::uint64_t> epochs;
      std::unique_ptr<lease_manager> manager;
    };
    const auto make = [&](worker& w, const std::string& id) {
      w.manager = std::make_unique<lease_manager>(
          owners, workers, lease_manager_settings{id, n, timing},
          lease_callbacks{[&w](int p, std::uint64_t e) {
                            CHECK(w.working.insert(p).second);
                            w.epochs[p] = e;
                          },
                          [&w](int p, std::uint64_t) { CHECK(w.working.erase(p) == 1); }});
    };
    worker a, b;
    const std::string a_id = "wa-" + run_id(), b_id = "wb-" + run_id();
    make(a, a_id);
    make(b, b_id);
    // A clock of our own (the lease logic reads only the times it is given), started from the
    // real one and advanced by hand: a stall of four rounds takes no real time.
    std::int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                           std::chrono::system_clock::now().time_since_epoch())
                           .count() +
                       60'000;
    const auto disjoint_and_in_kv = [&] {
      for (const int p : a.working) CHECK_FALSE(b.working.contains(p));
      for (const auto* w : {&a, &b}) {
        for (const int p : w->working) {
          const auto record = decode_lease(owners.get(lease_key(p))->value);
          REQUIRE(record);
          CHECK(record->worker == (w == &a ? a_id : b_id));
        }
      }
    };

    a.manager->round(now);
    CHECK(a.working.size() == static_cast<std::size_t>(n));
    b.manager->round(now);  // everything is held and fresh
    CHECK(b.working.empty());
    disjoint_and_in_kv();
    now += timing.renew_ms;
    a.manager->round(now);  // sees b: keeps half, releases half
    b.manager->round(now);  // takes the released half
    // On a loaded machine b's round once read a partition as still held (its read ran before
    // the release reached the server it asked): the next round takes it, which is all the
    // design promises (every round converges), so a few more rounds are allowed here.
    for (int i = 0; i < 5 && a.working.size() + b.working.size() < static_cast<std::size_t>(n);
         ++i) {
      std::this_thread::sleep_for(200ms);
      b.manager->round(now);
    }
    disjoint_and_in_kv();
    CHECK(a.working.size() == static_cast<std::size_t>((n + 1) / 2));
    CHECK(a.working.size() + b.working.size() == static_cast<std::size_t>(n));
    // What /metrics would say: every partition owned by the worker that holds it, its epoch.
    for (const auto& status : read_partition_status(js, owners, n, now, timing)) {
      INFO("partition " << status.partition);
      const auto* holder = a.working.contains(status.partition) ? &a : &b;
      CHECK(status.owner == (holder == &a ? a_id : b_id));
      CHECK(status.epoch == holder->epochs.at(status.partition));
    }

    // a stalls; b renews and, once a's leases expire, takes them over with higher epochs.
    const auto a_held = a.manager->held();
    for (int i = 0; i < 4; ++i) {
      now += timing.renew_ms;
      b.manager->round(now);
    }
    CHECK(b.working.size() == static_cast<std::size_t>(n));
    for (const auto& [p, lease] : a_held) CHECK(b.epochs.at(p) > lease.epoch);

    // a's renewal, as it would write it, fails the compare-and-set: fenced.
    for (const auto& [p, lease] : a_held) {
      CHECK_FALSE(
          owners.update(lease_key(p), encode_lease({a_id, lease.epoch, now}), lease.revision));
    }
    // And a's next round drops them all.
    const auto report = a.manager->round(now);
    CHECK(report.lost == static_cast<int>(a_held.size()));
    CHECK(a.working.empty());
    disjoint_and_in_kv();
    b.manager->release_all(std::chrono::seconds(5));
    CHECK(b.working.empty());
    // Their presence was written on a clock a minute ahead: mark both gone, or later cases
    // would count them as live workers (and take a smaller share of the partitions).
    (void)workers.put(a_id, "0");
    (void)workers.put(b_id, "0");
  }
}

TEST_SUITE("cluster.failover") {
  TEST_CASE("acknowledged messages are not redelivered after the stream leader is killed -9") {
    jetstream js(cluster_settings());
    (void)ensure_in_stream(js);
    const auto pkey = partition_key(secret, "MBI-failover");
    const auto subject = producer_subject(pkey, message_kind::claim);
    const auto first = js.publish(subject, "probe", run_id() + "-fo-probe");
    int partition = -1;
    for (int p = 0; p < partitions() && partition < 0; ++p) {
      auto sub = bind_partition(js, p);
      for (const auto& s : take(js, sub, 0)) {
        if (s.find(pkey) != std::string::npos) partition = p;
      }
    }
    REQUIRE(partition >= 0);
    (void)first;

    for (int i = 0; i < 20; ++i)
      js.publish(subject, "before", run_id() + "-fo-a-" + std::to_string(i));
    {
      auto sub = bind_partition(js, partition);
      CHECK(take(js, sub, 20).size() == 20);
      CHECK(sub.fetch(10, 200ms).empty());
    }

    const std::string leader = js.stream_leader(std::string(in_stream));
    REQUIRE_FALSE(leader.empty());
    std::ifstream pidfile(env("COVGATE_NATS_DIR") + "/" + leader + ".pid");
    pid_t pid = 0;
    REQUIRE(static_cast<bool>(pidfile >> pid));
    REQUIRE(::kill(pid, SIGKILL) == 0);
    MESSAGE("killed stream leader " << leader << " (pid " << pid << ")");

    // Publishing goes on with two nodes of three (the client retries through the election).
    const auto started = std::chrono::steady_clock::now();
    for (int i = 0; i < 20; ++i) {
      const auto r = js.publish(subject, "after", run_id() + "-fo-b-" + std::to_string(i));
      CHECK_FALSE(r.duplicate);
    }
    MESSAGE("20 publishes after the kill took "
            << std::chrono::duration_cast<std::chrono::milliseconds>(
                   std::chrono::steady_clock::now() - started)
                   .count()
            << " ms");
    // De-duplication survived the leader change.
    CHECK(js.publish(subject, "before", run_id() + "-fo-a-3").duplicate);
    const std::string new_leader = js.stream_leader(std::string(in_stream));
    CHECK(new_leader != leader);
    CHECK_FALSE(new_leader.empty());

    // The durable delivers exactly the 20 new messages: nothing acknowledged before the kill.
    std::vector<std::string> bodies;
    const auto deadline = std::chrono::steady_clock::now() + 20s;
    std::optional<pull_subscription> sub;
    while (bodies.size() < 20 && std::chrono::steady_clock::now() < deadline) {
      try {
        if (!sub) {
          sub.emplace(js.bind(std::string(in_stream), partition_consumer(partition, partitions()),
                              partition_filter_subject(partition)));
        }
        for (auto& m : sub->fetch(50, 500ms)) {
          bodies.emplace_back(m.data());
          CHECK(m.deliveries() == 1);
          m.ack_sync(js.retry());
        }
      } catch (const nats_error& e) {
        if (!e.retryable()) throw;
        MESSAGE("retrying after: " << e.what());
      }
    }
    CHECK(bodies.size() == 20);
    for (const auto& body : bodies) CHECK(body == "after");
    // And nothing more comes.
    CHECK(sub->fetch(10, 500ms).empty());
  }
}

namespace {

// A worker's store in miniature: per partition the last sequence applied (record_applied's
// rule: a sequence at or below it is a redelivery) and every message applied, in order.
class recording_applier final : public message_applier {
 public:
  void apply(const stream_message& m, std::function<void(applied_message)> done) override {
    applied_message out;
    {
      std::lock_guard lock(mutex_);
      auto& last = last_[m.partition];
      if (m.sequence <= last) {
        out.result = applied_message::verdict::already_applied;
      } else {
        last = m.sequence;
        applied_[m.partition].emplace_back(m.data);
        one_by_one_.emplace_back(m.data);
        out.result = applied_message::verdict::applied;
        out.body = "answer to " + std::string(m.data);
        out.content_type = "text/plain";
        out.outcome = "accepted";
      }
    }
    done(std::move(out));
  }
  std::uint64_t applied_sequence(int partition) override {
    std::lock_guard lock(mutex_);
    return last_[partition];
  }
  bool advance(int partition, std::uint64_t sequence, std::uint64_t) override {
    std::lock_guard lock(mutex_);
    if (sequence <= last_[partition]) return false;
    last_[partition] = sequence;
    ++advanced_;
    return true;
  }
  std::size_t advances() {
    std::lock_guard lock(mutex_);
    return advanced_;
  }
  // With snapshots on, a snapshot is the partition's position and its messages (a table of
  // one column), written and read with the store's snapshot form.
  explicit recording_applier(bool snapshots = false) : snapshots_(snapshots) {}
  std::optional<std::string> snapshot(int partition) override {
    if (!snapshots_) return std::nullopt;
    std::lock_guard lock(mutex_);
    if (last_[partition] == 0) return std::nullopt;
    std::string out;
    covgate::store::snapshot_writer w(out,
                                      {static_cast<std::uint32_t>(partition), last_[partition], 1});
    const std::string_view columns[] = {"data"};
    w.table("messages", columns);
    for (const auto& d : applied_[partition]) {
      const covgate::store::snapshot_cell cell[] = {std::string_view(d)};
      w.row(cell);
    }
    w.finish();
    return out;
  }
  bool load_snapshot(int partition, std::string_view bytes, std::string& why) override {
    if (!snapshots_) return message_applier::load_snapshot(partition, bytes, why);
    struct rows final : covgate::store::snapshot_visitor {
      std::vector<std::string> data;
      void table(std::string_view, std::span<const std::string_view>) override {}
      void row(std::span<const covgate::store::snapshot_cell> cells) override {
        data.emplace_back(std::get<std::string_view>(cells[0]));
      }
    } read;
    const auto header = covgate::store::read_snapshot(bytes, &read, why);
    if (!header || header->partition != static_cast<std::uint32_t>(partition)) return false;
    std::lock_guard lock(mutex_);
    last_[partition] = header->stream_seq;
    applied_[partition] = std::move(read.data);
    ++loaded_;
    return true;
  }
  // A stale copy (or none) replaced: the snapshot's messages and position, whatever was here.
  bool replace_by_snapshot(int partition, std::string_view bytes, std::string& why) override {
    if (!snapshots_) return message_applier::replace_by_snapshot(partition, bytes, why);
    {
      std::lock_guard lock(mutex_);
      ++replaced_;
      last_[partition] = 0;
      applied_[partition].clear();
    }
    return load_snapshot(partition, bytes, why);
  }
  std::size_t copies_replaced() {
    std::lock_guard lock(mutex_);
    return replaced_;
  }
  // Messages applied one by one (not taken from a snapshot) of this run, for `partition`.
  std::size_t applied_count(const std::string& prefix) {
    std::lock_guard lock(mutex_);
    return std::count_if(one_by_one_.begin(), one_by_one_.end(),
                         [&](const std::string& d) { return d.starts_with(prefix); });
  }
  std::size_t snapshots_loaded() {
    std::lock_guard lock(mutex_);
    return loaded_;
  }

  // The messages of this run (`prefix`) applied for `partition`, in order.
  std::vector<std::string> of(int partition, const std::string& prefix) {
    std::lock_guard lock(mutex_);
    std::vector<std::string> out;
    for (const auto& d : applied_[partition]) {
      if (d.starts_with(prefix)) out.push_back(d);
    }
    return out;
  }

 private:
  std::mutex mutex_;
  std::map<int, std::uint64_t> last_;
  std::map<int, std::vector<std::string>> applied_;
  std::vector<std::string> one_by_one_;
  bool snapshots_ = false;
  std::size_t loaded_ = 0;
  std::size_t replaced_ = 0;
  std::size_t advanced_ = 0;
};

// Worker threads report here (doctest's macros are for the test's own thread).
void report_problem(int partition, const std::string& what) {
  std::fprintf(stderr, "worker problem (partition %d): %s\n", partition, what.c_str());
}

// Whether `done()` holds within 30 s, asked every 50 ms.
template <typename Done>
bool wait_until(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  return done();
}

// Past the durable consumers' ack_wait (30 s), so that a message that comes late (a
// redelivery) is told apart from one that never comes. In CI twice and in 5 of 14 local runs
// the first message of a partition after the handover never came: a pull request the previous
// runner left open took it, the runner nakked it, and the new holder, which had applied later
// ones meanwhile, counted it as applied (fixed in worker.cpp: a batch that does not follow the
// runner's previous delivery is applied after the stream's messages before it).
template <class Done>
bool wait_past_ack_wait(Done done) {
  const auto deadline = std::chrono::steady_clock::now() + 45s;
  while (!done() && std::chrono::steady_clock::now() < deadline) std::this_thread::sleep_for(50ms);
  return done();
}

// wait_past_ack_wait, saying how long it took when that was more than 5 s. For the trimmed
// suite, which runs after the processes suite stopped its workers: a message the server
// delivered to a stopped worker's pull request in its last moment is in nobody's hand, and
// comes again only after the consumer's ack_wait (30 s). Seen once with two busy loops
// beside the test: both trimmed cases failed their first 30 s wait (with the loops, these
// waits take 6 to 10 s where they take under 2 s alone).
template <class Done>
bool wait_past_ack_wait_timed(const std::string& what, Done done) {
  const auto started = std::chrono::steady_clock::now();
  const bool ok = wait_past_ack_wait(done);
  const auto took = std::chrono::steady_clock::now() - started;
  if (took > 5s) {
    MESSAGE(what << ": " << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
                 << " ms (over 5 s)");
  }
  return ok;
}

// Each partition consumer's messages not yet delivered and in hand, for a failure's message.
std::string partition_consumers(jetstream& js, int n) {
  std::ostringstream out;
  for (int p = 0; p < n; ++p) {
    const auto c = js.consumer_info(std::string(in_stream), partition_consumer(p, n));
    out << (p ? "; " : "") << "partition " << p << ": " << c.pending << " to deliver, "
        << c.ack_pending << " in hand";
  }
  return out.str();
}

// The settings the in-process worker cases run with: short leases and waits.
worker_settings test_worker(const std::string& id, int partitions, lease_timing timing) {
  worker_settings w;
  w.worker = id;
  w.partitions = partitions;
  w.timing = timing;
  w.batch = 16;
  w.fetch_wait = 100ms;
  w.catch_up_wait = 500ms;
  w.problem = report_problem;
  return w;
}

// Two workers over in-test appliers: the first takes every partition, the second joins and
// takes half, rebuilding them from the stream; every message is applied in stream order, once
// per store. `catch_up_wait` is the second worker's patience in its catch-up.
void handover_scenario(const std::string& tag, std::chrono::milliseconds catch_up_wait) {
  jetstream js(cluster_settings());
  auto [owners, workers] = ensure_layout(js, test_layout());
  const int n = partitions();
  const std::string prefix = "w-" + run_id() + "-" + tag + "-";
  // 30 patients, 4 messages each, published before any worker runs.
  std::map<int, std::vector<std::string>> expected;  // partition -> this run's messages
  const auto publish = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      const auto pkey = partition_key(secret, "MBI-W" + std::to_string(i % 30));
      const auto data = prefix + std::to_string(i);
      (void)js.publish(producer_subject(pkey, message_kind::fhir), data, data);
    }
  };
  publish(0, 120);
  // Reference data, which every worker applies whole (CG_REF), before and after the handover.
  std::vector<std::string> references;
  const auto publish_reference = [&](int from, int to) {
    for (int i = from; i < to; ++i) {
      references.push_back(prefix + "ref-" + std::to_string(i));
      (void)js.publish(reference_subject(message_kind::fhir), references.back(), references.back());
    }
  };
  publish_reference(0, 3);
  // Where each landed: read it back from the stream per partition.
  const auto expect_all = [&] {
    expected.clear();
    for (int p = 0; p < n; ++p) {
      auto reader = js.read_from(std::string(in_stream), partition_filter_subject(p), 1);
      while (auto m = reader.next(300ms)) {
        const std::string data(m->data());
        if (data.starts_with(prefix)) expected[p].push_back(data);
        if (m->pending() == 0) break;
      }
    }
  };
  expect_all();
  std::size_t total = 0;
  for (const auto& [p, list] : expected) total += list.size();
  REQUIRE(total == 120);

  const lease_timing timing{2'000, 500};
  const auto settings = [&](const std::string& id) { return test_worker(id, n, timing); };
  recording_applier a_store, b_store;
  const std::string a_id = "wka-" + tag + run_id(), b_id = "wkb-" + tag + run_id();
  const auto owned_by = [&](const worker& w) {
    std::set<int> out;
    for (const auto& [p, progress] : w.progress()) {
      if (progress.caught_up) out.insert(p);
    }
    return out;
  };
  worker a(js, owners, workers, a_store, settings(a_id));
  a.start();
  REQUIRE(wait_until([&] { return owned_by(a).size() == static_cast<std::size_t>(n); }));
  // a holds everything: each partition applied completely, in stream order.
  REQUIRE(wait_until([&] {
    for (const auto& [p, list] : expected) {
      if (a_store.of(p, prefix) != list) return false;
    }
    return true;
  }));

  // b joins: a hands half over; b's store is empty, so b catches those partitions up from
  // the beginning of the stream (the rebuild of a taken-over partition).
  auto b_settings = settings(b_id);
  b_settings.catch_up_wait = catch_up_wait;
  worker b(js, owners, workers, b_store, b_settings);
  b.start();
  // Until the split is final: b takes its share over a few lease rounds, and a state where
  // every partition is caught up by someone comes before it (b with one, a with the rest).
  // Waiting for that one let a partition move to b after in_b was read below, and its new
  // messages were then looked for in a's store (a CI failure of the silent case).
  REQUIRE(wait_until([&] {
    const auto in_a = owned_by(a), in_b = owned_by(b);
    return in_a.size() == static_cast<std::size_t>(n - n / 2) &&
           in_b.size() == static_cast<std::size_t>(n / 2);
  }));
  const auto in_b = owned_by(b);
  for (const int p : owned_by(a)) CHECK_FALSE(in_b.contains(p));

  // More traffic, with a reply subject on one message.
  publish(120, 240);
  publish_reference(3, 5);
  expect_all();
  const auto published_at = std::chrono::steady_clock::now();
  const bool all_applied = wait_past_ack_wait([&] {
    for (const auto& [p, list] : expected) {
      auto& store = in_b.contains(p) ? b_store : a_store;
      if (store.of(p, prefix) != list) return false;
    }
    return true;
  });
  if (!all_applied) {  // what each side holds and has, for the next reader of a CI log
    const auto now_in_a = owned_by(a), now_in_b = owned_by(b);
    for (const auto& [p, list] : expected) {
      const auto holder = in_b.contains(p) ? b_store.of(p, prefix) : a_store.of(p, prefix);
      std::string missing;
      for (const auto& d : list) {
        if (std::find(holder.begin(), holder.end(), d) == holder.end()) missing += " " + d;
      }
      MESSAGE("partition " << p << ": " << list.size() << " expected; a holds it "
                           << now_in_a.contains(p) << " and has " << a_store.of(p, prefix).size()
                           << ", b holds it " << now_in_b.contains(p) << " and has "
                           << b_store.of(p, prefix).size() << "; its holder lacks" << missing);
    }
  }
  REQUIRE(all_applied);
  if (const auto took = std::chrono::steady_clock::now() - published_at; took > 5s) {
    MESSAGE("the messages after the handover were all applied only after "
            << std::chrono::duration_cast<std::chrono::milliseconds>(took).count()
            << " ms (a redelivery after ack_wait)");
  }
  // Every message applied exactly once by each store that applied it.
  for (const auto& [p, list] : expected) {
    for (auto* store : {&a_store, &b_store}) {
      const auto got = store->of(p, prefix);
      CHECK(std::set<std::string>(got.begin(), got.end()).size() == got.size());
    }
  }
  // Each store applied all the reference data, in stream order, once.
  CHECK(wait_until([&] {
    return a_store.of(reference_partition, prefix + "ref-") == references &&
           b_store.of(reference_partition, prefix + "ref-") == references;
  }));
  CHECK(a.reference_applied() >= references.size());
  CHECK(b.reference_applied() >= references.size());
  b.stop();
  a.stop();
  // Every partition's durable consumer acknowledged up to the end: nothing left to redeliver.
  for (int p = 0; p < n; ++p) {
    const auto state = js.consumer_info(std::string(in_stream), partition_consumer(p, n));
    CHECK(state.pending == 0);
    CHECK(state.ack_pending == 0);
  }
}

}  // namespace

TEST_SUITE("cluster.worker") {
  TEST_CASE("workers apply every partition in stream order, once per store, across a handover") {
    handover_scenario("calm", 500ms);
  }

  TEST_CASE("a catch-up that meets silence still rebuilds what the previous owner acknowledged") {
    // Regression: silence in the stream read (here at once: 1 ms is shorter than the read's
    // start; in CI, an ASan worker on a busy machine) ended the catch-up, and the new owner
    // went on from the durable consumer without the messages the previous owner had
    // acknowledged: a claim was then held for want of facts applied only by the previous owner.
    handover_scenario("silence", 1ms);
  }

  TEST_CASE("a message another client's pull request took is applied in its place, not skipped") {
    // Regression: JetStream lets any client pull a durable, and a pull request of the previous
    // holder of a partition was handed the partition's next message. It came back (nak, or
    // ack_wait) after the new holder had applied later ones, counted as applied, and was never
    // applied (the handover cases failed so in 5 of 14 runs). The worker waited at most 5 s
    // for other pull requests to expire, then consumed anyway; a message already in another
    // client's hand it did not see at all. Here the other client holds the message while the
    // worker applies the later ones: they must be applied after it, it in its place. Twice:
    // before the worker's first batch, and after batches in turn (a gap in the deliveries).
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const int n = partitions();
    const std::string prefix = "w-" + run_id() + "-turn-";
    const auto pkey = partition_key(secret, "MBI-TURN-" + run_id());
    const int p = partition_of_token(pkey, n);
    drain(js, p);
    // The other client: a pull request on the partition's consumer for one message. The
    // server serves the oldest request first, so it is handed the next message while it is
    // older than the worker's (each of which lasts fetch_wait, 100 ms).
    auto other = bind_partition(js, p);
    const auto hold_next = [&] {
      auto taken = std::async(std::launch::async, [&] { return other.fetch(1, 20s); });
      std::this_thread::sleep_for(300ms);  // the request reached the server, and is the oldest
      return taken;
    };
    recording_applier store;
    std::vector<std::string> sent;
    const auto send = [&](int i) {
      sent.push_back(prefix + std::to_string(i));
      (void)js.publish(producer_subject(pkey, message_kind::fhir), sent.back(), sent.back());
    };
    std::optional<worker> w;
    const auto progress_of_p = [&] {
      const auto all = w->progress();
      const auto it = all.find(p);
      return it == all.end() ? partition_progress{} : it->second;
    };
    // Sends three messages while the other client's request is open; it is handed one of them
    // and holds it until the worker applied all three, then hands it back.
    const auto held_while_the_worker_applies = [&](std::future<std::vector<fetched_message>> taken,
                                                   int first) {
      send(first);
      REQUIRE(taken.wait_for(10s) == std::future_status::ready);
      auto held = taken.get();
      REQUIRE(held.size() == 1);
      MESSAGE("the other client was handed " << held.front().data());
      send(first + 1);
      send(first + 2);
      // The worker asks the stream for the partition's last message by the partition's
      // wildcard subject (cg.p.N.>), which the server answers.
      const auto last = js.last_message(std::string(in_stream), partition_filter_subject(p));
      REQUIRE(last);
      CHECK(last->data == sent.back());
      CHECK(wait_until([&] { return store.of(p, prefix).size() == sent.size(); }));
      CHECK(store.of(p, prefix) == sent);
      // It comes back: acknowledged as applied, not applied again.
      held.front().nak();
      CHECK(wait_until([&] {
        const auto c = js.consumer_info(std::string(in_stream), partition_consumer(p, n));
        return c.pending == 0 && c.ack_pending == 0;
      }));
      CHECK(store.of(p, prefix) == sent);
    };

    // 1. Before the worker's first batch: the request is open before the worker runs.
    auto first_taken = hold_next();
    w.emplace(js, owners, workers, store, test_worker("wkt-" + run_id(), n, {2'000, 500}));
    w->start();
    REQUIRE(wait_until([&] { return progress_of_p().caught_up; }));
    held_while_the_worker_applies(std::move(first_taken), 1);
    CHECK(progress_of_p().applied_in_place == 1);
    // 2. After batches in turn: the worker's next batch follows a delivery it never had.
    held_while_the_worker_applies(hold_next(), 4);
    CHECK(progress_of_p().applied_in_place == 2);
    w->stop();
  }

  TEST_CASE("a store that never held a partition starts from its snapshot, then the stream") {
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const int n = partitions();
    const std::string snapshots(snapshot_stream);
    const auto clear_snapshots = [&] {
      js.purge_subject(snapshots, "cg.snap.>", js.stream_last_sequence(snapshots) + 1);
    };
    clear_snapshots();  // none left from another case: every partition starts from this one's
    const std::string prefix = "w-" + run_id() + "-snap-";
    const auto publish = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        const auto pkey = partition_key(secret, "MBI-S" + std::to_string(i % 30));
        const auto data = prefix + std::to_string(i);
        (void)js.publish(producer_subject(pkey, message_kind::fhir), data, data);
      }
    };
    publish(0, 120);
    std::map<int, std::vector<std::string>> expected;
    std::map<int, std::uint64_t> last_of;  // each partition's last stream sequence
    const auto expect_all = [&] {
      expected.clear();
      for (int p = 0; p < n; ++p) {
        auto reader = js.read_from(std::string(in_stream), partition_filter_subject(p), 1);
        while (auto m = reader.next(300ms)) {
          last_of[p] = m->stream_sequence();
          const std::string data(m->data());
          if (data.starts_with(prefix)) expected[p].push_back(data);
          if (m->pending() == 0) break;
        }
      }
    };
    expect_all();
    const lease_timing timing{2'000, 500};
    recording_applier a_store(true), b_store(true);
    auto a_settings = test_worker("wsa-" + run_id(), n, timing);
    a_settings.snapshot_every = 200ms;
    {
      worker a(js, owners, workers, a_store, a_settings);
      a.start();
      // Every partition applied, and its snapshot written at its end.
      REQUIRE(wait_until([&] {
        const auto progress = a.progress();
        for (const auto& [p, last] : last_of) {
          const auto at = progress.find(p);
          if (at == progress.end() || at->second.snapshot_written < last) return false;
        }
        return true;
      }));
      a.stop();  // hands every lease back
    }
    // What comes after the snapshots: only this the new store applies message by message.
    publish(120, 160);
    expect_all();
    auto b_settings = test_worker("wsb-" + run_id(), n, timing);
    b_settings.load_snapshots = true;
    worker b(js, owners, workers, b_store, b_settings);
    b.start();
    REQUIRE(wait_until([&] {
      for (const auto& [p, list] : expected) {
        if (b_store.of(p, prefix) != list) return false;
      }
      return true;
    }));
    CHECK(b_store.applied_count(prefix) == 40);
    CHECK(b_store.snapshots_loaded() == last_of.size());
    for (const auto& [p, progress] : b.progress()) {
      if (last_of.contains(p)) CHECK(progress.snapshot_loaded > 0);
    }
    b.stop();
    clear_snapshots();  // the processes suite's workers start from their own
  }

  TEST_CASE("a worker answers a message's Cg-Reply-To once the message is applied") {
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    recording_applier store;
    worker_settings w;
    w.worker = "wr-" + run_id();
    w.partitions = partitions();
    w.timing = {2'000, 500};
    w.fetch_wait = 100ms;
    w.catch_up_wait = 300ms;
    w.problem = report_problem;
    worker running(js, owners, workers, store, w);
    running.start();
    // A core subscription on a reply subject, read through a second connection.
    jetstream listener(cluster_settings());
    const std::string inbox = "_INBOX.covgate-test-" + run_id();
    auto replies = listener.subscribe(inbox);
    const std::string data = "reply-" + run_id();
    const auto pkey = partition_key(secret, "MBI-reply");
    (void)js.publish(producer_subject(pkey, message_kind::claim), data, data,
                     {{"Cg-Reply-To", inbox}});
    auto answer = replies.next(20s);
    REQUIRE(answer);
    CHECK(answer->data() == "answer to " + data);
    CHECK(answer->header("Cg-Outcome") == "accepted");
    CHECK(answer->header("Content-Type") == "text/plain");
    CHECK_FALSE(answer->header("Cg-Epoch").empty());
    // A reply subject that is not an inbox is never published to (no loop into cg.in).
    const std::string looping = "loop-" + run_id();
    (void)js.publish(producer_subject(pkey, message_kind::claim), looping, looping,
                     {{"Cg-Reply-To", "cg.in.x.clm"}});
    auto none = replies.next(1s);
    CHECK_FALSE(none);
    running.stop();
  }
}

namespace {

// Applies like recording_applier's rule, but apply() of partition `stuck` does not return until
// release(): a runner inside a slow call (a NATS request retried through an election).
class stalling_applier final : public message_applier {
 public:
  explicit stalling_applier(int stuck) : stuck_(stuck) {}
  void apply(const stream_message& m, std::function<void(applied_message)> done) override {
    if (m.partition == stuck_) {
      std::unique_lock lock(mutex_);
      entered_ = true;
      changed_.notify_all();
      changed_.wait(lock, [&] { return released_; });
    }
    applied_message out;
    out.result = applied_message::verdict::applied;
    out.outcome = "accepted";
    out.content_type = "text/plain";
    done(std::move(out));
  }
  std::uint64_t applied_sequence(int) override { return 0; }  // every partition from the start
  bool wait_entered(std::chrono::milliseconds wait) {
    std::unique_lock lock(mutex_);
    return changed_.wait_for(lock, wait, [&] { return entered_; });
  }
  void release() {
    std::lock_guard lock(mutex_);
    released_ = true;
    changed_.notify_all();
  }

 private:
  const int stuck_;
  std::mutex mutex_;
  std::condition_variable changed_;
  bool entered_ = false;
  bool released_ = false;
};

}  // namespace

TEST_SUITE("cluster.worker") {
  TEST_CASE("a runner stuck in a slow call does not stop its worker from renewing other leases") {
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const int n = partitions();
    // The last partition is the first a worker gives up when another joins; earlier suites
    // published to every partition, so its catch-up has a message to get stuck on.
    const int stuck = n - 1;
    const lease_timing timing{2'000, 500};
    const auto settings = [&](const std::string& id) { return test_worker(id, n, timing); };
    stalling_applier a_store(stuck);
    recording_applier b_store;
    const std::string a_id = "wsa-" + run_id(), b_id = "wsb-" + run_id();
    worker a(js, owners, workers, a_store, settings(a_id));
    a.start();
    REQUIRE(a_store.wait_entered(30s));
    // b joins: a hands over half, the stuck partition among them, while its runner is stuck.
    worker b(js, owners, workers, b_store, settings(b_id));
    b.start();
    // For three lease periods a keeps renewing what it kept (before the fix its lease loop
    // waited for the stuck runner, every lease of a expired, and b took all of them).
    std::this_thread::sleep_for(std::chrono::milliseconds(3 * timing.lease_ms));
    std::map<std::string, int> held;
    for (const auto& status :
         read_partition_status(js, owners, n,
                               std::chrono::duration_cast<std::chrono::milliseconds>(
                                   std::chrono::system_clock::now().time_since_epoch())
                                   .count(),
                               timing)) {
      ++held[status.owner];
    }
    INFO("a holds " << held[a_id] << ", b holds " << held[b_id]);
    CHECK(held[a_id] == n / 2);
    CHECK(held[b_id] == n - n / 2);
    a_store.release();
    b.stop();
    a.stop();
  }
}

namespace {

struct worker_process {
  std::string id;
  pid_t pid = 0;
  std::string http_port;
};

// COVGATE_WORKERS: "<id>:<pid>:<http port>,…" (run.sh starts them).
std::vector<worker_process> worker_processes() {
  std::vector<worker_process> out;
  std::stringstream list(env("COVGATE_WORKERS"));
  for (std::string item; std::getline(list, item, ',');) {
    std::stringstream fields(item);
    worker_process w;
    std::string pid;
    std::getline(fields, w.id, ':');
    std::getline(fields, pid, ':');
    std::getline(fields, w.http_port, ':');
    w.pid = static_cast<pid_t>(std::stol(pid));
    out.push_back(w);
  }
  return out;
}

std::string read_sample(const std::string& name) {
  std::ifstream in(env("COVGATE_SAMPLES") + "/" + name, std::ios::binary);
  REQUIRE_MESSAGE(in, "cannot read sample " << name);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// What a shell command (curl) writes on its standard output.
std::string output_of(const std::string& command) {
  std::string out;
  if (FILE* pipe = ::popen(command.c_str(), "r")) {
    char buffer[65536];
    for (std::size_t n; (n = std::fread(buffer, 1, sizeof buffer, pipe)) > 0;)
      out.append(buffer, n);
    ::pclose(pipe);
  }
  return out;
}

// What a worker's HTTP API answers for `path` (curl; "" when it does not answer).
std::string http_get(const worker_process& w, const std::string& path) {
  // Quoted: a path's query string has '&'s the shell would take for its own.
  return output_of("curl -sS --max-time 20 'http://127.0.0.1:" + w.http_port + path + "'");
}

// The same for a front's question of the whole cluster, asked again while it answers 503
// "ask again" (a partition without a caught-up holder yet), three times a second apart, as a
// client would.
std::string http_get_asking_again(const worker_process& w, const std::string& path) {
  std::string answer;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (attempt > 0) std::this_thread::sleep_for(1s);
    answer = http_get(w, path);
    if (answer.find("ask again") == std::string::npos) break;
    MESSAGE(path << ", attempt " << attempt << ": " << answer);
  }
  return answer;
}

// What a worker's HTTP API answers for each of `paths`, with one curl for all of them.
std::vector<std::string> http_get_all(const worker_process& w,
                                      const std::vector<std::string>& paths) {
  constexpr std::string_view end_mark = "\n@@covgate-end@@\n";
  std::string command = "curl -sS --max-time 60 -w '" + std::string("\\n@@covgate-end@@\\n") + "'";
  for (const auto& path : paths) command += " 'http://127.0.0.1:" + w.http_port + path + "'";
  const auto out = output_of(command);
  std::vector<std::string> bodies;
  for (std::size_t at = 0; bodies.size() < paths.size();) {
    const auto end = out.find(end_mark, at);
    if (end == std::string::npos) break;
    bodies.push_back(out.substr(at, end - at));
    at = end + end_mark.size();
  }
  bodies.resize(paths.size());
  return bodies;
}

std::size_t count_of(const std::string& text, const std::string& needle) {
  std::size_t n = 0;
  for (auto at = text.find(needle); at != std::string::npos; at = text.find(needle, at + 1)) ++n;
  return n;
}

// COVGATE_FRONT: "<mllp port>:<http port>" of the front (run.sh starts it).
struct front_process {
  std::string mllp_port;
  std::string http_port;
};

front_process the_front() {
  const auto text = env("COVGATE_FRONT");
  const auto colon = text.find(':');
  REQUIRE(colon != std::string::npos);
  return {text.substr(0, colon), text.substr(colon + 1)};
}

// One MLLP exchange on a connection of its own: the payload as one frame, then its answer
// frame; "" when the peer closed without answering (a front says "send it again" that way).
std::string mllp_exchange(const std::string& port, std::string_view payload) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  REQUIRE(fd >= 0);
  sockaddr_in at{};
  at.sin_family = AF_INET;
  at.sin_port = htons(static_cast<std::uint16_t>(std::stoi(port)));
  at.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  timeval wait{30, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &wait, sizeof wait);
  std::string answer;
  if (::connect(fd, reinterpret_cast<const sockaddr*>(&at), sizeof at) == 0) {
    const auto frame = covgate::hl7v2::mllp_frame(payload);
    std::size_t sent = 0;
    while (sent < frame.size()) {
      const auto n = ::send(fd, frame.data() + sent, frame.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<std::size_t>(n);
    }
    std::string in;
    char buffer[65536];
    for (;;) {
      const auto end = in.find("\x1c\x0d");
      if (end != std::string::npos) {
        const auto begin = in.find('\x0b');
        answer = in.substr(begin + 1, end - begin - 1);
        break;
      }
      const auto n = ::recv(fd, buffer, sizeof buffer, 0);
      if (n <= 0) break;
      in.append(buffer, static_cast<std::size_t>(n));
    }
  }
  ::close(fd);
  return answer;
}

// As a sender does: sends again while the answer is "send it again" (no answer), at most
// twelve times (about 100 s with the front's 8 s deadline: the elections after a node is
// killed on a loaded machine).
std::string mllp_send(const front_process& front, std::string_view payload) {
  for (int attempt = 0; attempt < 12; ++attempt) {
    auto answer = mllp_exchange(front.mllp_port, payload);
    if (!answer.empty()) return answer;
    std::this_thread::sleep_for(500ms);
  }
  return {};
}

struct http_answer {
  int status = 0;
  std::string body;
};

// POST `body` to the front's HTTP API (curl, the body from a file).
http_answer http_post(const front_process& front, const std::string& path, std::string_view body,
                      const std::string& content_type) {
  const auto file = env("COVGATE_NATS_DIR") + "/post-" + run_id();
  {
    std::ofstream out(file, std::ios::binary);
    out << body;
  }
  const auto command = "curl -sS --max-time 30 -X POST -H 'Content-Type: " + content_type +
                       "' --data-binary @" + file +
                       " -w '\\n%{http_code}' http://127.0.0.1:" + front.http_port + path;
  const auto out = output_of(command);
  std::remove(file.c_str());
  http_answer a;
  const auto newline = out.rfind('\n');
  if (newline == std::string::npos) return a;
  a.status = std::atoi(out.c_str() + newline + 1);
  a.body = out.substr(0, newline);
  return a;
}

// NDJSON lines grouped by the patient they concern (the MBI in "pt-<MBI>" or an us-mbi
// identifier), in file order, with the lines of no patient (a Practitioner) in every group:
// what a producer sends a front, which routes one patient's facts per message.
std::vector<std::string> ndjson_by_patient(const std::string& text) {
  std::vector<std::string> order;
  std::map<std::string, std::string> lines_of;
  std::string shared;
  std::stringstream in(text);
  for (std::string line; std::getline(in, line);) {
    if (line.empty()) continue;
    std::string key;
    constexpr std::string_view by_identifier = "us-mbi\",\"value\":\"";
    if (const auto at = line.find(by_identifier); at != std::string::npos) {
      const auto begin = at + by_identifier.size();
      key = line.substr(begin, line.find('"', begin) - begin);
    } else if (const auto ref = line.find("pt-"); ref != std::string::npos) {
      key = line.substr(ref + 3, 11);
    }
    if (key.empty()) {
      shared += line + "\n";
      continue;
    }
    if (!lines_of.contains(key)) order.push_back(key);
    lines_of[key] += line + "\n";
  }
  std::vector<std::string> out;
  for (const auto& key : order) out.push_back(shared + lines_of[key]);
  return out;
}

// The value of the first "<name>":"…" in `json` ("" when absent).
std::string json_text(const std::string& json, const std::string& name, std::size_t from = 0) {
  const auto key = "\"" + name + "\":\"";
  const auto at = json.find(key, from);
  if (at == std::string::npos) return {};
  const auto begin = at + key.size();
  return json.substr(begin, json.find('"', begin) - begin);
}

// A partition's live lease as a worker's /metrics reports it: every worker reads the
// cluster's lease bucket, so any of them tells the same.
struct lease_seen {
  std::string owner;  // "" while no worker holds a live lease
  long long epoch = 0;
};

std::map<int, lease_seen> leases_seen(const std::string& metrics) {
  std::map<int, lease_seen> out;
  std::istringstream lines(metrics);
  for (std::string line; std::getline(lines, line);) {
    const bool owned = line.rfind("covgate_partition_owned{", 0) == 0;
    if (!owned && line.rfind("covgate_partition_epoch{", 0) != 0) continue;
    auto& lease = out[std::stoi(line.substr(line.find("partition=\"") + 11))];
    const auto value = line.substr(line.rfind(' ') + 1);
    if (!owned) {
      lease.epoch = std::stoll(value);
    } else if (value == "1") {
      const auto worker = line.substr(line.find("worker=\"") + 8);
      lease.owner = worker.substr(0, worker.find('"'));
    }
  }
  return out;
}

// The last outcome of every claim in a decisions file (covgate replay --decisions).
std::map<std::string, std::string> final_outcomes(const std::string& decisions) {
  std::map<std::string, std::string> out;
  std::stringstream in(decisions);
  for (std::string line; std::getline(in, line);) {
    const auto claim = json_text(line, "claim_id");
    if (!claim.empty()) out[claim] = json_text(line, "outcome");
  }
  return out;
}

pid_t node_pid(const std::string& name) {
  std::ifstream pidfile(env("COVGATE_NATS_DIR") + "/" + name + ".pid");
  pid_t node = 0;
  pidfile >> node;
  return node;
}

}  // namespace

TEST_SUITE("cluster.processes") {
  TEST_CASE("a day through the front ends as one process ends, though a worker and a node die") {
    jetstream js(cluster_settings());
    auto workers = worker_processes();
    REQUIRE(workers.size() == 3);
    std::set<std::string> worker_ids;
    for (const auto& w : workers) worker_ids.insert(w.id);
    const auto front = the_front();

    // 1. The front answers in the sender's standard: scenario 01 (a record over MLLP, its
    //    claim over HTTP) is released, the 277 carrying the worker's answer.
    const std::string first = "scenarios/01-csii-released/";
    const auto record01 = mllp_send(front, read_sample(first + "1-record.json"));
    CHECK(record01.find("\"resourceType\":\"OperationOutcome\"") != std::string::npos);
    const auto claim01 =
        http_post(front, "/x12", read_sample(first + "2-claim.x12"), "application/edi-x12");
    INFO("the front's answer: " << claim01.body);  // the samples' synthetic claim
    CHECK(claim01.status == 200);
    CHECK(claim01.body.find("TRN*2*CSII-OK~") != std::string::npos);
    CHECK(claim01.body.find("REF*1K*CSII-OK-1~") != std::string::npos);  // a release's key
    // Reference data alone (a Practitioner) goes to every worker through CG_REF; the front
    // answers it once the stream has it.
    const auto practitioner_id = "dr-ref-" + run_id();
    const auto practitioner = mllp_send(
        front,
        R"({"resourceType":"Practitioner","id":")" + practitioner_id +
            R"(","qualification":[{"code":{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/v2-0360","code":"MD"}]}}]})");
    CHECK_MESSAGE(practitioner.find("\"accepted\"") != std::string::npos, practitioner);
    for (const auto& w : workers) {
      std::string kept;
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < deadline) {
        kept = http_get(w, "/fhir/Practitioner/" + practitioner_id);
        if (kept.find("\"resourceType\":\"Practitioner\"") != std::string::npos) break;
        std::this_thread::sleep_for(200ms);
      }
      CHECK_MESSAGE(kept.find("\"id\":\"" + practitioner_id + "\"") != std::string::npos,
                    w.id << ": " << kept);
    }
    // HL7 v2 messages of two patients in one payload over HTTP: each message goes to its
    // patient's worker, and the ACKs come back in the payload's order.
    const auto batch =
        http_post(front, "/hl7v2",
                  read_sample("scenarios-hl7v2/09-csii-insulinopenia-missing/1-record.hl7") +
                      read_sample("scenarios-hl7v2/10-csii-c-peptide-not-fasting/1-record.hl7"),
                  "x-application/hl7-v2+er7");
    CHECK(batch.status == 200);
    std::size_t after = 0;
    for (const auto* id :
         {"ADT-9AA9AA9AA09-1", "ORU-9AA9AA9AA09-2", "ADT-0AA0AA0AA10-1", "ORU-0AA0AA0AA10-2"}) {
      const auto ack = batch.body.find(std::string("MSA|AA|") + id, after);
      CHECK_MESSAGE(ack != std::string::npos, id << " in " << batch.body);
      if (ack != std::string::npos) after = ack;
    }
    // A collection Bundle of two patients over MLLP: split by entry, each patient's part to
    // its worker, one OperationOutcome back (its issues on the sender's entries).
    {
      const auto glucose = [&](const std::string& id, const std::string& subject) {
        return R"({"resource":{"resourceType":"Observation","id":")" + id +
               R"(","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":)" +
               subject +
               R"(,"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}}})";
      };
      const auto id_a = "bg-a-" + run_id(), id_b = "bg-b-" + run_id();
      const std::map<std::string, std::string> patient_of{{id_a, "7AA7AA7AA77"},
                                                          {id_b, "8BB8BB8BB88"}};
      const auto leases_before = leases_seen(http_get(workers.front(), "/metrics"));
      const auto bundle =
          R"({"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient","id":"pa","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"7AA7AA7AA77"}]}},)" +
          glucose(id_a, R"({"reference":"Patient/pa"})") + "," +
          glucose(
              id_b,
              R"({"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"8BB8BB8BB88"}})") +
          "]}";
      const auto answer = mllp_send(front, bundle);
      INFO("the front's answer to the Bundle: " << answer);
      CHECK(answer.rfind(R"({"resourceType":"OperationOutcome","issue":[)", 0) == 0);
      CHECK(answer.find("\"severity\":\"error\"") == std::string::npos);
      // Each Observation is kept by the worker that owns its patient's partition, and by no
      // other unless that partition changed hands meanwhile: the worker that gave it up keeps
      // its copy (docs/cluster.md §5g, a stale copy), and its successor rebuilt the partition from
      // the stream.
      const auto leases_now = leases_seen(http_get(workers.front(), "/metrics"));
      for (const auto& [id, patient] : patient_of) {
        const auto partition = partition_of_token(partition_key(secret, patient), partitions());
        std::set<std::string> holders;
        for (const auto& w : workers) {
          if (http_get(w, "/fhir/Observation/" + id).find("\"id\":\"" + id + "\"") !=
              std::string::npos) {
            holders.insert(w.id);
          }
        }
        REQUIRE(leases_before.contains(partition));
        REQUIRE(leases_now.contains(partition));
        const auto& now = leases_now.at(partition);
        const bool moved = leases_before.at(partition).epoch != now.epoch;
        INFO(id << " (partition " << partition << ", owner " << now.owner << ", epoch "
                << leases_before.at(partition).epoch << " then " << now.epoch << ") is kept by "
                << holders.size() << " workers");
        CHECK(!holders.empty());
        if (!moved) {  // moved: its new owner may still be catching up
          CHECK(holders.size() == 1);
          if (!now.owner.empty()) CHECK(holders.contains(now.owner));
        }
      }
    }
    // The identity map (docs/cluster.md §4). A lab system that knows the patient only by its
    // medical record number sends the late labs first: the front holds them on CG_WAIT and
    // answers them itself. The claim comes and is held. The registration system's record,
    // naming the record number and the Medicare identifier in PID-3, links them: the front
    // forwards the labs to the patient's partition, and the claim is released there (a later
    // answer: on CG_OUT in step 7). Scenario 02's HL7 v2 files, for a patient of their own.
    const auto metric = [&](const std::string& name) {
      const auto text = http_get(worker_process{"front", 0, front.http_port}, "/metrics");
      const auto at = text.find("\n" + name + " ");
      return at == std::string::npos ? -1 : std::stoll(text.substr(at + name.size() + 2));
    };
    {
      const std::string scenario_v2 = "scenarios-hl7v2/02-csii-release-after-late-lab/";
      const auto as_patient = [](std::string text, const std::string& pid3) {
        const auto swap = [&text](const std::string& from, const std::string& to) {
          for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
            text.replace(at, from.size(), to), at += to.size();
        };
        swap("2AA2AA2AA02", "4CC4CC4CC44");
        swap("CSII-LATE", "CSII-IDENT");
        swap("4CC4CC4CC44^^^CMS&2.16.840.1.113883.4.927&ISO^MC", pid3);
        return text;
      };
      const auto record_number = "LAB-" + run_id() + "^^^SAMPLE-HOSP^MR";
      const auto labs =
          mllp_send(front, as_patient(read_sample(scenario_v2 + "3-late-labs.hl7"), record_number));
      CHECK_MESSAGE(labs.find("MSA|AA|ORU-4CC4CC4CC44-1") != std::string::npos, labs);
      CHECK(labs.find("ERR|") != std::string::npos);  // PID-3's warning: no Medicare identifier
      CHECK(metric("covgate_front_held_total") >= 1);
      const auto held_claim =
          http_post(front, "/x12", as_patient(read_sample(scenario_v2 + "2-claim.x12"), ""),
                    "application/edi-x12");
      CHECK(held_claim.status == 200);
      CHECK(held_claim.body.find("TRN*2*CSII-IDENT~") != std::string::npos);
      CHECK(held_claim.body.find("REF*1K*CSII-IDENT-1~") == std::string::npos);  // held
      // Over HTTP, the record's two messages' ACKs come back in one answer.
      const auto linking =
          http_post(front, "/hl7v2",
                    as_patient(read_sample(scenario_v2 + "1-record.hl7"),
                               record_number + "~4CC4CC4CC44^^^CMS&2.16.840.1.113883.4.927&ISO^MC"),
                    "x-application/hl7-v2+er7");
      CHECK(linking.status == 200);
      CHECK_MESSAGE(linking.body.find("MSA|AA|ADT-4CC4CC4CC44-1") != std::string::npos,
                    linking.body);
      CHECK_MESSAGE(linking.body.find("MSA|AA|ORU-4CC4CC4CC44-2") != std::string::npos,
                    linking.body);
      std::string released;
      const auto deadline = std::chrono::steady_clock::now() + 30s;
      while (std::chrono::steady_clock::now() < deadline) {
        released = http_get(worker_process{"front", 0, front.http_port}, "/claims/CSII-IDENT");
        if (json_text(released, "outcome") == "release") break;
        std::this_thread::sleep_for(200ms);
      }
      INFO("the claim after the link: " << released);
      CHECK(json_text(released, "outcome") == "release");
      CHECK(metric("covgate_front_forwarded_total") >= 1);
      // Nothing is left waiting on CG_WAIT.
      CHECK(js.messages_on(std::string(wait_stream), "cg.wait.>") == 0);
    }
    // NDJSON of two patients, one of them named only by a reference the message does not
    // identify: the front splits it, holds that patient's line on CG_WAIT (answered from its
    // own read) and sends the other line to its worker; one OperationOutcome answers both. A
    // Patient with that id and a Medicare identifier links it later, and the line moves on.
    {
      const auto held_before = metric("covgate_front_held_total");
      const auto forwarded_before = metric("covgate_front_forwarded_total");
      const auto local_id = "p9-" + run_id();
      const std::string split_message =
          R"({"resourceType":"Observation","id":"o1","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"reference":"Patient/)" +
          local_id +
          R"("},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})"
          "\n"
          R"({"resourceType":"Observation","id":"o2","status":"final","code":{"coding":[{"system":"http://loinc.org","code":"1558-6"}]},"subject":{"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"8BB8BB8BB88"}},"effectiveDateTime":"2026-01-16T07:40:00Z","valueQuantity":{"value":6.1,"unit":"mmol/L","system":"http://unitsofmeasure.org","code":"mmol/L"}})"
          "\n";
      const auto split = mllp_send(front, split_message);
      CHECK_MESSAGE(split.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, split);
      CHECK_MESSAGE(split.find("\"severity\":\"error\"") == std::string::npos, split);
      CHECK(metric("covgate_front_held_total") == held_before + 1);
      CHECK(js.messages_on(std::string(wait_stream), "cg.wait.>") == 1);
      // Sent again (as after "send it again"): held again, stored once (its message id is
      // its identity's and bytes').
      const auto again = mllp_send(front, split_message);
      CHECK_MESSAGE(again.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, again);
      CHECK(metric("covgate_front_held_total") == held_before + 2);
      CHECK(js.messages_on(std::string(wait_stream), "cg.wait.>") == 1);
      const auto linking = mllp_send(
          front,
          R"({"resourceType":"Patient","id":")" + local_id +
              R"(","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"8BB8BB8BB88"}]})");
      CHECK_MESSAGE(linking.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, linking);
      CHECK(wait_until([&] {
        return metric("covgate_front_forwarded_total") > forwarded_before &&
               js.messages_on(std::string(wait_stream), "cg.wait.>") == 0;
      }));
      // The same two lines with new ids, now that the identity is linked to the patient of the
      // other line: one part, to one worker, which reads both lines in one message (as one
      // server reads them) instead of a part per line.
      // The two Observations of split_message with ids of their own ("o1<tag>-<run>", "o2…"),
      // and how many workers keep both: one, or more when their partition changed hands
      // meanwhile (a stale copy).
      const auto with_ids = [&](const std::string& tag) {
        auto text = split_message;
        for (const std::string o : {"o1", "o2"}) {
          const auto from = "\"id\":\"" + o + "\"";
          text.replace(text.find(from), from.size(), "\"id\":\"" + o + tag + "-" + run_id() + "\"");
        }
        return text;
      };
      const auto workers_with_both = [&](const std::string& tag) {
        std::size_t with_both = 0;
        for (const auto& w : workers) {
          const auto has = [&](const std::string& o) {
            const auto id = o + tag + "-" + run_id();
            return http_get(w, "/fhir/Observation/" + id).find("\"id\":\"" + id + "\"") !=
                   std::string::npos;
          };
          if (has("o1") && has("o2")) ++with_both;
        }
        return with_both;
      };
      const auto joined_before = metric("covgate_front_joined_total");
      const auto held_now = metric("covgate_front_held_total");
      const auto joined = mllp_send(front, with_ids("j"));
      CHECK_MESSAGE(joined.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, joined);
      CHECK_MESSAGE(joined.find("\"severity\":\"error\"") == std::string::npos, joined);
      CHECK(metric("covgate_front_joined_total") == joined_before + 1);
      CHECK(metric("covgate_front_held_total") == held_now);
      CHECK(workers_with_both("j") >= 1);
      // The same two Observations in a transaction Bundle (never split: all or nothing), which
      // a front refuses as several patients while the identity is linked to no one: linked to
      // the other Observation's patient, it goes whole to that patient's worker (§4).
      const auto joined_again = metric("covgate_front_joined_total");
      std::string transaction = R"({"resourceType":"Bundle","type":"transaction","entry":[)";
      std::istringstream lines(with_ids("t"));
      const char* separator = "";
      for (std::string line; std::getline(lines, line);) {
        transaction += separator + (R"({"resource":)" + line +
                                    R"(,"request":{"method":"POST","url":"Observation"}})");
        separator = ",";
      }
      transaction += "]}";
      const auto whole = mllp_send(front, transaction);
      CHECK_MESSAGE(whole.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, whole);
      CHECK_MESSAGE(whole.find("\"severity\":\"error\"") == std::string::npos, whole);
      CHECK(metric("covgate_front_joined_total") == joined_again + 1);
      CHECK(workers_with_both("t") >= 1);
      // A second local id of that patient (another system's), linked by its own Patient; then
      // a transaction of two Observations, one by each local id, with no Medicare identifier:
      // two patients to the planner, one to the identity map. It goes whole, by one of the
      // two, to that patient's worker, which reads both references as that patient.
      const auto other_id = "p10-" + run_id();
      const auto second_link = mllp_send(
          front,
          R"({"resourceType":"Patient","id":")" + other_id +
              R"(","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"8BB8BB8BB88"}]})");
      CHECK_MESSAGE(second_link.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0,
                    second_link);
      auto by_local_ids = transaction;
      for (const std::string from : {"\"id\":\"o1t-", "\"id\":\"o2t-"}) {
        by_local_ids.replace(by_local_ids.find(from), from.size(),
                             from.substr(0, from.size() - 2) + "a-");
      }
      const std::string mbi_subject =
          R"({"identifier":{"system":"http://hl7.org/fhir/sid/us-mbi","value":"8BB8BB8BB88"}})";
      by_local_ids.replace(by_local_ids.find(mbi_subject), mbi_subject.size(),
                           R"({"reference":"Patient/)" + other_id + R"("})");
      REQUIRE(by_local_ids.find("8BB8BB8BB88") == std::string::npos);
      const auto joined_by_ids = metric("covgate_front_joined_total");
      const auto by_ids = mllp_send(front, by_local_ids);
      CHECK_MESSAGE(by_ids.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, by_ids);
      CHECK_MESSAGE(by_ids.find("\"severity\":\"error\"") == std::string::npos, by_ids);
      CHECK(metric("covgate_front_joined_total") == joined_by_ids + 1);
      CHECK(workers_with_both("a") >= 1);
      // The same two Observations by the two local ids as NDJSON, a message the front splits
      // by line: one patient to the identity map, so one part, which that patient's worker
      // reads in one message (before, a part per line: two messages to one partition).
      auto lines_by_ids = with_ids("s");
      lines_by_ids.replace(lines_by_ids.find(mbi_subject), mbi_subject.size(),
                           R"({"reference":"Patient/)" + other_id + R"("})");
      REQUIRE(lines_by_ids.find("8BB8BB8BB88") == std::string::npos);
      const auto joined_lines = metric("covgate_front_joined_total");
      const auto parts_before = metric("covgate_front_parts_published_total");
      const auto by_lines = mllp_send(front, lines_by_ids);
      CHECK_MESSAGE(by_lines.rfind("{\"resourceType\":\"OperationOutcome\"", 0) == 0, by_lines);
      CHECK_MESSAGE(by_lines.find("\"severity\":\"error\"") == std::string::npos, by_lines);
      CHECK(metric("covgate_front_joined_total") == joined_lines + 1);
      CHECK(metric("covgate_front_parts_published_total") == parts_before + 1);
      CHECK(workers_with_both("s") >= 1);
    }

    // 2. The day's records as one NDJSON message over MLLP (the front splits it by patient
    //    and merges the workers' OperationOutcomes into one), then its 300 claims in one
    //    interchange over HTTP (the front splits it by patient and renumbers what it sends).
    const std::string day = "days/mixed-day/";
    const auto records = mllp_send(front, read_sample(day + "1-records.ndjson"));
    CHECK_MESSAGE(records.rfind("{\"resourceType\":\"OperationOutcome\",\"issue\":[", 0) == 0,
                  records.substr(0, 400));
    CHECK(count_of(records, "\"resourceType\":\"OperationOutcome\"") == 1);
    const auto claims =
        http_post(front, "/x12", read_sample(day + "2-claims.x12"), "application/edi-x12");
    REQUIRE(claims.status == 200);
    CHECK(count_of(claims.body, "\nTRN*2*CG") == 300);
    std::set<std::string> controls;
    std::size_t interchanges = 0;
    for (auto at = claims.body.find("ISA*"); at != std::string::npos;
         at = claims.body.find("ISA*", at + 1)) {
      ++interchanges;
      controls.insert(claims.body.substr(at + 90, 9));  // ISA13 of a standard ISA
    }
    CHECK(interchanges > 1);
    CHECK(controls.size() == interchanges);  // no control number repeats across workers

    // 3. Scenario 02's record and claim, published straight to CG_IN with a reply subject,
    //    show which worker holds that patient: it is killed with -9 mid-day.
    const std::string scenario = "scenarios/02-csii-release-after-late-lab/";
    const auto pkey = partition_key(secret, "2AA2AA2AA02");
    const std::string inbox = "_INBOX.covgate-processes-" + run_id();
    auto replies = js.subscribe(inbox);
    const auto publish = [&](const std::string& sample, message_kind kind,
                             std::chrono::milliseconds wait) {
      (void)js.publish(producer_subject(pkey, kind), read_sample(sample), run_id() + "-" + sample,
                       {{"Cg-Reply-To", inbox}});
      return replies.next(wait);
    };
    const auto record = publish(scenario + "1-record.json", message_kind::fhir, 30s);
    REQUIRE(record);
    const auto holder_id = record->header("Cg-Worker");
    const auto claim = publish(scenario + "2-claim.x12", message_kind::claim, 30s);
    REQUIRE(claim);
    CHECK(claim->header("Cg-Worker") == holder_id);  // one patient, one partition, one worker
    const auto holder = std::find_if(workers.begin(), workers.end(),
                                     [&](const worker_process& w) { return w.id == holder_id; });
    REQUIRE(holder != workers.end());
    CHECK(http_get(*holder, "/claims/CSII-LATE").find("\"outcome\":\"hold:documentation\"") !=
          std::string::npos);
    // The front keeps nothing: it asks every worker, and the holder answers.
    const worker_process front_api{"front", 0, front.http_port};
    CHECK(json_text(http_get(front_api, "/claims/CSII-LATE"), "outcome") == "hold:documentation");
    // Its raw message too: through the front the claim names it by the CG_IN sequence that
    // carried it, and the front reads it back from the stream (§5g); the holder's own API
    // names it by its journal.
    const auto carried_by = claim->header("Cg-Sequence");
    const auto raw_named = R"("message":{"id":)" + carried_by + R"(,"available":true})";
    const auto front_detail = http_get(front_api, "/claims/CSII-LATE");
    CHECK_MESSAGE(front_detail.find(raw_named) != std::string::npos, front_detail);
    const auto raw = http_get(front_api, "/messages/" + carried_by);
    CHECK_MESSAGE(raw.find("CLM*CSII-LATE*") != std::string::npos, raw);
    CHECK(json_text(raw, "kind") == "x12");
    CHECK(json_text(raw, "peer") == "part-" + claim->header("Cg-Partition") + ":" + carried_by);
    CHECK(json_text(raw, "received").starts_with("20"));
    CHECK(http_get(front_api, "/messages/" + record->header("Cg-Sequence")).find("Patient") !=
          std::string::npos);
    CHECK(http_get(front_api, "/messages/999999999").find("no such message") != std::string::npos);
    // A resource's facts the same way: the holder of the partition they are filed under
    // answers; one no worker has is not found once every partition has answered.
    const auto visit = http_get(front_api, "/fhir/Encounter/visit-2AA2AA2AA02");
    CHECK_MESSAGE(visit.find(R"("resourceType":"Encounter")") != std::string::npos, visit);
    CHECK_MESSAGE(visit.find(R"("id":"visit-2AA2AA2AA02")") != std::string::npos, visit);
    const auto no_such = http_get(front_api, "/fhir/Observation/no-such-" + run_id());
    CHECK_MESSAGE(no_such.find("not-found") != std::string::npos, no_such);
    // Its outbox routes read the cluster's dead letters (KV cg-dead): none for its receiver,
    // which takes everything; an unknown one is not found.
    CHECK(http_get(front_api, "/outbox?state=dead") == R"({"items":[],"next":null})");
    CHECK(http_get(front_api, "/outbox?state=pending") == R"({"items":[],"next":null})");
    CHECK(http_get(front_api, "/outbox/1").find("no such outbox item") != std::string::npos);

    // 3b. A reviewer releases one of the day's review holds through the front's HTTP API.
    //     The front publishes the action to CG_IN under the claim's patient and answers once
    //     the partition's holder has applied it; the holder is killed next, so the survivor
    //     that rebuilds the partition must find the action in the stream (docs/cluster.md §5e).
    const auto replayed = env("COVGATE_NATS_DIR") + "/replay-decisions.jsonl";
    const auto command = env("COVGATE") + " replay --no-progress --out /dev/null --decisions " +
                         replayed + " " + env("COVGATE_SAMPLES") + "/" + day + " 2>/dev/null";
    REQUIRE(std::system(command.c_str()) == 0);
    std::ifstream decisions_file(replayed);
    const std::string replayed_text{std::istreambuf_iterator<char>(decisions_file),
                                    std::istreambuf_iterator<char>()};
    auto expected = final_outcomes(replayed_text);
    REQUIRE(expected.size() == 300);
    std::vector<std::string> candidates;  // review holds a single process never changes
    for (const auto& [id, outcome] : expected) {
      if (outcome == "hold:review" && count_of(replayed_text, "\"claim_id\":\"" + id + "\"") == 1)
        candidates.push_back(id);
    }
    REQUIRE(!candidates.empty());
    std::vector<std::string> candidate_paths;
    for (const auto& id : candidates) candidate_paths.push_back("/claims/" + id);
    const auto holder_copies = http_get_all(*holder, candidate_paths);
    std::string reviewed;
    std::string reviewed_held_at;  // its hold's time on the holder, to the second
    for (std::size_t c = 0; c < candidates.size() && reviewed.empty(); ++c) {
      if (holder_copies[c].find("\"current\"") == std::string::npos) continue;
      reviewed = candidates[c];
      reviewed_held_at = json_text(holder_copies[c], "at", holder_copies[c].find("\"history\""));
    }
    REQUIRE_MESSAGE(!reviewed.empty(), "the holder has none of the day's review holds");
    // Posted to the front, which keeps no claim: it asks the cluster for the claim, publishes
    // the action on its patient's subject and answers with the holder's reply, then the claim
    // as the holder shows it now.
    const auto released =
        http_post(front, "/claims/" + reviewed + "/release",
                  R"({"reason":"chart reviewed","by":"cluster-test"})", "application/json");
    CHECK_MESSAGE(released.status == 200, "the review's answer: " << released.body);
    CHECK_MESSAGE(json_text(released.body, "outcome") == "release", released.body);
    CHECK(http_post(front, "/claims/NO-SUCH-CLAIM/cancel", R"({"reason":"x","by":"t"})",
                    "application/json")
              .status == 404);
    // In bulk, the claims are looked up side by side, each answered: a documentation hold
    // takes no reviewer's action, a claim nobody has is unknown.
    const auto bulk = http_post(
        front, "/claims/release",
        R"({"ids":["CSII-LATE","NO-SUCH-1","NO-SUCH-2","NO-SUCH-3"],"reason":"x","by":"t"})",
        "application/json");
    CHECK_MESSAGE(bulk.status == 200, bulk.body);
    CHECK_MESSAGE(bulk.body == R"({"results":[{"id":"CSII-LATE","status":"not-reviewable"},)"
                               R"({"id":"NO-SUCH-1","status":"unknown"},)"
                               R"({"id":"NO-SUCH-2","status":"unknown"},)"
                               R"({"id":"NO-SUCH-3","status":"unknown"}],"done":0})",
                  bulk.body);
    // Posted to a worker, through the stream too, and answered as the holder decides: a
    // documentation hold takes no reviewer's action.
    const front_process holder_api{"", holder->http_port};
    CHECK(http_post(holder_api, "/claims/CSII-LATE/release", R"({"reason":"x","by":"t"})",
                    "application/json")
              .status == 409);
    expected[reviewed] = "release";
    // The holder writes its partitions' snapshots every second (docs/cluster.md §5j): wait
    // for one of scenario 02's partition that has the claim, so that a survivor whose store
    // never held the partition starts from it, and applies the review after it from the stream.
    const auto partition_label = "{partition=\"" + claim->header("Cg-Partition") + "\"} ";
    const auto gauge = [&](const worker_process& w, const std::string& name) -> std::int64_t {
      const auto text = http_get(w, "/metrics");
      const auto at = text.find(name + partition_label);
      return at == std::string::npos
                 ? -1
                 : std::stoll(text.substr(at + name.size() + partition_label.size()));
    };
    const auto claim_sequence = std::stoll(claim->header("Cg-Sequence"));
    {
      const auto deadline = std::chrono::steady_clock::now() + 20s;
      while (gauge(*holder, "covgate_worker_partition_snapshot_seq") < claim_sequence &&
             std::chrono::steady_clock::now() < deadline) {
        std::this_thread::sleep_for(200ms);
      }
      CHECK(gauge(*holder, "covgate_worker_partition_snapshot_seq") >= claim_sequence);
    }
    REQUIRE(::kill(holder->pid, SIGKILL) == 0);
    workers.erase(holder);

    // 4. The late labs of scenario 02, published while nobody holds its partition, are
    //    answered by a survivor once it has taken the partition over and rebuilt it.
    const auto labs = publish(scenario + "3-late-labs.json", message_kind::fhir, 40s);
    REQUIRE(labs);
    CHECK(labs->header("Cg-Outcome") == "accepted");
    const auto survivor =
        std::find_if(workers.begin(), workers.end(),
                     [&](const worker_process& w) { return w.id == labs->header("Cg-Worker"); });
    REQUIRE(survivor != workers.end());
    // Reported: whether it started from the holder's snapshot or rebuilt from the stream (a
    // survivor that held the partition at start-up has a copy of its own to catch up).
    const std::string started_from =
        gauge(*survivor, "covgate_worker_partition_snapshot_loaded_seq") > 0
            ? "the holder's snapshot"
            : "its own copy and the stream";
    MESSAGE("the survivor " << survivor->id << " started scenario 02's partition from "
                            << started_from);
    const auto detail = http_get(*survivor, "/claims/CSII-LATE");
    INFO("claim detail: " << detail);
    CHECK(json_text(detail, "outcome") == "release");
    // The raw message it offers is the claim's own, whichever way it started: a snapshot's
    // rows named the old holder's journal, where the survivor's has another message. Started
    // from the snapshot, the claim came in before it: the survivor names no message of its own.
    {  // the message the survivor names
      constexpr std::string_view message_key = R"("message":{"id":)";
      const auto at = detail.find(message_key);
      REQUIRE(at != std::string::npos);
      const auto begin = at + message_key.size();
      const auto id = detail.substr(begin, detail.find(',', begin) - begin);
      if (gauge(*survivor, "covgate_worker_partition_snapshot_loaded_seq") >= claim_sequence) {
        CHECK(id == "null");
      } else if (id != "null") {
        const auto own = http_get(*survivor, "/messages/" + id);
        CHECK_MESSAGE(own.find("CLM*CSII-LATE*") != std::string::npos, own);
      }
    }
    CHECK(http_get(front_api, "/claims/CSII-LATE").find(raw_named) != std::string::npos);
    CHECK(count_of(detail, "\"event\":\"release\",\"at\"") == 1);  // once, not once per replay
    CHECK(count_of(detail, "\"event\":\"hold\",\"at\"") == 1);
    // Asked of the front, the claim is the new holder's (the killed one's copy is gone with it;
    // another survivor's would be a copy of a partition it does not hold).
    const auto through_front = http_get_asking_again(front_api, "/claims/CSII-LATE");
    INFO("through the front: " << through_front);
    CHECK(json_text(through_front, "outcome") == "release");
    CHECK(count_of(through_front, "\"event\":\"release\",\"at\"") == 1);
    // The late lab, published while nobody held the partition, is the survivor's to show.
    const auto late_lab = http_get_asking_again(front_api, "/fhir/Observation/cpep-2AA2AA2AA02");
    CHECK_MESSAGE(late_lab.find(R"("resourceType":"Observation")") != std::string::npos, late_lab);

    // 5. The day's late records through the front, half before and half after NATS node n1
    //    is killed too.
    const auto late = ndjson_by_patient(read_sample(day + "3-late-records.ndjson"));
    for (std::size_t i = 0; i < late.size(); ++i) {
      if (i == late.size() / 2) REQUIRE(::kill(node_pid("n1"), SIGKILL) == 0);
      const auto answer = mllp_send(front, late[i]);
      if (answer.find("OperationOutcome") == std::string::npos) {
        for (const auto& w : workers) MESSAGE(w.id << " metrics:\n" << http_get(w, "/metrics"));
        MESSAGE("front metrics:\n"
                << http_get(worker_process{"front", 0, front.http_port}, "/metrics"));
      }
      REQUIRE_MESSAGE(answer.find("OperationOutcome") != std::string::npos, "late message " << i);
    }

    // 6. Every claim of the day ends as it ends in one process replaying the same files. Each
    //    claim is asked of the two survivors: the one that holds its partition answers
    //    (the killed worker's partitions were rebuilt by whoever took them over).
    //    The claim released by a reviewer ends released, by that action once.
    std::vector<std::string> paths;
    for (const auto& [id, outcome] : expected) paths.push_back("/claims/" + id);
    std::vector<std::vector<std::string>> answers;
    for (const auto& w : workers) answers.push_back(http_get_all(w, paths));
    std::size_t equal = 0;
    std::size_t i = 0;
    std::string reviewed_copy;
    for (const auto& [id, outcome] : expected) {
      // A partition that moved between the survivors leaves its old holder a copy that stopped
      // at the move (docs/cluster.md §5); the holder's copy has at least as many events.
      std::string found;
      std::size_t most_events = 0;
      for (const auto& from_worker : answers) {
        const auto& copy = from_worker[i];
        if (copy.find("\"current\"") == std::string::npos) continue;
        const auto events = count_of(copy, "\"event\":");
        if (found.empty() || events > most_events) {
          found = json_text(copy, "outcome");
          most_events = events;
          if (id == reviewed) reviewed_copy = copy;
        }
      }
      ++i;
      if (found == outcome) {
        ++equal;
      } else {
        INFO("claim " << id);
        CHECK(found == outcome);
        for (std::size_t w = 0; w < answers.size(); ++w) {  // what each survivor has
          const auto& copy = answers[w][i - 1];
          const auto history = copy.find("\"history\"");
          MESSAGE(id << " on " << workers[w].id << ": "
                     << (history == std::string::npos ? copy.substr(0, 300)
                                                      : copy.substr(history, 1500)));
          // Whether the survivor has the patient's late records (the generated day names
          // them by the patient's identifier): missing facts, or facts not evaluated.
          const auto patient = json_text(copy, "patient");
          if (patient.empty()) continue;
          for (const auto& resource :
               {"Encounter/visit-", "Observation/cpep-", "Observation/edu-"}) {
            MESSAGE("  " << resource << patient << " on " << workers[w].id << ": "
                         << http_get(workers[w], "/fhir/" + std::string(resource) + patient)
                                .substr(0, 200));
          }
        }
      }
    }
    CHECK(equal == expected.size());
    CHECK_MESSAGE(count_of(reviewed_copy, "\"event\":\"release\",\"at\"") == 1, reviewed_copy);
    CHECK_MESSAGE(count_of(reviewed_copy, "\"event\":\"hold\",\"at\"") == 1, reviewed_copy);
    // The rebuild dated the hold when CG_IN stored its claim, as the first holder did.
    CHECK(json_text(reviewed_copy, "at", reviewed_copy.find("\"history\"")) == reviewed_held_at);

    // 7. Every later answer of the day (an event after a claim's first: a release by late
    //    evidence, a hold again) and scenario 02's releases (FHIR, and HL7 v2 through the
    //    identity map) are on CG_OUT exactly once, under
    //    the key a single process gives them, each numbered from the cluster's counter.
    //    A key is the billing NPI, '_' and the 277's trace "CLM01-sequence"; the replay's
    //    decision lines name the claim by CLM01, so the traces are compared.
    const auto trace_of = [](std::string_view key) {
      const auto npi_end = key.find('_');
      const bool has_npi =
          npi_end != std::string_view::npos && npi_end > 0 &&
          std::all_of(key.begin(), key.begin() + static_cast<std::ptrdiff_t>(npi_end),
                      [](char c) { return c >= '0' && c <= '9'; });
      return std::string(has_npi ? key.substr(npi_end + 1) : key);
    };
    std::set<std::string> later_keys{"CSII-LATE-2", "CSII-IDENT-2", reviewed + "-2"};
    {
      std::map<std::string, int> events;
      std::ifstream replayed_again(replayed);
      std::stringstream lines;
      lines << replayed_again.rdbuf();
      for (std::string line; std::getline(lines, line);) {
        const auto id = json_text(line, "claim_id");
        if (id.empty() || json_text(line, "event") == "repeat") continue;
        if (const int n = ++events[id]; n > 1) later_keys.insert(id + "-" + std::to_string(n));
      }
    }
    REQUIRE(later_keys.size() > 1);        // the day has releases by late records
    std::map<std::string, int> published;  // key -> copies on CG_OUT
    std::set<std::string> release_controls;
    std::size_t releases = 0;
    const auto read_deadline = std::chrono::steady_clock::now() + 60s;
    do {
      published.clear();
      release_controls.clear();
      releases = 0;
      auto out = js.read_from(std::string(out_stream), out_stream_subject(), 1);
      while (auto m = out.next(1s)) {
        if (worker_ids.count(m->header(release_worker_header)) == 0) continue;  // other cases'
        ++releases;
        const auto key = m->header(release_key_header);
        const auto trace = trace_of(key);
        CHECK_MESSAGE(trace != key, key);  // every generated claim names its billing NPI
        ++published[trace];
        CHECK(m->subject() == release_subject(release_token(secret, key)));
        const std::string text(m->data());
        CHECK(text.find("TRN*2*" + trace.substr(0, trace.rfind('-')) + "~") != std::string::npos);
        release_controls.insert(text.substr(90, 9));
      }
    } while (published.size() < later_keys.size() &&
             std::chrono::steady_clock::now() < read_deadline);
    std::set<std::string> keys;
    for (const auto& [key, copies] : published) {
      keys.insert(key);
      CHECK_MESSAGE(copies == 1, key);
    }
    CHECK(keys == later_keys);
    MESSAGE("CG_OUT: " << releases << " releases of the workers for " << later_keys.size()
                       << " later answers");
    // The front delivered each of them to its directory destination, once (a file per key).
    const std::filesystem::path delivered_to = env("COVGATE_NATS_DIR") + "/f1/releases";
    std::set<std::string> files;
    const auto files_deadline = std::chrono::steady_clock::now() + 30s;
    do {
      files.clear();
      std::error_code ec;
      for (const auto& entry : std::filesystem::directory_iterator(delivered_to, ec)) {
        const auto name = entry.path().filename().string();
        if (name.size() > 4 && name.ends_with(".x12"))
          files.insert(trace_of(name.substr(0, name.size() - 4)));
      }
      if (std::includes(files.begin(), files.end(), later_keys.begin(), later_keys.end())) break;
      std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < files_deadline);
    for (const auto& key : later_keys) CHECK_MESSAGE(files.count(key) == 1, key);
    for (const auto& name : files) {  // besides: only what the jetstream cases published
      CHECK_MESSAGE((later_keys.count(name) == 1 || name.rfind("RELTEST", 0) == 0 ||
                     name.rfind("DELTEST", 0) == 0),
                    name);
    }
    CHECK(release_controls.size() == releases);  // no ISA13 twice on CG_OUT
    for (const auto& control : release_controls) {
      CHECK_MESSAGE(controls.count(control) == 0, "ISA13 " << control << " also answered a sender");
    }

    // The front's and a survivor's /metrics.
    const auto metrics = http_get(*survivor, "/metrics");
    CHECK(metrics.find("covgate_cluster_up 1") != std::string::npos);
    CHECK(metrics.find("covgate_worker_reference_applied_total ") != std::string::npos);
    CHECK(metrics.find("covgate_partition_owned{") != std::string::npos);
    // The front's receiver has nothing left to take (its last acknowledgement may trail the
    // last file by a moment).
    std::string front_metrics;
    const auto drained_deadline = std::chrono::steady_clock::now() + 20s;
    do {
      front_metrics = http_get(worker_process{"front", 0, front.http_port}, "/metrics");
      if (front_metrics.find("covgate_front_releases_pending{destination=\"0\"} 0\n") !=
          std::string::npos) {
        break;
      }
      std::this_thread::sleep_for(200ms);
    } while (std::chrono::steady_clock::now() < drained_deadline);
    CHECK(front_metrics.find("covgate_front_releases_pending{destination=\"0\"} 0\n") !=
          std::string::npos);
    CHECK(front_metrics.find(
              "covgate_outbox_attempts_total{kind=\"directory\",result=\"delivered\"}") !=
          std::string::npos);
    CHECK(front_metrics.find("covgate_front_refused_total 0") != std::string::npos);
    CHECK(front_metrics.find("covgate_front_in_flight 0") != std::string::npos);
    CHECK(front_metrics.find("covgate_front_resent_total ") != std::string::npos);
    // A claim no worker has: 404 once every live worker said so. (Before the key listing of
    // cg-workers read the stream's subjects, nats.c 3.4.1's listing timed out after the node
    // kill, and this answered 503: docs/cluster.md §5g.) A 503 "ask again" is asked again a
    // few times, as a client would, then fails the test.
    {
      const auto unknown = http_get_asking_again(front_api, "/claims/NO-SUCH-CLAIM");
      CHECK_MESSAGE(unknown.find("no such claim") != std::string::npos, unknown);
    }
    // The outbox routes list KV cg-dead, after the kill too.
    CHECK(http_get(front_api, "/outbox?state=dead") == R"({"items":[],"next":null})");
    // GET /queues on the front counts the whole cluster, each partition once (§5h): the
    // day's holds as one process ends them (`expected` has the reviewer's release), and
    // every other claim of this case ended released. A worker's own /queues counts its store,
    // stale copies of partitions it held before included.
    {
      std::map<std::string, std::int64_t> holds;
      for (const auto& [id, outcome] : expected) {
        if (outcome.rfind("hold:", 0) == 0) ++holds[outcome];
      }
      const auto queues = http_get_asking_again(front_api, "/queues");
      INFO("the front's /queues: " << queues);
      const auto count_of_queue = [&](const std::string& outcome) -> std::int64_t {
        const auto at = queues.find("\"outcome\":\"" + outcome + "\",\"count\":");
        if (at == std::string::npos) return -1;
        return std::stoll(queues.substr(at + outcome.size() + 21));
      };
      for (const auto* outcome :
           {"hold:documentation", "hold:review", "hold:not-covered", "hold:invalid"}) {
        CHECK_MESSAGE(count_of_queue(outcome) == holds[outcome], outcome);
      }
      CHECK(count_of_queue("release") >= 3);  // CSII-LATE, CSII-IDENT, the reviewed claim
      // GET /charts the same way: every hold in one age bucket, each once; the releases of
      // today counted (the reviewer's among them).
      const auto charts = http_get_asking_again(front_api, "/charts?days=2");
      INFO("the front's /charts: " << charts);
      const auto ages = charts.find("\"holds_by_age\"");
      const auto days = charts.find("\"releases_by_day\"");
      REQUIRE(ages != std::string::npos);
      REQUIRE(days != std::string::npos);
      const auto sum_of = [&](std::size_t from, std::size_t to, const std::string& name) {
        std::int64_t sum = 0;
        const auto key = "\"" + name + "\":";
        for (auto at = charts.find(key, from); at != std::string::npos && at < to;
             at = charts.find(key, at + 1)) {
          sum += std::stoll(charts.substr(at + key.size()));
        }
        return sum;
      };
      std::int64_t all_holds = 0;
      for (const auto& [outcome, n] : holds) all_holds += n;
      CHECK(sum_of(ages, days, "count") == all_holds);
      CHECK(sum_of(days, charts.size(), "by_reviewer") == 1);
      CHECK(sum_of(days, charts.size(), "count") >= 3);
      // GET /audit/csii on the front is the whole cluster's audit (§5h), put together from
      // each partition's rows: every CSII patient once (a stale copy's rows are not sent),
      // scenario 02's patient documented by the late labs, the same rows in CSV and JSON.
      {
        const auto csv = http_get_asking_again(front_api, "/audit/csii?format=csv");
        INFO("the front's audit: " << csv.substr(0, 600));
        REQUIRE(csv.rfind("patient,insulinopenia_documented,", 0) == 0);
        std::set<std::string> patients;
        std::size_t rows = 0;
        std::string late_row;
        for (auto at = csv.find('\n'); at != std::string::npos && at + 1 < csv.size();
             at = csv.find('\n', at + 1)) {
          const auto line = csv.substr(at + 1, csv.find('\n', at + 1) - at - 1);
          ++rows;
          const auto patient = line.substr(0, line.find(','));
          CHECK_MESSAGE(patients.insert(patient).second, patient << " twice in the audit");
          if (patient == "2AA2AA2AA02") late_row = line;
        }
        CHECK(patients.count("4CC4CC4CC44") == 1);
        CHECK_MESSAGE(late_row.rfind("2AA2AA2AA02,yes,", 0) == 0, late_row);
        const auto json = http_get_asking_again(front_api, "/audit/csii");
        CHECK(count_of(json, "\"documentation\":{") == rows);
        CHECK(http_get_asking_again(front_api, "/audit/csii?format=html")
                  .find("<h2>Insulin pump (CSII) patients</h2>") != std::string::npos);
      }
      // GET /claims on the front lists the whole cluster (§5h): each queue of documentation
      // and review holds paged through by 40 on the charge, most first, holds exactly the
      // day's holds of that outcome, each once, and says so in its total.
      for (const auto& [queue, outcome] :
           {std::pair{"documentation", "hold:documentation"}, std::pair{"review", "hold:review"}}) {
        std::set<std::string> want, listed;
        for (const auto& [id, o] : expected) {
          if (o == outcome) want.insert(id);
        }
        std::string cursor;
        std::int64_t last_charge = std::numeric_limits<std::int64_t>::max();
        for (int page = 0; page < 50; ++page) {
          const auto list = http_get_asking_again(
              front_api, std::string("/claims?queue=") + queue + "&sort=-charge&limit=40" +
                             (cursor.empty() ? "" : "&after=" + cursor));
          INFO("the front's page "
               << page << " of " << std::string(queue) << " after '" << cursor
               << "': " << list.substr(0, 300) << " … "
               << list.substr(
                      list.rfind("\"next\"") == std::string::npos ? 0 : list.rfind("\"next\"")));
          const auto total = list.find("\"total\":");
          REQUIRE(total != std::string::npos);
          CHECK(std::stoll(list.substr(total + 8)) == static_cast<std::int64_t>(want.size()));
          for (auto at = list.find("{\"id\":\""); at != std::string::npos;
               at = list.find("{\"id\":\"", at + 1)) {
            if (list[at - 1] != '[' && list[at - 1] != ',') continue;  // a sender's id
            const auto id = json_text(list, "id", at);
            CHECK_MESSAGE(listed.insert(id).second, id << " listed twice");
            const auto charge = list.find("\"charge_cents\":", at);
            REQUIRE(charge != std::string::npos);
            const auto cents = std::stoll(list.substr(charge + 15));
            CHECK(cents <= last_charge);  // most first across the pages
            last_charge = cents;
          }
          const auto next = list.find("\"next\":\"");
          if (next == std::string::npos) break;
          cursor = list.substr(next + 8, list.find('"', next + 8) - next - 8);
        }
        CHECK(listed == want);
      }
    }
    // The survivors keep every partition between them through their lease rounds with a node
    // down: asked several times over a few leases' length (2 s each here), every partition
    // has a survivor as its owner. (Seen before the listing fix: every round of both
    // survivors failed from the node kill on, and their leases expired.) A lease may lapse
    // once, as a round that fails under load lets a 2 s lease run out before the next renews
    // or retakes it (seen with a profiler beside the test: four partitions of one worker at
    // the first look, all held again at the next); never at two looks in a row, nor the last.
    std::set<std::string> survivor_ids;
    for (const auto& w : workers) survivor_ids.insert(w.id);
    std::set<int> lapsed;
    constexpr int looks = 4;
    for (int look = 0; look < looks; ++look) {
      if (look > 0) std::this_thread::sleep_for(2s);
      const auto owners = http_get(workers.front(), "/metrics");
      INFO("look " << look << ", the owners a survivor sees:\n" << owners);
      const auto leases = leases_seen(owners);
      CHECK(leases.size() == static_cast<std::size_t>(partitions()));
      std::set<int> unowned;
      for (const auto& [partition, lease] : leases) {
        if (survivor_ids.count(lease.owner) == 1) continue;
        unowned.insert(partition);
        CHECK_MESSAGE((lapsed.count(partition) == 0 && look + 1 < looks),
                      "partition " << partition << " has no survivor's lease (owner \""
                                   << lease.owner << "\") at look " << look);
      }
      if (!unowned.empty()) MESSAGE(unowned.size() << " lease(s) lapsed at look " << look);
      lapsed = std::move(unowned);
    }
    // What the kill of a node cost the front (reported, not asserted: it depends on timing).
    std::istringstream lines(front_metrics);
    for (std::string line; std::getline(lines, line);) {
      if (line.rfind("covgate_front_", 0) == 0) MESSAGE(line);
    }
  }

  TEST_CASE("a C ABI host pointed at the cluster is answered by its workers and polls releases") {
    // The host is a front of its own (docs/cluster.md §5i): the day's workers answer it.
    ::setenv("COVGATE_TEST_KEY_SECRET", secret.c_str(), 1);
    const auto store_dir = std::filesystem::temp_directory_path() / ("covgate-abi-" + run_id());
    std::string urls;
    for (const auto& url : cluster_settings().urls)
      urls += (urls.empty() ? "\"" : ",\"") + url + "\"";
    const std::string config = R"({"store": {"directory": ")" + store_dir.string() +
                               R"("}, "cluster": {"role": "front", "worker_id": "abi-)" + run_id() +
                               R"(", "urls": [)" + urls + R"(], "partitions": )" +
                               std::to_string(partitions()) +
                               R"(, "key_secret_env": "COVGATE_TEST_KEY_SECRET",
                                    "answer_timeout_ms": 8000}})";
    covgate_error err{};
    err.size = sizeof err;
    covgate_handle* host = nullptr;
    REQUIRE_MESSAGE(covgate_open(config.data(), config.size(), nullptr, &host, &err) == COVGATE_OK,
                    err.message);
    // Scenario 02 for a patient of its own: a record, the claim (held), the late labs.
    const auto as_patient = [](std::string text) {
      const auto swap = [&text](const std::string& from, const std::string& to) {
        for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at))
          text.replace(at, from.size(), to), at += to.size();
      };
      swap("2AA2AA2AA02", "5DD5DD5DD55");
      swap("CSII-LATE", "CSII-ABI");
      return text;
    };
    struct answer_ptr {
      covgate_answer* a = nullptr;
      ~answer_ptr() { covgate_answer_free(a); }
      [[nodiscard]] std::string body() const {
        return {reinterpret_cast<const char*>(a->body), a->body_length};
      }
    };
    const auto submit = [&](const std::string& message, answer_ptr& out) {
      // Sent again while the cluster does not take it (COVGATE_E_UNAVAILABLE: harmless).
      int32_t status = COVGATE_E_UNAVAILABLE;
      for (int attempt = 0; attempt < 5 && status == COVGATE_E_UNAVAILABLE; ++attempt) {
        covgate_answer_free(out.a);
        out.a = nullptr;
        status = covgate_submit(host, message.data(), message.size(), nullptr, &out.a, &err);
      }
      return status;
    };
    const std::string scenario = "scenarios/02-csii-release-after-late-lab/";
    answer_ptr record, claim, labs, garbage;
    REQUIRE(submit(as_patient(read_sample(scenario + "1-record.json")), record) == COVGATE_OK);
    CHECK(record.a->disposition == COVGATE_ACCEPTED);
    CHECK(record.a->facts > 0);
    CHECK(record.body().find("\"resourceType\":\"OperationOutcome\"") != std::string::npos);
    CHECK(record.a->decisions_length == 0);  // facts of a patient with no claim: no event
    // The day's front's GET /changes (§5h) moves when a worker's claim does.
    const worker_process day_front{"front", 0, the_front().http_port};
    const auto version_before = http_get_asking_again(day_front, "/changes");
    CHECK(version_before.find("\"version\":\"") != std::string::npos);
    CHECK(http_get_asking_again(day_front, "/changes") == version_before);  // nothing moved
    REQUIRE(submit(as_patient(read_sample(scenario + "2-claim.x12")), claim) == COVGATE_OK);
    INFO("the claim's answer: " << claim.body());
    CHECK(http_get_asking_again(day_front, "/changes") != version_before);
    CHECK(claim.a->disposition == COVGATE_HOLD);  // the worker's Cg-Disposition
    CHECK(claim.a->claims == 1);
    CHECK(std::string(claim.a->content_type) == "application/edi-x12");
    CHECK(claim.body().find("TRN*2*CSII-ABI~") != std::string::npos);
    // The workers send the events' decision lines back, as a handle with a state of its own
    // gives them: one line for the claim's hold.
    const std::string claim_decisions(claim.a->decisions, claim.a->decisions_length);
    INFO("the claim's decision lines: " << claim_decisions);
    CHECK(count_of(claim_decisions, "\n") == 1);
    CHECK(claim_decisions.starts_with(R"({"event":"hold","claim_id":"CSII-ABI")"));
    REQUIRE(submit(as_patient(read_sample(scenario + "3-late-labs.json")), labs) == COVGATE_OK);
    CHECK(labs.a->disposition == COVGATE_ACCEPTED);
    // The labs release the held claim: that later event's line comes with the labs' answer.
    const std::string labs_decisions(labs.a->decisions, labs.a->decisions_length);
    INFO("the labs' decision lines: " << labs_decisions);
    CHECK(count_of(labs_decisions, "\n") == 1);
    CHECK(labs_decisions.starts_with(R"({"event":"release","claim_id":"CSII-ABI")"));
    REQUIRE(submit("not a message of any kind", garbage) == COVGATE_OK);
    CHECK(garbage.a->disposition == COVGATE_REJECTED);
    CHECK((garbage.a->flags & COVGATE_UNRECOGNIZED) != 0);
    CHECK(garbage.a->decisions_length == 0);

    // The release comes from CG_OUT with its event and decision line. A new host id is sent
    // every release the stream holds (the day's too): each is acknowledged as it comes.
    std::string release_body, release_decision;
    int32_t release_disposition = -1;
    std::size_t later_answers = 0, without_event = 0;
    std::set<std::string> acknowledged;
    const auto deadline = std::chrono::steady_clock::now() + 60s;
    while (release_body.empty() && std::chrono::steady_clock::now() < deadline) {
      answer_ptr later;
      const auto status = covgate_poll(host, &later.a, &err);
      REQUIRE(status >= 0);
      if (status == COVGATE_EMPTY) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      ++later_answers;
      CHECK((later.a->flags & COVGATE_LATER) != 0);
      // Releases the JetStream cases published themselves (no 277 in them) have no event;
      // every worker's 277 has one.
      if (std::string(later.a->event) == "unknown" &&
          later.body().find("ST*277*") != std::string::npos) {
        ++without_event;
      }
      if (std::string(later.a->key) == "1999999984_CSII-ABI-2") {
        release_body = later.body();
        release_decision.assign(later.a->decisions, later.a->decisions_length);
        release_disposition = later.a->disposition;
        CHECK(std::string(later.a->event) == "release");
      }
      CHECK(covgate_ack(host, later.a->sequence, &err) == COVGATE_OK);
      CHECK(covgate_ack(host, later.a->sequence, &err) == COVGATE_EMPTY);
      acknowledged.insert(later.a->key);
    }
    INFO("later answers taken: " << later_answers);
    if (release_body.empty()) {  // why not: the claim as the cluster has it
      MESSAGE("CSII-ABI through the front: " << http_get(
                  worker_process{"front", 0, the_front().http_port}, "/claims/CSII-ABI"));
      jetstream js(cluster_settings());
      MESSAGE("CSII-ABI-2 on CG_OUT: " << js.messages_on(
                  std::string(out_stream), release_subject(release_token(secret, "CSII-ABI-2"))));
      for (const auto& w : worker_processes()) {
        MESSAGE(w.id << "'s outbox: " << http_get(w, "/outbox"));
      }
    }
    CHECK(release_disposition == COVGATE_RELEASE);
    CHECK(release_body.find("REF*1K*CSII-ABI-2~") != std::string::npos);
    CHECK(release_decision.find("CSII-ABI") != std::string::npos);
    CHECK(release_decision.ends_with("\n"));
    CHECK(without_event == 0);  // every worker's release has its Cg-Event
    CHECK(covgate_close(host, &err) == COVGATE_OK);

    // Opened again, nothing acknowledged comes back (what was kept and not acknowledged
    // does), and the claim sent again is answered as a repeat.
    REQUIRE(covgate_open(config.data(), config.size(), nullptr, &host, &err) == COVGATE_OK);
    answer_ptr again;
    REQUIRE(submit(as_patient(read_sample(scenario + "2-claim.x12")), again) == COVGATE_OK);
    CHECK(again.a->disposition == COVGATE_RELEASE);  // a repeat, as the claim stands now
    for (const auto quiet_until = std::chrono::steady_clock::now() + 3s;
         std::chrono::steady_clock::now() < quiet_until;) {
      answer_ptr later;
      if (covgate_poll(host, &later.a, &err) != COVGATE_OK) {
        std::this_thread::sleep_for(100ms);
        continue;
      }
      CHECK_MESSAGE(acknowledged.count(later.a->key) == 0, later.a->key);
      CHECK(covgate_ack(host, later.a->sequence, &err) == COVGATE_OK);
    }
    CHECK(covgate_close(host, &err) == COVGATE_OK);
    std::filesystem::remove_all(store_dir);
  }
}

TEST_SUITE("cluster.abi_health") {
  // A lone JetStream node of the case's own, on a free loopback port: the case kills it, which
  // the three shared nodes must not suffer. Started again on the same port and directory.
  struct lone_node {
    lone_node() {
      dir = env("COVGATE_NATS_DIR") + "/lone-" + run_id();
      std::filesystem::create_directories(dir + "/js");
      const int s = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      socklen_t length = sizeof a;
      REQUIRE(::bind(s, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0);
      REQUIRE(::getsockname(s, reinterpret_cast<sockaddr*>(&a), &length) == 0);
      port = ntohs(a.sin_port);
      ::close(s);
      std::ofstream conf(dir + "/lone.conf");
      conf << "server_name: lone\nlisten: 127.0.0.1:" << port << "\njetstream {\n  store_dir: \""
           << dir << "/js\"\n  max_memory_store: 16MB\n  max_file_store: 64MB\n}\n"
           << "mappings = {\n  " << partition_mapping_line(4) << "\n}\n";
    }
    ~lone_node() {
      stop();
      std::filesystem::remove_all(dir);
    }
    void start() {
      const std::string command =
          "exec nats-server -c '" + dir + "/lone.conf' >>'" + dir + "/lone.log' 2>&1";
      pid = ::fork();
      REQUIRE(pid >= 0);
      if (pid == 0) {
        ::execl("/bin/sh", "sh", "-c", command.c_str(), static_cast<char*>(nullptr));
        ::_exit(127);
      }
    }
    void stop() {
      if (pid <= 0) return;
      ::kill(pid, SIGKILL);
      ::waitpid(pid, nullptr, 0);
      pid = 0;
    }
    [[nodiscard]] std::string url() const { return "nats://127.0.0.1:" + std::to_string(port); }
    std::string dir;
    int port = 0;
    pid_t pid = 0;
  };

  covgate_health health_of(covgate_handle * h) {
    covgate_health out{};
    out.size = sizeof out;
    covgate_error err{};
    err.size = sizeof err;
    REQUIRE_MESSAGE(covgate_get_health(h, &out, &err) == COVGATE_OK, err.message);
    return out;
  }

  TEST_CASE("a C ABI host reports a lost cluster and a message not answered, then recovers") {
    lone_node node;
    node.start();
    ::setenv("COVGATE_TEST_KEY_SECRET", secret.c_str(), 1);
    const auto store_dir = node.dir + "/host";
    const std::string config = R"({"store": {"directory": ")" + store_dir +
                               R"("}, "cluster": {"role": "front", "worker_id": "lone-host",
                                    "urls": [")" +
                               node.url() + R"("], "partitions": 4,
                                    "replicas": 1, "key_secret_env": "COVGATE_TEST_KEY_SECRET",
                                    "answer_timeout_ms": 1000}})";
    covgate_error err{};
    err.size = sizeof err;
    covgate_handle* host = nullptr;
    // The node takes a moment to listen.
    REQUIRE(wait_until([&] {
      return covgate_open(config.data(), config.size(), nullptr, &host, &err) == COVGATE_OK;
    }));
    struct closer {  // a failed REQUIRE must not leave the handle reconnecting for the run
      covgate_handle*& h;
      ~closer() { covgate_close(h, nullptr); }
    } close_at_end{host};
    auto h = health_of(host);
    CHECK(h.state == COVGATE_HEALTHY);
    CHECK(h.flags == (COVGATE_HEALTH_DURABLE | COVGATE_HEALTH_CLUSTER | COVGATE_HEALTH_CONNECTED));
    CHECK(h.troubles == 0);

    node.stop();  // kill -9: the handle's connection is lost and reconnects in the background
    CHECK(wait_until([&] { return (health_of(host).flags & COVGATE_HEALTH_CONNECTED) == 0; }));
    h = health_of(host);
    CHECK(h.state == COVGATE_DEGRADED);
    const auto claim = read_sample("scenarios/02-csii-release-after-late-lab/2-claim.x12");
    covgate_answer* answer = nullptr;
    CHECK(covgate_submit(host, claim.data(), claim.size(), nullptr, &answer, &err) ==
          COVGATE_E_UNAVAILABLE);
    CHECK(answer == nullptr);
    h = health_of(host);
    CHECK(h.troubles >= 1);
    INFO("last trouble: " << h.last_trouble);
    CHECK(std::string(h.last_trouble).starts_with("a message was not answered: "));
    CHECK(std::string(h.last_trouble).find("CSII") == std::string::npos);  // no message content
    const auto now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    CHECK(h.last_trouble_unix_ms <= now_ms);
    CHECK(h.last_trouble_unix_ms > now_ms - 60'000);

    node.start();  // back on the same port: healthy again by itself
    CHECK(wait_until([&] {
      const auto again = health_of(host);
      return again.state == COVGATE_HEALTHY && (again.flags & COVGATE_HEALTH_CONNECTED) != 0;
    }));
    MESSAGE("troubles noted while the node was down: " << health_of(host).troubles << ", last: "
                                                       << health_of(host).last_trouble);

    // The node back without its JetStream state (a lost disk): connected, but the delivery of
    // later answers finds no CG_OUT. That trouble stands until the layout is there again.
    node.stop();
    std::filesystem::remove_all(node.dir + "/js");
    node.start();
    CHECK(wait_until([&] {
      const auto again = health_of(host);
      return again.state == COVGATE_DEGRADED && (again.flags & COVGATE_HEALTH_CONNECTED) != 0 &&
             std::string(again.last_trouble).starts_with("delivery of later answers: ");
    }));
    h = health_of(host);
    INFO("last trouble: " << h.last_trouble);
    CHECK(std::string(h.last_trouble).starts_with("delivery of later answers: "));
    CHECK(std::string(h.last_trouble).find("CG_OUT") != std::string::npos);
    MESSAGE("the delivery's trouble: " << h.last_trouble);
    connection_settings lone;
    lone.urls = {node.url()};
    jetstream js(lone);
    cluster_layout layout;
    layout.partitions = 4;
    layout.replicas = 1;
    (void)ensure_layout(js, layout);
    CHECK(wait_until([&] { return health_of(host).state == COVGATE_HEALTHY; }));
    CHECK(covgate_close(host, &err) == COVGATE_OK);
    host = nullptr;
  }
}

// Runs last (tests/cluster/run.sh): it purges CG_IN, which every earlier suite's workers read
// from its start.
TEST_SUITE("cluster.trimmed") {
  TEST_CASE("a store CG_IN no longer reaches past is refused, not caught up over a gap") {
    CHECK_FALSE(catch_up_gap(0, 1, 0));     // an untouched stream
    CHECK_FALSE(catch_up_gap(10, 11, 50));  // the stream holds everything after 10
    CHECK_FALSE(catch_up_gap(10, 40, 10));  // trimmed, but nothing acknowledged after 10
    CHECK(catch_up_gap(10, 40, 30));        // acknowledged messages after 10 are gone
    CHECK(catch_up_gap(10, 40, 45));        // perhaps gone: the stream cannot say which

    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const int n = partitions();
    INFO("at a failure, " << partition_consumers(js, n));
    const std::string in(in_stream);
    const std::string prefix = "w-" + run_id() + "-trim-";
    const auto publish = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        const auto pkey = partition_key(secret, "MBI-T" + std::to_string(i % 30));
        const auto data = prefix + std::to_string(i);
        (void)js.publish(producer_subject(pkey, message_kind::fhir), data, data);
      }
    };
    const auto index_of = [&](const std::string& data) {
      return std::stoi(data.substr(prefix.size()));
    };
    const auto all_acknowledged = [&] {
      for (int p = 0; p < n; ++p) {
        const auto c = js.consumer_info(in, partition_consumer(p, n));
        if (c.pending != 0 || c.ack_pending != 0) return false;
      }
      return true;
    };
    const lease_timing timing{2'000, 500};
    recording_applier old_store, other_store;
    auto old_settings = test_worker("wta-" + run_id(), n, timing);
    old_settings.snapshot_every = 200ms;  // and the position follows the consumer's floor
    // 1. A store applies the partitions up to here, and the consumers acknowledge it all.
    //    Its position then moves to each consumer's floor ("seen through"), which is past
    //    the partition's last message where the floor moved past other partitions'.
    publish(0, 60);
    {
      worker a(js, owners, workers, old_store, old_settings);
      a.start();
      REQUIRE(wait_past_ack_wait_timed("the first store applies 60", [&] {
        return old_store.applied_count(prefix) == 60 && all_acknowledged();
      }));
      REQUIRE(wait_past_ack_wait_timed("its positions reach the floors", [&] {
        for (int p = 0; p < n; ++p) {
          const auto floor = js.consumer_info(in, partition_consumer(p, n)).ack_floor;
          if (old_store.applied_sequence(p) < floor) return false;
        }
        return true;
      }));
      a.stop();
    }
    MESSAGE(old_store.advances() << " of " << n << " positions moved past their last message");
    // 2. Another store applies what comes next; its consumers acknowledge that too.
    publish(60, 100);
    {
      worker b(js, owners, workers, other_store, test_worker("wtb-" + run_id(), n, timing));
      b.start();
      REQUIRE(wait_past_ack_wait_timed("another store applies 100", [&] {
        return other_store.applied_count(prefix) == 100 && all_acknowledged();
      }));
      b.stop();
    }
    // The partitions that had acknowledged messages after the first store's position.
    std::set<int> lost_some;
    for (int p = 0; p < n; ++p) {
      for (const auto& d : other_store.of(p, prefix)) {
        if (index_of(d) >= 60) lost_some.insert(p);
      }
    }
    REQUIRE_FALSE(lost_some.empty());
    // 3. CG_IN is trimmed past every position the first store has (as max_age or an
    //    operator's purge would), then more comes.
    js.purge_subject(in, std::string(in_stream_subject()), js.stream_last_sequence(in) + 1);
    publish(100, 120);
    // 4. The first store takes every partition again. Where acknowledged messages are gone
    //    it applies nothing (before, it caught up over the gap and went on from a state the
    //    partition never had). A partition with nothing in the purged range may be refused
    //    too, when its consumer's floor moved on past other partitions' messages after the
    //    store's position did (the stream cannot say: docs/cluster.md §5), or caught up
    //    whole; never caught up over a gap.
    worker again(js, owners, workers, old_store, old_settings);
    again.start();
    const auto settled = [&] {
      const auto progress = again.progress();
      for (int p = 0; p < n; ++p) {
        const auto at = progress.find(p);
        if (at == progress.end()) return false;
        if (lost_some.contains(p) ? !at->second.gap : !at->second.gap && !at->second.caught_up) {
          return false;
        }
      }
      return true;
    };
    REQUIRE(wait_past_ack_wait_timed("the first store settles after the trim", settled));
    std::this_thread::sleep_for(500ms);  // time to apply anything it wrongly would
    int refused = 0;
    for (int p = 0; p < n; ++p) {
      INFO("partition " << p);
      const auto mine = old_store.of(p, prefix);
      const auto progress = again.progress().at(p);
      if (progress.gap) {
        ++refused;
        CHECK(std::none_of(mine.begin(), mine.end(),
                           [&](const std::string& d) { return index_of(d) >= 60; }));
        CHECK_FALSE(progress.caught_up);
      } else {
        // Every one of its messages, in order: none was lost to it.
        CHECK_FALSE(lost_some.contains(p));
        const auto theirs = other_store.of(p, prefix);
        std::vector<std::string> want(theirs.begin(), theirs.end());
        for (const auto& d : mine) {
          if (index_of(d) >= 100) want.push_back(d);
        }
        CHECK(mine == want);
      }
    }
    MESSAGE(refused << " of " << n << " partitions refused, " << lost_some.size()
                    << " of them with acknowledged messages in the purged range");
    again.stop();
  }
  TEST_CASE("a stale copy past a gap is replaced by the partition's snapshot, then caught up") {
    jetstream js(cluster_settings());
    auto [owners, workers] = ensure_layout(js, test_layout());
    const int n = partitions();
    INFO("at a failure, " << partition_consumers(js, n));
    const std::string in(in_stream);
    const std::string snapshots(snapshot_stream);
    js.purge_subject(snapshots, "cg.snap.>", js.stream_last_sequence(snapshots) + 1);
    const std::string prefix = "w-" + run_id() + "-replace-";
    const auto publish = [&](int from, int to) {
      for (int i = from; i < to; ++i) {
        const auto pkey = partition_key(secret, "MBI-R" + std::to_string(i % 30));
        const auto data = prefix + std::to_string(i);
        (void)js.publish(producer_subject(pkey, message_kind::fhir), data, data);
      }
    };
    const auto index_of = [&](const std::string& data) {
      return std::stoi(data.substr(prefix.size()));
    };
    const auto all_acknowledged = [&] {
      for (int p = 0; p < n; ++p) {
        const auto c = js.consumer_info(in, partition_consumer(p, n));
        if (c.pending != 0 || c.ack_pending != 0) return false;
      }
      return true;
    };
    const lease_timing timing{2'000, 500};
    recording_applier old_store(true), holder_store(true);
    // Every partition's snapshot written at its consumer's floor, nothing left to apply.
    const auto snapshots_at_floors = [&](worker& w) {
      if (!all_acknowledged()) return false;
      const auto progress = w.progress();
      for (int p = 0; p < n; ++p) {
        const auto floor = js.consumer_info(in, partition_consumer(p, n)).ack_floor;
        const auto at = progress.find(p);
        if (floor > 0 && (at == progress.end() || at->second.snapshot_written < floor)) {
          return false;
        }
      }
      return true;
    };
    // The first store stands where the stream ends now (another case may have trimmed it:
    // a store at 0 would meet a gap before this case begins).
    const auto start = js.stream_last_sequence(in);
    for (int p = 0; p < n; ++p) (void)old_store.advance(p, start, 1);
    auto old_settings = test_worker("wra-" + run_id(), n, timing);
    old_settings.snapshot_every = 200ms;
    // 1. The first store applies what comes, writes its snapshots, and stops.
    publish(0, 60);
    {
      worker a(js, owners, workers, old_store, old_settings);
      a.start();
      REQUIRE(wait_past_ack_wait_timed("the first store applies 60 and writes its snapshots", [&] {
        return old_store.applied_count(prefix) == 60 && snapshots_at_floors(a);
      }));
      a.stop();
    }
    // 2. Another store holds the partitions through what comes next (a store that never held
    //    them: it starts from the first store's snapshots, or the stream), and writes every
    //    partition's snapshot at its consumer's floor.
    publish(60, 100);
    auto holder_settings = test_worker("wrb-" + run_id(), n, timing);
    holder_settings.snapshot_every = 200ms;
    {
      worker b(js, owners, workers, holder_store, holder_settings);
      b.start();
      REQUIRE(wait_past_ack_wait_timed("the holder catches up", [&] {
        for (int p = 0; p < n; ++p) {
          if (holder_store.of(p, prefix).size() < old_store.of(p, prefix).size()) return false;
        }
        return holder_store.applied_count(prefix) == 40 && snapshots_at_floors(b);
      }));
      b.stop();
    }
    std::set<int> lost_some;
    for (int p = 0; p < n; ++p) {
      for (const auto& d : holder_store.of(p, prefix)) {
        if (index_of(d) >= 60) lost_some.insert(p);
      }
    }
    REQUIRE_FALSE(lost_some.empty());
    // 3. CG_IN trimmed past every position the first store has; more comes.
    js.purge_subject(in, std::string(in_stream_subject()), js.stream_last_sequence(in) + 1);
    publish(100, 120);
    // 4. The first store takes every partition again: where it lacks what CG_IN lost, its
    //    copy is replaced by the holder's snapshot (before: refused until an operator moved
    //    the store aside), and the rest is applied from the stream. No partition is refused.
    worker again(js, owners, workers, old_store, old_settings);
    again.start();
    const auto whole = [&](int p) {
      std::vector<std::string> want = holder_store.of(p, prefix);
      for (const auto& d : old_store.of(p, prefix)) {
        if (index_of(d) >= 100) want.push_back(d);
      }
      return want;
    };
    REQUIRE(wait_past_ack_wait_timed("the stale copy is replaced and caught up", [&] {
      if (old_store.applied_count(prefix) < 80) return false;  // 60 before, 20 after the trim
      const auto progress = again.progress();
      for (int p = 0; p < n; ++p) {
        const auto at = progress.find(p);
        if (at == progress.end() || at->second.gap || !at->second.caught_up) return false;
      }
      return true;
    }));
    for (int p = 0; p < n; ++p) {
      INFO("partition " << p);
      CHECK(old_store.of(p, prefix) == whole(p));
      CHECK_FALSE(again.progress().at(p).gap);
    }
    CHECK(old_store.copies_replaced() >= lost_some.size());
    MESSAGE(old_store.copies_replaced()
            << " of " << n << " copies replaced, " << lost_some.size()
            << " of them with acknowledged messages in the purged range");
    again.stop();
    js.purge_subject(snapshots, "cg.snap.>", js.stream_last_sequence(snapshots) + 1);
  }
}
