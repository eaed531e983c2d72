// The configuration written back as covgate.json text (`covgate serve --print-config`), its
// digest, and the check that the files it names can be read (`--check-config`, start-up).
#include <openssl/sha.h>

#include <algorithm>
#include <fstream>
#include <sstream>

#include "covgate/mapping/json_config.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/config.hpp"

namespace covgate::server {
namespace {

std::string json_quoted(std::string_view text) {
  std::string out;
  model::json_writer(out).value(text);
  return out;
}

// One JSON object written a member per line, each with an optional comment aligned after it;
// a note is a comment on a line of its own. Commas go between members only, before comments.
class block {
 public:
  void member(std::string_view key, const std::string& json, std::string_view comment = {}) {
    entries_.push_back({json_quoted(key) + ": " + json, std::string(comment), false});
  }
  void note(std::string_view comment) { entries_.push_back({"", std::string(comment), true}); }
  void section(std::string_view key, const block& inner) {
    entries_.push_back({json_quoted(key) + ": " + inner.render(1), "", false});
  }
  [[nodiscard]] std::string render(int depth) const {
    const std::string inner(2 * static_cast<std::size_t>(depth + 1), ' ');
    std::string out = "{";
    for (std::size_t i = 0; i < entries_.size(); ++i) {
      const auto& e = entries_[i];
      out += '\n';
      out += inner;
      if (e.note) {
        out += "// " + e.comment;
        continue;
      }
      out += e.text;
      const bool more = std::any_of(entries_.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                    entries_.end(), [](const entry& x) { return !x.note; });
      if (more) out += ',';
      if (!e.comment.empty()) {
        // Aligned at column 45 where the member leaves room.
        const auto width = out.size() - (out.rfind('\n') + 1);
        out.append(width < 44 ? 44 - width : 1, ' ');
        out += "// " + e.comment;
      }
    }
    out += '\n';
    out.append(2 * static_cast<std::size_t>(depth), ' ');
    out += '}';
    return out;
  }

