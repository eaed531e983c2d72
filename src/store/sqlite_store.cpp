#include "covgate/store/sqlite_store.hpp"

#include <fcntl.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <functional>
#include <limits>
#include <system_error>
#include <thread>
#include <utility>
#include <variant>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/decision_codec.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/model/facts.hpp"
#include "paced_writeback_vfs.hpp"
#include "sqlite_statement.hpp"
#include "wal_gathering_vfs.hpp"

namespace covgate::store {
namespace {

// A busy handler that tries again every 100 us until `patience` has passed since the first
// try. SQLite's own (sqlite3_busy_timeout) sleeps 1, 2, 5, 10, 15, 20 ms between tries, so a
// writer that met the checkpointer's lock held for 2 ms waited 3 ms, held for 20 ms waited
// 33 ms (measured: serve's BEGIN waits fell on 1.2, 3.2, 8.3, 33.6 and 54 ms). A wait begins
// at attempt 0, or after a pause no wait's tries leave: SQLite restarts the count at each
// statement's step, not when a prepare meets a lock. Per thread: a connection may be used
// from several (the read-only one, by the HTTP threads), one at a time.
template <int patience_ms>
int retry_soon(void*, int attempts) {
  using clock = std::chrono::steady_clock;
  thread_local clock::time_point first_try;
  thread_local clock::time_point last_try;
  const auto now = clock::now();
  if (attempts == 0 || now - last_try > std::chrono::milliseconds(50)) first_try = now;
  last_try = now;
  if (now - first_try >= std::chrono::milliseconds(patience_ms)) return 0;
  std::this_thread::sleep_for(std::chrono::microseconds(100));
  return 1;
}

// The checkpointer's pages written back while a copy runs, and only then: the RESTART after
// it holds the writer's lock (paced_writeback_vfs.hpp).
class paced_copy {
 public:
  paced_copy(sqlite3* db, int descriptor) : db_(descriptor >= 0 ? db : nullptr) {
    if (db_ != nullptr) set_writeback_descriptor(db_, descriptor);
  }
  ~paced_copy() {
    if (db_ != nullptr) set_writeback_descriptor(db_, -1);  // the copy threw
  }
  paced_copy(const paced_copy&) = delete;
  paced_copy& operator=(const paced_copy&) = delete;
  int finish() {  // what is pending written back: SQLITE_IOERR_FSYNC when that failed
    auto* db = std::exchange(db_, nullptr);
    return db != nullptr ? set_writeback_descriptor(db, -1) : SQLITE_OK;
  }

 private:
  sqlite3* db_;
};

// The outbox's columns, for the schema and for rebuilding a store's outbox from before its
// ids were AUTOINCREMENT (number_outbox_items_once).
constexpr const char* outbox_columns = R"((id INTEGER PRIMARY KEY AUTOINCREMENT,
  key TEXT NOT NULL, destination INTEGER NOT NULL, content_type TEXT NOT NULL,
  body BLOB NOT NULL, attempts INTEGER NOT NULL DEFAULT 0, next_ms INTEGER NOT NULL,
  state TEXT NOT NULL DEFAULT 'pending', last_error TEXT NOT NULL DEFAULT '',
  UNIQUE(key, destination)))";

}  // namespace

sqlite_store::sqlite_store(const std::filesystem::path& directory, bool synchronous_full) {
  if (directory.empty() || directory == ":memory:") {
    path_ = ":memory:";  // nothing survives the process: tests and throwaway servers
  } else {
    std::error_code ec;
    std::filesystem::create_directories(directory, ec);
    if (ec) throw store_error("cannot create " + directory.string() + ": " + ec.message());
    path_ = directory / "covgate.db";
  }
  // The writer's commits reach the WAL in one write call each (wal_gathering_vfs.hpp).
  open(SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE,
       path_ == ":memory:" ? nullptr : wal_gathering_vfs());
  closing_on_failure([&] { prepare_for_writing(synchronous_full); });
}

void sqlite_store::closing_on_failure(const std::function<void()>& prepare) {
  try {
    prepare();
  } catch (const store_error& e) {
    // A plugin host may retry a failing open for as long as it runs: each attempt gives its
    // connections back (and the file's descriptors with them).
    close_connections();
    throw store_error("cannot open " + path_.string() + ": " + e.what());
  } catch (...) {
    close_connections();
    throw;
  }
}

