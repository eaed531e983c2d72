#include "covgate/server/config.hpp"

#include <doctest/doctest.h>

#include <cstdlib>

using namespace covgate::server;

namespace {

std::string error_of(const std::string& text) {
  try {
    (void)parse_config(text, "/etc/covgate");
  } catch (const config_error& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST_SUITE("server.config") {
  TEST_CASE("an empty object gives the documented defaults") {
    const auto c = parse_config("{}", "/etc/covgate");
    CHECK(c.mllp.address == "127.0.0.1");
    CHECK(c.mllp.port == 2575);
    CHECK(c.http.port == 8080);
    CHECK(c.store.directory == "/etc/covgate/covgate-data");
    CHECK(c.outbox.destinations.empty());
    CHECK_FALSE(c.strict_277ca);
    CHECK_FALSE(c.reject_repeated_interchanges);
    CHECK(c.store.synchronous_full);  // an answered message survives a power cut
    CHECK_FALSE(
        parse_config(R"({"store": {"synchronous": "normal"}})", "/").store.synchronous_full);
  }

  TEST_CASE("settings are read, relative paths resolved against the config's folder") {
    const auto c = parse_config(R"({
      // comments are allowed
      "workers": 2, "sender_id": "GATE01", "profile": "277ca", "duplicate_interchanges": "reject",
      "mllp": {"port": 0, "max_frame_bytes": 65536, "require_final_cr": true,
               "idle_timeout_ms": 1000, "read_timeout_ms": 500, "commit_acks": true,
               "allow": ["127.0.0.0/8", "::1"], "max_connections": 10},
      "http": {"port": 0, "body_limit": 2048, "tokens_file": "tokens.txt",
               "tls": {"certificate": "cert.pem", "private_key": "/keys/key.pem"}},
      "store": {"directory": "data", "synchronous": "full", "journal_max_age_days": 7},
      "outbox": {"destinations": [{"kind": "directory", "path": "/var/out"},
                                  {"kind": "mllp", "host": "127.0.0.1", "port": 6661}],
                 "max_attempts": 3, "delivered_max_age_days": 2},
    })",
                                "/etc/covgate");
    CHECK(c.workers == 2);
    CHECK(c.strict_277ca);
    CHECK(c.reject_repeated_interchanges);
    CHECK(c.mllp.port == 0);
    CHECK(c.mllp.require_final_cr);
    CHECK(c.mllp.read_timeout.count() == 500);
    CHECK(c.mllp.allow.size() == 2);
    CHECK(c.http.tokens_file == "/etc/covgate/tokens.txt");
    CHECK(c.http.tls.certificate == "/etc/covgate/cert.pem");
    CHECK(c.http.tls.private_key == "/keys/key.pem");
    CHECK_FALSE(c.mllp.tls.enabled());
    CHECK(c.store.directory == "/etc/covgate/data");
    CHECK(c.store.synchronous_full);
    CHECK(c.outbox.destinations.size() == 2);
    CHECK(c.outbox.destinations[0].directory == "/var/out");
    CHECK(c.outbox.max_attempts == 3);
    CHECK(c.outbox.delivered_max_age == std::chrono::hours(48));
    CHECK(parse_config("{}", "/etc").outbox.delivered_max_age == std::chrono::hours(24 * 30));
  }

  TEST_CASE("every problem names its JSON path") {
    CHECK(error_of("{").find("not valid JSON") != std::string::npos);
    CHECK(error_of(R"({"mllp": {"prot": 1}})").find("/mllp/prot: unknown setting") !=
          std::string::npos);
    CHECK(error_of(R"({"mllp": {"port": 70000}})").find("/mllp/port: must be") !=
          std::string::npos);
    CHECK(error_of(R"({"mllp": {"allow": ["10.0.0.0/33"]}})").find("/mllp/allow/0") !=
          std::string::npos);
    CHECK(error_of(R"({"outbox": {"destinations": [{"kind": "ftp"}]}})")
              .find("/outbox/destinations/0/kind") != std::string::npos);
    CHECK(error_of(R"({"sender_id": ""})").find("/sender_id") != std::string::npos);
    CHECK(error_of(R"({"duplicate_interchanges": "drop"})").find("/duplicate_interchanges") !=
          std::string::npos);
    CHECK(error_of(R"({"outbox": {"delivered_max_age_days": 0}})")
              .find("/outbox/delivered_max_age_days: must be") != std::string::npos);
    CHECK(error_of(R"({"store": {"synchronous": "off"}})").find("/store/synchronous") !=
          std::string::npos);
    CHECK(error_of(R"({"http": {"tls": {"certificate": "c.pem"}}})")
              .find("/http/tls: needs both certificate and private_key") != std::string::npos);
  }

  TEST_CASE("a cluster worker needs servers and an id; its timing must leave room to renew") {
    const auto standalone = parse_config("{}", "/etc/covgate");
    CHECK_FALSE(standalone.cluster.worker());
    CHECK(standalone.cluster.partitions == 64);
    const auto w = parse_config(R"({"cluster": {"role": "worker", "worker_id": "w-1",
        "urls": ["nats://10.0.0.1:4222", "nats://10.0.0.2:4222"], "partitions": 8,
        "ca_file": "ca.pem", "key_secret_env": "COVGATE_KEY_SECRET"}})",
                                "/etc/covgate");
    CHECK(w.cluster.worker());
    CHECK(w.cluster.urls.size() == 2);
    CHECK(w.cluster.partitions == 8);
    CHECK(w.cluster.ca_file == "/etc/covgate/ca.pem");
    CHECK(error_of(R"({"cluster": {"role": "worker", "worker_id": "w1"}})")
              .find("/cluster/urls: a worker needs") != std::string::npos);
    // A worker keys its releases' subjects on CG_OUT with the secret, and delivers nothing
    // itself: its releases go to CG_OUT, its first answers through the front.
    CHECK(error_of(R"({"cluster": {"role": "worker", "worker_id": "w1", "urls": ["nats://a:1"]}})")
              .find("/cluster/key_secret_env: a worker needs") != std::string::npos);
    const std::string worker_keys =
        R"("cluster": {"role": "worker", "worker_id": "w1", "urls": ["nats://a:1"],
            "key_secret_env": "S"})";
    CHECK(error_of("{" + worker_keys +
                   R"(, "outbox": {"destinations": [{"kind": "directory", "path": "o"}]}})")
              .find("/outbox/destinations: a cluster worker publishes its releases to stream "
                    "CG_OUT") != std::string::npos);
    CHECK(error_of("{" + worker_keys + R"(, "outbox": {"every_answer": true}})")
              .find("/outbox/every_answer") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"role": "worker", "urls": ["nats://a:1"], "worker_id": "w 1"}})")
              .find("/cluster/worker_id") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"lease_ms": 3000, "renew_ms": 3000}})")
              .find("/cluster/renew_ms: must be below lease_ms") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"role": "leader"}})").find("/cluster/role") !=
          std::string::npos);
    // A front also needs the variable that holds the partition key secret.
    CHECK(error_of(R"({"cluster": {"role": "front", "worker_id": "f1", "urls": ["nats://a:1"]}})")
              .find("/cluster/key_secret_env: a front needs") != std::string::npos);
    const auto f = parse_config(R"({"cluster": {"role": "front", "worker_id": "f1",
        "urls": ["nats://a:1"], "key_secret_env": "COVGATE_KEY_SECRET", "answer_timeout_ms": 2500}})",
                                "/etc/covgate");
    CHECK(f.cluster.front());
    CHECK_FALSE(f.cluster.worker());
    CHECK(f.cluster.answer_timeout_ms == 2500);
    CHECK(parse_config(config_text(f), "/etc/covgate").cluster.key_secret_env ==
          "COVGATE_KEY_SECRET");
    CHECK(
        error_of(R"({"cluster": {"answer_timeout_ms": 50}})").find("/cluster/answer_timeout_ms") !=
        std::string::npos);
    CHECK(error_of(R"({"cluster": {"partitions": 1025}})").find("/cluster/partitions") !=
          std::string::npos);
    // Snapshots (docs/cluster.md §5j): every 5 minutes unless told; 0 writes none; at most a day.
    CHECK(w.cluster.snapshot_every_ms == 300'000);
    CHECK(parse_config(R"({"cluster": {"snapshot_every_ms": 0}})", "/").cluster.snapshot_every_ms ==
          0);
    CHECK(error_of(R"({"cluster": {"snapshot_every_ms": 86400001}})")
              .find("/cluster/snapshot_every_ms: must be a whole number from 0 to 86400000") !=
          std::string::npos);
    auto snapshots_kept = w;
    snapshots_kept.cluster.snapshot_every_ms = 60'000;
    CHECK(parse_config(config_text(snapshots_kept), "/etc/covgate").cluster.snapshot_every_ms ==
          60'000);
    CHECK(error_of(R"({"cluster": {"urls": ["10.0.0.1"]}})").find("/cluster/urls") !=
          std::string::npos);
    // CG_IN's retention (§5j): none unless told; only with snapshots, a day and ten of their
    // intervals at least.
    CHECK(w.cluster.in_max_age_hours == 0);
    CHECK(parse_config(R"({"cluster": {"in_max_age_hours": 168}})", "/").cluster.in_max_age_hours ==
          168);
    CHECK(error_of(R"({"cluster": {"in_max_age_hours": 168, "snapshot_every_ms": 0}})")
              .find("/cluster/in_max_age_hours: needs snapshots") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"in_max_age_hours": 23}})")
              .find("/cluster/in_max_age_hours: must be at least 24") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"in_max_age_hours": 24, "snapshot_every_ms": 86400000}})")
              .find("ten snapshot intervals") != std::string::npos);
    CHECK(parse_config(R"({"cluster": {"in_max_age_hours": 240, "snapshot_every_ms": 86400000}})",
                       "/")
              .cluster.in_max_age_hours == 240);
    auto trimmed = w;
    trimmed.cluster.in_max_age_hours = 72;
    CHECK(parse_config(config_text(trimmed), "/etc/covgate").cluster.in_max_age_hours == 72);
    // CG_OUT's (§5d): none unless told; only with CG_IN's, and at least as long.
    CHECK(w.cluster.out_max_age_hours == 0);
    CHECK(error_of(R"({"cluster": {"out_max_age_hours": 168}})")
              .find("/cluster/out_max_age_hours: needs in_max_age_hours") != std::string::npos);
    CHECK(error_of(R"({"cluster": {"in_max_age_hours": 168, "out_max_age_hours": 167}})")
              .find("/cluster/out_max_age_hours") != std::string::npos);
    CHECK(parse_config(R"({"cluster": {"in_max_age_hours": 168, "out_max_age_hours": 168}})", "/")
              .cluster.out_max_age_hours == 168);
    trimmed.cluster.out_max_age_hours = 96;
    CHECK(parse_config(config_text(trimmed), "/etc/covgate").cluster.out_max_age_hours == 96);
  }

  TEST_CASE("the allow-list matches IPv4 and IPv6 networks by prefix") {
    const auto c = parse_config(R"({"mllp": {"allow": ["10.1.0.0/16", "::1/128"]}})", "/");
    CHECK(allowed(c.mllp.allow, "10.1.200.3"));
    CHECK_FALSE(allowed(c.mllp.allow, "10.2.0.1"));
    CHECK(allowed(c.mllp.allow, "::1"));
    CHECK_FALSE(allowed(c.mllp.allow, "::2"));
    CHECK_FALSE(allowed(c.mllp.allow, "not an address"));
    CHECK(allowed({}, "192.0.2.1"));  // no list: everyone
  }

  TEST_CASE("tokens come from the environment variable the config names, never inline") {
    http_config h;
    h.tokens_env = "COVGATE_TEST_TOKENS";
    setenv("COVGATE_TEST_TOKENS", "alpha, beta,,", 1);
    const auto tokens = load_tokens(h);
    REQUIRE(tokens.size() == 2);
    CHECK(tokens[0].secret == "alpha");
    CHECK(tokens[0].name == "token-1");  // no name given: named by its place
    CHECK(tokens[1].secret == "beta");
    setenv("COVGATE_TEST_TOKENS", "Alice Reviewer:s3cret, bob:b0b", 1);
    const auto named = load_tokens(h);
    REQUIRE(named.size() == 2);
    CHECK(named[0].name == "Alice Reviewer");
    CHECK(named[0].secret == "s3cret");
    CHECK(named[1].name == "bob");
    CHECK(named[1].secret == "b0b");
    setenv("COVGATE_TEST_TOKENS", ":nameless", 1);
    CHECK_THROWS_AS((void)load_tokens(h), config_error);
    setenv("COVGATE_TEST_TOKENS", "", 1);
    CHECK_THROWS_AS((void)load_tokens(h), config_error);
    unsetenv("COVGATE_TEST_TOKENS");
    CHECK_THROWS_AS((void)load_tokens(h), config_error);
    CHECK(load_tokens(http_config{}).empty());
  }
}
