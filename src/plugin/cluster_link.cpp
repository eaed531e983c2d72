#include "cluster_link.hpp"

#include <chrono>
#include <future>
#include <limits>

namespace covgate::plugin {

std::string host_identity(std::string_view worker_id) { return "host|" + std::string(worker_id); }

std::int64_t unix_ms_now() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

cluster_link::cluster_link(const server::server_config& config, const policy::policy_file& policy,
                           const mapping::tables& tables,
                           std::function<std::string(const store::outbox_item&)> take_later,
                           trouble_book& troubles)
    : node_(config, policy, tables, /*with_decisions=*/true) {
  cluster::release_target host{host_identity(config.cluster.worker_id), "host",
                               std::move(take_later)};
  host.with_event = true;
  cluster::release_delivery_settings s;
  // Keeping a release in the store fails only with the store: tried again at the outbox's
  // pace, and never made a dead letter (a host has no one to deliver it by hand).
  s.first_backoff = config.outbox.first_backoff;
  s.max_backoff = config.outbox.max_backoff;
  s.max_attempts = std::numeric_limits<std::uint32_t>::max();
  s.problem = [&troubles](const cluster::release_target&, const std::string& what) {
    troubles.note("delivery of later answers: " + what, unix_ms_now(),
                  trouble_book::standing::delivery);
  };
  s.resumed = [&troubles](const cluster::release_target&) {
    troubles.clear(trouble_book::standing::delivery);
  };
  std::vector<cluster::release_target> targets;
  targets.push_back(std::move(host));
  courier_.emplace(node_.js, std::move(targets), std::move(s));
}

cluster_link::~cluster_link() { stop(); }

cluster::front_answer cluster_link::submit(std::string message) {
  std::promise<cluster::front_answer> answered;
  auto answer = answered.get_future();
  node_.running.submit(std::move(message),
                       [&answered](cluster::front_answer a) { answered.set_value(std::move(a)); });
  return answer.get();  // the front calls done once, by its deadline at the latest
}

void cluster_link::stop() {
  if (courier_) courier_->stop();
  node_.running.stop();
}

}  // namespace covgate::plugin