void sqlite_store::prepare_for_writing(bool synchronous_full) {
  exec("PRAGMA journal_mode=WAL");
  if (path_ != ":memory:") {
    // Checkpoints run from checkpoint() on their own connection, not inside a commit: an
    // automatic one would stall whichever message's commit crossed the page threshold.
    exec("PRAGMA wal_autocheckpoint=0");
    exec("PRAGMA journal_size_limit=67108864");  // a WAL that starts over is cut back to 64 MB
  }
  exec(synchronous_full ? "PRAGMA synchronous=FULL" : "PRAGMA synchronous=NORMAL");
  exec(R"(
    CREATE TABLE IF NOT EXISTS meta(name TEXT PRIMARY KEY, value INTEGER NOT NULL);
    CREATE TABLE IF NOT EXISTS journal(id INTEGER PRIMARY KEY, received_ms INTEGER NOT NULL,
      channel TEXT NOT NULL, sender TEXT NOT NULL, kind TEXT NOT NULL, bytes INTEGER NOT NULL,
      body BLOB NOT NULL, received_bytes INTEGER NOT NULL DEFAULT 0,
      digest TEXT NOT NULL DEFAULT '');
    DROP INDEX IF EXISTS journal_kind;
    CREATE TABLE IF NOT EXISTS claims(id TEXT PRIMARY KEY, seq INTEGER NOT NULL,
      patient TEXT NOT NULL, outcome INTEGER NOT NULL, closed INTEGER NOT NULL,
      csii INTEGER NOT NULL, events INTEGER NOT NULL, source TEXT NOT NULL,
      claim BLOB NOT NULL, decision BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS claims_patient ON claims(patient, seq);
    CREATE INDEX IF NOT EXISTS claims_patient_open ON claims(patient, closed, outcome, seq);
    CREATE INDEX IF NOT EXISTS claims_patient_csii ON claims(patient, csii);
    CREATE INDEX IF NOT EXISTS claims_outcome ON claims(outcome, closed, id);
    CREATE TABLE IF NOT EXISTS facts(resource TEXT PRIMARY KEY, seq INTEGER NOT NULL,
      updated TEXT NOT NULL, body BLOB NOT NULL);
    CREATE INDEX IF NOT EXISTS facts_seq ON facts(seq);
    CREATE TABLE IF NOT EXISTS interchanges(key TEXT PRIMARY KEY, received_ms INTEGER NOT NULL,
      rejected INTEGER NOT NULL, claims INTEGER NOT NULL, digest INTEGER NOT NULL,
      answer BLOB NOT NULL);
    CREATE TABLE IF NOT EXISTS history(claim_id TEXT NOT NULL, seq INTEGER NOT NULL,
      kind TEXT NOT NULL, at_ms INTEGER NOT NULL, source TEXT NOT NULL, note TEXT NOT NULL,
      decision BLOB NOT NULL, PRIMARY KEY(claim_id, seq, kind));
    CREATE TABLE IF NOT EXISTS claim_list(id TEXT PRIMARY KEY, outcome INTEGER NOT NULL,
      closed INTEGER NOT NULL, patient TEXT NOT NULL, patient_name TEXT NOT NULL,
      dos TEXT NOT NULL, reason TEXT NOT NULL, reasons INTEGER NOT NULL, billing TEXT NOT NULL,
      billing_name TEXT NOT NULL, sender TEXT NOT NULL, sender_name TEXT NOT NULL,
      charge INTEGER NOT NULL, since_ms INTEGER NOT NULL DEFAULT 0,
      updated_ms INTEGER NOT NULL DEFAULT 0, held INTEGER NOT NULL DEFAULT 0,
      events INTEGER NOT NULL);
    CREATE INDEX IF NOT EXISTS claim_list_since ON claim_list(outcome, closed, since_ms, id);
    CREATE INDEX IF NOT EXISTS claim_list_dos ON claim_list(outcome, closed, dos, id);
    CREATE INDEX IF NOT EXISTS history_releases ON history(kind, at_ms);
    CREATE TABLE IF NOT EXISTS applied(partition INTEGER PRIMARY KEY,
      stream_seq INTEGER NOT NULL, epoch INTEGER NOT NULL);
  )");
  exec((std::string("CREATE TABLE IF NOT EXISTS outbox") + outbox_columns +
        "; CREATE INDEX IF NOT EXISTS outbox_due ON outbox(state, next_ms);")
           .c_str());
  // The stream partition of the message that last wrote a claim or facts row (a cluster
  // worker's; NULL on a single server, and in rows written before the column existed): what a
  // partition's snapshot selects by, through an index, instead of reading every row.
  for (const char* table : {"claims", "facts"}) {
    statement columns(db_, std::string("PRAGMA table_info(") + table + ")");
    bool has_part = false;
    while (columns.step()) has_part = has_part || columns.text(1) == "part";
    if (!has_part) exec((std::string("ALTER TABLE ") + table + " ADD COLUMN part INTEGER").c_str());
  }
  exec(R"(
    CREATE INDEX IF NOT EXISTS claims_part ON claims(part, seq);
    CREATE INDEX IF NOT EXISTS facts_part ON facts(part, seq);
  )");
  // Rows of no patient a partition's message wrote before they were filed as every
  // partition's (shared_part): filed so now. A range per type ("Type/" up to "Type0", '0'
  // following '/') reads the primary key's index, not the table.
  std::string of_no_patient;
  for (const auto type : model::types_of_no_patient) {
    of_no_patient.append(of_no_patient.empty() ? "(" : " OR ")
        .append("(resource >= '")
        .append(type)
        .append("/' AND resource < '")
        .append(type)
        .append("0')");
  }
  exec(("UPDATE facts SET part = " + std::to_string(shared_part) + " WHERE " + of_no_patient +
        ") AND part IS NOT NULL AND part <> " + std::to_string(shared_part))
           .c_str());
  if (path_ != ":memory:" && sqlite3_open_v2(path_.c_str(), &checkpointer_, SQLITE_OPEN_READWRITE,
                                             paced_writeback_vfs()) != SQLITE_OK) {
    const std::string message = checkpointer_ ? sqlite3_errmsg(checkpointer_) : "out of memory";
    throw store_error("cannot open a second connection: " + message);
  }
  if (checkpointer_ != nullptr) {
    sqlite3_busy_handler(checkpointer_, retry_soon<1000>, nullptr);
    sqlite3_extended_result_codes(checkpointer_, 1);  // checkpoint() tells a failed sync apart
    // A connection learns that the file is in WAL mode when it first reads it.
    sqlite3_exec(checkpointer_, "PRAGMA journal_mode=WAL", nullptr, nullptr, nullptr);
  }
  number_outbox_items_once();
  count_outbox_states();  // after: a rebuild of the outbox drops its triggers
  // Before read_counters(), whose fill_claim_list() writes list rows under the claims' keys.
  if (counter("claim_keys", 0) == 0) {
    exec("BEGIN");
    try {
      key_claims_by_billing_provider();
      set_counter("claim_keys", 1);
      exec("COMMIT");
    } catch (...) {
      exec("ROLLBACK");
      throw;
    }
  }
  read_counters();
}

sqlite_store::sqlite_store(const std::filesystem::path& directory, read_only_t) {
  if (directory.empty() || directory == ":memory:") {
    throw store_error("an in-memory store has no second connection");
  }
  path_ = directory / "covgate.db";
  read_only_ = true;
  open(SQLITE_OPEN_READONLY);
  closing_on_failure([&] {
    exec("PRAGMA query_only=1");
    read_counters();
  });
}

std::uint64_t sqlite_store::claim_writes() const {
  if (!read_only_) return claim_writes_;
  auto& s = prepared("PRAGMA data_version");
  reset_on_exit guard{[&] { s.reset(); }};
  s.step();
  return static_cast<std::uint64_t>(s.integer(0));
}

void sqlite_store::open(int flags, const char* vfs) {
  if (sqlite3_open_v2(path_.c_str(), &db_, flags, vfs) != SQLITE_OK) {
    const std::string message = db_ ? sqlite3_errmsg(db_) : "out of memory";
    sqlite3_close(db_);
    db_ = nullptr;
    throw store_error("cannot open " + path_.string() + ": " + message);
  }
  sqlite3_busy_handler(db_, retry_soon<5000>, nullptr);
}

void sqlite_store::read_counters() {
  auto& max_seq = prepared("SELECT COALESCE(MAX(seq), 0) FROM claims");
  max_seq.step();
  next_seq_ = max_seq.integer(0) + 1;
  max_seq.reset();
  count_journal();
  fill_claim_list();
  auto& max_fact_seq = prepared("SELECT COALESCE(MAX(seq), 0) FROM facts");
  max_fact_seq.step();
  next_fact_seq_ = max_fact_seq.integer(0) + 1;
  max_fact_seq.reset();
}

sqlite_store::~sqlite_store() {
  statements_.clear();  // finalize before closing
  if (checkpointer_ != nullptr && !checkpoints_stopped_.load(std::memory_order_acquire) &&
      sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, SQLITE_CHECKPOINT_PASSIVE, nullptr,
                                nullptr) == SQLITE_IOERR_FSYNC) {
    checkpoints_stopped_.store(true, std::memory_order_release);
  }
  if (checkpoints_stopped_.load(std::memory_order_acquire)) {
    // The last connection to close would copy the WAL and sync (checkpoint() says why not).
    sqlite3_db_config(db_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    if (checkpointer_ != nullptr) {
      sqlite3_db_config(checkpointer_, SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    }
  }
  close_connections();
}

void sqlite_store::close_connections() noexcept {
  statements_.clear();  // finalized first: a connection with statements left does not close
  sqlite3_close(checkpointer_);
  checkpointer_ = nullptr;
  sqlite3_close(db_);
  db_ = nullptr;
  // After the connections: closing a descriptor of the database file drops the process's
  // locks on it (see sync()).
  if (synced_fd_ >= 0) ::close(synced_fd_);
  synced_fd_ = -1;
  if (writeback_fd_ >= 0) ::close(writeback_fd_);
  writeback_fd_ = -1;
}

std::optional<std::string> sqlite_store::checkpoint(int restart_past_frames) {
  if (checkpointer_ == nullptr || checkpoints_stopped_.load(std::memory_order_acquire)) {
    return std::nullopt;
  }
  // Linux reports a failed writeback once per open file: after a sync that failed, the next
  // one on this connection's file succeeds, and a checkpoint would let the WAL start over
  // without the pages that were lost. So after a failed sync no checkpoint runs again in this
  // process (nor the one on close); the WAL keeps every commit, and the next start's recovery
  // copies them all again. Any other failure (a full disk, say) leaves the copy due, as busy
  // does: nothing was marked copied that did not reach the file.
  const auto stop = [this](const std::string& what, int system_errno) {
    checkpoints_stopped_.store(true, std::memory_order_release);
    throw store_error(what + " (" + std::system_category().message(system_errno) +
                      "); no checkpoint runs again until a restart");
  };
  std::optional<std::string> due;  // why a copy failed, to be tried again
  const auto run = [&](int mode, int* frames, int* copied) {
    const int rc = sqlite3_wal_checkpoint_v2(checkpointer_, nullptr, mode, frames, copied);
    if (rc == SQLITE_IOERR_FSYNC) {  // extended codes are on for this connection
      // The pacing shim's writeback or SQLite's own sync: the shim keeps what it saw.
      if (const int failed = writeback_errno(checkpointer_); failed != 0) {
        stop("cannot write the database file's pages back during a checkpoint", failed);
      }
      stop("a checkpoint could not sync the WAL or the database file",
           sqlite3_system_errno(checkpointer_));
    }
    if (rc != SQLITE_OK && (rc & 0xff) != SQLITE_BUSY) {
      due = std::string("a checkpoint failed and is due again: ") + sqlite3_errmsg(checkpointer_);
    }
    return rc == SQLITE_OK;
  };
  // PASSIVE: copies what it can without waiting for (or blocking) the writer. The WAL file
  // only starts over once everything in it was copied; under steady load that moment rarely
  // comes by itself, so past a size a RESTART waits for the writer's current transaction,
  // copies the little that is left and makes the next transaction start the WAL over.
  int frames = 0;
  int copied = 0;
  // The PASSIVE copy's pages are written back as it goes (paced_writeback_vfs.hpp), not left
  // for the sync before the RESTART, which every commit's WAL sync would wait behind.
  paced_copy paced(checkpointer_, writeback_fd_);
  const bool passive_ran = run(SQLITE_CHECKPOINT_PASSIVE, &frames, &copied);
  if (paced.finish() == SQLITE_IOERR_FSYNC) {
    stop("cannot write the database file's pages back after a checkpoint",
         writeback_errno(checkpointer_));
  }
  if (!passive_ran || frames < restart_past_frames || copied != frames) return due;
  // A PASSIVE copy that does not reach the WAL's end (under load it never does) leaves the
  // pages it wrote to the database file unsynced; the RESTART syncs them all while it holds
  // the writer's lock (serve's writer waited up to 31 ms for it, measured). Synced here
  // first, off the writer's path, the RESTART syncs only its own few. Through SQLite's own
  // handle: a descriptor opened and closed by path would drop the process's locks on the file.
  sqlite3_file* file = nullptr;
  if (sqlite3_file_control(checkpointer_, "main", SQLITE_FCNTL_FILE_POINTER, &file) == SQLITE_OK &&
      file != nullptr && file->pMethods != nullptr &&
      file->pMethods->xSync(file, SQLITE_SYNC_NORMAL) != SQLITE_OK) {
    int system_errno = 0;
    sqlite3_file_control(checkpointer_, "main", SQLITE_FCNTL_LAST_ERRNO, &system_errno);
    stop("cannot sync the database file after a checkpoint", system_errno);
  }
  run(SQLITE_CHECKPOINT_RESTART, nullptr, nullptr);
  return due;
}

void sqlite_store::exec(const char* sql) {
  char* error = nullptr;
  if (sqlite3_exec(db_, sql, nullptr, nullptr, &error) != SQLITE_OK) {
    const std::string message = error ? error : "unknown error";
    sqlite3_free(error);
    throw store_error("sqlite: " + message);
  }
}

sqlite_store::statement& sqlite_store::prepared(std::string_view sql) const {
  for (auto& [text, s] : statements_) {
    if (text == sql) return *s;
  }
  statements_.emplace_back(std::string(sql), std::make_unique<statement>(db_, sql));
  return *statements_.back().second;
}

apply_verdict sqlite_store::record_applied(std::uint32_t partition, std::uint64_t stream_seq,
                                           std::uint64_t epoch) {
  if (sqlite3_get_autocommit(db_)) {
    throw store_error(
        "record_applied outside a transaction: the position must commit with "
        "the state change");
  }
  constexpr auto max = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());
  if (stream_seq > max || epoch > max) {
    throw store_error("record_applied: a stream sequence or epoch beyond 2^63 - 1");
  }
  if (const auto at = applied(partition)) {
    if (epoch < at->epoch) return apply_verdict::stale_epoch;
    if (stream_seq <= at->stream_seq) return apply_verdict::already_applied;
  }
  auto& s = prepared(
      "INSERT INTO applied(partition, stream_seq, epoch) VALUES(?1, ?2, ?3) "
      "ON CONFLICT(partition) DO UPDATE SET stream_seq = excluded.stream_seq, "
      "epoch = excluded.epoch");
  s.bind(1, static_cast<std::int64_t>(partition))
      .bind(2, static_cast<std::int64_t>(stream_seq))
      .bind(3, static_cast<std::int64_t>(epoch));
  s.run();
  return apply_verdict::apply;
}

std::optional<applied_position> sqlite_store::applied(std::uint32_t partition) const {
  auto& s = prepared("SELECT stream_seq, epoch FROM applied WHERE partition = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, static_cast<std::int64_t>(partition));
  if (!s.step()) return std::nullopt;
  return applied_position{static_cast<std::uint64_t>(s.integer(0)),
                          static_cast<std::uint64_t>(s.integer(1))};
}

void sqlite_store::bind_partition(statement& s, int at) const {
  if (writing_partition_) {
    s.bind(at, static_cast<std::int64_t>(*writing_partition_));
  } else {
    s.null(at);
  }
}

void sqlite_store::begin() { exec("BEGIN IMMEDIATE"); }
void sqlite_store::commit() { exec("COMMIT"); }

void sqlite_store::pace_checkpoints() {
  if (checkpointer_ == nullptr || writeback_fd_ >= 0) return;
  // Kept until the connections are closed (close_connections): closing a descriptor of the
  // database file would drop the process's locks on it. None (it did not open): not paced.
  writeback_fd_ = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC);
}

void sqlite_store::defer_sync() {
  if (path_ == ":memory:" || read_only_) return;
  exec("PRAGMA synchronous=NORMAL");
  sync_deferred_ = true;
  const std::lock_guard lock(sync_mutex_);
  open_synced_file();  // before any thread checkpoints: see sync()
}

void sqlite_store::open_synced_file() {
  if (synced_fd_ >= 0) return;
  auto wal = path_;
  wal += "-wal";
  synced_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
  synced_name_ = wal.filename().string();
  if (synced_fd_ < 0 && errno == ENOENT) {
    if (const int database = ::open(path_.c_str(), O_RDONLY | O_CLOEXEC); database >= 0) {
      synced_fd_ = database;
      synced_name_ = path_.filename().string();
    } else {
      errno = ENOENT;  // said of the WAL
    }
  }
}

namespace {

// fsync of the directory at `path`. False with errno set when it could not be opened or synced.
bool sync_directory(const std::filesystem::path& path) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_DIRECTORY);
  if (fd < 0) return false;
  const bool synced = ::fsync(fd) == 0;
  const int saved = errno;
  ::close(fd);
  errno = saved;
  return synced;
}

}  // namespace

