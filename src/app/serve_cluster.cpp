#include "serve_cluster.hpp"

#include <algorithm>
#include <array>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <cstdlib>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <thread>
#include <variant>

#include "covgate/cluster/audit_query.hpp"
#include "covgate/cluster/claim_list_query.hpp"
#include "covgate/cluster/claim_lookup.hpp"
#include "covgate/cluster/front.hpp"
#include "covgate/cluster/layout.hpp"
#include "covgate/cluster/lease_manager.hpp"
#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/partition_status.hpp"
#include "covgate/cluster/received_message.hpp"
#include "covgate/cluster/release_delivery.hpp"
#include "covgate/cluster/release_publisher.hpp"
#include "covgate/cluster/review_message.hpp"
#include "covgate/cluster/review_requester.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/cluster/waiting_identities.hpp"
#include "covgate/cluster/worker.hpp"
#include "covgate/cluster/worklist_query.hpp"
#include "covgate/hosting/cluster_node.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/server/claims_view.hpp"
#include "covgate/server/log.hpp"
#include "covgate/store/later_answer.hpp"
#include "covgate/store/partition_snapshot.hpp"

namespace covgate::app {
namespace {

// What the HTTP API says of the holder's answer to a reviewer's action.
server::review_status review_status_of(cluster::review_answer answer) {
  switch (answer) {
    case cluster::review_answer::done:
      return server::review_status::done;
    case cluster::review_answer::unknown_claim:
    case cluster::review_answer::malformed:  // a claim id too long: no claim has it
      return server::review_status::unknown_claim;
    case cluster::review_answer::already_closed:
      return server::review_status::already_closed;
    case cluster::review_answer::not_reviewable:
      return server::review_status::not_reviewable;
    case cluster::review_answer::unavailable:
      break;
  }
  return server::review_status::unavailable;
}

// A reviewer's action on `claim_id`, as the stream carries it (dated now, kept for audit).
cluster::review_message review_of(std::string_view claim_id, bool release, std::string_view who,
                                  std::string_view why) {
  cluster::review_message r;
  r.release = release;
  r.claim_id = std::string(claim_id);
  r.reviewer = std::string(who);
  r.reason = std::string(why);
  r.at_ms = server::durable_gate::now_ms();
  return r;
}

// The durable gate as the worker's applier: a stream message is submitted with its position,
// and its reply turned into the worker's verdict.
class gate_applier final : public cluster::message_applier {
 public:
  /// `partition_of` maps a patient key to its partition (-1: no one's).
  gate_applier(server::durable_gate& gate, std::function<int(std::string_view)> partition_of)
      : gate_(gate), partition_of_(std::move(partition_of)) {}

  void apply(const cluster::stream_message& m,
             std::function<void(cluster::applied_message)> done) override {
    if (m.kind == cluster::message_kind::review) return apply_review(m, std::move(done));
    gate_.submit_from_stream(m.data,
                             {static_cast<std::uint32_t>(m.partition), m.sequence, m.epoch,
                              m.stored_ms, m.with_decisions},
                             [done = std::move(done)](server::reply r) {
                               using verdict = cluster::applied_message::verdict;
                               cluster::applied_message out;
                               if (!r.durable) {
                                 out.result = verdict::failed;
                               } else if (const auto skipped = position_verdict(r.verdict)) {
                                 out.result = *skipped;
                               } else {
                                 out.result = verdict::applied;
                                 out.outcome = std::string(server::outcome_name(r));
                                 out.content_type = std::string(r.content_type);
                                 out.claims = r.claims;
                                 out.facts = r.facts;
                                 out.disposition = std::string(engine::name(r.disposition));
                                 if (r.acks.size() > 1) {
                                   for (const auto& ack : r.acks) out.parts.push_back(ack.size());
                                 }
                                 out.body = std::move(r.body);
                                 out.decisions = std::move(r.decisions);
                               }
                               done(std::move(out));
                             });
  }

  // A reviewer's action (docs/cluster.md §5e), answered with one word. One that does not
  // decode is answered `malformed` and changes nothing (a redelivery or a rebuild refuses it
  // again the same way).
  void apply_review(const cluster::stream_message& m,
                    std::function<void(cluster::applied_message)> done) {
    auto decoded = cluster::decode_review(m.data);
    if (auto* problem = std::get_if<std::string>(&decoded)) {
      server::log().warn("cluster", "review message refused",
                         {{"partition", static_cast<std::int64_t>(m.partition)},
                          {"sequence", static_cast<std::int64_t>(m.sequence)},
                          {"reason", *problem}});
      done(answered(cluster::review_answer::malformed, "rejected"));
      return;
    }
    const auto& r = std::get<cluster::review_message>(decoded);
    // Dated like every stream message, when CG_IN stored it (the same on every rebuild, and
    // on the cluster's clock rather than the requesting worker's); `at` is kept for audit.
    gate_.review_from_stream(
        r.claim_id, r.release, r.reviewer, r.reason, m.stored_ms > 0 ? m.stored_ms : r.at_ms,
        {static_cast<std::uint32_t>(m.partition), m.sequence, m.epoch, m.stored_ms},
        [done = std::move(done)](server::stream_review_result result) {
          cluster::applied_message out;
          if (const auto skipped = position_verdict(result.verdict)) {
            out.result = *skipped;
          } else if (result.status == server::review_status::unavailable) {
            out.result = cluster::applied_message::verdict::failed;
          } else {
            out = answered(answer_of(result.status), "accepted");
          }
          done(std::move(out));
        });
  }

  // A stream message the store did not apply because of its position: a redelivery of one it
  // has, or one under an older lease than it recorded. nullopt: applied (or failed).
  static std::optional<cluster::applied_message::verdict> position_verdict(
      store::apply_verdict position) {
    using verdict = cluster::applied_message::verdict;
    if (position == store::apply_verdict::already_applied) return verdict::already_applied;
    if (position == store::apply_verdict::stale_epoch) return verdict::fenced;
    return std::nullopt;
  }

  static cluster::applied_message answered(cluster::review_answer answer, const char* outcome) {
    cluster::applied_message out;
    out.result = cluster::applied_message::verdict::applied;
    out.outcome = outcome;
    out.content_type = "text/plain";
    out.body = std::string(cluster::review_answer_word(answer));
    return out;
  }

  static cluster::review_answer answer_of(server::review_status status) {
    switch (status) {
      case server::review_status::done:
        return cluster::review_answer::done;
      case server::review_status::unknown_claim:
        return cluster::review_answer::unknown_claim;
      case server::review_status::already_closed:
        return cluster::review_answer::already_closed;
      case server::review_status::not_reviewable:
        return cluster::review_answer::not_reviewable;
      case server::review_status::ambiguous:  // a CLM01 an older front named: no one claim
        return cluster::review_answer::unknown_claim;
      case server::review_status::unavailable:
        break;
    }
    return cluster::review_answer::unavailable;
  }

  std::uint64_t applied_sequence(int partition) override {
    std::uint64_t sequence = 0;
    gate_.read([&](const store::sqlite_store& store) {
      if (const auto at = store.applied(static_cast<std::uint32_t>(partition))) {
        sequence = at->stream_seq;
      }
    });
    return sequence;
  }

