#include "covgate/server/config.hpp"

#include "covgate/mapping/json_config.hpp"

#include <rapidjson/document.h>

#include <arpa/inet.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <sstream>

namespace covgate::server {
namespace {

using value = rapidjson::Value;

// The file being read, for the errors of the one parse_config() under way on this thread.
thread_local std::string current_file = "covgate.json";
struct file_name {
  explicit file_name(const std::string& name) { current_file = name; }
  ~file_name() { current_file = "covgate.json"; }
  file_name(const file_name&) = delete;
  file_name& operator=(const file_name&) = delete;
};

[[noreturn]] void fail(const std::string& path, const std::string& problem) {
  mapping::config_failure(current_file, path, problem);
}

// Reads the members of one object; finish() refuses the ones nobody asked for.
class object_reader {
 public:
  object_reader(const value& v, std::string path) : v_(v), path_(std::move(path)) {
    if (!v.IsObject()) fail(path_, "must be an object");
  }
  /// Refuses members no read() asked for: a typo must not pass silently.
  void finish() const {
    for (auto it = v_.MemberBegin(); it != v_.MemberEnd(); ++it) {
      const std::string name = it->name.GetString();
      if (std::find(known_.begin(), known_.end(), name) == known_.end()) {
        fail(path_ + "/" + name, "unknown setting");
      }
    }
  }

  const value* find(const char* name) {
    known_.emplace_back(name);
    const auto it = v_.FindMember(name);
    return it == v_.MemberEnd() ? nullptr : &it->value;
  }
  [[nodiscard]] std::string path(const char* name) const { return path_ + "/" + name; }

  void read(const char* name, std::string& out) {
    if (const auto* v = find(name)) {
      if (!v->IsString()) fail(path(name), "must be a string");
      out = v->GetString();
    }
  }
  void read(const char* name, bool& out) {
    if (const auto* v = find(name)) {
      if (!v->IsBool()) fail(path(name), "must be true or false");
      out = v->GetBool();
    }
  }
  template <class Unsigned>
  void read_number(const char* name, Unsigned& out, std::uint64_t min, std::uint64_t max) {
    if (const auto* v = find(name)) {
      if (!v->IsUint64() || v->GetUint64() < min || v->GetUint64() > max) {
        fail(path(name),
             "must be a whole number from " + std::to_string(min) + " to " + std::to_string(max));
      }
      out = static_cast<Unsigned>(v->GetUint64());
    }
  }
  void read_ms(const char* name, std::chrono::milliseconds& out) {
    std::uint64_t ms = static_cast<std::uint64_t>(out.count());
    read_number(name, ms, 1, 86'400'000);
    out = std::chrono::milliseconds(ms);
  }
  void read_path(const char* name, std::filesystem::path& out, const std::filesystem::path& base) {
    std::string text;
    read(name, text);
    if (text.empty()) return;
    out = std::filesystem::path(text);
    if (out.is_relative()) out = base / out;
  }

 private:
  const value& v_;
  std::string path_;
  std::vector<std::string> known_;
};

void read_tls(object_reader& parent, const char* listener, tls_config& tls,
              const std::filesystem::path& base) {
  if (const auto* v = parent.find("tls")) {
    object_reader t(*v, std::string("/") + listener + "/tls");
    t.read_path("certificate", tls.certificate, base);
    t.read_path("private_key", tls.private_key, base);
    t.finish();
    if (tls.certificate.empty() || tls.private_key.empty()) {
      fail(std::string("/") + listener + "/tls", "needs both certificate and private_key");
    }
  }
}

network parse_network(const std::string& text, const std::string& path) {
  network n;
  const auto slash = text.find('/');
  n.address = text.substr(0, slash);
  std::array<unsigned char, 16> bytes{};
  const bool v6 = n.address.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, n.address.c_str(), bytes.data()) != 1) {
    fail(path, "'" + text + "' is not an IPv4 or IPv6 network (address/prefix)");
  }
  const unsigned max = v6 ? 128 : 32;
  n.prefix = max;
  if (slash != std::string::npos) {
    const auto digits = text.substr(slash + 1);
    char* end = nullptr;
    const auto p = std::strtoul(digits.c_str(), &end, 10);
    if (digits.empty() || *end != '\0' || p > max)
      fail(path, "bad prefix length in '" + text + "'");
    n.prefix = static_cast<unsigned>(p);
  }
  return n;
}