void sqlite_store::sync() {
  if (path_ == ":memory:" || read_only_) return;
  const std::lock_guard lock(sync_mutex_);
  // The WAL through one descriptor kept from defer_sync() on, not one opened per call:
  // Linux reports a failed writeback once to each open file, and a descriptor opened after
  // another one (the checkpointer's, which syncs the WAL before copying it) was told would
  // never hear of it. SQLite keeps the file while any of its connections is open, as this
  // store's are until its destructor (it deletes the WAL when the last one closes). No WAL at
  // the first call: a store SQLite could not put in WAL mode, whose commits are in the
  // database file (kept open until the connections are closed: closing a descriptor of it
  // would drop their locks).
  open_synced_file();  // opened by defer_sync(); again here if that failed
  const auto failed = [&](const std::string& what) {
    throw store_error("cannot sync " + synced_name_ + ": " + what);
  };
  if (synced_fd_ < 0) failed(std::system_category().message(errno));
  struct stat status {};
  if (::fstat(synced_fd_, &status) != 0) failed(std::system_category().message(errno));
  if (status.st_nlink == 0) failed("the file was removed");  // what it holds is nobody's now
  if (::fdatasync(synced_fd_) != 0) failed(std::system_category().message(errno));
  if (!directory_synced_.load(std::memory_order_acquire)) {
    if (!sync_directory(path_.parent_path().empty() ? "." : path_.parent_path())) {
      throw store_error("cannot sync the store's directory: " +
                        std::system_category().message(errno));
    }
    directory_synced_.store(true, std::memory_order_release);
  }
}

void sqlite_store::rollback() {
  if (sqlite3_get_autocommit(db_)) return;
  exec("ROLLBACK");
  count_journal();  // rare (a failure, a test): count again rather than track undo
}

void sqlite_store::count_journal() {
  // Ids are never reused, even after retention emptied the journal: claims' sources and
  // Location headers name them. The next id survives a restart in the meta table.
  auto& last = prepared("SELECT COALESCE(MAX(id), 0) FROM journal");
  {
    reset_on_exit guard{[&] { last.reset(); }};
    last.step();
    next_journal_id_ = std::max(last.integer(0) + 1, counter("journal_next", 1));
  }
  auto& total = prepared("SELECT COALESCE(SUM(bytes), 0) FROM journal");
  reset_on_exit guard{[&] { total.reset(); }};
  total.step();
  journal_bytes_ = static_cast<std::uint64_t>(total.integer(0));
}

std::optional<engine::claim_record> sqlite_store::load(std::string_view claim_key) const {
  auto& s =
      prepared("SELECT claim, decision, source, closed, csii, events FROM claims WHERE id = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, claim_key);
  if (!s.step()) return std::nullopt;
  auto claim = model::decode_claim(s.text(0));
  auto decision = model::decode_decision(s.text(1));
  if (!claim || !decision) {
    throw store_error(
        "the stored record of a claim does not decode (store written by a newer "
        "covgate, or damaged)");
  }
  return engine::claim_record{std::move(*claim),      std::move(*decision),
                              std::string(s.text(2)), s.integer(3) != 0,
                              s.integer(4) != 0,      static_cast<std::uint32_t>(s.integer(5))};
}

void sqlite_store::save(const engine::claim_record_view& record) {
  std::string claim;
  model::encode(record.claim, claim);
  std::string decision;
  model::encode(record.decision, decision);
  auto& s = prepared(
      "INSERT INTO claims(id, seq, patient, outcome, closed, csii, events, source, claim, "
      "decision, part) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
      "ON CONFLICT(id) DO UPDATE SET patient = excluded.patient, outcome = excluded.outcome, "
      "closed = excluded.closed, csii = excluded.csii, events = excluded.events, "
      "source = excluded.source, claim = excluded.claim, decision = excluded.decision, "
      "part = excluded.part");
  reset_on_exit guard{[&] { s.reset(); }};
  const auto key = model::claim_key(record.claim);
  s.bind(1, key)
      .bind(2, next_seq_)
      .bind(3, record.claim.subscriber.member_id)
      .bind(4, static_cast<std::int64_t>(record.decision.result))
      .bind(5, std::int64_t{record.closed})
      .bind(6, std::int64_t{record.csii_released})
      .bind(7, std::int64_t{record.events})
      .bind(8, record.source)
      .blob(9, claim)
      .blob(10, decision);
  bind_partition(s, 11);
  s.step();
  ++next_seq_;
  save_row(record);
}

std::vector<engine::claim_summary> sqlite_store::claims_of(std::string_view patient) const {
  auto& s =
      prepared("SELECT id, outcome, closed, csii FROM claims WHERE patient = ?1 ORDER BY seq");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, patient);
  std::vector<engine::claim_summary> out;
  while (s.step()) {
    out.push_back({std::string(s.text(0)), static_cast<model::outcome>(s.integer(1)),
                   s.integer(2) != 0, s.integer(3) != 0});
  }
  return out;
}