  // Read from the last committed state (the read connection): the worker asks between
  // batches, when everything it applied is committed.
  std::optional<std::string> snapshot(int partition) override {
    std::string bytes;
    store::snapshot_summary wrote;
    gate_.read([&](const store::sqlite_store& store) {
      wrote = store.write_snapshot(static_cast<std::uint32_t>(partition), patients_of(partition),
                                   bytes);
    });
    if (!wrote.position) return std::nullopt;
    return bytes;
  }

  bool advance(int partition, std::uint64_t sequence, std::uint64_t epoch) override {
    return gate_.advance_position(static_cast<std::uint32_t>(partition), sequence, epoch);
  }

  bool load_snapshot(int partition, std::string_view bytes, std::string& why) override {
    if (!of_partition(partition, bytes, why)) return false;
    return loaded(partition, gate_.load_snapshot(bytes), "partition snapshot loaded", why);
  }

  bool replace_by_snapshot(int partition, std::string_view bytes, std::string& why) override {
    if (!of_partition(partition, bytes, why)) return false;
    return loaded(partition, gate_.replace_partition(bytes, patients_of(partition)),
                  "partition copy replaced by a snapshot", why);
  }

 private:
  // Whether a patient is one of `partition`'s, remembered per patient: one HMAC per patient,
  // not one per row.
  std::function<bool(std::string_view)> patients_of(int partition) const {
    auto known = std::make_shared<std::map<std::string, bool, std::less<>>>();
    return [this, partition, known](std::string_view patient) {
      auto at = known->find(patient);
      if (at == known->end()) {
        at = known->emplace(patient, partition_of_(patient) == partition).first;
      }
      return at->second;
    };
  }

  // Whether `bytes` read as a snapshot of `partition`: the rows a replacement drops and the
  // patients `mine` accepts are the asked partition's, whatever a stream holds.
  static bool of_partition(int partition, std::string_view bytes, std::string& why) {
    const auto header = store::read_snapshot(bytes, nullptr, why);
    if (!header) return false;
    if (header->partition != static_cast<std::uint32_t>(partition)) {
      why = "the snapshot is partition " + std::to_string(header->partition) + "'s";
      return false;
    }
    return true;
  }

  // Logs a loaded snapshot (what it brought), or says why it was not.
  static bool loaded(int partition, const server::durable_gate::snapshot_result& result,
                     const char* what, std::string& why) {
    if (!result.durable) {
      why = result.load.error.empty() ? "the store did not commit it" : result.load.error;
      return false;
    }
    switch (result.load.verdict) {
      case store::snapshot_load_verdict::loaded:
        server::log().info("cluster", what,
                           {{"partition", static_cast<std::int64_t>(partition)},
                            {"claims", static_cast<std::int64_t>(result.load.claims)},
                            {"facts", static_cast<std::int64_t>(result.load.facts)},
                            {"releases_pending", static_cast<std::int64_t>(result.load.outbox)}});
        return true;
      case store::snapshot_load_verdict::not_newer:
        why = "the store stands at or past the snapshot";
        break;
      case store::snapshot_load_verdict::held_before:
        why = "the store holds an older copy of the partition";
        break;
      case store::snapshot_load_verdict::malformed:
        why = result.load.error;
        break;
    }
    return false;
  }

  server::durable_gate& gate_;
  std::function<int(std::string_view)> partition_of_;
};

// A question from the cluster, answered by `answer`; one that throws (a store that cannot be
// read now) is logged here, by the question's name and the reason only, and left unanswered
// by the responder (the asker says the partitions are not known now).
template <class Answer>
auto logging_failures(const char* question, Answer answer) {
  return [question, answer = std::move(answer)](auto&&... asked) {
    try {
      return answer(std::forward<decltype(asked)>(asked)...);
    } catch (const std::exception& e) {
      server::log().warn("cluster", "a question not answered",
                         {{"question", question}, {"reason", e.what()}});
      throw;
    }
  };
}

}  // namespace

struct cluster_worker::impl {
  impl(const server::cluster_config& c, server::durable_gate& the_gate)
      : secret(hosting::key_secret_of(c)),  // first: a missing one is said before connecting
        js(hosting::connection_of(c)),
        buckets(ensure_layout(js, hosting::layout_of(c))),
        control(
            js.bucket({std::string(cluster::control_bucket), c.replicas, std::chrono::seconds(0)})),
        numbers(control, "isa13"),
        releases(js, numbers, secret, c.worker_id),
        applier(the_gate,
                [this](std::string_view patient) { return partition_of_patient(patient); }),
        running(js, buckets.owners, buckets.workers, applier, settings_of(c)),
        reviews(js, {c.worker_id, secret, std::chrono::milliseconds(c.answer_timeout_ms)}),
        gate(the_gate),
        config(c) {}

  static cluster::worker_settings settings_of(const server::cluster_config& c) {
    cluster::worker_settings s;
    s.worker = c.worker_id;
    s.partitions = c.partitions;
    s.timing = {c.lease_ms, c.renew_ms};
    s.batch = c.batch;
    s.snapshot_every = std::chrono::milliseconds(c.snapshot_every_ms);
    s.load_snapshots = true;  // whatever this worker writes, one another wrote helps it
    s.problem = [](int partition, const std::string& what) {
      server::log().warn("cluster", "worker problem",
                         {{"partition", static_cast<std::int64_t>(partition)}, {"reason", what}});
    };
    s.ownership = [](int partition, const char* what, std::uint64_t epoch) {
      server::log().info("cluster", std::string("partition ") + what,
                         {{"partition", static_cast<std::int64_t>(partition)},
                          {"epoch", static_cast<std::int64_t>(epoch)}});
    };
    return s;
  }

  std::string secret;
  cluster::jetstream js;
  cluster::lease_buckets buckets;
  cluster::key_value control;
  cluster::control_numbers numbers;
  cluster::release_publisher releases;
  gate_applier applier;
  cluster::worker running;
  cluster::review_requester reviews;
  server::durable_gate& gate;
  server::cluster_config config;
  std::mutex metrics_mutex;  // the bucket handle below is used by one scrape at a time
  std::optional<cluster::key_value> owners_for_metrics;
  std::optional<cluster::claim_lookup_responder> lookups;
  std::optional<cluster::resource_lookup_responder> resource_lookups;
  std::optional<cluster::queue_counts_responder> queue_counts;
  std::optional<cluster::chart_numbers_responder> chart_numbers;
  std::optional<cluster::claim_list_responder> lists;
  std::optional<cluster::changes_responder> changes;
  std::optional<cluster::audit_parts_responder> audit_parts;

  // The partitions this worker holds now and has caught up: what it answers the cluster's
  // questions for. A copy left from a partition held before is stale, one being rebuilt may
  // be behind.
  std::vector<int> caught_up_partitions() {
    std::vector<int> out;
    for (const auto& [partition, progress] : running.progress()) {
      if (progress.caught_up) out.push_back(partition);
    }
    return out;
  }

  // The partition of a patient key, or -1 for a key that names no one.
  int partition_of_patient(std::string_view patient) const {
    if (cluster::canonical_patient_key(patient).empty()) return -1;
    return cluster::partition_of_token(cluster::partition_key(secret, patient), config.partitions);
  }

