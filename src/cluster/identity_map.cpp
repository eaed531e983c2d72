#include "covgate/cluster/identity_map.hpp"

#include <stdexcept>
#include <utility>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {
namespace {

constexpr std::string_view forward_suffix = ":forward";

// Compare-and-set races lost in a row before giving up: each loss means another front wrote
// the entry between this one's read and its write, which settles within a few rounds.
constexpr int attempts = 8;

}  // namespace

identity_map::identity_map(kv_bucket& bucket, std::string secret, forwarder forward,
                           std::size_t cache_limit, std::chrono::milliseconds cache_ttl)
    : bucket_(bucket),
      secret_(std::move(secret)),
      forward_(std::move(forward)),
      cache_limit_(cache_limit),
      cache_ttl_(cache_ttl) {}

std::string identity_map::token_of(std::string_view identity) const {
  return identity_token(secret_, identity);
}

std::optional<identity_map::state> identity_map::read(const std::string& token) {
  const auto entry = bucket_.get(token);
  if (!entry) return std::nullopt;
  state s;
  s.revision = entry->revision;
  std::string_view value = entry->value;
  if (value.size() > forward_suffix.size() &&
      value.substr(value.size() - forward_suffix.size()) == forward_suffix) {
    s.forward = true;
    value.remove_suffix(forward_suffix.size());
  }
  if (!value.empty() && !is_partition_key(value)) {
    throw std::runtime_error("identity map: entry " + token + " of " +
                             std::string(identity_bucket) + " is not one a front writes");
  }
  s.pkey = std::string(value);
  return s;
}

void identity_map::finish_forward(const std::string& token, const state& s) {
  forward_(token, s.pkey);
  if (bucket_.update(token, s.pkey, s.revision)) remember(token, s.pkey);
}

std::optional<std::string> identity_map::route(std::string_view identity) {
  const auto token = token_of(identity);
  for (int i = 0; i < attempts; ++i) {
    const auto s = read(token);
    if (!s) {
      if (bucket_.create(token, "")) return std::nullopt;  // the first to hold facts for it
      continue;                                            // another front wrote it first
    }
    if (s->pkey.empty()) return std::nullopt;
    if (s->forward) finish_forward(token, *s);
    return s->pkey;
  }
  throw std::runtime_error("identity map: entry " + token + " kept changing under " +
                           std::to_string(attempts) + " attempts to read it");
}

std::optional<std::string> identity_map::linked_to(std::string_view identity) {
  const auto token = token_of(identity);
  const auto s = read(token);
  if (!s || s->pkey.empty()) return std::nullopt;
  if (s->forward) finish_forward(token, *s);
  return s->pkey;
}

void identity_map::held(std::string_view identity) {
  const auto token = token_of(identity);
  const auto s = read(token);
  if (!s || s->pkey.empty()) return;  // still unlinked: the linking front will forward it
  // Linked meanwhile: the linking front may have read CG_WAIT before this hold was stored.
  if (s->forward) return finish_forward(token, *s);
  forward_(token, s->pkey);
}

void identity_map::link(std::string_view identity, std::string_view pkey) {
  if (!is_partition_key(pkey)) throw std::invalid_argument("identity map: not a partition key");
  const auto token = token_of(identity);
  if (remembered(token, pkey)) return;
  const std::string target(pkey);
  for (int i = 0; i < attempts; ++i) {
    auto s = read(token);
    if (!s) {
      if (bucket_.create(token, target)) {
        remember(token, target);
        return;
      }
      continue;
    }
    if (s->forward) {
      // What waited belongs to the link that was written first, as in a single process's
      // linker: forwarded there before this link replaces it.
      finish_forward(token, *s);
      continue;
    }
    if (s->pkey == target) {
      remember(token, target);
      return;
    }
    if (s->pkey.empty()) {  // facts wait: link, then forward them
      const auto revision =
          bucket_.update(token, target + std::string(forward_suffix), s->revision);
      if (!revision) continue;
      finish_forward(token, state{target, true, *revision});
      return;
    }
    // Linked to another patient before (a new Medicare identifier for the identity): later
    // facts go to the new one; those filed already stay where they are.
    if (bucket_.update(token, target, s->revision)) {
      remember(token, target);
      return;
    }
  }
  throw std::runtime_error("identity map: entry " + token + " kept changing under " +
                           std::to_string(attempts) + " attempts to link it");
}

bool identity_map::remembered(const std::string& token, std::string_view pkey) {
  const auto it = cache_.find(token);
  if (it == cache_.end()) return false;
  if (it->second.until < std::chrono::steady_clock::now()) {
    cache_.erase(it);
    return false;
  }
  return it->second.pkey == pkey;
}

void identity_map::remember(const std::string& token, const std::string& pkey) {
  if (cache_limit_ == 0) return;
  if (cache_.size() >= cache_limit_) cache_.clear();  // cheap, and refilled by use
  cache_[token] = cached{pkey, std::chrono::steady_clock::now() + cache_ttl_};
}

}  // namespace covgate::cluster