std::size_t sqlite_store::size() const {
  auto& s = prepared("SELECT COUNT(*) FROM claims");
  reset_on_exit guard{[&] { s.reset(); }};
  s.step();
  return static_cast<std::size_t>(s.integer(0));
}

std::vector<engine::claim_summary> sqlite_store::open_claims_of(std::string_view patient,
                                                                bool released_too) const {
  // outcome 1 is hold:documentation, 0 release (model::outcome's order).
  auto& s = prepared(
      "SELECT id, outcome, closed, csii FROM claims WHERE patient = ?1 AND closed = 0 AND "
      "outcome IN (1, ?2) ORDER BY seq");
  static_assert(static_cast<int>(model::outcome::hold_documentation) == 1);
  static_assert(static_cast<int>(model::outcome::release) == 0);
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, patient).bind(2, std::int64_t{released_too ? 0 : 1});
  std::vector<engine::claim_summary> out;
  while (s.step()) {
    out.push_back({std::string(s.text(0)), static_cast<model::outcome>(s.integer(1)),
                   s.integer(2) != 0, s.integer(3) != 0});
  }
  return out;
}

bool sqlite_store::csii_released_other_than(std::string_view patient,
                                            std::string_view claim_key) const {
  auto& s =
      prepared("SELECT EXISTS(SELECT 1 FROM claims WHERE patient = ?1 AND csii = 1 AND id <> ?2)");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, patient).bind(2, claim_key);
  s.step();
  return s.integer(0) != 0;
}

void sqlite_store::for_each_open_decision(
    const std::function<void(const model::decision&)>& visit) const {
  auto& s = prepared("SELECT decision FROM claims WHERE closed = 0");
  reset_on_exit guard{[&] { s.reset(); }};
  while (s.step()) {
    auto d = model::decode_decision(s.text(0));
    if (!d) {
      throw store_error(
          "the stored decision of a claim does not decode (store written by a newer covgate, "
          "or damaged)");
    }
    visit(*d);
  }
}

std::int64_t sqlite_store::journal(const journal_entry& e) {
  auto& s = prepared(
      "INSERT INTO journal(received_ms, channel, sender, kind, bytes, body, id, received_bytes, "
      "digest) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)");
  {
    reset_on_exit guard{[&] { s.reset(); }};
    s.bind(7, next_journal_id_);
    s.bind(1, e.received_ms)
        .bind(2, e.channel)
        .bind(3, e.sender)
        .bind(4, e.kind)
        .bind(5, static_cast<std::int64_t>(e.body.size()))
        .blob(6, e.body)
        .bind(8, static_cast<std::int64_t>(e.received_bytes ? e.received_bytes : e.body.size()))
        .bind(9, e.digest);
    s.step();
  }
  journal_bytes_ += e.body.size();
  const auto id = next_journal_id_++;
  if (journal_limit_ > 0 && journal_bytes_ > journal_limit_) {
    set_counter("journal_next", next_journal_id_);  // the journal may be emptied below
    prune_journal_bytes(journal_limit_, id);
  }
  return id;
}

void sqlite_store::for_each_journal(std::string_view kind,
                                    const std::function<void(const journal_entry&)>& visit) const {
  auto& s = prepared(
      "SELECT id, received_ms, channel, sender, kind, body, received_bytes, digest FROM journal "
      "WHERE kind = ?1 ORDER BY id");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, kind);
  while (s.step()) {
    visit({s.integer(0), s.integer(1), std::string(s.text(2)), std::string(s.text(3)),
           std::string(s.text(4)), std::string(s.text(5)), static_cast<std::uint64_t>(s.integer(6)),
           std::string(s.text(7))});
  }
}

// Rows are appended in id order with non-decreasing receipt times, so what retention removes
// is always a prefix of the table: each step finds where that prefix ends by reading the
// prefix only (no index on receipt time, no scan of what stays).
std::uint64_t sqlite_store::delete_journal_before(std::int64_t end_id) {
  auto& sum = prepared("SELECT COUNT(*), COALESCE(SUM(bytes), 0) FROM journal WHERE id < ?1");
  std::uint64_t rows = 0;
  {
    reset_on_exit guard{[&] { sum.reset(); }};
    sum.bind(1, end_id);
    sum.step();
    rows = static_cast<std::uint64_t>(sum.integer(0));
    journal_bytes_ -= std::min(journal_bytes_, static_cast<std::uint64_t>(sum.integer(1)));
  }
  auto& erase = prepared("DELETE FROM journal WHERE id < ?1");
  erase.bind(1, end_id);
  erase.run();
  journal_rows_pruned_ += rows;
  return rows;
}

std::uint64_t sqlite_store::prune_journal_bytes(std::uint64_t max_bytes, std::int64_t before_id) {
  if (journal_bytes_ <= max_bytes) return 0;
  // The oldest rows whose bytes are still needed to get under the limit.
  const auto excess = journal_bytes_ - max_bytes;
  auto& oldest = prepared("SELECT id, bytes FROM journal WHERE id < ?1 ORDER BY id");
  std::int64_t end_id = 0;
  {
    reset_on_exit guard{[&] { oldest.reset(); }};
    oldest.bind(1, before_id);
    std::uint64_t freed = 0;
    while (freed < excess && oldest.step()) {
      end_id = oldest.integer(0) + 1;
      freed += static_cast<std::uint64_t>(oldest.integer(1));
    }
  }
  return end_id > 0 ? delete_journal_before(end_id) : 0;
}

std::uint64_t sqlite_store::prune_journal(std::int64_t now_ms, std::chrono::milliseconds max_age,
                                          std::uint64_t max_bytes) {
  const auto cutoff = now_ms - max_age.count();
  std::uint64_t rows = 0;
  set_counter("journal_next", next_journal_id_);  // the journal may be emptied below
  {
    auto& first_kept = prepared(
        "SELECT COALESCE((SELECT id FROM journal WHERE received_ms >= ?1 ORDER BY id LIMIT 1), "
        "(SELECT COALESCE(MAX(id), 0) + 1 FROM journal))");
    std::int64_t end_id = 0;
    {
      reset_on_exit guard{[&] { first_kept.reset(); }};
      first_kept.bind(1, cutoff);
      first_kept.step();
      end_id = first_kept.integer(0);
    }
    rows += delete_journal_before(end_id);
  }
  rows += prune_journal_bytes(max_bytes, next_journal_id_);
  {
    // A control number older than the journal's window may come back: ISA13s wrap.
    auto& erase = prepared(
        "DELETE FROM interchanges WHERE rowid < COALESCE((SELECT rowid FROM interchanges WHERE "
        "received_ms >= ?1 ORDER BY rowid LIMIT 1), (SELECT COALESCE(MAX(rowid), 0) + 1 FROM "
        "interchanges))");
    erase.bind(1, cutoff);
    erase.run();
  }
  return rows;
}

std::uint64_t sqlite_store::journal_bytes() const { return journal_bytes_; }

void sqlite_store::save_facts(std::string_view resource, std::string_view last_updated,
                              std::string_view encoded) {
  // The WHERE clause is model::older_version, negated: keep the stored row only when both
  // versions carry meta.lastUpdated and the arriving one sorts first.
  auto& s = prepared(
      "INSERT INTO facts(resource, seq, updated, body, part) VALUES(?1, ?2, ?3, ?4, ?5) "
      "ON CONFLICT(resource) DO UPDATE SET seq = excluded.seq, updated = excluded.updated, "
      "body = excluded.body, part = excluded.part WHERE excluded.updated = '' OR "
      "facts.updated = '' OR excluded.updated >= facts.updated");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, resource).bind(2, next_fact_seq_).bind(3, last_updated).blob(4, encoded);
  if (writing_partition_ && model::names_no_patient(resource)) {
    s.bind(5, static_cast<std::int64_t>(shared_part));
  } else {
    bind_partition(s, 5);
  }
  s.step();
  ++next_fact_seq_;
}

