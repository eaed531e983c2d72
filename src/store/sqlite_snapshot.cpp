// sqlite_store's partition snapshots (docs/cluster.md §5j): one partition's rows written as
// store/partition_snapshot.hpp lays them out, and loaded into a store that never held it.
#include <array>
#include <set>
#include <unordered_set>

#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_codec.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/store/message_source.hpp"
#include "covgate/store/partition_snapshot.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "sqlite_statement.hpp"

namespace covgate::store {

namespace {

// The tables a snapshot carries, in the order it carries them; nothing else is loaded.
constexpr std::array<std::string_view, 5> snapshot_tables = {"claims", "claim_list", "history",
                                                             "facts", "outbox"};

// What the pending releases of the claim keyed `claim_key` begin with before "-<sequence>":
// its delivery prefix (model::delivery_prefix), and the CLM01 alone its releases were queued
// under before claims were keyed by billing NPI too (a store upgraded with items pending).
void add_delivery_prefixes(std::unordered_set<std::string>& prefixes, std::string_view claim_key) {
  prefixes.insert(model::delivery_prefix(claim_key));
  prefixes.emplace(model::split_claim_key(claim_key).clm01);
}

// Ends a read transaction opened for the snapshot (if it opened one) however the scope is
// left.
class read_transaction {
 public:
  explicit read_transaction(sqlite3* db) : db_(db), opened_(sqlite3_get_autocommit(db) != 0) {
    if (opened_ && sqlite3_exec(db_, "BEGIN", nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw store_error(std::string("sqlite: cannot begin a snapshot: ") + sqlite3_errmsg(db_));
    }
  }
  ~read_transaction() {
    if (opened_) sqlite3_exec(db_, "COMMIT", nullptr, nullptr, nullptr);
  }
  read_transaction(const read_transaction&) = delete;
  read_transaction& operator=(const read_transaction&) = delete;

 private:
  sqlite3* db_;
  bool opened_;
};

// Writes every row `select` yields as one table of the snapshot, the columns as the
// statement names them; `keep` (when given) decides row by row. Returns the rows written.
// A column named `part` is written as `partition` (rows written before the column existed hold
// NULL there), or as what `part_of` says of the row kept last.
template <typename Keep>
std::uint64_t write_table(std::string_view name, sqlite3* db, const std::string& select,
                          std::uint32_t partition, snapshot_writer& out, Keep keep,
                          const std::function<std::uint32_t()>& part_of = {}) {
  sqlite_store::statement s(db, select);
  std::vector<std::string_view> columns;
  std::vector<snapshot_cell> cells;
  std::uint64_t rows = 0;
  while (s.step()) {
    if (columns.empty()) {
      for (int i = 0; i < s.columns(); ++i) columns.push_back(s.column_name(i));
      out.table(name, columns);
      cells.resize(columns.size());
    }
    if (!keep(s)) continue;
    for (int i = 0; i < s.columns(); ++i) {
      if (columns[static_cast<std::size_t>(i)] == "part") {
        cells[i] = std::int64_t{part_of ? part_of() : partition};
        continue;
      }
      switch (s.type(i)) {
        case SQLITE_INTEGER:
          cells[i] = s.integer(i);
          break;
        case SQLITE_TEXT:
          cells[i] = s.text(i);
          break;
        case SQLITE_BLOB:
          cells[i] = snapshot_blob{s.text(i)};
          break;
        default:  // the store's tables hold no NULL and no REAL
          throw store_error("snapshot: " + std::string(name) + "." + std::string(columns[i]) +
                            " holds a value of no kind a snapshot carries");
      }
    }
    out.row(cells);
    ++rows;
  }
  return rows;
}

// Whose a facts row is, for a partition `mine` accepts.
enum class facts_owner : std::uint8_t {
  mine,     ///< a fact of it names a patient of the partition
  others,   ///< keyed to other partitions' patients only
  waiting,  ///< no fact keyed: they name their patient by reference only
  shared,   ///< of no patient at all (a Practitioner): every partition's
};

facts_owner owner_of_facts(std::string_view body,
                           const std::function<bool(std::string_view)>& mine) {
  std::vector<model::fact> facts;
  if (!model::decode_facts(body, facts)) {
    throw store_error("snapshot: a facts row does not decode (a newer covgate's, or damaged)");
  }
  bool keyed = false, waiting = false, shared = !facts.empty();
  for (const auto& f : facts) {
    shared = shared && model::names_no_patient(f);
    const auto& key = model::patient_key_of(f);
    if (!key.empty()) {
      if (mine(key)) return facts_owner::mine;
      keyed = true;
    } else if (!model::patient_reference_of(f).empty()) {
      waiting = true;
    }
  }
  if (shared) return facts_owner::shared;
  return waiting && !keyed ? facts_owner::waiting : facts_owner::others;
}

}  // namespace

snapshot_summary sqlite_store::write_snapshot(std::uint32_t partition,
                                              const std::function<bool(std::string_view)>& mine,
                                              std::string& out) const {
  snapshot_summary summary;
  read_transaction reading(db_);
  summary.position = applied(partition);
  if (!summary.position) return summary;
  snapshot_writer writer(out, {partition, summary.position->stream_seq, summary.position->epoch});
  const std::function<int(std::string_view)> group_of = [&](std::string_view patient) {
    return mine(patient) ? 0 : -1;
  };
  const group_function grouping(db_, group_of);
  const auto every_row = [](const statement&) { return true; };
  // Rows this version wrote carry their partition (indexed); rows written before the column
  // existed (part NULL) are picked by their patient, read one by one.
  const auto p = std::to_string(partition);
  const auto of_claims = [&](const std::string& columns, const std::string& joined) {
    return "SELECT " + columns + " FROM " + joined + " WHERE claims.part = " + p +
           " UNION ALL SELECT " + columns + " FROM " + joined +
           " WHERE claims.part IS NULL AND covgate_group(claims.patient) >= 0";
  };
  // The partition's claims as their delivery keys begin (model::delivery_prefix), for its
  // outbox items.
  std::unordered_set<std::string> delivery_prefixes;
  int id = -1;
  summary.claims = write_table("claims", db_, of_claims("claims.*", "claims") + " ORDER BY seq",
                               partition, writer, [&](const statement& s) {
                                 if (id < 0) {
                                   for (int i = 0; i < s.columns(); ++i) {
                                     if (s.column_name(i) == "id") id = i;
                                   }
                                 }
                                 if (id >= 0) add_delivery_prefixes(delivery_prefixes, s.text(id));
                                 return true;
                               });
  write_table("claim_list", db_,
              of_claims("claim_list.*", "claim_list JOIN claims ON claims.id = claim_list.id"),
              partition, writer, every_row);
  summary.history = write_table(
      "history", db_, of_claims("history.*", "history JOIN claims ON claims.id = history.claim_id"),
      partition, writer, every_row);
  int body = -1, part = -1;
  bool shared_row = false;  // the row kept last names no patient
  // Rows of no patient are every partition's (sqlite_store::shared_part): each partition's
  // snapshot carries them, still shared.
  summary.facts = write_table(
      "facts", db_,
      "SELECT * FROM facts WHERE part = " + p +
          " UNION ALL SELECT * FROM facts WHERE part = " + std::to_string(shared_part) +
          " UNION ALL SELECT * FROM facts WHERE part IS NULL ORDER BY seq",
      partition, writer,
      [&](const statement& s) {
        if (body < 0) {
          for (int i = 0; i < s.columns(); ++i) {
            if (s.column_name(i) == "body") body = i;
            if (s.column_name(i) == "part") part = i;
          }
        }
        if (part >= 0 && s.type(part) != SQLITE_NULL) {
          shared_row = s.integer(part) == shared_part;
          return true;
        }
        if (body < 0) return false;
        const auto owner = owner_of_facts(s.text(body), mine);
        shared_row = owner == facts_owner::shared;
        return owner != facts_owner::others;
      },
      [&] { return shared_row ? shared_part : partition; });
  // Releases decided but not yet delivered: the new owner delivers them (a stream that keeps
  // one message per release refuses a second copy). Their key is "<delivery prefix>-<sequence>".
  summary.outbox = write_table(
      "outbox", db_,
      "SELECT key, destination, content_type, body, attempts, next_ms, state, last_error "
      "FROM outbox WHERE state = 'pending' ORDER BY id",
      partition, writer, [&](const statement& s) {
        const auto key = s.text(0);
        const auto dash = key.rfind('-');
        return dash != std::string_view::npos &&
               delivery_prefixes.count(std::string(key.substr(0, dash))) > 0;
      });
  writer.finish();
  return summary;
}

namespace {

// Inserts a snapshot's rows, table by table, through statements built from the names the
// snapshot gives once they are checked against the store's own tables and columns.
class snapshot_loader final : public snapshot_visitor {
 public:
  using number_next = std::function<std::int64_t(std::string_view table)>;