  // The worklist's counts of the partitions this worker holds now and has caught up (§5h),
  // partition by partition, from the store's counts per patient.
  cluster::queue_counts_answer queue_counts_answer(std::int64_t released_since_ms) {
    cluster::queue_counts_answer out;
    out.caught_up = caught_up_partitions();
    std::vector<std::uint8_t> mine(static_cast<std::size_t>(config.partitions), 0);
    for (const int p : out.caught_up) {
      if (p >= 0 && p < config.partitions) mine[static_cast<std::size_t>(p)] = 1;
    }
    const auto add = [&](std::string_view patient, std::size_t queue, const store::queue_count& c) {
      const int p = partition_of_patient(patient);
      if (p < 0 || mine[static_cast<std::size_t>(p)] == 0) return;
      store::add_queue_count(out.counts[p][queue], c);
    };
    gate.read([&](const store::sqlite_store& store) {
      store.for_each_patient_queue_count(
          released_since_ms,
          [&](std::string_view patient, model::outcome o, const store::queue_count& c) {
            if (o == model::outcome::release) return;  // open releases are no queue
            add(patient, static_cast<std::size_t>(o) - 1, c);
          },
          [&](std::string_view patient, const store::queue_count& c) {
            add(patient, static_cast<std::size_t>(server::queue::released), c);
          });
    });
    return out;
  }

  // The audit rows of each partition this worker holds now and has caught up (§5h), for a
  // request "YYYY-MM-DD,<format name>": its store's audit, its patients' rows sorted out by
  // partition. Nothing for a request it cannot read (the asker waits for the others), nor
  // when the store cannot be read now (the asker says the partitions are not known now).
  std::map<int, std::string> audit_answer(
      std::string_view request,
      const std::function<server::audit_report(const model::date&)>& build) {
    std::map<int, std::string> out;
    const auto comma = request.find(',');
    if (comma == std::string_view::npos) return out;
    const auto as_of = model::parse_iso_date(request.substr(0, comma));
    const auto kind = server::audit_format_named(request.substr(comma + 1));
    if (!as_of || !kind) return out;
    std::map<int, server::audit_report> mine;
    for (const int p : caught_up_partitions()) mine[p].as_of = *as_of;
    if (mine.empty()) return out;
    server::audit_report whole;
    try {
      whole = build(*as_of);
    } catch (const std::exception& e) {
      server::log().warn("cluster", "audit not answered", {{"reason", e.what()}});
      return out;
    }
    const auto report_of = [&](std::string_view patient) -> server::audit_report* {
      const auto at = mine.find(partition_of_patient(patient));
      return at == mine.end() ? nullptr : &at->second;
    };
    for (auto& row : whole.csii) {
      if (auto* r = report_of(row.patient)) r->csii.push_back(std::move(row));
    }
    const auto sort_out = [&](std::vector<server::audit_claim>& claims, auto member) {
      for (auto& c : claims) {
        if (auto* r = report_of(c.patient)) (r->*member).push_back(std::move(c));
      }
    };
    sort_out(whole.heparin, &server::audit_report::heparin);
    sort_out(whole.chemo_missing, &server::audit_report::chemo_missing);
    sort_out(whole.implantable, &server::audit_report::implantable);
    for (const auto& [p, report] : mine) {
      out.emplace(p, server::encode_audit_rows(server::audit_rows_of(report, *kind)));
    }
    return out;
  }

  // The worklist's chart counts of the partitions this worker holds now and has caught up
  // (§5h), partition by partition, for the time and days of `request` ("<now ms>,<days>").
  cluster::partition_numbers_answer chart_numbers_answer(std::string_view request) {
    cluster::partition_numbers_answer out;
    const auto comma = request.find(',');
    std::int64_t now_ms = 0;
    int days = 0;
    if (comma == std::string_view::npos ||
        std::from_chars(request.data(), request.data() + comma, now_ms).ptr !=
            request.data() + comma ||
        std::from_chars(request.data() + comma + 1, request.data() + request.size(), days).ptr !=
            request.data() + request.size() ||
        days < 1 || days > 366) {
      return out;  // names no partition: the asker waits for the others
    }
    out.caught_up = caught_up_partitions();
    std::map<int, server::chart_counts> mine;
    for (const int p : out.caught_up) mine.emplace(p, server::chart_counts(now_ms, days));
    const auto first_day_ms = server::chart_counts(now_ms, days).first_day_ms();
    gate.read([&](const store::sqlite_store& store) {
      server::claims_view::add_charts(store, first_day_ms, [&](std::string_view patient) {
        const auto at = mine.find(partition_of_patient(patient));
        return at == mine.end() ? nullptr : &at->second;
      });
    });
    for (const auto& [p, counts] : mine) out.rows.emplace(p, counts.numbers());
    return out;
  }

  // A worklist list's page (§5h): the claims of the partitions this worker holds now and has
  // caught up that the query matches, how many in each, and the first `limit` of them.
  cluster::claim_list_answer list_answer(const cluster::claim_list_request& request) {
    cluster::claim_list_answer out;
    out.caught_up = caught_up_partitions();
    std::vector<std::uint8_t> mine(static_cast<std::size_t>(config.partitions), 0);
    for (const int p : out.caught_up) {
      if (p >= 0 && p < config.partitions) mine[static_cast<std::size_t>(p)] = 1;
    }
    std::map<std::string, int, std::less<>> partition_of;  // one HMAC per patient, not per row
    auto query = request.query;
    query.group_of = [&](std::string_view patient) {
      auto at = partition_of.find(patient);
      if (at == partition_of.end()) {
        const int p = partition_of_patient(patient);
        at =
            partition_of.emplace(patient, p >= 0 && mine[static_cast<std::size_t>(p)] != 0 ? p : -1)
                .first;
      }
      return at->second;
    };
    gate.read([&](const store::sqlite_store& store) {
      const auto page = store.list_claims(query);
      out.page.totals = page.groups;
      for (const auto& row : page.rows) {
        out.page.rows.push_back({query.group_of(row.patient),
                                 server::claims_view::sort_value_of(row, query.sort), row.id,
                                 server::claims_view::list_row_json(row, request.now_ms)});
      }
    });
    return out;
  }

  // A lookup's answer (§5g): the partitions this worker holds now and has caught up, and the
  // claim when its patient's partition is one of them. `reference` is a CLM01, or a claim's
  // key when the asker named its billing NPI.
  cluster::claim_lookup_answer lookup_answer(
      std::string_view reference,
      const std::function<std::optional<std::string>(std::string_view)>& claim_json) {
    cluster::claim_lookup_answer out;
    out.caught_up = caught_up_partitions();
    // Each claim of the CLM01 this worker holds in a partition it holds now and caught up:
    // the first is answered, the others' billing NPIs named beside it (the asker gathers
    // every holder's, and more than one NPI is ambiguous).
    std::vector<std::string> keys;
    gate.read([&](const store::sqlite_store& store) {
      for (auto& key : store.claim_keys_for(reference)) {
        const auto row = store.claim_row_of(key);
        if (!row) continue;
        const int partition = partition_of_patient(row->patient);
        if (partition >= 0 && std::find(out.caught_up.begin(), out.caught_up.end(), partition) !=
                                  out.caught_up.end()) {
          keys.push_back(std::move(key));
        }
      }
    });
    if (keys.empty()) return out;
    out.claim = claim_json(keys.front());
    if (!out.claim) return out;
    out.billing_npi = std::string(model::split_claim_key(keys.front()).billing_npi);
    for (std::size_t i = 1; i < keys.size(); ++i) {
      out.also_billed_by.emplace_back(model::split_claim_key(keys[i]).billing_npi);
    }
    return out;
  }