void sqlite_store::for_each_facts(const std::function<void(std::string_view)>& visit) const {
  auto& s = prepared("SELECT body FROM facts ORDER BY seq");
  reset_on_exit guard{[&] { s.reset(); }};
  while (s.step()) visit(s.text(0));
}

std::optional<engine::interchange_answer> sqlite_store::interchange(
    std::string_view sender_control) const {
  auto& s = prepared("SELECT answer, rejected, claims, digest FROM interchanges WHERE key = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, sender_control);
  if (!s.step()) return std::nullopt;
  return engine::interchange_answer{std::string(s.text(0)), s.integer(1) != 0,
                                    static_cast<std::uint32_t>(s.integer(2)),
                                    static_cast<std::uint64_t>(s.integer(3))};
}

void sqlite_store::remember_interchange(std::string_view sender_control, std::int64_t received_ms,
                                        engine::interchange_answer row) {
  auto& s = prepared(
      "INSERT OR REPLACE INTO interchanges(key, received_ms, rejected, claims, digest, answer) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6)");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, sender_control)
      .bind(2, received_ms)
      .bind(3, std::int64_t{row.rejected})
      .bind(4, std::int64_t{row.claims})
      .bind(5, static_cast<std::int64_t>(row.message_digest))
      .blob(6, row.body);
  s.step();
}

void sqlite_store::record_history(std::string_view claim_key, const engine::history_entry& e) {
  std::string decision;
  model::encode(e.decision, decision);
  auto& s = prepared(
      "INSERT OR REPLACE INTO history(claim_id, seq, kind, at_ms, source, note, decision) "
      "VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, claim_key)
      .bind(2, std::int64_t{e.sequence})
      .bind(3, e.kind)
      .bind(4, e.at_ms)
      .bind(5, e.source)
      .bind(6, e.note)
      .blob(7, decision);
  s.step();
  // The list row: its current outcome began with this event.
  auto& row = prepared(
      "UPDATE claim_list SET since_ms = ?2, updated_ms = ?2, held = (held OR ?3) WHERE id = ?1");
  reset_on_exit row_guard{[&] { row.reset(); }};
  row.bind(1, claim_key)
      .bind(2, e.at_ms)
      .bind(3, std::int64_t{e.kind == "hold" || e.kind == "reopened"});
  row.step();
  ++claim_writes_;
}

std::vector<engine::history_entry> sqlite_store::history(std::string_view claim_key) const {
  auto& s = prepared(
      "SELECT seq, kind, at_ms, source, note, decision FROM history WHERE claim_id = ?1 "
      "ORDER BY seq, at_ms");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, claim_key);
  std::vector<engine::history_entry> out;
  while (s.step()) {
    auto decision = model::decode_decision(s.text(5));
    if (!decision) {
      throw store_error(
          "a stored history entry does not decode (store written by a newer covgate, or "
          "damaged)");
    }
    out.push_back({static_cast<std::uint32_t>(s.integer(0)), std::string(s.text(1)), s.integer(2),
                   std::move(*decision), std::string(s.text(3)), std::string(s.text(4))});
  }
  return out;
}

std::vector<engine::claim_summary> sqlite_store::claims_with(model::outcome result,
                                                             std::string_view after_id,
                                                             std::size_t limit) const {
  auto& s = prepared(
      "SELECT id, outcome, closed, csii FROM claims WHERE outcome = ?1 AND closed = 0 "
      "AND id > ?2 ORDER BY id LIMIT ?3");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, static_cast<std::int64_t>(result))
      .bind(2, after_id)
      .bind(3, static_cast<std::int64_t>(limit));
  std::vector<engine::claim_summary> out;
  while (s.step()) {
    out.push_back({std::string(s.text(0)), static_cast<model::outcome>(s.integer(1)),
                   s.integer(2) != 0, s.integer(3) != 0});
  }
  return out;
}

std::int64_t sqlite_store::enqueue(const outbox_item& item, std::int64_t now_ms) {
  auto& s = prepared(
      "INSERT OR IGNORE INTO outbox(key, destination, content_type, body, next_ms) "
      "VALUES(?1, ?2, ?3, ?4, ?5)");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, item.key)
      .bind(2, std::int64_t{item.destination})
      .bind(3, item.content_type)
      .blob(4, item.body)
      .bind(5, now_ms);
  s.step();
  return sqlite3_changes(db_) > 0 ? sqlite3_last_insert_rowid(db_) : 0;
}

std::vector<outbox_item> sqlite_store::due(std::int64_t now_ms, std::size_t limit) const {
  auto& s = prepared(
      "SELECT id, key, destination, content_type, body, attempts FROM outbox "
      "WHERE state = 'pending' AND next_ms <= ?1 AND destination <> ?3 ORDER BY id LIMIT ?2");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, now_ms)
      .bind(2, static_cast<std::int64_t>(limit))
      .bind(3, std::int64_t{host_destination});
  std::vector<outbox_item> out;
  while (s.step()) {
    out.push_back({s.integer(0), std::string(s.text(1)), static_cast<std::uint32_t>(s.integer(2)),
                   std::string(s.text(3)), std::string(s.text(4)),
                   static_cast<std::uint32_t>(s.integer(5))});
  }
  return out;
}

std::vector<outbox_item> sqlite_store::pending(std::uint32_t destination, std::int64_t after_id,
                                               std::size_t limit) const {
  auto& s = prepared(
      "SELECT id, key, destination, content_type, body, attempts FROM outbox "
      "WHERE id > ?1 AND destination = ?2 AND state = 'pending' ORDER BY id LIMIT ?3");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, after_id).bind(2, std::int64_t{destination}).bind(3, static_cast<std::int64_t>(limit));
  std::vector<outbox_item> out;
  while (s.step()) {
    out.push_back({s.integer(0), std::string(s.text(1)), static_cast<std::uint32_t>(s.integer(2)),
                   std::string(s.text(3)), std::string(s.text(4)),
                   static_cast<std::uint32_t>(s.integer(5))});
  }
  return out;
}

bool sqlite_store::remove(std::int64_t id, std::uint32_t destination) {
  auto& s = prepared("DELETE FROM outbox WHERE id = ?1 AND destination = ?2");
  s.bind(1, id).bind(2, std::int64_t{destination});
  s.run();
  return sqlite3_changes(db_) > 0;
}

void sqlite_store::delivered(std::int64_t id, std::int64_t at_ms) {
  // next_ms, unused once delivered, keeps the delivery's time for retention (outbox_due
  // indexes it under the state, so retention finds what to delete without a scan).
  auto& s = prepared(
      "UPDATE outbox SET state = 'delivered', attempts = attempts + 1, next_ms = ?2 WHERE id = ?1");
  s.bind(1, id).bind(2, at_ms);
  s.run();
}

std::uint64_t sqlite_store::prune_delivered(std::int64_t before_ms, std::size_t limit) {
  auto& s = prepared(
      "DELETE FROM outbox WHERE id IN (SELECT id FROM outbox WHERE state = 'delivered' AND "
      "next_ms < ?1 ORDER BY next_ms LIMIT ?2)");
  s.bind(1, before_ms).bind(2, static_cast<std::int64_t>(limit));
  s.run();
  return static_cast<std::uint64_t>(sqlite3_changes(db_));
}

void sqlite_store::failed(std::int64_t id, std::int64_t next_ms, bool dead,
                          std::string_view error) {
  auto& s = prepared(
      "UPDATE outbox SET attempts = attempts + 1, next_ms = ?2, state = ?3, last_error = ?4 "
      "WHERE id = ?1");
  s.bind(1, id).bind(2, next_ms).bind(3, dead ? "dead" : "pending").bind(4, error);
  s.run();
}

outbox_counts sqlite_store::outbox() const {
  auto& s = prepared(std::string(outbox_count_query));
  reset_on_exit guard{[&] { s.reset(); }};
  outbox_counts c;
  while (s.step()) {
    const auto item_state = s.text(0);
    const auto n = static_cast<std::uint64_t>(s.integer(1));
    if (item_state == "pending") c.pending = n;
    if (item_state == "delivered") c.delivered = n;
    if (item_state == "dead") c.dead = n;
  }
  return c;
}

