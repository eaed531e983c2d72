// Partition snapshots (docs/cluster.md §5j) of a real store: every partition's snapshot written
// from a store `covgate replay --store DIR` filled, the way a cluster worker writes them (the
// cluster's mapping of patients to partitions, one HMAC per patient), then all of them loaded
// into one empty store, the way a worker taking over loads them. Prints one line:
//   snapshot partitions=P claims=C facts=F snapshot_mb=B write_s=W write_max_ms=M
//            write_mb_per_s=X load_s=L load_mb_per_s=Y
// and checks that every claim went into exactly one partition and came back.
//   snapshot_bench STORE_DIR [PARTITIONS]      (the store's applied positions are set to 1)
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <vector>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/store/sqlite_store.hpp"

using namespace covgate;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) {
    std::fprintf(stderr, "usage: snapshot_bench STORE_DIR [PARTITIONS]\n");
    return 2;
  }
  const std::string dir = argv[1];
  const int partitions = argc > 2 ? std::atoi(argv[2]) : 64;
  if (partitions < 1 || partitions > 1024) {
    std::fprintf(stderr, "snapshot_bench: PARTITIONS must be 1 to 1024\n");
    return 2;
  }
  const std::string secret = "snapshot-bench-secret";
  try {
    std::size_t claims = 0;
    {
      // A replayed store has no stream positions: give every partition one, as a worker's has.
      store::sqlite_store writer(dir, false);
      writer.begin();
      for (int p = 0; p < partitions; ++p) {
        (void)writer.record_applied(static_cast<std::uint32_t>(p), 1, 1);
      }
      writer.commit();
      claims = writer.size();
    }
    store::sqlite_store reader(dir, store::read_only);
    std::map<std::string, int, std::less<>> partition_of;  // one HMAC per patient, as serve's
    std::vector<std::string> snapshots(static_cast<std::size_t>(partitions));
    std::size_t claims_written = 0, facts_written = 0, bytes = 0;
    double write_max = 0;
    const auto writing = std::chrono::steady_clock::now();
    for (int p = 0; p < partitions; ++p) {
      const auto one = std::chrono::steady_clock::now();
      const auto wrote = reader.write_snapshot(
          static_cast<std::uint32_t>(p),
          [&](std::string_view patient) {
            auto at = partition_of.find(patient);
            if (at == partition_of.end()) {
              at = partition_of
                       .emplace(patient, cluster::partition_of_token(
                                             cluster::partition_key(secret, patient), partitions))
                       .first;
            }
            return at->second == p;
          },
          snapshots[static_cast<std::size_t>(p)]);
      write_max = std::max(write_max, seconds_since(one));
      claims_written += wrote.claims;
      facts_written += wrote.facts;
      bytes += snapshots[static_cast<std::size_t>(p)].size();
    }
    const double write_s = seconds_since(writing);

    store::sqlite_store fresh("", false);
    std::size_t facts_restored = 0;
    const auto loading = std::chrono::steady_clock::now();
    for (const auto& snapshot : snapshots) {
      fresh.begin();
      const auto loaded = fresh.load_snapshot(
          snapshot, {[&](std::string_view) { ++facts_restored; }, [](const model::decision&) {}});
      fresh.commit();
      if (loaded.verdict != store::snapshot_load_verdict::loaded) {
        std::fprintf(stderr, "snapshot_bench: a snapshot did not load: %s\n", loaded.error.c_str());
        return 1;
      }
    }
    const double load_s = seconds_since(loading);
    if (claims_written != claims || fresh.size() != claims) {
      std::fprintf(stderr,
                   "snapshot_bench: %zu claims in the store, %zu in the snapshots, %zu loaded\n",
                   claims, claims_written, fresh.size());
      return 1;
    }
    const double mb = static_cast<double>(bytes) / 1e6;
    std::printf(
        "snapshot partitions=%d claims=%zu facts=%zu snapshot_mb=%.1f write_s=%.2f "
        "write_max_ms=%.0f write_mb_per_s=%.0f load_s=%.2f load_mb_per_s=%.0f\n",
        partitions, claims, facts_written, mb, write_s, write_max * 1000, mb / write_s, load_s,
        mb / load_s);
    (void)facts_restored;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "snapshot_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
