// Partition snapshots (docs/cluster.md §5j) of a real store: every partition's snapshot written
// from a store `covgate replay --store DIR` filled, the way a cluster worker writes them (the
// cluster's mapping of patients to partitions, one HMAC per patient), then all of them loaded
// into one empty store, the way a worker taking over loads them. Twice: with the rows as replay
// left them (no partition filed: a store from before rows were filed, each snapshot reading
// every row), then with every row filed under its partition as a worker files it. Prints:
//   snapshot filing=none|partition partitions=P claims=C facts=F snapshot_mb=B write_s=W
//            write_max_ms=M write_mb_per_s=X load_s=L load_mb_per_s=Y
// and checks that every claim went into exactly one partition and came back.
// Then every partition's copy in one store replaced by a newer snapshot (measure_replace).
// The engine side of a replacement is modelled by a fact index: the resources it forgets and
// indexes per partition, beside indexing the whole store again (what it did before).
//   snapshot_bench STORE_DIR [PARTITIONS]      (the store's applied positions are set to 1,
//                                               then 2)
#include <sqlite3.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <functional>
#include <map>
#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/store/sqlite_store.hpp"

using namespace covgate;

namespace {

double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// Writes every partition's snapshot from `dir`, loads them all into an empty store, and
// prints the figures (filing names how the store's rows say their partition).
int measure(const std::string& dir, int partitions, const char* filing,
            const std::function<int(std::string_view)>& partition_of) {
  std::size_t claims = 0;
  {
    store::sqlite_store writer(dir, false);
    claims = writer.size();
  }
  store::sqlite_store reader(dir, store::read_only);
  std::vector<std::string> snapshots(static_cast<std::size_t>(partitions));
  std::size_t claims_written = 0, facts_written = 0, bytes = 0;
  double write_max = 0;
  const auto writing = std::chrono::steady_clock::now();
  for (int p = 0; p < partitions; ++p) {
    const auto one = std::chrono::steady_clock::now();
    const auto wrote = reader.write_snapshot(
        static_cast<std::uint32_t>(p),
        [&](std::string_view patient) { return partition_of(patient) == p; },
        snapshots[static_cast<std::size_t>(p)]);
    write_max = std::max(write_max, seconds_since(one));
    claims_written += wrote.claims;
    facts_written += wrote.facts;
    bytes += snapshots[static_cast<std::size_t>(p)].size();
  }
  const double write_s = seconds_since(writing);
  store::sqlite_store fresh("", false);
  const auto loading = std::chrono::steady_clock::now();
  for (const auto& snapshot : snapshots) {
    fresh.begin();
    const auto loaded = fresh.load_snapshot(snapshot, {});
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
      "snapshot filing=%s partitions=%d claims=%zu facts=%zu snapshot_mb=%.1f write_s=%.2f "
      "write_max_ms=%.0f write_mb_per_s=%.0f load_s=%.2f load_mb_per_s=%.0f\n",
      filing, partitions, claims, facts_written, mb, write_s, write_max * 1000, mb / write_s,
      load_s, mb / load_s);
  return 0;
}

// Stale copies replaced (sqlite_store::replace_partition, the store's part of a worker's
// replacement over a gap): every partition's snapshot loaded into one store as its copy, the
// partitions' positions in `dir` moved on, their snapshots written again and each replacing
// its copy. Prints:
//   replace partitions=P claims=C replace_s=R replace_max_ms=M
// and checks that the store holds every claim once afterwards.
int measure_replace(const std::string& dir, int partitions,
                    const std::function<int(std::string_view)>& partition_of) {
  const auto snapshots_of = [&](std::vector<std::string>& out) {
    store::sqlite_store reader(dir, store::read_only);
    out.assign(static_cast<std::size_t>(partitions), {});
    for (int p = 0; p < partitions; ++p) {
      (void)reader.write_snapshot(
          static_cast<std::uint32_t>(p),
          [&](std::string_view patient) { return partition_of(patient) == p; },
          out[static_cast<std::size_t>(p)]);
    }
  };
  std::vector<std::string> snapshots;
  snapshots_of(snapshots);
  // The engine's side, modelled by a fact index alone (the gate's; no linker): it holds every
  // facts row of the copy, forgets the rows a replacement drops and indexes the snapshot's.
  model::fact_index index;
  const auto index_row = [&](std::string_view body) {
    if (auto facts = model::decode_facts(body); facts && !facts->empty()) {
      (void)index.apply(std::move(*facts));
    }
  };
  store::sqlite_store copy("", false);
  for (const auto& snapshot : snapshots) {
    copy.begin();
    (void)copy.load_snapshot(snapshot, {index_row, nullptr});
    copy.commit();
  }
  {
    store::sqlite_store writer(dir, false);
    writer.begin();
    for (int p = 0; p < partitions; ++p) {
      (void)writer.record_applied(static_cast<std::uint32_t>(p), 2, 1);
    }
    writer.commit();
  }
  snapshots_of(snapshots);
  double max = 0;
  double index_s = 0, index_max = 0;
  const auto replacing = std::chrono::steady_clock::now();
  for (int p = 0; p < partitions; ++p) {
    const auto one = std::chrono::steady_clock::now();
    double index_one = 0;
    const auto timed = [&](auto&& change) {
      const auto at = std::chrono::steady_clock::now();
      change();
      index_one += seconds_since(at);
    };
    copy.begin();
    const auto replaced = copy.replace_partition(
        snapshots[static_cast<std::size_t>(p)],
        [&](std::string_view patient) { return partition_of(patient) == p; },
        {[&](std::string_view body) { timed([&] { index_row(body); }); }, nullptr}, {},
        [&](std::string_view resource) { timed([&] { (void)index.forget(resource); }); });
    copy.commit();
    max = std::max(max, seconds_since(one));
    index_s += index_one;
    index_max = std::max(index_max, index_one);
    if (replaced.verdict != store::snapshot_load_verdict::loaded) {
      std::fprintf(stderr, "snapshot_bench: a copy was not replaced: %s\n", replaced.error.c_str());
      return 1;
    }
  }
  const double replace_s = seconds_since(replacing);
  std::size_t claims = 0;
  {
    store::sqlite_store writer(dir, false);
    claims = writer.size();
  }
  if (copy.size() != claims) {
    std::fprintf(stderr, "snapshot_bench: %zu claims in the store, %zu after replacing\n", claims,
                 copy.size());
    return 1;
  }
  // What the engine did before per-resource forgetting: every facts row of the store indexed
  // again after each replacement.
  const auto reindexing = std::chrono::steady_clock::now();
  const auto resources = index.size();
  index.clear();
  copy.for_each_facts(index_row);
  const double reindex_s = seconds_since(reindexing);
  if (index.size() != resources) {
    std::fprintf(stderr, "snapshot_bench: %zu resources indexed after replacing, %zu again\n",
                 resources, index.size());
    return 1;
  }
  std::printf(
      "replace partitions=%d claims=%zu replace_s=%.2f replace_max_ms=%.0f index_s=%.3f "
      "index_max_ms=%.1f whole_reindex_ms=%.0f resources=%zu\n",
      partitions, claims, replace_s, max * 1000, index_s, index_max * 1000, reindex_s * 1000,
      resources);
  return 0;
}

// Files every claim and facts row under its partition, as a worker's rows are filed under the
// partition of the message that wrote them: a claim by its patient, a facts row by the patient
// its facts name, or (by reference only) the patient of the Patient row it refers to, which
// is where a front routes it.
void file_rows(const std::string& dir, const std::function<int(std::string_view)>& partition_of) {
  sqlite3* db = nullptr;
  if (sqlite3_open((dir + "/covgate.db").c_str(), &db) != SQLITE_OK) {
    throw std::runtime_error("cannot open the store");
  }
  const auto run = [&](const char* sql) {
    if (sqlite3_exec(db, sql, nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw std::runtime_error(sqlite3_errmsg(db));
    }
  };
  run("BEGIN");
  std::vector<std::pair<std::string, std::string>> rows;  // (key, body) of claims, then facts
  sqlite3_stmt* read = nullptr;
  sqlite3_prepare_v2(db, "SELECT id, patient FROM claims", -1, &read, nullptr);
  std::vector<std::pair<std::string, int>> claims;
  while (sqlite3_step(read) == SQLITE_ROW) {
    const auto* patient = reinterpret_cast<const char*>(sqlite3_column_text(read, 1));
    claims.emplace_back(reinterpret_cast<const char*>(sqlite3_column_text(read, 0)),
                        partition_of(patient == nullptr ? "" : patient));
  }
  sqlite3_finalize(read);
  std::map<std::string, std::vector<model::fact>> facts;
  sqlite3_prepare_v2(db, "SELECT resource, body FROM facts", -1, &read, nullptr);
  while (sqlite3_step(read) == SQLITE_ROW) {
    const std::string_view body(static_cast<const char*>(sqlite3_column_blob(read, 1)),
                                static_cast<std::size_t>(sqlite3_column_bytes(read, 1)));
    facts[reinterpret_cast<const char*>(sqlite3_column_text(read, 0))] =
        model::decode_facts(body).value_or(std::vector<model::fact>{});
  }
  sqlite3_finalize(read);
  std::map<std::string, std::string> key_of;  // "Patient/x" -> its key
  for (const auto& [resource, list] : facts) {
    for (const auto& f : list) {
      if (const auto* p = std::get_if<model::patient>(&f); p != nullptr && !p->key.empty()) {
        key_of[resource] = p->key;
      }
    }
  }
  sqlite3_stmt* update = nullptr;
  sqlite3_prepare_v2(db, "UPDATE claims SET part = ?1 WHERE id = ?2", -1, &update, nullptr);
  for (const auto& [id, p] : claims) {
    sqlite3_bind_int(update, 1, p);
    sqlite3_bind_text(update, 2, id.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(update);
    sqlite3_reset(update);
  }
  sqlite3_finalize(update);
  sqlite3_prepare_v2(db, "UPDATE facts SET part = ?1 WHERE resource = ?2", -1, &update, nullptr);
  for (const auto& [resource, list] : facts) {
    std::string key;
    for (const auto& f : list) {
      if (key.empty()) key = model::patient_key_of(f);
    }
    for (const auto& f : list) {
      if (!key.empty()) break;
      const auto at = key_of.find(model::patient_reference_of(f));
      if (at != key_of.end()) key = at->second;
    }
    if (key.empty()) continue;  // reference data: CG_REF's
    sqlite3_bind_int(update, 1, partition_of(key));
    sqlite3_bind_text(update, 2, resource.c_str(), -1, SQLITE_TRANSIENT);
    sqlite3_step(update);
    sqlite3_reset(update);
  }
  sqlite3_finalize(update);
  run("COMMIT");
  sqlite3_close(db);
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
  std::map<std::string, int, std::less<>> cache;  // one HMAC per patient, as a worker's
  const std::function<int(std::string_view)> partition_of = [&](std::string_view patient) {
    auto at = cache.find(patient);
    if (at == cache.end()) {
      at = cache
               .emplace(patient, cluster::partition_of_token(
                                     cluster::partition_key(secret, patient), partitions))
               .first;
    }
    return at->second;
  };
  try {
    {
      // A replayed store has no stream positions: give every partition one, as a worker's has.
      store::sqlite_store writer(dir, false);
      writer.begin();
      for (int p = 0; p < partitions; ++p) {
        (void)writer.record_applied(static_cast<std::uint32_t>(p), 1, 1);
      }
      writer.commit();
    }
    // As a store written before rows were filed (replay files none), then as a worker's.
    if (const int failed = measure(dir, partitions, "none", partition_of)) return failed;
    file_rows(dir, partition_of);
    if (const int failed = measure(dir, partitions, "partition", partition_of)) return failed;
    return measure_replace(dir, partitions, partition_of);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "snapshot_bench: %s\n", e.what());
    return 1;
  }
}
