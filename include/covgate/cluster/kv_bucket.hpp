// What the lease manager needs of a key-value bucket: reads with revisions and
// compare-and-set writes. key_value (nats_client.hpp) is the JetStream KV one; tests use an
// in-memory one, so the lease loop is tested without a server.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace covgate::cluster {

/// One entry as read.
struct kv_entry {
  std::string value;
  std::uint64_t revision = 0;  ///< grows with every write to the bucket, never reused
};

class kv_bucket {
 public:
  virtual ~kv_bucket() = default;
  /// The key's entry, or nullopt when absent.
  [[nodiscard]] virtual std::optional<kv_entry> get(const std::string& key) = 0;
  /// Writes only if the key is absent; the new revision, or nullopt when it exists.
  [[nodiscard]] virtual std::optional<std::uint64_t> create(const std::string& key,
                                                            std::string_view value) = 0;
  /// Writes only if the key's revision is still `last_revision`; the new revision, or
  /// nullopt when it moved on.
  [[nodiscard]] virtual std::optional<std::uint64_t> update(const std::string& key,
                                                            std::string_view value,
                                                            std::uint64_t last_revision) = 0;
  /// Writes unconditionally; the new revision.
  virtual std::uint64_t put(const std::string& key, std::string_view value) = 0;
  /// Every key that has a value; may also name keys deleted since (get() finds none for them).
  [[nodiscard]] virtual std::vector<std::string> keys() = 0;
};

}  // namespace covgate::cluster