  // A resource lookup's answer (§5g): the resource when the partition its facts are filed
  // under is one this worker holds now and has caught up. Reference data (filed under
  // reference_partition) is every worker's: each applies CG_REF whole before any partition,
  // so a worker with a caught-up partition has it. So is a row of no patient that a
  // partition's message brought (shared_part): every partition's copy carries it. A row
  // written before rows were filed is
  // placed by its patient; one of those that names its patient by reference only is not
  // answered for (its partition is not known).
  cluster::resource_lookup_answer resource_answer(std::string_view resource) {
    cluster::resource_lookup_answer out;
    out.caught_up = caught_up_partitions();
    const auto slash = resource.find('/');
    if (slash == std::string_view::npos || out.caught_up.empty()) return out;
    std::optional<store::sqlite_store::filed_facts> row;
    gate.read([&](const store::sqlite_store& store) { row = store.filed_facts_of(resource); });
    if (!row) return out;
    int partition = -1;
    if (row->partition) {
      static_assert(store::sqlite_store::shared_part > cluster::reference_partition);
      partition = *row->partition == cluster::reference_partition ||
                          *row->partition == store::sqlite_store::shared_part
                      ? out.caught_up.front()
                      : static_cast<int>(*row->partition);
    } else if (const auto facts = model::decode_facts(row->body)) {
      for (const auto& f : *facts) {
        if (const auto& key = model::patient_key_of(f); !key.empty()) {
          partition = partition_of_patient(key);
          break;
        }
      }
    }
    if (std::find(out.caught_up.begin(), out.caught_up.end(), partition) == out.caught_up.end()) {
      return out;
    }
    std::string body;
    switch (server::claims_view::fhir_resource_of(resource.substr(0, slash),
                                                  resource.substr(slash + 1), row->body, body)) {
      case server::claims_view::lookup::found:
        out.resource = std::move(body);
        break;
      case server::claims_view::lookup::retracted:
        out.retracted = true;
        break;
      case server::claims_view::lookup::unknown:
        break;
    }
    return out;
  }
};

cluster_worker::cluster_worker(const server::cluster_config& config, server::durable_gate& gate) {
  try {
    impl_ = std::make_unique<impl>(config, gate);
  } catch (const cluster::nats_error& e) {
    throw std::runtime_error(std::string("cluster: ") + e.what());
  }
  impl_->running.start();
  server::log().info("cluster", "worker started",
                     {{"worker", config.worker_id},
                      {"partitions", static_cast<std::int64_t>(config.partitions)},
                      {"servers", static_cast<std::int64_t>(config.urls.size())}});
}

cluster_worker::~cluster_worker() { stop(); }

std::string cluster_worker::metrics_text() {
  std::string out =
      "# HELP covgate_worker_partition_applied_total Messages this worker applied for the "
      "partition since it acquired it.\n"
      "# TYPE covgate_worker_partition_applied_total counter\n";
  std::string caught_up =
      "# HELP covgate_worker_partition_caught_up 1 once the partition was caught up from the "
      "stream and its durable consumer is being applied.\n"
      "# TYPE covgate_worker_partition_caught_up gauge\n";
  std::string snapshot =
      "# HELP covgate_worker_partition_snapshot_seq The stream sequence of the partition's last "
      "snapshot this worker wrote or started from (0: none yet).\n"
      "# TYPE covgate_worker_partition_snapshot_seq gauge\n";
  std::string loaded =
      "# HELP covgate_worker_partition_snapshot_loaded_seq The stream sequence of the snapshot "
      "the partition started from when this worker took it over (0: rebuilt from the stream).\n"
      "# TYPE covgate_worker_partition_snapshot_loaded_seq gauge\n";
  std::string gap =
      "# HELP covgate_worker_partition_gap 1 while the partition cannot be caught up: CG_IN no "
      "longer holds messages its consumer acknowledged after this store's position.\n"
      "# TYPE covgate_worker_partition_gap gauge\n";
  std::string in_place =
      "# HELP covgate_worker_partition_applied_in_place_total Messages the partition's consumer "
      "handed another client (a pull request a previous holder left open), applied from the "
      "stream in their place.\n"
      "# TYPE covgate_worker_partition_applied_in_place_total counter\n";
  for (const auto& [partition, progress] : impl_->running.progress()) {
    const auto label = "{partition=\"" + std::to_string(partition) + "\"} ";
    out +=
        "covgate_worker_partition_applied_total" + label + std::to_string(progress.applied) + "\n";
    caught_up +=
        "covgate_worker_partition_caught_up" + label + (progress.caught_up ? "1" : "0") + "\n";
    snapshot += "covgate_worker_partition_snapshot_seq" + label +
                std::to_string(progress.snapshot_written) + "\n";
    loaded += "covgate_worker_partition_snapshot_loaded_seq" + label +
              std::to_string(progress.snapshot_loaded) + "\n";
    gap += "covgate_worker_partition_gap" + label + (progress.gap ? "1" : "0") + "\n";
    in_place += "covgate_worker_partition_applied_in_place_total" + label +
                std::to_string(progress.applied_in_place) + "\n";
  }
  out += caught_up;
  out += snapshot;
  out += loaded;
  out += gap;
  out += in_place;
  out +=
      "# HELP covgate_worker_reference_applied_total Reference messages (stream CG_REF) this "
      "worker applied since it started.\n"
      "# TYPE covgate_worker_reference_applied_total counter\n"
      "covgate_worker_reference_applied_total " +
      std::to_string(impl_->running.reference_applied()) + "\n";
  out +=
      "# HELP covgate_cluster_up 1 when the cluster answered this scrape's reads.\n"
      "# TYPE covgate_cluster_up gauge\n";
  std::lock_guard lock(impl_->metrics_mutex);
  try {
    if (!impl_->owners_for_metrics) {
      impl_->owners_for_metrics.emplace(
          impl_->js.bucket({std::string(cluster::owners_bucket), impl_->config.replicas}));
    }
    const auto status = cluster::read_partition_status(
        impl_->js, *impl_->owners_for_metrics, impl_->config.partitions,
        server::durable_gate::now_ms(), {impl_->config.lease_ms, impl_->config.renew_ms});
    out += "covgate_cluster_up 1\n";
    out += cluster::partition_metrics(status);
  } catch (const cluster::nats_error&) {
    out += "covgate_cluster_up 0\n";
  }
  return out;
}

void cluster_worker::answer_claim_lookups(
    std::function<std::optional<std::string>(std::string_view claim_id)> claim_json) {
  auto& self = *impl_;
  self.lookups.emplace(self.js, self.config.worker_id,
                       logging_failures("claim lookup", [&self, claim_json = std::move(claim_json)](
                                                            std::string_view claim_id) {
                         return self.lookup_answer(claim_id, claim_json);
                       }));
  self.resource_lookups.emplace(
      self.js, self.config.worker_id,
      logging_failures("resource lookup", [&self](std::string_view resource) {
        return self.resource_answer(resource);
      }));
}

void cluster_worker::answer_worklist(std::function<std::string()> version) {
  auto& self = *impl_;
  self.queue_counts.emplace(self.js, self.config.worker_id,
                            logging_failures("queue counts", [&self](std::int64_t since) {
                              return self.queue_counts_answer(since);
                            }));
  self.chart_numbers.emplace(self.js, self.config.worker_id,
                             logging_failures("chart numbers", [&self](std::string_view request) {
                               return self.chart_numbers_answer(request);
                             }));
  self.lists.emplace(self.js, self.config.worker_id,
                     logging_failures("claim list", [&self](const cluster::claim_list_request& r) {
                       return self.list_answer(r);
                     }));
  self.changes.emplace(self.js, self.config.worker_id,
                       logging_failures("changes", [&self, version = std::move(version)] {
                         return std::pair{version(), self.caught_up_partitions()};
                       }));
}

void cluster_worker::answer_audit(
    std::function<server::audit_report(const model::date& as_of)> build) {
  auto& self = *impl_;
  self.audit_parts.emplace(self.js, self.config.worker_id,
                           [&self, build = std::move(build)](std::string_view request) {
                             return self.audit_answer(request, build);
                           });
}

void cluster_worker::stop() {
  if (!impl_) return;
  if (impl_->lookups) impl_->lookups->stop();
  if (impl_->resource_lookups) impl_->resource_lookups->stop();
  if (impl_->queue_counts) impl_->queue_counts->stop();
  if (impl_->chart_numbers) impl_->chart_numbers->stop();
  if (impl_->lists) impl_->lists->stop();
  if (impl_->changes) impl_->changes->stop();
  if (impl_->audit_parts) impl_->audit_parts->stop();
  impl_->reviews.stop();
  impl_->running.stop();
}

void cluster_worker::review(std::string_view claim_id, bool release, std::string_view who,
                            std::string_view why, std::function<void(server::review_status)> done) {
  // The claim's patient names its partition. This worker knows the claims of the partitions
  // it holds or held; a claim it never saw is unknown here, whoever holds it.
  std::optional<std::string> patient;
  impl_->gate.read([&](const store::sqlite_store& store) {
    if (const auto row = store.claim_row_of(claim_id)) patient = row->patient;
  });
  if (!patient || patient->empty()) {
    done(server::review_status::unknown_claim);
    return;
  }
  impl_->reviews.request(
      *patient, review_of(claim_id, release, who, why),
      [done = std::move(done)](cluster::review_answer answer) { done(review_status_of(answer)); });
}

std::string cluster_worker::publish_release(const store::outbox_item& item) {
  // The durable gate keeps the event and its decision line before the 277 for CG_OUT (rows
  // from before it did are a bare 277).
  const auto packed = store::unpack_later(item.body);
  auto result =
      packed ? impl_->releases.publish(item.key, item.content_type, std::string(packed->body),
                                       packed->event, packed->decision)
             : impl_->releases.publish(item.key, item.content_type, item.body);
  using status = cluster::release_result::status;
  if (result.how == status::already_published) {
    // Another worker made this release first (the partition was rebuilt here), or an earlier
    // attempt of ours landed without its answer: CG_OUT has it once, as it should.
    server::log().info("cluster", "release already on CG_OUT", {{"item", item.id}});
  }
  return result.how == status::failed ? std::move(result.error) : std::string();
}

// ---- the front ---------------------------------------------------------------------------

namespace {

server::reply reply_of(cluster::front_answer a) {
  server::reply r;
  r.kind = a.kind;
  r.content_type = engine::answer_media_type(a.kind);  // a literal: the reply keeps a view
  r.body = std::move(a.body);
  r.acks = std::move(a.acks);
  r.rejected = a.rejected;
  r.unrecognized = a.unrecognized;
  r.claims = a.claims;
  r.facts = a.facts;
  r.refused = a.how == cluster::front_answer::status::refused;
  r.durable = a.how != cluster::front_answer::status::unavailable;
  r.problem = std::move(a.problem);
  return r;
}

// What names a receiver for its CG_OUT consumer: the same on every front that names it.
std::string identity_of(const server::destination_config& d) {
  if (d.kind == "directory") return "directory|" + d.directory.lexically_normal().string();
  if (d.kind == "http") return "http|" + d.url;
  return d.kind + "|" + d.host + ":" + std::to_string(d.port);
}

}  // namespace

// One thread that runs what is posted to it, in order; stop() runs what is left, then joins.
class completion_thread {
 public:
  completion_thread() : thread_([this] { run(); }) {}
  ~completion_thread() { stop(); }
  completion_thread(const completion_thread&) = delete;
  completion_thread& operator=(const completion_thread&) = delete;