std::optional<std::int64_t> sqlite_store::next_due() const {
  auto& s =
      prepared("SELECT MIN(next_ms) FROM outbox WHERE state = 'pending' AND destination <> ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, std::int64_t{host_destination});
  s.step();
  if (s.text(0).empty()) return std::nullopt;  // MIN over no rows is NULL
  return s.integer(0);
}

std::vector<outbox_entry> sqlite_store::outbox_entries(std::string_view wanted,
                                                       std::int64_t after_id,
                                                       std::size_t limit) const {
  auto& s = prepared(
      "SELECT id, key, destination, attempts, state, last_error, next_ms FROM outbox "
      "WHERE (?1 = '' OR state = ?1) AND id > ?2 ORDER BY id LIMIT ?3");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, wanted).bind(2, after_id).bind(3, static_cast<std::int64_t>(limit));
  std::vector<outbox_entry> out;
  while (s.step()) {
    out.push_back({s.integer(0), std::string(s.text(1)), static_cast<std::uint32_t>(s.integer(2)),
                   static_cast<std::uint32_t>(s.integer(3)), std::string(s.text(4)),
                   std::string(s.text(5)), s.integer(6)});
  }
  return out;
}

std::optional<outbox_entry> sqlite_store::outbox_entry_of(std::int64_t id) const {
  auto& s = prepared(
      "SELECT id, key, destination, attempts, state, last_error, next_ms FROM outbox "
      "WHERE id = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return outbox_entry{s.integer(0),
                      std::string(s.text(1)),
                      static_cast<std::uint32_t>(s.integer(2)),
                      static_cast<std::uint32_t>(s.integer(3)),
                      std::string(s.text(4)),
                      std::string(s.text(5)),
                      s.integer(6)};
}

retry_result sqlite_store::retry(std::int64_t id, std::int64_t now_ms) {
  const auto entry = outbox_entry_of(id);
  if (!entry) return retry_result::unknown;
  if (entry->state == "delivered") return retry_result::delivered;
  auto& s =
      prepared("UPDATE outbox SET state = 'pending', attempts = 0, next_ms = ?2 WHERE id = ?1");
  s.bind(1, id).bind(2, now_ms);
  s.run();
  return retry_result::retried;
}

std::optional<std::int64_t> sqlite_store::oldest_hold_ms() const {
  // The held outcomes oldest_hold_query lists.
  static_assert(std::size(model::outcomes) == 5 && model::outcomes[0] == model::outcome::release &&
                    static_cast<int>(model::outcome::hold_documentation) == 1 &&
                    static_cast<int>(model::outcome::hold_invalid) == 4,
                "oldest_hold_query lists the held outcomes 1 to 4");
  auto& s = prepared(std::string(oldest_hold_query));
  reset_on_exit guard{[&] { s.reset(); }};
  s.step();
  if (s.text(0).empty()) return std::nullopt;  // NULL: no open hold
  return s.integer(0);
}