  snapshot_loader(sqlite3* db, number_next next_number, snapshot_load& counts)
      : db_(db), next_number_(std::move(next_number)), counts_(counts) {}

  /// The facts rows loaded (their bodies) and the open claims' decisions (encoded): handed to
  /// the owner only once every row is in.
  std::vector<std::string> facts_loaded;
  std::vector<std::string> open_decisions;

  void table(std::string_view name, std::span<const std::string_view> columns) override {
    if (std::find(snapshot_tables.begin(), snapshot_tables.end(), name) == snapshot_tables.end()) {
      throw store_error("snapshot: table " + std::string(name) + " is not one a snapshot loads");
    }
    if (!loaded_.insert(std::string(name)).second) {
      throw store_error("snapshot: table " + std::string(name) + " comes twice");
    }
    const auto known = columns_of(name);
    table_ = std::string(name);
    seq_column_ = body_column_ = closed_column_ = decision_column_ = source_column_ = -1;
    // Facts the store holds already stay (a fact waiting for its Patient may be in several
    // partitions' snapshots), as does an outbox item it holds; a claim it holds already is a
    // conflict the caller rolls back.
    std::string sql =
        table_ == "facts" || table_ == "outbox" ? "INSERT OR IGNORE INTO " : "INSERT INTO ";
    sql += table_ + "(";
    std::set<std::string_view> seen;
    for (std::size_t i = 0; i < columns.size(); ++i) {
      if (known.count(std::string(columns[i])) == 0) {
        throw store_error("snapshot: " + table_ + " has no column " + std::string(columns[i]));
      }
      if (!seen.insert(columns[i]).second) {
        throw store_error("snapshot: " + table_ + "." + std::string(columns[i]) + " twice");
      }
      if (i > 0) sql += ", ";
      sql += columns[i];
      // The store's own order numbers: claims and facts get numbers after its own.
      if (columns[i] == "seq" && (table_ == "claims" || table_ == "facts")) {
        seq_column_ = static_cast<int>(i);
      }
      if (columns[i] == "body" && table_ == "facts") body_column_ = static_cast<int>(i);
      if (table_ == "claims" && columns[i] == "closed") closed_column_ = static_cast<int>(i);
      if (table_ == "claims" && columns[i] == "decision") decision_column_ = static_cast<int>(i);
      if ((table_ == "claims" || table_ == "history") && columns[i] == "source") {
        source_column_ = static_cast<int>(i);
      }
    }
    sql += ") VALUES(";
    for (std::size_t i = 0; i < columns.size(); ++i) sql += (i > 0 ? ", ?" : "?");
    sql += ")";
    insert_ = std::make_unique<sqlite_store::statement>(db_, sql);
  }