  void post(std::function<void()> task) {
    {
      std::unique_lock lock(mutex_);
      if (stopping_) {  // stopped: run it here, as a stopped requester answers at once
        lock.unlock();
        task();
        return;
      }
      queue_.push_back(std::move(task));
    }
    ready_.notify_one();
  }
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  void run() {
    for (;;) {
      std::function<void()> task;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        task = std::move(queue_.front());
        queue_.pop_front();
      }
      task();
    }
  }

  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<std::function<void()>> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

// Where reviewers' actions on a front look their claims up (§5e): whatever queued while the
// previous question was out goes in the next one (cluster::look_up_claims, up to
// max_lookup_batch ids), on a thread of its own, never the HTTP thread. A bulk action's claims
// then wait once, even while a partition has no caught-up holder (up to a lookup's wait),
// where asked one by one they would wait one after the other.
class lookup_batcher {
 public:
  using found_claim = std::pair<server::claim_lookup_port::found, std::string>;
  using ask_fn = std::function<std::vector<found_claim>(const std::vector<std::string>& claim_ids)>;

  explicit lookup_batcher(ask_fn ask) : ask_(std::move(ask)), thread_([this] { run(); }) {}
  ~lookup_batcher() { stop(); }
  lookup_batcher(const lookup_batcher&) = delete;
  lookup_batcher& operator=(const lookup_batcher&) = delete;

  /// `done` is called on the batcher's thread (or here, once stopped) with the claim's lookup.
  void post(std::string claim_id, std::function<void(found_claim)> done) {
    {
      std::unique_lock lock(mutex_);
      if (!stopping_) {
        queue_.push_back({std::move(claim_id), std::move(done)});
        ready_.notify_one();
        return;
      }
    }
    done(ask_({std::move(claim_id)}).front());  // stopped: asked here, as before the stop
  }
  /// Asks what is queued, then joins.
  void stop() {
    {
      std::lock_guard lock(mutex_);
      stopping_ = true;
    }
    ready_.notify_one();
    if (thread_.joinable()) thread_.join();
  }

 private:
  struct waiting {
    std::string claim_id;
    std::function<void(found_claim)> done;
  };

