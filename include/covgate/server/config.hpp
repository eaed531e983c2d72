// The `covgate serve` configuration (covgate.json): listeners, store, outbox, our X12
// identity. Read once at start-up; every problem is a config_error naming the JSON path.
// Secrets never come from here directly: bearer tokens are read from a file or an environment
// variable the config names.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/x12/interchange_reader.hpp"

namespace covgate::server {

/// A configuration that cannot be used: what() names the file, the JSON path and the problem.
using config_error = mapping::config_error;

/// An IPv4 or IPv6 network, e.g. 10.0.0.0/8 or ::1/128.
struct network {
  std::string address;  ///< as written
  unsigned prefix = 0;
};

/// TLS for a listener: a PEM certificate chain and its private key (both or neither).
struct tls_config {
  std::filesystem::path certificate;
  std::filesystem::path private_key;
  [[nodiscard]] bool enabled() const { return !certificate.empty(); }
};

struct mllp_config {
  bool enabled = true;
  std::string address = "127.0.0.1";
  std::uint16_t port = 2575;
  std::size_t max_frame_bytes = 16u << 20;
  bool require_final_cr = false;
  std::chrono::milliseconds idle_timeout{300'000};  ///< no frame started for this long: close
  std::chrono::milliseconds read_timeout{30'000};   ///< a started frame stalls this long: close
  bool commit_acks = false;    ///< MLLP release 2: <SB><ACK><EB><CR> once the message is durable
  std::vector<network> allow;  ///< client networks allowed (empty: any)
  std::size_t max_connections = 1024;
  /// Bytes held in partial frames across all connections; a read that would pass it closes
  /// its connection (answered AR). Bounds what unauthenticated peers can make us hold.
  std::size_t max_buffered_bytes = 256u << 20;
  tls_config tls;
};

struct http_config {
  bool enabled = true;
  std::string address = "127.0.0.1";
  std::uint16_t port = 8080;
  std::size_t body_limit = 16u << 20;
  std::size_t header_limit = 64u << 10;     ///< request line and headers; beyond: 431
  std::size_t max_bundle_entries = 10'000;  ///< POST /fhir transaction/batch; beyond: too-costly
  /// Request body bytes in flight across all connections (taken when a request's headers
  /// arrive, by its Content-Length, or body_limit when chunked); beyond: 503 Retry-After.
  std::size_t max_buffered_bytes = 256u << 20;
  std::chrono::milliseconds timeout{30'000};
  std::vector<network> allow;         ///< client networks allowed (empty: any)
  std::filesystem::path tokens_file;  ///< one bearer token per line ("name:token" or a token)
  std::string tokens_env;             ///< or: an environment variable with tokens, comma-separated
  std::size_t max_connections = 1024;
  tls_config tls;
};

struct store_config {
  std::filesystem::path directory = "covgate-data";  ///< "" or ":memory:" keeps nothing
  /// fsync every commit (FULL: an answered message survives a power cut) or, when false,
  /// NORMAL (survives a killed process; a power cut may lose the last commits).
  bool synchronous_full = true;
  std::chrono::hours journal_max_age{24 * 30};
  std::uint64_t journal_max_bytes = 1ull << 30;
};

struct destination_config {
  std::string kind;  ///< "directory", "http" or "mllp"
  std::filesystem::path directory;
  std::string url;   ///< http://host:port/path
  std::string host;  ///< mllp
  std::uint16_t port = 0;
};

struct outbox_config {
  std::vector<destination_config> destinations;
  bool every_answer = false;  ///< also deliver first answers, not only later releases
  std::uint32_t max_attempts = 8;
  /// A delivered item is deleted this long after its delivery (durable_gate::prune); until
  /// then its key is remembered, so that the same event queued again is not sent twice.
  std::chrono::hours delivered_max_age{24 * 30};
  std::chrono::milliseconds first_backoff{500};
  std::chrono::milliseconds max_backoff{60'000};
};

/// The worklist's limits ("worklist" in covgate.json).
struct worklist_config {
  std::size_t max_page = 1000;              ///< GET /claims limit=; beyond: 400
  std::size_t max_bulk = 500;               ///< claims per bulk release or cancel; beyond: 400
  std::int64_t released_window_hours = 72;  ///< the "recently released" queue looks this far back
  std::int64_t poll_ms = 5000;              ///< how often the page asks GET /changes
};

/// "cluster": covgate serve as a worker of a NATS JetStream cluster (docs/cluster.md), which
/// holds partitions by lease and applies the messages published for them, or as a front,
/// which takes messages over MLLP and HTTP, publishes them by patient and answers with the
/// workers' answers.
struct cluster_config {
  std::string role = "standalone";  ///< "standalone" (no NATS), "worker" or "front"
  std::vector<std::string> urls;    ///< nats://host:port of every node
  std::string worker_id;            ///< this process: 1 to 64 of [A-Za-z0-9_-], unique
  /// Front: the environment variable holding the cluster's partition key secret (the same for
  /// every front and producer; never in the file).
  std::string key_secret_env;
  std::int64_t answer_timeout_ms = 10'000;  ///< front: the deadline for workers' answers
  int partitions = 64;                      ///< the N of every node's mapping line; fixed for life
  int replicas = 3;                         ///< streams and buckets (3 survives one node of three)
  std::int64_t lease_ms = 10'000;           ///< a lease not renewed this long may be taken over
  std::int64_t renew_ms = 3'000;            ///< how often a worker renews (below lease_ms)
  int batch = 64;                           ///< messages fetched (and committed) at a time
  /// Worker: how often each caught-up partition's snapshot goes to CG_SNAP (when it changed);
  /// 0: never. A worker taking over a partition its store never held starts from the latest.
  std::int64_t snapshot_every_ms = 300'000;
  /// How long stream CG_IN keeps a message (hours; 0: until removed by hand). Set by every
  /// member that starts (the last one started wins): all must agree. Needs snapshots, and at
  /// least a day and ten snapshot intervals, so that a partition's rebuild finds in CG_IN
  /// everything after its latest snapshot (docs/cluster.md §5j).
  std::int64_t in_max_age_hours = 0;
  /// How long stream CG_OUT keeps a release (hours; 0: until removed by hand). Set like
  /// in_max_age_hours, and at least as long: a rebuild replays what CG_IN keeps, and every
  /// release it makes again must still be on CG_OUT to be refused as a repeat. It is also the
  /// longest a front (or a C ABI host) may stay away before releases it has not delivered go.
  std::int64_t out_max_age_hours = 0;
  std::string user;                           ///< NATS user, or ""
  std::string password_env;                   ///< the variable holding the user's password
  std::filesystem::path credentials_file;     ///< a NATS .creds file (JWT and nkey), or ""
  std::filesystem::path ca_file;              ///< TLS: CA of the servers ("" = no TLS)
  std::filesystem::path cert_file, key_file;  ///< TLS client certificate, or ""
  [[nodiscard]] bool worker() const noexcept { return role == "worker"; }
  [[nodiscard]] bool front() const noexcept { return role == "front"; }
};

/// A bearer token and the name of who holds it (the reviewer a release or cancel is recorded
/// under). A token given without a name is named "token-<n>", n its place in the list.
struct bearer_token {
  std::string name;
  std::string secret;
};

struct server_config {
  x12::reader_options x12;  ///< "x12": the reader's limits and envelope-count policy
  fhir::read_limits fhir;   ///< "fhir": message size, Bundle depth, resources per message
  /// "hl7v2": message size, segments, field size, repetitions, and the MSH-11 processing ids
  /// read (serve: "P" only by default, so training and debugging messages decide nothing).
  hl7v2::read_options hl7v2 = [] {
    hl7v2::read_options o;
    o.processing_ids = {"P"};
    return o;
  }();
  mllp_config mllp;
  http_config http;
  store_config store;
  outbox_config outbox;
  /// "mappings": a folder of mapping tables to use instead of the built-in ones ("": built-in;
  /// `covgate serve --mappings` wins over it).
  std::filesystem::path mappings;
  worklist_config worklist;
  cluster_config cluster;
  unsigned workers = 0;  ///< 0: one per core
  std::string sender_qualifier = "ZZ";
  std::string sender_id = "COVGATE";
  bool strict_277ca = false;  ///< 277CA profile (A categories only)
  /// "duplicate_interchanges": a message whose interchange was accepted before, sent again.
  bool reject_repeated_interchanges = false;
  /// Where it came from, for errors: the file parse_config() read, or "built-in defaults".
  std::string source = "built-in defaults";
};

/// Parses covgate.json (comments and trailing commas allowed). Relative paths are resolved
/// against `base` (the config file's folder); errors name `file` and the JSON path.
[[nodiscard]] server_config parse_config(const std::string& text, const std::filesystem::path& base,
                                         const std::string& file = "covgate.json");

/// The configuration as covgate.json text: JSON with comments, every key on a line of its own
/// with a word on what it takes (`covgate serve --print-config`). parse_config() of it gives
/// `c` back; relative paths are written as `c` holds them.
[[nodiscard]] std::string config_text(const server_config& c);

/// "sha256:" and 16 hex digits of config_text(c): which configuration a server runs (logged at
/// start-up and on reload; it holds no secret, as tokens never are in the configuration).
[[nodiscard]] std::string config_digest(const server_config& c);

/// Checks that the files `c` names (TLS certificates and keys, the tokens file) can be read;
/// throws config_error naming c.source, the key's path and the file.
void check_files(const server_config& c);

/// Whether `address` (textual IPv4/IPv6) lies in one of `allow` (empty allows all).
[[nodiscard]] bool allowed(const std::vector<network>& allow, const std::string& address);

/// The bearer tokens from the file and/or environment variable the config names: one per
/// line (file) or comma-separated (variable), each "name:token" or a token alone; blank lines
/// and lines starting with '#' are skipped. Errors name `source` (the configuration's file)
/// and the key; throws config_error.
[[nodiscard]] std::vector<bearer_token> load_tokens(const http_config& http,
                                                    const std::string& source = "covgate.json");

}  // namespace covgate::server