  void row(std::span<const snapshot_cell> cells) override {
    auto& s = *insert_;
    for (std::size_t i = 0; i < cells.size(); ++i) {
      const int at = static_cast<int>(i) + 1;
      if (static_cast<int>(i) == seq_column_) {
        s.bind(at, next_number_(table_));
      } else if (const auto* source = std::get_if<std::string_view>(&cells[i]);
                 source != nullptr && static_cast<int>(i) == source_column_) {
        // The journal id a source names is the writer's: in this store it would name another
        // message (store/message_source.hpp). Its stream position stays.
        s.bind(at, without_journal_id(*source));
      } else if (const auto* n = std::get_if<std::int64_t>(&cells[i])) {
        s.bind(at, *n);
      } else if (const auto* text = std::get_if<std::string_view>(&cells[i])) {
        s.bind(at, *text);
      } else {
        s.blob(at, std::get<snapshot_blob>(cells[i]).bytes);
      }
    }
    s.run();
    const bool inserted = sqlite3_changes(db_) > 0;
    if (table_ == "claims") {
      ++counts_.claims;
      const auto* closed =
          closed_column_ >= 0 ? std::get_if<std::int64_t>(&cells[closed_column_]) : nullptr;
      const auto* decision =
          decision_column_ >= 0 ? std::get_if<snapshot_blob>(&cells[decision_column_]) : nullptr;
      if (closed != nullptr && *closed == 0 && decision != nullptr) {
        open_decisions.emplace_back(decision->bytes);
      }
    } else if (table_ == "history") {
      ++counts_.history;
    } else if (table_ == "outbox" && inserted) {
      ++counts_.outbox;
    } else if (table_ == "facts" && inserted) {
      ++counts_.facts;
      if (body_column_ >= 0) {
        if (const auto* body = std::get_if<snapshot_blob>(&cells[body_column_])) {
          facts_loaded.emplace_back(body->bytes);
        }
      }
    }
  }