  void run() {
    for (;;) {
      std::vector<waiting> batch;
      {
        std::unique_lock lock(mutex_);
        ready_.wait(lock, [this] { return stopping_ || !queue_.empty(); });
        if (queue_.empty()) return;
        while (!queue_.empty() && batch.size() < cluster::max_lookup_batch) {
          batch.push_back(std::move(queue_.front()));
          queue_.pop_front();
        }
      }
      std::vector<std::string> ids;
      ids.reserve(batch.size());
      for (const auto& w : batch) ids.push_back(w.claim_id);
      auto found = ask_(ids);
      for (std::size_t i = 0; i < batch.size(); ++i) batch[i].done(std::move(found[i]));
    }
  }

  ask_fn ask_;
  std::mutex mutex_;
  std::condition_variable ready_;
  std::deque<waiting> queue_;
  bool stopping_ = false;
  std::thread thread_;  // last: started once the rest exists
};

struct cluster_front::impl {
  impl(const server::server_config& c, const policy::policy_file& policy,
       const mapping::tables& tables)
      : node(c, policy, tables),
        reviews(js, {c.cluster.worker_id, node.settings.key_secret, node.settings.answer_timeout}),
        config(c.cluster) {}

  void deliver_releases(const std::vector<server::destination_config>& destinations,
                        const std::function<std::string(const server::destination_config&,
                                                        const store::outbox_item&)>& deliver_one,
                        const server::outbox_config& outbox, server::metrics& counters) {
    std::vector<cluster::release_target> targets;
    for (std::size_t i = 0; i < destinations.size(); ++i) {
      const auto& d = destinations[i];
      targets.push_back({identity_of(d), d.kind, [d, deliver_one](const store::outbox_item& item) {
                           return deliver_one(d, item);
                         }});
    }
    cluster::release_delivery_settings s;
    s.first_backoff = outbox.first_backoff;
    s.max_backoff = outbox.max_backoff;
    s.max_attempts = outbox.max_attempts;
    s.attempted = [&counters](const cluster::release_target& t, bool delivered, double seconds,
                              std::uint64_t attempt, std::uint64_t sequence,
                              const std::string& error, bool dead) {
      counters.outbox_attempt(t.kind, delivered, seconds, dead);
      // Releases are named by their CG_OUT sequence and the receiver: their keys hold claim ids.
      const auto at = static_cast<std::int64_t>(sequence);
      const auto tries = static_cast<std::int64_t>(attempt);
      if (delivered) {
        server::log().info("outbox", "release delivered",
                           {{"cg_out_sequence", at}, {"kind", t.kind}, {"attempt", tries}});
      } else if (dead) {
        server::log().error(
            "outbox",
            "release delivery failed; a dead letter for this destination (CG_OUT "
            "keeps it at its sequence)",
            {{"cg_out_sequence", at}, {"kind", t.kind}, {"attempt", tries}, {"reason", error}});
      } else {
        server::log().warn(
            "outbox", "release delivery failed; will retry",
            {{"cg_out_sequence", at}, {"kind", t.kind}, {"attempt", tries}, {"reason", error}});
      }
    };
    s.problem = [](const cluster::release_target& t, const std::string& what) {
      server::log().warn("cluster", "release delivery problem",
                         {{"kind", t.kind}, {"reason", what}});
    };
    s.dead_letters = &book;
    for (const auto& t : targets) consumers.push_back(cluster::delivery_consumer(t.identity));
    configured = std::make_shared<const std::vector<server::destination_config>>(destinations);
    courier.emplace(js, std::move(targets), std::move(s));
  }

  // An operator's view of a dead letter, as the single server shows an outbox item.
  store::outbox_entry entry_of(const cluster::dead_letter& letter) const {
    store::outbox_entry e;
    e.id = static_cast<std::int64_t>(letter.sequence);
    e.key = letter.key;
    const auto at = std::find(consumers.begin(), consumers.end(), letter.consumer);
    e.destination = static_cast<std::uint32_t>(at - consumers.begin());
    e.attempts = static_cast<std::uint32_t>(letter.attempts);
    e.state = letter.delivered ? "delivered" : "dead";
    e.last_error = letter.error;
    return e;
  }

  hosting::front_node node;  // the connection, the layout, the buckets, the front
  cluster::jetstream& js = node.js;
  cluster::dead_letter_book book{node.dead_bucket};
  cluster::front& running = node.running;
  cluster::review_requester reviews;  // reviewers' actions posted to this front
  // Where their completions run: the HTTP API asks the cluster for the claim again in one (up
  // to a lookup's wait), which must not hold up the requester's one thread, whose other
  // reviews' replies would then miss their deadlines.
  completion_thread completions;
  std::optional<cluster::release_delivery> courier;  // with destinations only
  std::vector<std::string> consumers;                // of CG_OUT, one per destination, in order
  std::shared_ptr<const std::vector<server::destination_config>> configured =
      std::make_shared<const std::vector<server::destination_config>>();
  server::cluster_config config;

