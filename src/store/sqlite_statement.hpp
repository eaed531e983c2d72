// What sqlite_store's implementation files share: the prepared statement, a reset guard and
// the covgate_group() SQL function. Private to the store module.
#pragma once

#include <sqlite3.h>

#include <functional>
#include <string>
#include <string_view>

#include "covgate/store/sqlite_store.hpp"

namespace covgate::store {

// One prepared statement, reset after every use.
class sqlite_store::statement {
 public:
  statement(sqlite3* db, std::string_view sql) : db_(db) {
    if (sqlite3_prepare_v3(db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                           &stmt_, nullptr) != SQLITE_OK) {
      throw store_error(std::string("sqlite: cannot prepare: ") + sqlite3_errmsg(db));
    }
  }
  ~statement() { sqlite3_finalize(stmt_); }
  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  statement& bind(int i, std::string_view text) {
    // An empty view may have no data pointer, which SQLite would bind as NULL: bind "".
    check(sqlite3_bind_text(stmt_, i, text.data() == nullptr ? "" : text.data(),
                            static_cast<int>(text.size()), SQLITE_TRANSIENT));
    return *this;
  }
  statement& blob(int i, std::string_view bytes) {
    check(sqlite3_bind_blob(stmt_, i, bytes.data(), static_cast<int>(bytes.size()),
                            SQLITE_TRANSIENT));
    return *this;
  }
  statement& bind(int i, std::int64_t n) {
    check(sqlite3_bind_int64(stmt_, i, n));
    return *this;
  }
  statement& null(int i) {
    check(sqlite3_bind_null(stmt_, i));
    return *this;
  }
  /// Steps once: true when a row is available.
  bool step() {
    const int rc = sqlite3_step(stmt_);
    if (rc == SQLITE_ROW) return true;
    if (rc == SQLITE_DONE) return false;
    throw store_error(std::string("sqlite: ") + sqlite3_errmsg(db_));
  }
  void run() {
    try {
      step();
    } catch (...) {
      reset();
      throw;
    }
    reset();
  }
  void reset() {
    sqlite3_reset(stmt_);
    sqlite3_clear_bindings(stmt_);
  }
  [[nodiscard]] std::int64_t integer(int col) const { return sqlite3_column_int64(stmt_, col); }
  /// SQLITE_INTEGER, SQLITE_TEXT, SQLITE_BLOB, SQLITE_FLOAT or SQLITE_NULL: the current row's.
  [[nodiscard]] int type(int col) const { return sqlite3_column_type(stmt_, col); }
  [[nodiscard]] int columns() const { return sqlite3_column_count(stmt_); }
  [[nodiscard]] std::string_view column_name(int col) const {
    const char* name = sqlite3_column_name(stmt_, col);
    return name == nullptr ? std::string_view{} : std::string_view(name);
  }
  [[nodiscard]] std::string_view text(int col) const {
    const auto* p = sqlite3_column_blob(stmt_, col);
    const auto n = sqlite3_column_bytes(stmt_, col);
    return p == nullptr ? std::string_view{} : std::string_view(static_cast<const char*>(p), n);
  }

 private:
  void check(int rc) {
    if (rc != SQLITE_OK) throw store_error(std::string("sqlite: bind: ") + sqlite3_errmsg(db_));
  }
  sqlite3* db_;
  sqlite3_stmt* stmt_ = nullptr;
};

// Resets a statement however the scope is left.
struct reset_on_exit {
  std::function<void()> reset;
  ~reset_on_exit() { reset(); }
};

// covgate_group(patient) on `db` while this lives: claim_query::group_of, for one list.
// SQLite keeps a pointer to `group_of`, so it must outlive this (a temporary cannot be given).
class group_function {
 public:
  group_function(sqlite3* db, std::function<int(std::string_view)>&& group_of) = delete;
  group_function(sqlite3* db, const std::function<int(std::string_view)>& group_of)
      : db_(group_of ? db : nullptr) {
    if (db_ == nullptr) return;
    if (sqlite3_create_function_v2(db_, "covgate_group", 1, SQLITE_UTF8,
                                   const_cast<void*>(static_cast<const void*>(&group_of)), &call,
                                   nullptr, nullptr, nullptr) != SQLITE_OK) {
      throw store_error(std::string("cannot define covgate_group: ") + sqlite3_errmsg(db_));
    }
  }
  ~group_function() {
    if (db_ != nullptr) {
      sqlite3_create_function_v2(db_, "covgate_group", 1, SQLITE_UTF8, nullptr, nullptr, nullptr,
                                 nullptr, nullptr);
    }
  }
  group_function(const group_function&) = delete;
  group_function& operator=(const group_function&) = delete;

 private:
  // Called from SQLite's C frames, which an exception must not cross: a `group_of` that
  // throws fails the statement with its reason (the step reports it as a store_error).
  static void call(sqlite3_context* context, int, sqlite3_value** args) noexcept {
    const auto& group_of =
        *static_cast<const std::function<int(std::string_view)>*>(sqlite3_user_data(context));
    const auto* text = sqlite3_value_text(args[0]);
    const auto size = static_cast<std::size_t>(sqlite3_value_bytes(args[0]));
    try {
      sqlite3_result_int(context, group_of(std::string_view(
                                      text == nullptr ? "" : reinterpret_cast<const char*>(text),
                                      text == nullptr ? 0 : size)));
    } catch (const std::exception& e) {
      sqlite3_result_error(context, e.what(), -1);
    } catch (...) {
      sqlite3_result_error(context, "covgate_group failed", -1);
    }
  }
  sqlite3* db_;
};

}  // namespace covgate::store
