#include "covgate/cluster/subjects.hpp"

#include <charconv>
#include <stdexcept>

#include "covgate/cluster/partition_key.hpp"

namespace covgate::cluster {

namespace {

void check_partition_count(int partitions) {
  if (partitions < 1 || partitions > max_partitions) {
    throw std::invalid_argument("cluster: the partition count must be between 1 and " +
                                std::to_string(max_partitions) + ", not " +
                                std::to_string(partitions));
  }
}

void check_partition(int partition) {
  if (partition < 0 || partition >= max_partitions) {
    throw std::invalid_argument("cluster: partition " + std::to_string(partition) +
                                " is out of range");
  }
}

}  // namespace

std::string_view kind_token(message_kind kind) noexcept {
  switch (kind) {
    case message_kind::claim:
      return "clm";
    case message_kind::hl7v2:
      return "hl7";
    case message_kind::fhir:
      return "fhir";
    case message_kind::rekey:
      return "rekey";
    case message_kind::review:
      return "rev";
  }
  return "clm";
}

std::optional<message_kind> kind_of_subject(std::string_view subject) noexcept {
  if (partition_of_subject(subject) < 0) return std::nullopt;
  const auto dot = subject.rfind('.');
  const auto token = subject.substr(dot + 1);
  // cg.p.<n>.<pkey>.<kind>: four dots, the key in the fourth token.
  std::size_t dots = 0;
  for (const char c : subject) dots += c == '.' ? 1 : 0;
  if (dots != 4) return std::nullopt;
  for (const auto kind : {message_kind::claim, message_kind::hl7v2, message_kind::fhir,
                          message_kind::rekey, message_kind::review}) {
    if (token == kind_token(kind)) return kind;
  }
  return std::nullopt;
}

std::string producer_subject(std::string_view pkey, message_kind kind) {
  if (!is_partition_key(pkey)) {
    throw std::invalid_argument(
        "cluster: a producer subject takes a partition key (32 lowercase hex characters)");
  }
  std::string subject = "cg.in.";
  subject += pkey;
  subject += '.';
  subject += kind_token(kind);
  return subject;
}

std::string partition_mapping_line(int partitions) {
  check_partition_count(partitions);
  return "\"cg.in.*.*\": \"cg.p.{{partition(" + std::to_string(partitions) +
         ",1)}}.{{wildcard(1)}}.{{wildcard(2)}}\"";
}

int partition_of_token(std::string_view pkey, int partitions) {
  check_partition_count(partitions);
  std::uint32_t hash = 2'166'136'261u;  // FNV-1a, 32 bits: Go's hash/fnv New32a
  for (const char c : pkey) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 16'777'619u;
  }
  return static_cast<int>(hash % static_cast<std::uint32_t>(partitions));
}

bool is_reply_subject(std::string_view subject) noexcept {
  if (subject.size() > 255) return false;
  if (!subject.starts_with("_INBOX.") && !subject.starts_with("cg.reply.")) return false;
  for (const char c : subject) {
    if (c <= ' ' || c > '~' || c == '*' || c == '>') return false;
  }
  return !subject.ends_with(".") && subject.find("..") == std::string_view::npos;
}

std::string in_stream_subject() { return "cg.p.>"; }

std::string out_stream_subject() { return "cg.out.>"; }

std::string reference_stream_subject() { return "cg.ref.>"; }

std::string reference_subject(message_kind kind) {
  return "cg.ref." + std::string(kind_token(kind));
}

std::string wait_stream_subject() { return "cg.wait.>"; }

std::string snapshot_stream_subject() { return "cg.snap.>"; }

std::string snapshot_chunk_subject(int partition, std::size_t chunk) {
  return "cg.snap." + std::to_string(partition) + "." + std::to_string(chunk);
}

std::string snapshot_manifest_subject(int partition) {
  return "cg.snap." + std::to_string(partition) + ".m";
}

namespace {
constexpr std::string_view wait_prefix = "cg.wait.";
}  // namespace

std::string wait_subject(std::string_view identity_token, message_kind kind) {
  if (!is_partition_key(identity_token)) {
    throw std::invalid_argument("cluster: a wait subject takes an identity token");
  }
  return std::string(wait_prefix) + std::string(identity_token) + "." +
         std::string(kind_token(kind));
}

std::string wait_subjects_of(std::string_view identity_token) {
  if (!is_partition_key(identity_token)) {
    throw std::invalid_argument("cluster: a wait subject takes an identity token");
  }
  return std::string(wait_prefix) + std::string(identity_token) + ".*";
}

std::optional<wait_subject_parts> parse_wait_subject(std::string_view subject) noexcept {
  if (subject.substr(0, wait_prefix.size()) != wait_prefix) return std::nullopt;
  subject.remove_prefix(wait_prefix.size());
  const auto dot = subject.find('.');
  if (dot == std::string_view::npos || !is_partition_key(subject.substr(0, dot))) {
    return std::nullopt;
  }
  const auto token = subject.substr(dot + 1);
  for (const auto kind : {message_kind::claim, message_kind::hl7v2, message_kind::fhir}) {
    if (token == kind_token(kind)) return wait_subject_parts{subject.substr(0, dot), kind};
  }
  return std::nullopt;
}

std::optional<message_kind> kind_of_wait_subject(std::string_view subject) noexcept {
  const auto parts = parse_wait_subject(subject);
  if (!parts) return std::nullopt;
  return parts->kind;
}

std::string release_subject(std::string_view token) {
  if (!is_partition_key(token)) {  // the same shape: 32 lowercase hex characters
    throw std::invalid_argument("cluster: a release subject takes a release token");
  }
  return "cg.out.rel." + std::string(token);
}

std::string partition_filter_subject(int partition) {
  check_partition(partition);
  return "cg.p." + std::to_string(partition) + ".>";
}

std::string partition_consumer(int partition, int partitions) {
  check_partition_count(partitions);
  if (partition < 0 || partition >= partitions) {
    throw std::invalid_argument("cluster: partition " + std::to_string(partition) +
                                " is not below the partition count " + std::to_string(partitions));
  }
  std::string digits = std::to_string(partition);
  const std::size_t width = partitions > 100 ? 4 : 2;
  if (digits.size() < width) digits.insert(0, width - digits.size(), '0');
  return "part-" + digits;
}

std::string lease_key(int partition) {
  check_partition(partition);
  return "part-" + std::to_string(partition);
}

int partition_of_subject(std::string_view subject) noexcept {
  constexpr std::string_view prefix = "cg.p.";
  if (subject.substr(0, prefix.size()) != prefix) return -1;
  subject.remove_prefix(prefix.size());
  const std::size_t dot = subject.find('.');
  if (dot == 0 || dot == std::string_view::npos) return -1;
  int partition = -1;
  const auto [end, error] = std::from_chars(subject.data(), subject.data() + dot, partition);
  if (error != std::errc{} || end != subject.data() + dot || partition < 0 ||
      partition >= max_partitions) {
    return -1;
  }
  return partition;
}

bool is_worker_id(std::string_view id) noexcept {
  if (id.empty() || id.size() > 64) return false;
  for (const char c : id) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || c == '-';
    if (!ok) return false;
  }
  return true;
}

}  // namespace covgate::cluster