// A listener's address: a literal IPv4 or IPv6 address (the listeners bind to it as written).
void read_address(object_reader& parent, const char* listener, std::string& out) {
  parent.read("address", out);
  std::array<unsigned char, 16> bytes{};
  const bool v6 = out.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, out.c_str(), bytes.data()) != 1) {
    fail(std::string("/") + listener + "/address",
         "'" + out + "' is not an IPv4 or IPv6 address (such as 127.0.0.1, 0.0.0.0 or ::1)");
  }
}

void read_allow(object_reader& parent, const char* listener, std::vector<network>& out) {
  const auto* allow = parent.find("allow");
  if (allow == nullptr) return;
  const auto path = std::string("/") + listener + "/allow";
  if (!allow->IsArray()) fail(path, "must be a list of networks");
  for (rapidjson::SizeType i = 0; i < allow->Size(); ++i) {
    const auto item = path + "/" + std::to_string(i);
    if (!(*allow)[i].IsString()) fail(item, "must be a string such as \"10.0.0.0/8\"");
    out.push_back(parse_network((*allow)[i].GetString(), item));
  }
}

bool is_worker_id(std::string_view id) {
  if (id.empty() || id.size() > 64) return false;
  return std::all_of(id.begin(), id.end(), [](char ch) {
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-';
  });
}

