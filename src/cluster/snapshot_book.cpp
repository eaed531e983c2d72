#include "covgate/cluster/snapshot_book.hpp"

#include <openssl/sha.h>

#include <charconv>
#include <stdexcept>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/model/hex.hpp"

namespace covgate::cluster {

namespace {

constexpr const char* id_header = "Cg-Snapshot-Id";
constexpr const char* seq_header = "Cg-Snapshot-Seq";
constexpr const char* epoch_header = "Cg-Snapshot-Epoch";
constexpr const char* chunks_header = "Cg-Snapshot-Chunks";
constexpr const char* bytes_header = "Cg-Snapshot-Bytes";
constexpr const char* digest_header = "Cg-Snapshot-Sha256";

std::string sha256_hex(std::string_view bytes) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(), digest);
  return model::hex({reinterpret_cast<const char*>(digest), sizeof digest});
}

std::optional<std::uint64_t> number_of(const std::string& text) {
  std::uint64_t n = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), n);
  if (ec != std::errc{} || end != text.data() + text.size() || text.empty()) return std::nullopt;
  return n;
}

bool is_hex(std::string_view text, std::size_t size) {
  if (text.size() != size) return false;
  for (const char c : text) {
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  }
  return true;
}

// A manifest from its message's headers; nullopt when any is missing or malformed.
std::optional<snapshot_manifest> manifest_of(const stored_message& m) {
  snapshot_manifest out;
  out.id = m.header(id_header);
  out.sha256 = m.header(digest_header);
  const auto seq = number_of(m.header(seq_header));
  const auto epoch = number_of(m.header(epoch_header));
  const auto chunks = number_of(m.header(chunks_header));
  const auto bytes = number_of(m.header(bytes_header));
  if (!is_hex(out.id, 16) || !is_hex(out.sha256, 64) || !seq || !epoch || !chunks || !bytes ||
      *chunks == 0 || *chunks > max_snapshot_chunks) {
    return std::nullopt;
  }
  out.stream_seq = *seq;
  out.epoch = *epoch;
  out.chunks = static_cast<std::size_t>(*chunks);
  out.bytes = *bytes;
  return out;
}

}  // namespace

snapshot_book::snapshot_book(jetstream& js, std::size_t chunk_bytes)
    : js_(js), chunk_bytes_(chunk_bytes) {
  if (chunk_bytes_ == 0) throw std::invalid_argument("snapshot_book: chunks of 0 bytes");
}

snapshot_manifest snapshot_book::put(int partition, std::uint64_t stream_seq, std::uint64_t epoch,
                                     std::string_view bytes) {
  snapshot_manifest m;
  m.id = random_nonce();
  m.stream_seq = stream_seq;
  m.epoch = epoch;
  // An empty snapshot is still one (empty) chunk: a manifest always names at least one.
  m.chunks = bytes.empty() ? 1 : (bytes.size() + chunk_bytes_ - 1) / chunk_bytes_;
  if (m.chunks > max_snapshot_chunks) {
    throw std::invalid_argument("snapshot_book: a snapshot of more than 100,000 chunks");
  }
  m.bytes = bytes.size();
  m.sha256 = sha256_hex(bytes);
  const auto earlier = manifest(partition);
  for (std::size_t i = 0; i < m.chunks; ++i) {
    const auto part = bytes.substr(std::min(bytes.size(), i * chunk_bytes_), chunk_bytes_);
    js_.publish(snapshot_chunk_subject(partition, i), part,
                "snap-" + m.id + "-" + std::to_string(i), {{id_header, m.id}});
  }
  js_.publish(snapshot_manifest_subject(partition), "", "snap-" + m.id + "-m",
              {{id_header, m.id},
               {seq_header, std::to_string(m.stream_seq)},
               {epoch_header, std::to_string(m.epoch)},
               {chunks_header, std::to_string(m.chunks)},
               {bytes_header, std::to_string(m.bytes)},
               {digest_header, m.sha256}});
  // The chunks of a longer snapshot before this one would stay for good otherwise.
  if (earlier && earlier->chunks > m.chunks) {
    const auto past_last = js_.stream_last_sequence(std::string(snapshot_stream)) + 1;
    for (std::size_t i = m.chunks; i < earlier->chunks; ++i) {
      js_.purge_subject(std::string(snapshot_stream), snapshot_chunk_subject(partition, i),
                        past_last);
    }
  }
  return m;
}

std::optional<snapshot_manifest> snapshot_book::manifest(int partition) {
  const auto m =
      js_.last_message(std::string(snapshot_stream), snapshot_manifest_subject(partition));
  if (!m) return std::nullopt;
  return manifest_of(*m);
}

std::optional<stored_snapshot> snapshot_book::get(int partition) {
  auto m = manifest(partition);
  if (!m) return std::nullopt;
  stored_snapshot out;
  out.bytes.reserve(static_cast<std::size_t>(std::min<std::uint64_t>(m->bytes, 1ULL << 30)));
  for (std::size_t i = 0; i < m->chunks; ++i) {
    const auto chunk =
        js_.last_message(std::string(snapshot_stream), snapshot_chunk_subject(partition, i));
    if (!chunk || chunk->header(id_header) != m->id) return std::nullopt;  // being replaced
    if (out.bytes.size() + chunk->data.size() > m->bytes) return std::nullopt;
    out.bytes += chunk->data;
  }
  if (out.bytes.size() != m->bytes || sha256_hex(out.bytes) != m->sha256) return std::nullopt;
  out.manifest = std::move(*m);
  return out;
}

}  // namespace covgate::cluster
