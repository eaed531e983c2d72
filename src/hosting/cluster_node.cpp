#include "covgate/hosting/cluster_node.hpp"

#include <cstdlib>
#include <stdexcept>

#include "covgate/cluster/subjects.hpp"
#include "covgate/server/durable_gate.hpp"

namespace covgate::hosting {

cluster::connection_settings connection_of(const server::cluster_config& c) {
  cluster::connection_settings s;
  s.urls = c.urls;
  s.name = "covgate-" + c.worker_id;
  s.credentials_file = c.credentials_file.string();
  s.user = c.user;
  if (!c.password_env.empty()) {
    if (const char* password = std::getenv(c.password_env.c_str())) s.password = password;
  }
  s.ca_file = c.ca_file.string();
  s.cert_file = c.cert_file.string();
  s.key_file = c.key_file.string();
  return s;
}

cluster::cluster_layout layout_of(const server::cluster_config& c) {
  cluster::cluster_layout l;
  l.partitions = c.partitions;
  l.replicas = c.replicas;
  l.lease_retry_budget = std::chrono::milliseconds(c.renew_ms);
  l.in_max_age = std::chrono::hours(c.in_max_age_hours);
  l.out_max_age = std::chrono::hours(c.out_max_age_hours);
  return l;
}

std::string key_secret_of(const server::cluster_config& c) {
  const char* secret = std::getenv(c.key_secret_env.c_str());
  if (secret == nullptr || *secret == '\0') {
    throw std::runtime_error("cluster: the variable " + c.key_secret_env +
                             " (cluster.key_secret_env) does not hold the partition key secret");
  }
  return secret;
}

cluster::front_settings front_settings_of(const server::server_config& c, bool with_decisions) {
  cluster::front_settings s;
  s.front_id = c.cluster.worker_id;
  s.key_secret = key_secret_of(c.cluster);
  s.answer_timeout = std::chrono::milliseconds(c.cluster.answer_timeout_ms);
  s.intake = server::intake_settings_of(c);
  s.with_decisions = with_decisions;
  return s;
}

front_node::front_node(const server::server_config& c, const policy::policy_file& policy,
                       const mapping::tables& tables, bool with_decisions)
    : settings(front_settings_of(c, with_decisions)),
      js(connection_of(c.cluster)),
      laid_out((static_cast<void>(ensure_layout(js, layout_of(c.cluster))), true)),
      control(js.bucket(
          {std::string(cluster::control_bucket), c.cluster.replicas, std::chrono::seconds(0)})),
      dead_bucket(js.bucket({std::string(cluster::dead_letters_bucket), c.cluster.replicas,
                             std::chrono::seconds(0)})),
      identities(js.bucket(
          {std::string(cluster::identity_bucket), c.cluster.replicas, std::chrono::seconds(0)})),
      running(js, control, identities, policy, tables, settings) {}

}  // namespace covgate::hosting