 private:
  struct entry {
    std::string text;
    std::string comment;
    bool note = false;
  };
  std::vector<entry> entries_;
};

std::string number(std::uint64_t n) { return std::to_string(n); }
std::string boolean(bool b) { return b ? "true" : "false"; }

std::string networks(const std::vector<network>& allow) {
  std::string out = "[";
  for (std::size_t i = 0; i < allow.size(); ++i) {
    if (i > 0) out += ", ";
    const auto max = allow[i].address.find(':') != std::string::npos ? 128u : 32u;
    out += json_quoted(allow[i].prefix == max
                           ? allow[i].address
                           : allow[i].address + "/" + std::to_string(allow[i].prefix));
  }
  return out + "]";
}

void write_tls(block& w, const tls_config& tls) {
  if (tls.enabled()) {
    w.member("tls",
             "{\"certificate\": " + json_quoted(tls.certificate.string()) +
                 ", \"private_key\": " + json_quoted(tls.private_key.string()) + "}",
             "PEM files");
  } else {
    w.note("\"tls\": {\"certificate\": \"cert.pem\", \"private_key\": \"key.pem\"}  (PEM; off)");
  }
}

std::string destination(const destination_config& d) {
  if (d.kind == "directory") {
    return "{\"kind\": \"directory\", \"path\": " + json_quoted(d.directory.string()) + "}";
  }
  if (d.kind == "http") return "{\"kind\": \"http\", \"url\": " + json_quoted(d.url) + "}";
  return "{\"kind\": \"mllp\", \"host\": " + json_quoted(d.host) + ", \"port\": " + number(d.port) +
         "}";
}

}  // namespace

std::string config_text(const server_config& c) {
  block w;
  w.member("workers", number(c.workers), "io threads; 0 = one per core");
  w.member("sender_qualifier", json_quoted(c.sender_qualifier), "ISA05 of our answers");
  w.member("sender_id", json_quoted(c.sender_id), "ISA06 of our answers");
  w.member("profile", json_quoted(c.strict_277ca ? "277ca" : "277"), "or \"277ca\"");
  w.member("duplicate_interchanges",
           json_quoted(c.reject_repeated_interchanges ? "reject" : "answer"), "or \"reject\"");
  {
    block s;
    s.member("max_segment_length", number(c.x12.limits.max_segment_length));
    s.member("max_elements", number(c.x12.limits.max_elements));
    s.member("max_segments_per_set", number(c.x12.max_segments_per_set));
    s.member("max_claims_per_set", number(c.x12.max_claims_per_set));
    s.member("envelope_counts",
             json_quoted(c.x12.envelope_counts == x12::count_policy::warn ? "warn" : "strict"),
             "or \"warn\"");
    w.section("x12", s);
  }
  {
    block s;
    s.member("max_bytes", number(c.fhir.max_bytes));
    s.member("max_bundle_depth", number(c.fhir.max_bundle_depth));
    s.member("max_resources", number(c.fhir.max_resources));
    w.section("fhir", s);
  }
  {
    block s;
    s.member("max_message_bytes", number(c.hl7v2.limits.max_message_bytes));
    s.member("max_segments", number(c.hl7v2.limits.max_segments));
    s.member("max_field_bytes", number(c.hl7v2.limits.max_field_bytes));
    s.member("max_repetitions", number(c.hl7v2.limits.max_repetitions));
    std::string ids = "[";
    for (std::size_t i = 0; i < c.hl7v2.processing_ids.size(); ++i) {
      ids += (i > 0 ? ", " : "") + json_quoted(c.hl7v2.processing_ids[i]);
    }
    s.member("processing_ids", ids + "]", "MSH-11 values read (P, T, D)");
    w.section("hl7v2", s);
  }
  {
    block s;
    s.member("enabled", boolean(c.mllp.enabled));
    s.member("address", json_quoted(c.mllp.address), "an IPv4 or IPv6 address; 0.0.0.0 = all");
    s.member("port", number(c.mllp.port), "0 picks a free port");
    s.member("max_frame_bytes", number(c.mllp.max_frame_bytes));
    s.member("max_buffered_bytes", number(c.mllp.max_buffered_bytes));
    s.member("require_final_cr", boolean(c.mllp.require_final_cr));
    s.member("idle_timeout_ms", number(static_cast<std::uint64_t>(c.mllp.idle_timeout.count())));
    s.member("read_timeout_ms", number(static_cast<std::uint64_t>(c.mllp.read_timeout.count())));
    s.member("commit_acks", boolean(c.mllp.commit_acks), "MLLP release 2");
    s.member("allow", networks(c.mllp.allow), "client networks; [] allows any");
    s.member("max_connections", number(c.mllp.max_connections));
    write_tls(s, c.mllp.tls);
    w.section("mllp", s);
  }
  {
    block s;
    s.member("enabled", boolean(c.http.enabled));
    s.member("address", json_quoted(c.http.address), "an IPv4 or IPv6 address; 0.0.0.0 = all");
    s.member("port", number(c.http.port), "0 picks a free port");
    s.member("body_limit", number(c.http.body_limit));
    s.member("header_limit", number(c.http.header_limit));
    s.member("max_buffered_bytes", number(c.http.max_buffered_bytes));
    s.member("max_bundle_entries", number(c.http.max_bundle_entries));
    s.member("timeout_ms", number(static_cast<std::uint64_t>(c.http.timeout.count())));
    s.member("allow", networks(c.http.allow), "client networks; [] allows any");
    s.member("tokens_file", json_quoted(c.http.tokens_file.string()),
             "bearer tokens, one per line");
    s.member("tokens_env", json_quoted(c.http.tokens_env),
             "or a variable: tokens, comma-separated");
    s.member("max_connections", number(c.http.max_connections));
    write_tls(s, c.http.tls);
    w.section("http", s);
  }
  {
    block s;
    s.member("directory", json_quoted(c.store.directory.string()),
             "\"\" or \":memory:\" keeps nothing");
    s.member("synchronous", json_quoted(c.store.synchronous_full ? "full" : "normal"),
             "or \"normal\" (no fsync per commit)");
    s.member("journal_max_age_days",
             number(static_cast<std::uint64_t>(c.store.journal_max_age.count() / 24)));
    s.member("journal_max_bytes", number(c.store.journal_max_bytes));
    w.section("store", s);
  }
  {
    block s;
    std::string list = "[";
    for (std::size_t i = 0; i < c.outbox.destinations.size(); ++i) {
      list += (i > 0 ? ",\n      " : "\n      ") + destination(c.outbox.destinations[i]);
    }
    list += c.outbox.destinations.empty() ? "]" : "\n    ]";
    s.member("destinations", list, c.outbox.destinations.empty() ? "where later 277s go" : "");
    if (c.outbox.destinations.empty()) {
      s.note("e.g. {\"kind\": \"directory\", \"path\": \"outbox\"},");
      s.note("     {\"kind\": \"http\", \"url\": \"http://127.0.0.1:8081/277\"},");
      s.note("     {\"kind\": \"mllp\", \"host\": \"127.0.0.1\", \"port\": 6661}");
    }
    s.member("every_answer", boolean(c.outbox.every_answer), "also every X12 message's answer");
    s.member("max_attempts", number(c.outbox.max_attempts), "then the item is dead");
    s.member("delivered_max_age_days",
             number(static_cast<std::uint64_t>(c.outbox.delivered_max_age.count() / 24)),
             "then a delivered item is deleted");
    s.member("first_backoff_ms",
             number(static_cast<std::uint64_t>(c.outbox.first_backoff.count())));
    s.member("max_backoff_ms", number(static_cast<std::uint64_t>(c.outbox.max_backoff.count())));
    w.section("outbox", s);
  }
  {
    block s;
    const auto& k = c.cluster;
    s.member("role", json_quoted(k.role), "or \"worker\" or \"front\" (docs/cluster.md)");
    std::string urls = "[";
    for (std::size_t i = 0; i < k.urls.size(); ++i)
      urls += (i > 0 ? ", " : "") + json_quoted(k.urls[i]);
    s.member("urls", urls + "]", "nats://host:port of every node");
    s.member("worker_id", json_quoted(k.worker_id), "unique in the cluster");
    s.member("partitions", number(static_cast<std::uint64_t>(k.partitions)),
             "fixed for the life of the stream");
    s.member("replicas", number(static_cast<std::uint64_t>(k.replicas)));
    s.member("lease_ms", number(static_cast<std::uint64_t>(k.lease_ms)));
    s.member("renew_ms", number(static_cast<std::uint64_t>(k.renew_ms)));
    s.member("batch", number(static_cast<std::uint64_t>(k.batch)), "messages per commit");
    s.member("snapshot_every_ms", number(static_cast<std::uint64_t>(k.snapshot_every_ms)),
             "worker: each partition's snapshot to CG_SNAP; 0: none");
    s.member("in_max_age_hours", number(static_cast<std::uint64_t>(k.in_max_age_hours)),
             "CG_IN's retention; 0: keeps everything");
    s.member("out_max_age_hours", number(static_cast<std::uint64_t>(k.out_max_age_hours)),
             "CG_OUT's retention, at least CG_IN's; 0: keeps everything");
    s.member("key_secret_env", json_quoted(k.key_secret_env),
             "front: the variable holding the partition key secret");
    s.member("answer_timeout_ms", number(static_cast<std::uint64_t>(k.answer_timeout_ms)),
             "front: then the sender is told to send again");
    s.member("user", json_quoted(k.user));
    s.member("password_env", json_quoted(k.password_env), "the variable holding the password");
    s.member("credentials_file", json_quoted(k.credentials_file.string()));
    s.member("ca_file", json_quoted(k.ca_file.string()), "TLS to the servers");
    s.member("cert_file", json_quoted(k.cert_file.string()));
    s.member("key_file", json_quoted(k.key_file.string()));
    w.section("cluster", s);
  }
  return "// covgate serve configuration: JSON with comments. Every key is optional; a key left\n"
         "// out takes its default. Relative paths are relative to this file's folder. Every key\n"
         "// is described in README.md (\"covgate serve\") and covgate(1).\n" +
         w.render(0) + "\n";
}

std::string config_digest(const server_config& c) {
  const auto text = config_text(c);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  constexpr std::string_view hex = "0123456789abcdef";
  std::string out = "sha256:";
  for (std::size_t i = 0; i < 8; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0xF];
  }
  return out;
}

void check_files(const server_config& c) {
  auto readable = [&](const std::filesystem::path& file, const std::string& path) {
    std::ifstream in(file, std::ios::binary);
    if (!in) {
      mapping::config_failure(c.source, path, "cannot read " + file.string());
    }
  };
  for (const auto& [tls, name] : {std::pair{&c.mllp.tls, "mllp"}, std::pair{&c.http.tls, "http"}}) {
    if (!tls->enabled()) continue;
    readable(tls->certificate, std::string("/") + name + "/tls/certificate");
    readable(tls->private_key, std::string("/") + name + "/tls/private_key");
  }
  if (!c.http.tokens_file.empty()) readable(c.http.tokens_file, "/http/tokens_file");
}

}  // namespace covgate::server