 private:
  std::set<std::string> columns_of(std::string_view table) {
    // `table` is one of snapshot_tables: no name from the snapshot reaches the SQL unchecked.
    sqlite_store::statement info(db_, "PRAGMA table_info(" + std::string(table) + ")");
    std::set<std::string> names;
    while (info.step()) names.emplace(info.text(1));
    return names;
  }

  sqlite3* db_;
  number_next next_number_;
  snapshot_load& counts_;
  std::set<std::string> loaded_;
  std::string table_;
  std::unique_ptr<sqlite_store::statement> insert_;
  int seq_column_ = -1;
  int body_column_ = -1;
  int closed_column_ = -1;
  int decision_column_ = -1;
  int source_column_ = -1;
};

// A savepoint: the snapshot's rows are undone alone when loading them fails, and the rest of
// the transaction (a group of other partitions' messages) stays.
class savepoint {
 public:
  savepoint(sqlite3* db, std::string name) : db_(db), name_(std::move(name)) {
    run("SAVEPOINT " + name_);
  }
  ~savepoint() {
    if (open_) {
      sqlite3_exec(db_, ("ROLLBACK TO " + name_).c_str(), nullptr, nullptr, nullptr);
      sqlite3_exec(db_, ("RELEASE " + name_).c_str(), nullptr, nullptr, nullptr);
    }
  }
  savepoint(const savepoint&) = delete;
  savepoint& operator=(const savepoint&) = delete;
  void release() {
    run("RELEASE " + name_);
    open_ = false;
  }

