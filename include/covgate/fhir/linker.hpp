// Links facts to patients across messages: a fact whose Patient has not arrived yet is kept,
// never dropped, and released with its patient key once the Patient (with a configured
// identifier) arrives. Pure and in memory; the engine's store persists what it must.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "covgate/model/facts.hpp"
#include "covgate/model/text_hash.hpp"

namespace covgate::fhir {

class linker {
 public:
  /// Receives each linked fact (to keep or move from).
  using ready_handler = std::function<void(model::fact&&)>;

  explicit linker(ready_handler on_ready) : on_ready_(std::move(on_ready)) {}

  /// Adds facts in arrival order. Calls on_ready for each fact that is linked (it needs no
  /// patient, already names its key, or its Patient is known), now or when the Patient comes.
  void add(model::fact&& fact);
  void add(const model::fact& fact) { add(model::fact(fact)); }

  /// Links `fact` where it lies, without handing it to on_ready, when add() would hand it on
  /// at once and nothing else: nothing waits (waiting() is 0) and the fact needs no Patient
  /// still to come. Returns false, and leaves `fact` as it was, when it would have to wait:
  /// the caller then add()s it and the facts after it. A batch whose facts all link costs no
  /// move of a fact (a lab result is some twenty strings).
  [[nodiscard]] bool link_in_place(model::fact& fact);

  /// Forgets what one resource (an id without a "#…" suffix) brought: a Patient's link from
  /// its reference to its key, or facts of it still waiting for their Patient. A fact already
  /// handed on is the caller's to forget.
  void forget(std::string_view resource);

  /// Facts still waiting for their Patient.
  [[nodiscard]] std::size_t waiting() const noexcept { return waiting_count_; }

  /// Hands over the facts still waiting, without a key, and forgets them.
  [[nodiscard]] std::vector<model::fact> take_waiting();

 private:
  /// Links `fact` if it can be now: a Patient's key is kept (true), a fact that needs no
  /// Patient or names its key already passes (true), another is given its Patient's key
  /// (true) or must wait for it (false, `fact` unchanged).
  bool link(model::fact& fact);
  static std::string* patient_of(model::fact& f);
  static std::string* key_of(model::fact& f);

  ready_handler on_ready_;
  // "Patient/123" → key: one per Patient of a day (a flat table: node-based, its inserts
  // were 4.5 % of the gate thread's samples in a day's replay, perf). A reference carries its
  // hash, which the table rehashes it by as it grows: rehashing by the text read every
  // reference's heap buffer again, a cache miss each (4 % of a day's gate thread, perf).
  struct reference {
    std::string text;
    std::uint32_t hash = 0;
  };
  struct reference_hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view text) const noexcept {
      return model::text_hash32(text);
    }
    std::size_t operator()(const reference& r) const noexcept { return r.hash; }
  };
  struct reference_equal {
    using is_transparent = void;
    bool operator()(const reference& a, const reference& b) const noexcept {
      return a.text == b.text;
    }
    bool operator()(std::string_view a, const reference& b) const noexcept { return a == b.text; }
    bool operator()(const reference& a, std::string_view b) const noexcept { return a.text == b; }
  };
  boost::unordered_flat_map<reference, std::string, reference_hash, reference_equal> keys_;
  // The link made or used last (a reference and its key; empty: none), asked before keys_: a
  // Patient's resources mostly come one after another and after it, and each lookup in
  // keys_ hashed the reference and missed the cache (5.5 % of a day's gate thread, perf).
  std::string last_reference_;
  std::string last_key_;
  std::unordered_map<std::string, std::vector<model::fact>> waiting_;  // by patient reference
  std::size_t waiting_count_ = 0;
};

}  // namespace covgate::fhir
