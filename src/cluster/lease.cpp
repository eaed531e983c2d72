#include "covgate/cluster/lease.hpp"

#include <rapidjson/document.h>

#include <algorithm>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

std::string encode_lease(const lease_record& record) {
  // Worker ids are [A-Za-z0-9_-] (is_worker_id), so the text needs no escaping.
  return "{\"worker\":\"" + record.worker + "\",\"epoch\":" + std::to_string(record.epoch) +
         ",\"hb\":" + std::to_string(record.heartbeat_ms) + "}";
}

namespace {

// The member's value, or nullptr (through a const object, so both iterators are const ones).
const rapidjson::Value* member(const rapidjson::Value& object, const char* name) {
  const auto it = object.FindMember(name);
  return it != object.MemberEnd() ? &it->value : nullptr;
}

}  // namespace

std::optional<lease_record> decode_lease(std::string_view text) {
  rapidjson::Document doc;
  doc.Parse(text.data(), text.size());
  if (doc.HasParseError() || !doc.IsObject()) return std::nullopt;
  const auto* worker = member(doc, "worker");
  const auto* epoch = member(doc, "epoch");
  const auto* heartbeat = member(doc, "hb");
  if (worker == nullptr || !worker->IsString() || epoch == nullptr || !epoch->IsUint64() ||
      heartbeat == nullptr || !heartbeat->IsInt64()) {
    return std::nullopt;
  }
  lease_record record{std::string(worker->GetString(), worker->GetStringLength()),
                      epoch->GetUint64(), heartbeat->GetInt64()};
  if (!is_worker_id(record.worker)) return std::nullopt;
  return record;
}

bool lease_expired(std::int64_t heartbeat_ms, std::int64_t now_ms,
                   const lease_timing& timing) noexcept {
  return now_ms - heartbeat_ms >= timing.lease_ms;
}

bool holder_overdue(std::int64_t renewed_at_ms, std::int64_t now_ms,
                    const lease_timing& timing) noexcept {
  return now_ms - renewed_at_ms >= timing.lease_ms - timing.renew_ms;
}

int fair_share(int partitions, int live_workers) noexcept {
  const int workers = std::max(live_workers, 1);
  return (std::max(partitions, 0) + workers - 1) / workers;
}

namespace {

// FNV-1a: any stable spread of worker ids over start partitions will do.
std::uint32_t spread(std::string_view worker) noexcept {
  std::uint32_t h = 2166136261u;
  for (const char c : worker) {
    h ^= static_cast<unsigned char>(c);
    h *= 16777619u;
  }
  return h;
}

}  // namespace

std::vector<lease_step> plan_leases(const lease_round& round) {
  using action = lease_step::action;
  const auto observed = [&](int partition) -> const std::optional<observed_lease>* {
    if (partition < 0 || static_cast<std::size_t>(partition) >= round.observed.size()) {
      return nullptr;
    }
    const auto& o = round.observed[static_cast<std::size_t>(partition)];
    return o ? &o : nullptr;
  };

  std::vector<lease_step> steps;
  std::vector<std::pair<int, std::uint64_t>> kept;  // partition, revision
  for (const auto& [partition, held] : round.held) {
    const auto* o = observed(partition);
    // A read older than our own last write (KV reads may be answered by a replica behind its
    // stream's leader) says nothing against us: the compare-and-set on our last revision
    // settles it, failing if anyone wrote since.
    const bool stale_read = o != nullptr && (*o)->revision < held.revision;
    const bool still_ours = partition < round.partitions && o != nullptr &&
                            (stale_read || ((*o)->revision == held.revision && (*o)->record &&
                                            (*o)->record->worker == round.worker));
    const bool overdue = holder_overdue(held.renewed_at_ms, round.now_ms, round.timing);
    if (!still_ours || overdue) {
      steps.push_back({action::drop, partition, held.revision});
    } else {
      kept.emplace_back(partition, held.revision);
    }
  }

  const int share = fair_share(round.partitions, round.live_workers);
  const std::size_t keep = std::min(kept.size(), static_cast<std::size_t>(share));
  for (std::size_t i = 0; i < kept.size(); ++i) {
    steps.push_back({i < keep ? action::renew : action::release, kept[i].first, kept[i].second});
  }

  int budget = share - static_cast<int>(keep);
  if (budget <= 0 || round.partitions <= 0) return steps;
  const int start =
      static_cast<int>(spread(round.worker) % static_cast<std::uint32_t>(round.partitions));
  for (int i = 0; i < round.partitions && budget > 0; ++i) {
    const int partition = (start + i) % round.partitions;
    if (round.held.contains(partition)) continue;
    const auto* o = observed(partition);
    if (o == nullptr) {
      steps.push_back({action::create, partition, 0});
      --budget;
    } else if ((*o)->record &&
               lease_expired((*o)->record->heartbeat_ms, round.now_ms, round.timing)) {
      steps.push_back({action::take_over, partition, (*o)->revision});
      --budget;
    }
  }
  return steps;
}

}  // namespace covgate::cluster