 private:
  void run(const std::string& sql) {
    if (sqlite3_exec(db_, sql.c_str(), nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw store_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
    }
  }
  sqlite3* db_;
  std::string name_;  // a constant of this file, never input
  bool open_ = true;
};

}  // namespace

snapshot_load sqlite_store::load_snapshot(std::string_view bytes, const snapshot_restore& restore) {
  if (sqlite3_get_autocommit(db_)) {
    throw store_error(
        "load_snapshot outside a transaction: the rows and the position commit together");
  }
  snapshot_load result;
  // Checked whole before anything is written, so a damaged snapshot changes nothing.
  const auto header = read_snapshot(bytes, nullptr, result.error);
  if (!header) return result;
  if (const auto at = applied(header->partition)) {
    result.verdict = at->stream_seq >= header->stream_seq ? snapshot_load_verdict::not_newer
                                                          : snapshot_load_verdict::held_before;
    return result;
  }
  const auto seq_before = next_seq_, fact_seq_before = next_fact_seq_;
  snapshot_loader loader(
      db_,
      [this](std::string_view table) { return table == "claims" ? next_seq_++ : next_fact_seq_++; },
      result);
  std::vector<model::decision> open_decisions;
  try {
    savepoint rows(db_, "covgate_snapshot");
    std::string error;
    if (!read_snapshot(bytes, &loader, error)) throw store_error(error);  // checked above
    key_claims_by_billing_provider();  // a snapshot an older worker wrote keys by CLM01
    for (const auto& encoded : loader.open_decisions) {
      auto decision = model::decode_decision(encoded);
      if (!decision) {
        throw store_error("snapshot: a claim's decision does not decode (a newer covgate's?)");
      }
      open_decisions.push_back(std::move(*decision));
    }
    // A facts row its owner cannot index (a newer covgate's format, or damaged) is refused
    // here, with the rows undone: once committed, it would stop every later start-up's restore.
    for (const auto& body : loader.facts_loaded) {
      if (!model::decode_facts(body)) {
        throw store_error("snapshot: a facts row does not decode (a newer covgate's?)");
      }
    }
    if (record_applied(header->partition, header->stream_seq, header->epoch) !=
        apply_verdict::apply) {
      throw store_error("snapshot: the partition's position could not be recorded");
    }
    rows.release();
  } catch (...) {
    next_seq_ = seq_before;
    next_fact_seq_ = fact_seq_before;
    throw;
  }
  claim_writes_ += result.claims;
  for (const auto& body : loader.facts_loaded) {
    if (restore.facts) restore.facts(body);
  }
  for (const auto& decision : open_decisions) {
    if (restore.open_decision) restore.open_decision(decision);
  }
  result.verdict = snapshot_load_verdict::loaded;
  return result;
}

partition_drop sqlite_store::drop_partition(
    std::uint32_t partition, const std::function<bool(std::string_view)>& mine,
    const std::function<void(const model::decision&)>& open_decision,
    const std::function<void(std::string_view)>& fact_resource) {
  if (sqlite3_get_autocommit(db_)) {
    throw store_error(
        "drop_partition outside a transaction: the rows and the position go together");
  }
  partition_drop dropped;
  dropped.held = applied(partition).has_value();
  const auto p = std::to_string(partition);
  // The claims write_snapshot would carry: filed under the partition, or unfiled (written
  // before rows were filed) and of a patient of it.
  std::unordered_set<std::string> claim_ids;
  {
    // covgate_group() calls it while the statement runs: it must outlive `grouping`.
    const std::function<int(std::string_view)> group_of = [&](std::string_view patient) {
      return mine(patient) ? 0 : -1;
    };
    const group_function grouping(db_, group_of);
    statement claims(db_,
                     "SELECT id, closed, decision FROM claims WHERE part = " + p +
                         " UNION ALL SELECT id, closed, decision FROM claims WHERE part IS NULL"
                         " AND covgate_group(patient) >= 0");
    while (claims.step()) {
      claim_ids.emplace(claims.text(0));
      if (claims.integer(1) != 0) continue;
      auto decision = model::decode_decision(claims.text(2));
      if (!decision) {
        throw store_error("a claim's decision does not decode (a newer covgate's, or damaged)");
      }
      if (open_decision) open_decision(*decision);
    }
  }
  statement history(db_, "DELETE FROM history WHERE claim_id = ?");
  statement listed(db_, "DELETE FROM claim_list WHERE id = ?");
  statement claim(db_, "DELETE FROM claims WHERE id = ?");
  for (const auto& id : claim_ids) {
    history.bind(1, id).run();
    dropped.history += static_cast<std::uint64_t>(sqlite3_changes(db_));
    listed.bind(1, id).run();
    claim.bind(1, id).run();
    ++dropped.claims;
  }
  // Its releases still pending ("<delivery prefix>-<sequence>", model::delivery_key): the
  // snapshot brings the holder's.
  std::unordered_set<std::string> delivery_prefixes;
  for (const auto& id : claim_ids) add_delivery_prefixes(delivery_prefixes, id);
  {
    std::vector<std::int64_t> pending;
    statement outbox(db_, "SELECT id, key FROM outbox WHERE state = 'pending'");
    while (outbox.step()) {
      const auto key = outbox.text(1);
      const auto dash = key.rfind('-');
      if (dash != std::string_view::npos &&
          delivery_prefixes.count(std::string(key.substr(0, dash))) > 0) {
        pending.push_back(outbox.integer(0));
      }
    }
    statement drop(db_, "DELETE FROM outbox WHERE id = ?");
    for (const auto id : pending) drop.bind(1, id).run();
    dropped.outbox = pending.size();
  }
  // Its facts: filed under it, or unfiled and keyed to a patient of it. Rows of no patient
  // (shared_part) are every partition's, and stay.
  {
    if (fact_resource) {
      statement filed(db_, "SELECT resource FROM facts WHERE part = " + p);
      while (filed.step()) fact_resource(filed.text(0));
    }
    statement filed(db_, "DELETE FROM facts WHERE part = " + p);
    filed.run();
    dropped.facts = static_cast<std::uint64_t>(sqlite3_changes(db_));
    std::vector<std::string> unfiled;
    statement facts(db_, "SELECT resource, body FROM facts WHERE part IS NULL");
    while (facts.step()) {
      if (owner_of_facts(facts.text(1), mine) == facts_owner::mine) {
        unfiled.emplace_back(facts.text(0));
      }
    }
    statement drop(db_, "DELETE FROM facts WHERE resource = ?");
    for (const auto& resource : unfiled) {
      if (fact_resource) fact_resource(resource);
      drop.bind(1, resource).run();
    }
    dropped.facts += unfiled.size();
  }
  statement position(db_, "DELETE FROM applied WHERE partition = " + p);
  position.run();
  return dropped;
}

snapshot_load sqlite_store::replace_partition(
    std::string_view bytes, const std::function<bool(std::string_view)>& mine,
    const snapshot_restore& restore,
    const std::function<void(const model::decision&)>& dropped_decision,
    const std::function<void(std::string_view)>& dropped_fact) {
  if (sqlite3_get_autocommit(db_)) {
    throw store_error(
        "replace_partition outside a transaction: the copy goes only if the snapshot comes");
  }
  snapshot_load result;
  const auto header = read_snapshot(bytes, nullptr, result.error);
  if (!header) return result;
  if (const auto at = applied(header->partition); at && at->stream_seq >= header->stream_seq) {
    result.verdict = snapshot_load_verdict::not_newer;
    return result;
  }
  std::vector<model::decision> gone;
  std::vector<std::string> gone_facts;
  savepoint copy(db_, "covgate_replace");
  (void)drop_partition(
      header->partition, mine, [&](const model::decision& d) { gone.push_back(d); },
      [&](std::string_view resource) { gone_facts.emplace_back(resource); });
  // The snapshot's facts are handed over after the copy's are forgotten: a resource both hold
  // would otherwise meet the copy's version in the caller's index, and a newer one wins there.
  std::vector<std::string> loaded_facts;
  const snapshot_restore deferred{[&](std::string_view body) { loaded_facts.emplace_back(body); },
                                  restore.open_decision};
  result = load_snapshot(bytes, deferred);  // throws with its rows undone; `copy` undoes the drop
  if (result.verdict != snapshot_load_verdict::loaded) return result;  // the drop is undone too
  copy.release();
  if (dropped_decision) {
    for (const auto& d : gone) dropped_decision(d);
  }
  if (dropped_fact) {
    for (const auto& resource : gone_facts) dropped_fact(resource);
  }
  if (restore.facts) {
    for (const auto& body : loaded_facts) restore.facts(body);
  }
  return result;
}

}  // namespace covgate::store