std::int64_t sqlite_store::counter(std::string_view name, std::int64_t fallback) const {
  auto& s = prepared("SELECT value FROM meta WHERE name = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, name);
  return s.step() ? s.integer(0) : fallback;
}

void sqlite_store::set_counter(std::string_view name, std::int64_t value) {
  auto& s = prepared(
      "INSERT INTO meta(name, value) VALUES(?1, ?2) ON CONFLICT(name) DO UPDATE SET value = "
      "excluded.value");
  s.bind(1, name).bind(2, value);
  s.run();
}

std::uint64_t sqlite_store::file_bytes() const {
  std::uint64_t total = 0;
  if (path_ == ":memory:") return 0;
  for (const char* suffix : {"", "-wal", "-shm"}) {
    std::error_code ec;
    const auto n = std::filesystem::file_size(path_.string() + suffix, ec);
    if (!ec) total += n;
  }
  return total;
}

// ---- the worklist's list ---------------------------------------------------------------------

namespace {

std::string name_of(const model::person_name& n) {
  std::string out = n.last;
  if (!n.first.empty()) out += (out.empty() ? "" : ", ") + n.first;
  if (!n.middle.empty()) out += " " + n.middle;
  if (!n.suffix.empty()) out += " " + n.suffix;
  return out;
}

constexpr const char* row_columns =
    "id, outcome, closed, patient, patient_name, dos, reason, reasons, billing, billing_name, "
    "sender, sender_name, charge, since_ms, updated_ms, held, events";

// The column each sort key orders by, and whether its values are numbers.
std::pair<const char*, bool> column_of(claim_sort key) {
  switch (key) {
    case claim_sort::id:
      return {"id", false};
    case claim_sort::patient:
      return {"patient", false};
    case claim_sort::name:
      return {"patient_name", false};
    case claim_sort::dos:
      return {"dos", false};
    case claim_sort::outcome:
      return {"outcome", true};
    case claim_sort::reason:
      return {"reason", false};
    case claim_sort::provider:
      return {"billing_name", false};
    case claim_sort::sender:
      return {"sender_name", false};
    case claim_sort::charge:
      return {"charge", true};
    case claim_sort::since:
      return {"since_ms", true};
    case claim_sort::updated:
      return {"updated_ms", true};
    case claim_sort::events:
      return {"events", true};
  }
  return {"id", false};
}

// "%text%" for LIKE, with LIKE's own wildcards escaped ('\' is the escape).
std::string like_pattern(std::string_view text) {
  std::string out = "%";
  for (const char c : text) {
    if (c == '%' || c == '_' || c == '\\') out += '\\';
    out += c;
  }
  return out + "%";
}

}  // namespace

void sqlite_store::save_row(const engine::claim_record_view& r) {
  const auto& c = r.claim;
  const auto& d = r.decision;
  std::uint64_t mask = 0;
  for (const auto& f : d.findings) mask |= std::uint64_t{1} << static_cast<unsigned>(f.reason);
  auto& s = prepared(
      "INSERT INTO claim_list(id, outcome, closed, patient, patient_name, dos, reason, reasons, "
      "billing, billing_name, sender, sender_name, charge, events) VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
      "?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14) ON CONFLICT(id) DO UPDATE SET outcome = "
      "excluded.outcome, closed = excluded.closed, patient = excluded.patient, patient_name = "
      "excluded.patient_name, dos = excluded.dos, reason = excluded.reason, reasons = "
      "excluded.reasons, billing = excluded.billing, billing_name = excluded.billing_name, "
      "sender = excluded.sender, sender_name = excluded.sender_name, charge = excluded.charge, "
      "events = excluded.events");
  reset_on_exit guard{[&] { s.reset(); }};
  const auto key = model::claim_key(c);
  s.bind(1, key)
      .bind(2, static_cast<std::int64_t>(d.result))
      .bind(3, std::int64_t{r.closed})
      .bind(4, c.subscriber.member_id)
      .bind(5, name_of(c.patient.name.empty() ? c.subscriber.name : c.patient.name))
      .bind(6, d.dos.iso())
      .bind(7, d.findings.empty() ? std::string_view{} : d.findings.front().code())
      .bind(8, static_cast<std::int64_t>(mask))
      .bind(9, c.billing.npi)
      .bind(10, name_of(c.billing.name))
      .bind(11, c.envelope.sender_id)
      .bind(12, name_of(c.envelope.submitter))
      .bind(13, c.total_charge_cents)
      .bind(14, std::int64_t{r.events});
  s.step();
  ++claim_writes_;
}

void sqlite_store::count_outbox_states() {
  // GET /metrics reports the outbox's items by state. Counting them read every item kept
  // (delivered ones stay until retention: millions), at every scrape. Triggers keep the
  // counts as rows come, go and change state, in the writing transaction (a rollback undoes
  // them too), so every connection reads them at once. They are recounted whenever the store
  // is opened for writing (0.08 s a million items), so that nothing the triggers cannot see
  // leaves them wrong for good: an INSERT OR REPLACE into the outbox deletes the row it
  // replaces without firing outbox_removed (so none is used), a hand's fix-up in sqlite3, a
  // rebuild of the table (number_outbox_items_once drops its triggers; created again here).
  exec("BEGIN");
  try {
    exec(R"(
      CREATE TABLE IF NOT EXISTS outbox_states(state TEXT PRIMARY KEY, items INTEGER NOT NULL)
        WITHOUT ROWID;
      DELETE FROM outbox_states;
      INSERT INTO outbox_states(state, items) SELECT state, COUNT(*) FROM outbox GROUP BY state;
      CREATE TRIGGER IF NOT EXISTS outbox_added AFTER INSERT ON outbox BEGIN
        INSERT INTO outbox_states(state, items) VALUES(NEW.state, 1)
          ON CONFLICT(state) DO UPDATE SET items = items + 1;
      END;
      CREATE TRIGGER IF NOT EXISTS outbox_removed AFTER DELETE ON outbox BEGIN
        UPDATE outbox_states SET items = items - 1 WHERE state = OLD.state;
      END;
      CREATE TRIGGER IF NOT EXISTS outbox_moved AFTER UPDATE OF state ON outbox
        WHEN OLD.state IS NOT NEW.state BEGIN
        UPDATE outbox_states SET items = items - 1 WHERE state = OLD.state;
        INSERT INTO outbox_states(state, items) VALUES(NEW.state, 1)
          ON CONFLICT(state) DO UPDATE SET items = items + 1;
      END;
    )");
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void sqlite_store::number_outbox_items_once() {
  // An outbox item's id is what a host acknowledges (covgate_ack) and what GET /outbox pages
  // after. Without AUTOINCREMENT, SQLite numbers a new row max(id) + 1, so the id of the
  // newest item, once acknowledged and deleted, was given to the next one: a host acking it
  // again (a retry) deleted an item it had never seen, and a cursor past it skipped one. A
  // store from before is rebuilt once with the same rows; ids acknowledged before the
  // upgrade above its highest row may still be given once more.
  bool numbered = true;
  {
    statement table(db_, "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'outbox'");
    numbered = !table.step() || table.text(0).find("AUTOINCREMENT") != std::string_view::npos;
  }  // finalized: a table is not dropped under a statement reading the schema
  if (numbered) return;
  exec("BEGIN");
  try {
    exec((std::string("CREATE TABLE outbox_numbered") + outbox_columns + R"(;
      INSERT INTO outbox_numbered(id, key, destination, content_type, body, attempts, next_ms,
        state, last_error)
        SELECT id, key, destination, content_type, body, attempts, next_ms, state, last_error
        FROM outbox;
      DROP TABLE outbox;
      ALTER TABLE outbox_numbered RENAME TO outbox;
      CREATE INDEX outbox_due ON outbox(state, next_ms);
    )")
             .c_str());
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void sqlite_store::key_claims_by_billing_provider() {
  // A row keyed by CLM01 alone whose claim names a billing NPI was written before claims
  // were keyed by both (model/claim_key.hpp): its key, its history's and its list row's
  // become the claim's key, so that the same provider's replacement or void finds it. The
  // claim itself says its key (a list row may be missing); a row keyed by CLM01 whose claim
  // has no NPI is keyed so still. A key that is already another row's is left alone: two
  // copies of one claim are then both found by the CLM01, and answered as ambiguous.
  exec(R"(
    CREATE TEMP TABLE IF NOT EXISTS rekeyed(old TEXT PRIMARY KEY, new TEXT NOT NULL);
    DELETE FROM rekeyed;
  )");
  {
    statement old_rows(db_, "SELECT id, claim FROM claims WHERE instr(id, char(31)) = 0");
    statement taken(db_, "SELECT EXISTS(SELECT 1 FROM claims WHERE id = ?1)");
    statement note(db_, "INSERT INTO rekeyed(old, new) VALUES(?1, ?2)");
    while (old_rows.step()) {
      const auto claim = model::decode_claim(old_rows.text(1));
      if (!claim) {
        throw store_error(
            "the stored record of a claim does not decode (store written by a newer covgate, or "
            "damaged)");
      }
      const std::string old_key(old_rows.text(0));
      const auto key = model::claim_key(*claim);
      if (key == old_key) continue;
      taken.bind(1, key);
      const bool exists = taken.step() && taken.integer(0) != 0;
      taken.reset();
      if (!exists) note.bind(1, old_key).bind(2, key).run();
    }
  }
  exec(R"(
    UPDATE history SET claim_id = (SELECT new FROM rekeyed WHERE old = history.claim_id)
      WHERE claim_id IN (SELECT old FROM rekeyed);
    UPDATE claims SET id = (SELECT new FROM rekeyed WHERE old = claims.id)
      WHERE id IN (SELECT old FROM rekeyed);
    UPDATE claim_list SET id = (SELECT new FROM rekeyed WHERE old = claim_list.id)
      WHERE id IN (SELECT old FROM rekeyed);
    DROP TABLE rekeyed;
  )");
}

std::vector<std::string> sqlite_store::claim_keys_of(std::string_view clm01) const {
  const auto range = model::claim_keys_of(clm01);
  auto& s = prepared("SELECT id FROM claims WHERE id >= ?1 AND id < ?2 ORDER BY id");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, range.first).bind(2, range.last);
  std::vector<std::string> out;
  while (s.step()) out.emplace_back(s.text(0));
  return out;
}

std::vector<std::string> sqlite_store::claim_keys_for(std::string_view reference) const {
  if (reference.find(model::claim_key_separator) == std::string_view::npos) {
    return claim_keys_of(reference);
  }
  // A claim's key: whether the store has it (from the same table as claim_keys_of).
  auto& s = prepared("SELECT 1 FROM claims WHERE id = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, reference);
  std::vector<std::string> keys;
  if (s.step()) keys.emplace_back(reference);
  return keys;
}

void sqlite_store::fill_claim_list() {
  auto& counts =
      prepared("SELECT (SELECT COUNT(*) FROM claims), (SELECT COUNT(*) FROM claim_list)");
  std::int64_t claims = 0;
  std::int64_t rows = 0;
  {
    reset_on_exit guard{[&] { counts.reset(); }};
    counts.step();
    claims = counts.integer(0);
    rows = counts.integer(1);
  }
  if (claims == rows) return;
  // A store from before the list: one pass over the claims, in one transaction.
  exec("BEGIN");
  try {
    for_each_claim([&](const engine::claim_record& r) { save_row(r); });
    exec(
        "UPDATE claim_list SET since_ms = COALESCE((SELECT MAX(at_ms) FROM history WHERE "
        "history.claim_id = claim_list.id), 0), updated_ms = COALESCE((SELECT MAX(at_ms) FROM "
        "history WHERE history.claim_id = claim_list.id), 0), held = EXISTS(SELECT 1 FROM history "
        "WHERE history.claim_id = claim_list.id AND kind IN ('hold', 'reopened'))");
    exec("COMMIT");
  } catch (...) {
    exec("ROLLBACK");
    throw;
  }
}

void sqlite_store::for_each_claim(
    const std::function<void(const engine::claim_record&)>& visit) const {
  auto& s =
      prepared("SELECT claim, decision, source, closed, csii, events FROM claims ORDER BY seq");
  reset_on_exit guard{[&] { s.reset(); }};
  while (s.step()) {
    auto claim = model::decode_claim(s.text(0));
    auto decision = model::decode_decision(s.text(1));
    if (!claim || !decision) {
      throw store_error(
          "the stored record of a claim does not decode (store written by a newer "
          "covgate, or damaged)");
    }
    visit({std::move(*claim), std::move(*decision), std::string(s.text(2)), s.integer(3) != 0,
           s.integer(4) != 0, static_cast<std::uint32_t>(s.integer(5))});
  }
}

namespace {

template <class Statement>
claim_row read_row(const Statement& s) {
  claim_row r;
  r.id = s.text(0);
  r.result = static_cast<model::outcome>(s.integer(1));
  r.closed = s.integer(2) != 0;
  r.patient = s.text(3);
  r.patient_name = s.text(4);
  r.dos = s.text(5);
  r.reason = s.text(6);
  r.reasons = static_cast<std::uint64_t>(s.integer(7));
  r.billing = s.text(8);
  r.billing_name = s.text(9);
  r.sender = s.text(10);
  r.sender_name = s.text(11);
  r.charge_cents = s.integer(12);
  r.since_ms = s.integer(13);
  r.updated_ms = s.integer(14);
  r.held = s.integer(15) != 0;
  r.events = static_cast<std::uint32_t>(s.integer(16));
  return r;
}

}  // namespace

bool sorts_as_number(claim_sort key) noexcept { return column_of(key).second; }

claim_page sqlite_store::list_claims(const claim_query& q) const {
  // The statement is built from the filters present (each a fixed fragment; every value is
  // bound, never spliced in), so SQLite picks the index for the queue and order asked for.
  std::string where;
  std::vector<std::variant<std::int64_t, std::string>> values;
  auto bind_next = [&](std::variant<std::int64_t, std::string> v) {
    values.push_back(std::move(v));
    return "?" + std::to_string(values.size());
  };
  if (q.released_since_ms) {
    where = "outcome = 0 AND closed = 0 AND held = 1 AND since_ms >= " +
            bind_next(*q.released_since_ms);
  } else {
    where = "outcome = " +
            bind_next(static_cast<std::int64_t>(q.result.value_or(model::outcome::release))) +
            " AND closed = 0";
  }
  if (q.reason) {
    where +=
        " AND (reasons & " +
        bind_next(static_cast<std::int64_t>(std::uint64_t{1} << static_cast<unsigned>(*q.reason))) +
        ") != 0";
  }
  auto exact_or_like = [&](const char* exact, const char* like, const std::string& text) {
    if (text.empty()) return;
    where += std::string(" AND (") + exact + " = " + bind_next(text) + " OR " + like + " LIKE " +
             bind_next(like_pattern(text)) + " ESCAPE '\\')";
  };
  exact_or_like("patient", "patient_name", q.patient);
  exact_or_like("billing", "billing_name", q.provider);
  exact_or_like("sender", "sender_name", q.sender);
  if (!q.dos_from.empty()) where += " AND dos >= " + bind_next(q.dos_from);
  if (!q.dos_to.empty()) where += " AND dos <= " + bind_next(q.dos_to);
  if (q.since_at_most_ms) where += " AND since_ms <= " + bind_next(*q.since_at_most_ms);
  if (q.since_at_least_ms) where += " AND since_ms >= " + bind_next(*q.since_at_least_ms);
  // A worker's partitions: a function of this connection for the one statement at a time.
  const group_function grouping(db_, q.group_of);
  if (q.group_of) where += " AND covgate_group(patient) >= 0";

  const auto bind_all = [&](statement& s, std::size_t count) {
    for (std::size_t i = 0; i < count; ++i) {
      const int n = static_cast<int>(i + 1);
      if (const auto* v = std::get_if<std::int64_t>(&values[i])) {
        s.bind(n, *v);
      } else {
        s.bind(n, std::get<std::string>(values[i]));
      }
    }
  };
  claim_page page;
  {
    const auto filters = values.size();
    if (q.group_of) {
      statement count(db_, "SELECT covgate_group(patient), COUNT(*) FROM claim_list WHERE " +
                               where + " GROUP BY 1");
      bind_all(count, filters);
      while (count.step()) {
        const auto n = static_cast<std::uint64_t>(count.integer(1));
        page.groups[static_cast<int>(count.integer(0))] += n;
        page.total += n;
      }
    } else {
      statement count(db_, "SELECT COUNT(*) FROM claim_list WHERE " + where);
      bind_all(count, filters);
      count.step();
      page.total = static_cast<std::uint64_t>(count.integer(0));
    }
  }
  const auto [column, numeric] = column_of(q.sort);
  const char* order = q.descending ? " DESC" : "";
  std::string sql = std::string("SELECT ") + row_columns + " FROM claim_list WHERE " + where;
  if (q.after) {
    const char* cmp = q.descending ? "<" : ">";
    std::variant<std::int64_t, std::string> value = q.after->first;
    if (numeric) {
      std::int64_t n = 0;
      const auto& text = q.after->first;
      std::from_chars(text.data(), text.data() + text.size(), n);
      value = n;
    }
    if (q.sort == claim_sort::id) {
      sql += std::string(" AND id ") + cmp + " " + bind_next(q.after->second);
    } else {
      const auto v = bind_next(value);
      sql += std::string(" AND (") + column + " " + cmp + " " + v + " OR (" + column + " = " + v +
             " AND id " + cmp + " " + bind_next(q.after->second) + "))";
    }
  }
  sql += std::string(" ORDER BY ") + column + order;
  if (q.sort != claim_sort::id) sql += std::string(", id") + order;
  sql += " LIMIT " + bind_next(static_cast<std::int64_t>(q.limit));
  statement s(db_, sql);
  bind_all(s, values.size());
  while (s.step()) page.rows.push_back(read_row(s));
  return page;
}

std::optional<claim_row> sqlite_store::claim_row_of(std::string_view claim_key) const {
  auto& s = prepared(std::string("SELECT ") + row_columns + " FROM claim_list WHERE id = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, claim_key);
  if (!s.step()) return std::nullopt;
  return read_row(s);
}

std::vector<queue_count> sqlite_store::queue_counts() const {
  std::vector<queue_count> out(std::size(model::outcomes));
  auto& s = prepared(
      "SELECT outcome, COUNT(*), MIN(since_ms) FROM claim_list WHERE closed = 0 GROUP BY outcome");
  reset_on_exit guard{[&] { s.reset(); }};
  while (s.step()) {
    const auto o = static_cast<std::size_t>(s.integer(0));
    if (o < out.size()) out[o] = {static_cast<std::uint64_t>(s.integer(1)), s.integer(2)};
  }
  return out;
}

queue_count sqlite_store::released_count(std::int64_t released_since_ms) const {
  auto& s = prepared(
      "SELECT COUNT(*), COALESCE(MIN(since_ms), 0) FROM claim_list WHERE outcome = 0 AND "
      "closed = 0 AND since_ms >= ?1 AND held = 1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, released_since_ms);
  s.step();
  return {static_cast<std::uint64_t>(s.integer(0)), s.integer(1)};
}

void add_queue_count(queue_count& total, const queue_count& more) noexcept {
  if (more.count == 0) return;
  if (total.count == 0 ||
      (more.oldest_since_ms > 0 && more.oldest_since_ms < total.oldest_since_ms)) {
    total.oldest_since_ms = more.oldest_since_ms;
  }
  total.count += more.count;
}

void sqlite_store::for_each_patient_queue_count(
    std::int64_t released_since_ms,
    const std::function<void(std::string_view, model::outcome, const queue_count&)>& open,
    const std::function<void(std::string_view, const queue_count&)>& released) const {
  {
    auto& s = prepared(
        "SELECT patient, outcome, COUNT(*), MIN(since_ms) FROM claim_list WHERE closed = 0 "
        "GROUP BY patient, outcome");
    reset_on_exit guard{[&] { s.reset(); }};
    while (s.step()) {
      const auto o = s.integer(1);
      if (o < 0 || o >= static_cast<std::int64_t>(std::size(model::outcomes))) continue;
      open(s.text(0), static_cast<model::outcome>(o),
           {static_cast<std::uint64_t>(s.integer(2)), s.integer(3)});
    }
  }
  auto& s = prepared(
      "SELECT patient, COUNT(*), MIN(since_ms) FROM claim_list WHERE outcome = 0 AND "
      "closed = 0 AND since_ms >= ?1 AND held = 1 GROUP BY patient");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, released_since_ms);
  while (s.step()) released(s.text(0), {static_cast<std::uint64_t>(s.integer(1)), s.integer(2)});
}

void sqlite_store::for_each_open_hold(const std::function<void(const claim_row&)>& visit) const {
  auto& s = prepared(std::string("SELECT ") + row_columns +
                     " FROM claim_list WHERE outcome > 0 AND closed = 0");
  reset_on_exit guard{[&] { s.reset(); }};
  while (s.step()) visit(read_row(s));
}

std::vector<release_row> sqlite_store::releases_since(std::int64_t since_ms) const {
  auto& s = prepared(
      "SELECT h.at_ms, h.source LIKE 'review:%', h.seq = 1, COALESCE(l.patient, '') FROM "
      "history h LEFT JOIN claim_list l ON l.id = h.claim_id WHERE h.kind = 'release' AND "
      "h.at_ms >= ?1 ORDER BY h.at_ms");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, since_ms);
  std::vector<release_row> out;
  while (s.step()) {
    out.push_back({s.integer(0), s.integer(1) != 0, s.integer(2) != 0, std::string(s.text(3))});
  }
  return out;
}

std::optional<std::string> sqlite_store::facts_of(std::string_view resource) const {
  auto row = filed_facts_of(resource);
  if (!row) return std::nullopt;
  return std::move(row->body);
}

std::optional<sqlite_store::filed_facts> sqlite_store::filed_facts_of(
    std::string_view resource) const {
  auto& s = prepared("SELECT body, part FROM facts WHERE resource = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, resource);
  if (!s.step()) return std::nullopt;
  filed_facts out{std::string(s.text(0)), std::nullopt};
  if (s.type(1) != SQLITE_NULL) out.partition = static_cast<std::uint32_t>(s.integer(1));
  return out;
}

std::optional<journal_entry> sqlite_store::journal_at(std::int64_t id) const {
  auto& s = prepared(
      "SELECT id, received_ms, channel, sender, kind, body, received_bytes, digest FROM journal "
      "WHERE id = ?1");
  reset_on_exit guard{[&] { s.reset(); }};
  s.bind(1, id);
  if (!s.step()) return std::nullopt;
  return journal_entry{s.integer(0),
                       s.integer(1),
                       std::string(s.text(2)),
                       std::string(s.text(3)),
                       std::string(s.text(4)),
                       std::string(s.text(5)),
                       static_cast<std::uint64_t>(s.integer(6)),
                       std::string(s.text(7))};
}

}  // namespace covgate::store