void read_cluster(const rapidjson::Value& v, const std::filesystem::path& base, cluster_config& c) {
  object_reader r(v, "/cluster");
  r.read("role", c.role);
  if (c.role != "standalone" && c.role != "worker" && c.role != "front") {
    fail("/cluster/role", "must be \"standalone\", \"worker\" or \"front\"");
  }
  if (const auto* urls = r.find("urls")) {
    if (!urls->IsArray())
      fail("/cluster/urls", "must be a list such as [\"nats://10.0.0.1:4222\"]");
    for (const auto& url : urls->GetArray()) {
      if (!url.IsString() ||
          std::string_view(url.GetString()).find("://") == std::string_view::npos) {
        fail("/cluster/urls", "each must be a URL such as \"nats://10.0.0.1:4222\"");
      }
      c.urls.emplace_back(url.GetString());
    }
  }
  r.read("worker_id", c.worker_id);
  r.read_number("partitions", c.partitions, 1, 1024);
  r.read_number("replicas", c.replicas, 1, 5);
  r.read_number("lease_ms", c.lease_ms, 1000, 600'000);
  r.read_number("renew_ms", c.renew_ms, 100, 300'000);
  r.read_number("batch", c.batch, 1, 1024);
  r.read_number("snapshot_every_ms", c.snapshot_every_ms, 0, 86'400'000);
  r.read_number("in_max_age_hours", c.in_max_age_hours, 0, 24 * 3'650);
  r.read_number("out_max_age_hours", c.out_max_age_hours, 0, 24 * 3'650);
  r.read("key_secret_env", c.key_secret_env);
  r.read_number("answer_timeout_ms", c.answer_timeout_ms, 100, 600'000);
  r.read("user", c.user);
  r.read("password_env", c.password_env);
  r.read_path("credentials_file", c.credentials_file, base);
  r.read_path("ca_file", c.ca_file, base);
  r.read_path("cert_file", c.cert_file, base);
  r.read_path("key_file", c.key_file, base);
  r.finish();
  if (c.renew_ms >= c.lease_ms) fail("/cluster/renew_ms", "must be below lease_ms");
  // A rebuild reads CG_IN from the partition's latest snapshot on: trimming without snapshots
  // would leave a new holder a partition it cannot rebuild (refused: a gap, §5).
  if (c.in_max_age_hours > 0) {
    if (c.snapshot_every_ms == 0) {
      fail("/cluster/in_max_age_hours",
           "needs snapshots (snapshot_every_ms above 0): a partition is rebuilt from its "
           "latest snapshot and what CG_IN keeps after it");
    }
    constexpr std::int64_t hour_ms = 3'600'000;
    if (c.in_max_age_hours < 24 || c.in_max_age_hours * hour_ms < 10 * c.snapshot_every_ms) {
      fail("/cluster/in_max_age_hours",
           "must be at least 24 and at least ten snapshot intervals (snapshot_every_ms)");
    }
  }
  // A release is refused as a repeat only while CG_OUT still holds it: a rebuild replays what
  // CG_IN keeps, so CG_OUT must keep at least as long (docs/cluster.md §5d).
  if (c.out_max_age_hours > 0 &&
      (c.in_max_age_hours == 0 || c.out_max_age_hours < c.in_max_age_hours)) {
    fail("/cluster/out_max_age_hours",
         "needs in_max_age_hours, and at least as many hours: a rebuild makes again the "
         "releases of what CG_IN keeps, and only those still on CG_OUT are refused as repeats");
  }
  if (c.cert_file.empty() != c.key_file.empty()) {
    fail("/cluster/key_file", "a client certificate needs both cert_file and key_file");
  }
  if (!c.worker() && !c.front()) return;
  const std::string who = c.worker() ? "a worker" : "a front";
  if (c.urls.empty()) fail("/cluster/urls", who + " needs the NATS servers' URLs");
  if (!is_worker_id(c.worker_id)) {
    fail("/cluster/worker_id", who + " needs an id of 1 to 64 letters, digits, _ or -");
  }
  // A front keys patients' subjects with the secret; a worker keys its releases' subjects.
  if (c.key_secret_env.empty()) {
    fail("/cluster/key_secret_env",
         who + " needs the environment variable that holds the partition key secret");
  }
}

}  // namespace

server_config parse_config(const std::string& text, const std::filesystem::path& base,
                           const std::string& file) {
  const file_name naming{file};
  const auto d = mapping::parse_json_config(text, file);
  server_config c;
  object_reader root(d, "");
  root.read_number("workers", c.workers, 0, 256);
  root.read_path("mappings", c.mappings, base);
  root.read("sender_qualifier", c.sender_qualifier);
  root.read("sender_id", c.sender_id);
  if (c.sender_qualifier.size() != 2) fail("/sender_qualifier", "must be two characters (ISA05)");
  if (c.sender_id.empty() || c.sender_id.size() > 15) {
    fail("/sender_id", "must be 1 to 15 characters (ISA06)");
  }
  std::string profile = "277";
  root.read("profile", profile);
  if (profile != "277" && profile != "277ca") fail("/profile", "must be \"277\" or \"277ca\"");
  c.strict_277ca = profile == "277ca";
  std::string duplicates = "answer";
  root.read("duplicate_interchanges", duplicates);
  if (duplicates != "answer" && duplicates != "reject") {
    fail("/duplicate_interchanges", "must be \"answer\" or \"reject\"");
  }
  c.reject_repeated_interchanges = duplicates == "reject";
  if (const auto* v = root.find("x12")) {
    object_reader x(*v, "/x12");
    x.read_number("max_segment_length", c.x12.limits.max_segment_length, 106, 1u << 20);
    x.read_number("max_elements", c.x12.limits.max_elements, 16, 4096);
    x.read_number("max_segments_per_set", c.x12.max_segments_per_set, 10, 100'000'000);
    x.read_number("max_claims_per_set", c.x12.max_claims_per_set, 1, 1'000'000);
    std::string counts = "strict";
    x.read("envelope_counts", counts);
    if (counts != "strict" && counts != "warn") {
      fail("/x12/envelope_counts", "must be \"strict\" or \"warn\"");
    }
    c.x12.envelope_counts = counts == "warn" ? x12::count_policy::warn : x12::count_policy::strict;
    x.finish();
  }
  if (const auto* v = root.find("fhir")) {
    object_reader f(*v, "/fhir");
    f.read_number("max_bytes", c.fhir.max_bytes, 1024, 1ull << 32);
    f.read_number("max_bundle_depth", c.fhir.max_bundle_depth, 1, 64);
    f.read_number("max_resources", c.fhir.max_resources, 1, 100'000'000);
    f.finish();
  }
  if (const auto* v = root.find("hl7v2")) {
    object_reader h(*v, "/hl7v2");
    auto& l = c.hl7v2.limits;
    h.read_number("max_message_bytes", l.max_message_bytes, 1024, 1ull << 32);
    h.read_number("max_segments", l.max_segments, 1, 100'000'000);
    h.read_number("max_field_bytes", l.max_field_bytes, 64, 1ull << 30);
    h.read_number("max_repetitions", l.max_repetitions, 1, 100'000);
    if (const auto* ids = h.find("processing_ids")) {
      if (!ids->IsArray() || ids->Empty()) {
        fail("/hl7v2/processing_ids", "must be a non-empty list such as [\"P\"]");
      }
      c.hl7v2.processing_ids.clear();
      for (const auto& id : ids->GetArray()) {
        if (!id.IsString() || id.GetStringLength() != 1) {
          fail("/hl7v2/processing_ids", "each must be one letter (HL7 table 0103: P, T, D)");
        }
        c.hl7v2.processing_ids.emplace_back(id.GetString());
      }
    }
    h.finish();
  }
  if (const auto* v = root.find("mllp")) {
    object_reader m(*v, "/mllp");
    m.read("enabled", c.mllp.enabled);
    read_address(m, "mllp", c.mllp.address);
    m.read_number("port", c.mllp.port, 0, 65535);
    m.read_number("max_frame_bytes", c.mllp.max_frame_bytes, 1024, 1ull << 30);
    m.read("require_final_cr", c.mllp.require_final_cr);
    m.read_ms("idle_timeout_ms", c.mllp.idle_timeout);
    m.read_ms("read_timeout_ms", c.mllp.read_timeout);
    m.read("commit_acks", c.mllp.commit_acks);
    m.read_number("max_connections", c.mllp.max_connections, 1, 1'000'000);
    m.read_number("max_buffered_bytes", c.mllp.max_buffered_bytes, 1 << 20, 1ull << 40);
    read_allow(m, "mllp", c.mllp.allow);
    read_tls(m, "mllp", c.mllp.tls, base);
    m.finish();
  }
  if (const auto* v = root.find("http")) {
    object_reader h(*v, "/http");
    h.read("enabled", c.http.enabled);
    read_address(h, "http", c.http.address);
    h.read_number("port", c.http.port, 0, 65535);
    h.read_number("body_limit", c.http.body_limit, 1024, 1ull << 30);
    h.read_number("header_limit", c.http.header_limit, 1024, 1 << 20);
    h.read_number("max_bundle_entries", c.http.max_bundle_entries, 1, 1'000'000);
    h.read_number("max_buffered_bytes", c.http.max_buffered_bytes, 1 << 20, 1ull << 40);
    h.read_ms("timeout_ms", c.http.timeout);
    h.read_path("tokens_file", c.http.tokens_file, base);
    h.read("tokens_env", c.http.tokens_env);
    h.read_number("max_connections", c.http.max_connections, 1, 1'000'000);
    read_allow(h, "http", c.http.allow);
    read_tls(h, "http", c.http.tls, base);
    h.finish();
  }
  if (const auto* v = root.find("store")) {
    object_reader s(*v, "/store");
    std::string dir = c.store.directory.string();
    s.read("directory", dir);
    c.store.directory = dir;
    std::string sync = c.store.synchronous_full ? "full" : "normal";
    s.read("synchronous", sync);
    if (sync != "normal" && sync != "full") fail("/store/synchronous", "must be normal or full");
    c.store.synchronous_full = sync == "full";
    std::uint64_t days = static_cast<std::uint64_t>(c.store.journal_max_age.count() / 24);
    s.read_number("journal_max_age_days", days, 1, 36500);
    c.store.journal_max_age = std::chrono::hours(days * 24);
    s.read_number("journal_max_bytes", c.store.journal_max_bytes, 1 << 20, 1ull << 50);
    s.finish();
  }
  if (const auto* v = root.find("outbox")) {
    object_reader o(*v, "/outbox");
    o.read("every_answer", c.outbox.every_answer);
    o.read_number("max_attempts", c.outbox.max_attempts, 1, 1000);
    std::uint64_t delivered_days =
        static_cast<std::uint64_t>(c.outbox.delivered_max_age.count() / 24);
    o.read_number("delivered_max_age_days", delivered_days, 1, 36500);
    c.outbox.delivered_max_age = std::chrono::hours(delivered_days * 24);
    o.read_ms("first_backoff_ms", c.outbox.first_backoff);
    o.read_ms("max_backoff_ms", c.outbox.max_backoff);
    if (const auto* list = o.find("destinations")) {
      if (!list->IsArray()) fail("/outbox/destinations", "must be a list");
      for (rapidjson::SizeType i = 0; i < list->Size(); ++i) {
        const auto path = "/outbox/destinations/" + std::to_string(i);
        object_reader dr((*list)[i], path);
        destination_config dc;
        dr.read("kind", dc.kind);
        if (dc.kind == "directory") {
          dr.read_path("path", dc.directory, base);
          if (dc.directory.empty()) fail(path + "/path", "a directory destination needs a path");
        } else if (dc.kind == "http") {
          dr.read("url", dc.url);
          if (dc.url.rfind("http://", 0) != 0) {
            fail(path + "/url", "must be an http:// URL (https is not supported yet)");
          }
        } else if (dc.kind == "mllp") {
          dr.read("host", dc.host);
          dr.read_number("port", dc.port, 1, 65535);
          if (dc.host.empty()) fail(path + "/host", "an mllp destination needs a host");
        } else {
          fail(path + "/kind", "must be \"directory\", \"http\" or \"mllp\"");
        }
        dr.finish();
        c.outbox.destinations.push_back(std::move(dc));
      }
    }
    o.finish();
  }
  if (const auto* v = root.find("worklist")) {
    object_reader w(*v, "/worklist");
    w.read_number("max_page", c.worklist.max_page, 1, 100'000);
    w.read_number("max_bulk", c.worklist.max_bulk, 1, 100'000);
    w.read_number("released_window_hours", c.worklist.released_window_hours, 1, 24 * 366);
    w.read_number("poll_ms", c.worklist.poll_ms, 500, 3'600'000);
    w.finish();
  }
  if (const auto* v = root.find("cluster")) read_cluster(*v, base, c.cluster);
  root.finish();
  // A worker's releases go to stream CG_OUT, once per idempotency key whichever worker makes
  // them; delivering them from each worker's store would repeat a release every time a
  // partition is rebuilt on another worker, and its first answers go back through the front.
  if (c.cluster.worker() && !c.outbox.destinations.empty()) {
    fail("/outbox/destinations",
         "a cluster worker publishes its releases to stream CG_OUT; deliver them from there "
         "(a front's destinations), not from a worker");
  }
  if (c.cluster.worker() && c.outbox.every_answer) {
    fail("/outbox/every_answer", "a cluster worker answers senders through the front");
  }
  if (!c.mllp.enabled && !c.http.enabled) {
    fail("/mllp/enabled", "the MLLP and HTTP listeners are both disabled: nothing would listen");
  }
  c.source = file;
  const auto dir = c.store.directory.string();
  if (!dir.empty() && dir != ":memory:" && c.store.directory.is_relative()) {
    c.store.directory = base / c.store.directory;
  }
  return c;
}

bool allowed(const std::vector<network>& allow, const std::string& address) {
  if (allow.empty()) return true;
  std::array<unsigned char, 16> peer{};
  const bool v6 = address.find(':') != std::string::npos;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, address.c_str(), peer.data()) != 1) return false;
  for (const auto& n : allow) {
    const bool n_v6 = n.address.find(':') != std::string::npos;
    if (n_v6 != v6) continue;
    std::array<unsigned char, 16> net{};
    inet_pton(n_v6 ? AF_INET6 : AF_INET, n.address.c_str(), net.data());
    unsigned bits = n.prefix;
    bool match = true;
    for (std::size_t i = 0; bits > 0; ++i, bits = bits > 8 ? bits - 8 : 0) {
      const unsigned mask = bits >= 8 ? 0xFF : (0xFF << (8 - bits)) & 0xFF;
      if ((peer[i] & mask) != (net[i] & mask)) {
        match = false;
        break;
      }
    }
    if (match) return true;
  }
  return false;
}

std::vector<bearer_token> load_tokens(const http_config& http, const std::string& source) {
  std::vector<bearer_token> tokens;
  auto add = [&](std::string t) {
    while (!t.empty() && (t.back() == '\r' || t.back() == ' ')) t.pop_back();
    while (!t.empty() && t.front() == ' ') t.erase(0, 1);
    if (t.empty() || t.front() == '#') return;
    // "name:token" names the reviewer; a bearer token (RFC 6750 b64token) never holds ':',
    // so the last ':' separates them and a line without one is a token alone.
    bearer_token token;
    if (const auto colon = t.rfind(':'); colon != std::string::npos) {
      token.name = t.substr(0, colon);
      token.secret = t.substr(colon + 1);
      while (!token.name.empty() && token.name.back() == ' ') token.name.pop_back();
      while (!token.secret.empty() && token.secret.front() == ' ') token.secret.erase(0, 1);
      if (token.name.empty() || token.secret.empty() || token.name.size() > 128) {
        throw config_error(
            "a tokens line \"name:token\" needs a name (at most 128 bytes) and a "
            "token (line " +
            std::to_string(tokens.size() + 1) + ")");
      }
    } else {
      token.secret = std::move(t);
      token.name = "token-" + std::to_string(tokens.size() + 1);
    }
    tokens.push_back(std::move(token));
  };
  if (!http.tokens_file.empty()) {
    std::ifstream in(http.tokens_file);
    if (!in) {
      mapping::config_failure(source, "/http/tokens_file",
                              "cannot read the tokens file " + http.tokens_file.string());
    }
    std::string line;
    while (std::getline(in, line)) add(line);
  }
  if (!http.tokens_env.empty()) {
    const char* env = std::getenv(http.tokens_env.c_str());
    if (env == nullptr) {
      mapping::config_failure(source, "/http/tokens_env",
                              "environment variable " + http.tokens_env + " is unset");
    }
    std::stringstream list(env);
    std::string t;
    while (std::getline(list, t, ',')) add(t);
  }
  if ((!http.tokens_file.empty() || !http.tokens_env.empty()) && tokens.empty()) {
    mapping::config_failure(source, "/http",
                            "bearer authentication is configured but no token was found");
  }
  return tokens;
}

}  // namespace covgate::server