  // Reviewers' claims looked up in one question (§5e), each as find_claim says it.
  std::vector<lookup_batcher::found_claim> find_claims(const std::vector<std::string>& ids);
  // Where reviewers' actions look their claims up, in batches. Last: its thread asks with
  // what is above.
  lookup_batcher lookups{[this](const std::vector<std::string>& ids) { return find_claims(ids); }};
};

cluster_front::cluster_front(
    const server::server_config& config, const policy::policy_file& policy,
    const mapping::tables& tables, std::vector<server::destination_config> destinations,
    std::function<std::string(const server::destination_config&, const store::outbox_item&)>
        deliver_one,
    server::metrics& counters) {
  try {
    impl_ = std::make_unique<impl>(config, policy, tables);
    if (!destinations.empty()) {
      impl_->deliver_releases(destinations, deliver_one, config.outbox, counters);
    }
  } catch (const cluster::nats_error& e) {
    throw std::runtime_error(std::string("cluster: ") + e.what());
  }
  server::log().info("cluster", "front started",
                     {{"front", config.cluster.worker_id},
                      {"partitions", static_cast<std::int64_t>(config.cluster.partitions)},
                      {"answer_timeout_ms", config.cluster.answer_timeout_ms}});
}

cluster_front::~cluster_front() { stop(); }

void cluster_front::submit(std::string payload, std::string_view /*channel*/,
                           std::string_view /*sender*/, completion done) {
  impl_->running.submit(std::move(payload), [done = std::move(done)](cluster::front_answer a) {
    done(reply_of(std::move(a)));
  });
}

void cluster_front::stop() {
  if (!impl_) return;
  if (impl_->courier) impl_->courier->stop();
  impl_->lookups.stop();      // asks the lookups left, whose completions may request
  impl_->reviews.stop();      // what waits is answered unavailable, through completions
  impl_->completions.stop();  // runs what is left
  impl_->running.stop();
}

void cluster_front::review(std::string_view claim_id, bool release, std::string_view who,
                           std::string_view why, std::function<void(server::review_status)> done) {
  // The front keeps no claim: the holder of the claim's partition is asked for it, and its
  // patient names the partition the action is published to (as on a worker, §5e). Asked in
  // a batch with the other actions' claims waiting (a bulk action's together).
  const auto id = std::string(claim_id);
  impl_->lookups.post(id, [this, id, release, who = std::string(who), why = std::string(why),
                           done = std::move(done)](lookup_batcher::found_claim looked_up) {
    auto& [how, body] = looked_up;
    if (how == found::no) return done(server::review_status::unknown_claim);
    if (how == found::unavailable) return done(server::review_status::unavailable);
    if (how == found::ambiguous) return done(server::review_status::ambiguous);
    // The holder's claim names its key (CLM01 and billing NPI): the action names it exactly.
    auto [patient, key] = server::names_of_claim_json(body);
    if (patient.empty() || key.empty()) return done(server::review_status::unknown_claim);
    impl_->reviews.request(
        patient, review_of(key, release, who, why),
        [&completions = impl_->completions, done](cluster::review_answer answer) {
          completions.post([done, status = review_status_of(answer)] { done(status); });
        });
  });
}

std::vector<store::outbox_entry> cluster_front::outbox_entries(std::string_view state,
                                                               std::int64_t after_id,
                                                               std::size_t limit) {
  std::vector<store::outbox_entry> out;
  if (state == "pending" || impl_->consumers.empty()) return out;
  // "" lists every dead letter, still dead or delivered by hand since.
  const auto delivered = state.empty() ? std::nullopt : std::optional<bool>(state == "delivered");
  const auto after = static_cast<std::uint64_t>(std::max<std::int64_t>(after_id, 0));
  std::vector<cluster::dead_letter> letters;
  try {
    letters = impl_->book.list(impl_->consumers, delivered, after, limit);
  } catch (const cluster::nats_error& e) {
    server::log().warn("cluster", "dead letters not read", {{"reason", e.what()}});
    return out;
  }
  for (const auto& l : letters) out.push_back(impl_->entry_of(l));
  return out;
}

std::optional<store::outbox_entry> cluster_front::outbox_entry(std::int64_t id) {
  if (id <= 0) return std::nullopt;
  try {
    for (const auto& consumer : impl_->consumers) {
      if (const auto letter = impl_->book.find(consumer, static_cast<std::uint64_t>(id))) {
        return impl_->entry_of(*letter);
      }
    }
  } catch (const cluster::nats_error& e) {
    server::log().warn("cluster", "dead letters not read", {{"reason", e.what()}});
  }
  return std::nullopt;
}

void cluster_front::retry(std::int64_t id,
                          std::function<void(std::optional<store::retry_result>)> done) {
  if (id <= 0 || !impl_->courier) return done(store::retry_result::unknown);
  std::optional<store::retry_result> result;
  try {
    // Now, on this thread: one attempt per destination it is dead for, each bounded by its
    // transport's timeout. An operator's action, rare; the answer says how it went.
    const auto attempts = impl_->courier->redeliver(static_cast<std::uint64_t>(id));
    if (!attempts.empty()) {
      result = store::retry_result::retried;
    } else {
      result = outbox_entry(id) ? store::retry_result::delivered : store::retry_result::unknown;
    }
  } catch (const cluster::nats_error& e) {
    server::log().warn("cluster", "dead letter not retried", {{"reason", e.what()}});
  }
  done(result);
}

namespace {

template <class T>
std::string joined(const std::vector<T>& items) {
  std::string out;
  for (const auto& item : items) {
    if (!out.empty()) out += ", ";
    if constexpr (std::is_same_v<T, std::string>) {
      out += item;
    } else {
      out += std::to_string(item);
    }
  }
  return out.empty() ? "none" : out;
}

// A claim's or a resource's lookup across the workers (§5g), as a front answers it.
std::pair<server::claim_lookup_port::found, std::string> answer_of(cluster::claim_lookup_result r) {
  using found = server::claim_lookup_port::found;
  switch (r.how) {
    case cluster::claim_lookup_result::status::found:
      return r.gone ? std::pair{found::gone, std::string()}
                    : std::pair{found::yes, std::move(r.body)};
    case cluster::claim_lookup_result::status::unknown:
      return {found::no, {}};
    case cluster::claim_lookup_result::status::ambiguous: {
      std::string npis;
      for (const auto& npi : r.billing_npis) npis.append(npis.empty() ? "" : ", ").append(npi);
      return {found::ambiguous, std::move(npis)};
    }
    case cluster::claim_lookup_result::status::unavailable:
      break;
  }
  return {found::unavailable,
          "no holder answered in time (partitions without a caught-up holder that answered: " +
              joined(r.uncovered) + "; answered 'not mine': " + joined(r.not_held_by) +
              "); ask again"};
}

}  // namespace

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_queues(
    std::int64_t now_ms, std::int64_t released_window_ms) {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    const auto r = cluster::gather_queue_counts(impl_->js, c.worker_id, now_ms - released_window_ms,
                                                c.partitions, wait);
    if (!r.complete) {
      return {found::unavailable,
              "the counts of partitions " + joined(r.uncovered) +
                  " are not known now (no worker that holds and has caught them up answered "
                  "in time); ask again"};
    }
    return {found::yes, server::claims_view::queues_json(r.total, now_ms, released_window_ms)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the cluster could not be asked: ") + e.what()};
  }
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_charts(
    std::int64_t now_ms, int days) {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    const auto width = server::chart_counts::numbers_per_chart(static_cast<std::size_t>(days));
    const auto r = cluster::gather_chart_numbers(
        impl_->js, c.worker_id, std::to_string(now_ms) + "," + std::to_string(days), c.partitions,
        width, wait);
    if (!r.complete) {
      return {found::unavailable,
              "the charts of partitions " + joined(r.uncovered) +
                  " are not known now (no worker that holds and has caught them up answered "
                  "in time); ask again"};
    }
    server::chart_counts counts(now_ms, days);
    (void)counts.add_numbers(r.total);
    return {found::yes, server::claims_view::charts_json(counts)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the cluster could not be asked: ") + e.what()};
  }
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_audit(
    const model::date& as_of, server::audit_format format) {
  const auto& c = impl_->config;
  try {
    // Each worker reads its whole store for this: a longer wait than a count's.
    const auto wait = std::chrono::milliseconds(c.answer_timeout_ms);
    const auto r = cluster::gather_audit_parts(
        impl_->js, c.worker_id, as_of.iso() + "," + std::string(server::name(format)), c.partitions,
        wait);
    if (!r.complete) {
      return {found::unavailable,
              "the audit of partitions " + joined(r.uncovered) +
                  " is not known now (no worker that holds and has caught them up answered "
                  "in time); ask again"};
    }
    if (!r.too_large.empty()) {
      std::vector<int> partitions;
      for (const auto& [p, size] : r.too_large) partitions.push_back(p);
      return {found::unavailable,
              "the audit rows of partitions " + joined(partitions) + " are larger than " +
                  std::to_string(cluster::max_audit_partition_bytes) +
                  " bytes (or than one NATS message, from a worker that sends no chunks): ask "
                  "the workers that hold them (GET /audit/csii on each)"};
    }
    if (!r.broken.empty()) {
      return {found::unavailable, "the audit rows of partitions " + joined(r.broken) +
                                      " came incomplete (a chunk was lost); ask again"};
    }
    server::audit_rows rows;
    rows.as_of = as_of;
    for (auto& [p, text] : r.rows) {
      auto part = server::decode_audit_rows(text);
      if (!part) {
        return {found::unavailable,
                "the audit rows of partition " + std::to_string(p) + " could not be read"};
      }
      server::merge_audit_rows(rows, std::move(*part));
    }
    return {found::yes, server::write_audit(rows, format)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the cluster could not be asked: ") + e.what()};
  }
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_changes() {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    const auto r = cluster::gather_changes(impl_->js, c.worker_id, c.partitions, wait);
    if (!r.complete) {
      return {found::unavailable, "the versions of partitions " + joined(r.uncovered) +
                                      " are not known now (no worker that holds and has caught "
                                      "them up answered in time); ask again"};
    }
    return {found::yes, server::claims_view::changes_json(r.version)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the cluster could not be asked: ") + e.what()};
  }
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_list(
    const store::claim_query& query, std::int64_t now_ms) {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    const auto r =
        cluster::gather_claim_list(impl_->js, c.worker_id, {query, now_ms}, c.partitions, wait);
    if (!r.complete) {
      return {found::unavailable,
              r.uncovered.empty()
                  ? std::string("a worker's page could not be read; ask again")
                  : "the lists of partitions " + joined(r.uncovered) +
                        " are not known now (no worker that holds and has caught them up "
                        "answered in time); ask again"};
    }
    std::vector<std::string> rows;
    rows.reserve(r.rows.size());
    for (const auto& row : r.rows) rows.push_back(row.json);
    std::optional<std::string> next;
    if (!r.rows.empty() && r.rows.size() == query.limit) {
      next = server::claims_view::cursor_of(r.rows.back().sort_value, r.rows.back().id, query.sort);
    }
    return {found::yes, server::claims_view::list_json(query, r.total, rows, next)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the cluster could not be asked: ") + e.what()};
  }
}

std::vector<lookup_batcher::found_claim> cluster_front::impl::find_claims(
    const std::vector<std::string>& ids) {
  const auto wait = std::min(std::chrono::milliseconds(config.answer_timeout_ms),
                             std::chrono::milliseconds(5'000));
  std::vector<lookup_batcher::found_claim> out;
  try {
    for (auto& r : cluster::look_up_claims(js, config.worker_id, ids, config.partitions, wait)) {
      out.push_back(answer_of(std::move(r)));
    }
    return out;
  } catch (const std::exception& e) {  // nats_error, or more ids than a batch asks (never)
    server::log().warn("cluster", "claim lookup failed", {{"reason", e.what()}});
  }
  out.assign(ids.size(), {found::unavailable, {}});
  return out;
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_claim(
    std::string_view claim_id) {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    return answer_of(cluster::look_up_claim(impl_->js, c.worker_id, claim_id, c.partitions, wait));
  } catch (const cluster::nats_error& e) {
    server::log().warn("cluster", "claim lookup failed", {{"reason", e.what()}});
  }
  return {found::unavailable, {}};
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_resource(
    std::string_view type, std::string_view id) {
  const auto& c = impl_->config;
  try {
    const auto wait =
        std::min(std::chrono::milliseconds(c.answer_timeout_ms), std::chrono::milliseconds(5'000));
    const auto resource = std::string(type) + "/" + std::string(id);
    return answer_of(
        cluster::look_up_resource(impl_->js, c.worker_id, resource, c.partitions, wait));
  } catch (const cluster::nats_error& e) {
    server::log().warn("cluster", "resource lookup failed", {{"reason", e.what()}});
  }
  return {found::unavailable, {}};
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_message(
    std::int64_t id) {
  try {
    const auto stored =
        impl_->js.message(std::string(cluster::in_stream), static_cast<std::uint64_t>(id));
    const auto entry = stored ? cluster::received_message_of(*stored) : std::nullopt;
    if (!entry) return {found::no, {}};
    return {found::yes, server::claims_view::message_json_of(*entry)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("the stream could not be read: ") + e.what()};
  }
}

std::pair<server::claim_lookup_port::found, std::string> cluster_front::find_waiting(
    std::size_t limit, std::int64_t now_ms) {
  try {
    const auto listing = cluster::waiting_on_identities(impl_->js, limit, std::chrono::seconds(2));
    return {found::yes, cluster::waiting_json(listing, now_ms)};
  } catch (const cluster::nats_error& e) {
    return {found::unavailable, std::string("CG_WAIT could not be read: ") + e.what()};
  }
}

std::shared_ptr<const std::vector<server::destination_config>> cluster_front::destinations() {
  return impl_->configured;
}

std::string cluster_front::metrics_text() const {
  const auto c = impl_->running.counts();
  std::string out;
  const auto counter = [&](const char* name, const char* help, std::uint64_t value,
                           const char* type = "counter") {
    out += std::string("# HELP ") + name + " " + help + "\n# TYPE " + name + " " + type + "\n" +
           name + " " + std::to_string(value) + "\n";
  };
  counter("covgate_front_messages_total", "Messages the front took.", c.messages);
  counter("covgate_front_parts_published_total", "Parts published to CG_IN.", c.parts);
  counter("covgate_front_answered_total", "Messages answered.", c.answered);
  counter("covgate_front_refused_total", "Messages refused: they cannot be routed as sent.",
          c.refused);
  counter("covgate_front_timed_out_total",
          "Messages answered unavailable: no answer within answer_timeout_ms.", c.timed_out);
  counter("covgate_front_not_taken_total",
          "Messages answered unavailable: the cluster did not take a part.", c.not_taken);
  counter("covgate_front_resent_total",
          "Parts published again after the cluster did not take them (an election, a timeout).",
          c.resent);
  counter("covgate_front_held_total",
          "Messages of a patient known only by a local identity, held on CG_WAIT until a "
          "message links the identity to a Medicare identifier.",
          c.held);
  counter("covgate_front_forwarded_total",
          "Held messages forwarded to their patient's partition once linked.", c.forwarded);
  counter("covgate_front_joined_total",
          "Local identities of a message joined to its keyed patient, whom the identity map "
          "links them to: a split message's part sent with that patient's part, or a message "
          "otherwise refused as several patients sent whole.",
          c.joined);
  counter("covgate_front_in_flight", "Messages waiting for workers' answers now.", c.in_flight,
          "gauge");
  if (impl_->courier) {
    // Asked of the cluster at each scrape; left out (with the reason in the log) when it does
    // not answer, so a scrape never fails for it.
    try {
      const auto backlog = impl_->courier->backlog();
      out +=
          "# HELP covgate_front_releases_pending Releases on CG_OUT not yet taken by a "
          "destination's receiver (not delivered, in hand, or waiting to be tried again).\n"
          "# TYPE covgate_front_releases_pending gauge\n";
      for (std::size_t d = 0; d < backlog.size(); ++d) {
        out += "covgate_front_releases_pending{destination=\"" + std::to_string(d) + "\"} " +
               std::to_string(backlog[d]) + "\n";
      }
    } catch (const cluster::nats_error& e) {
      server::log().warn("cluster", "release backlog not read", {{"reason", e.what()}});
    }
  }
  return out;
}

}  // namespace covgate::app
