// Links facts to patients across messages: a fact whose Patient has not arrived yet is kept,
// never dropped, and released with its patient key once the Patient (with a configured
// identifier) arrives. Pure and in memory; the engine's store persists what it must.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "covgate/model/facts.hpp"

namespace covgate::fhir {

class linker {
 public:
  /// Receives each linked fact (to keep or move from).
  using ready_handler = std::function<void(model::fact&&)>;

  explicit linker(ready_handler on_ready) : on_ready_(std::move(on_ready)) {}

  /// Adds facts in arrival order. Calls on_ready for each fact that is linked (it needs no
  /// patient, already names its key, or its Patient is known), now or when the Patient comes.
  void add(model::fact fact);

  /// Forgets what one resource (an id without a "#…" suffix) brought: a Patient's link from
  /// its reference to its key, or facts of it still waiting for their Patient. A fact already
  /// handed on is the caller's to forget.
  void forget(std::string_view resource);

  /// Facts still waiting for their Patient.
  [[nodiscard]] std::size_t waiting() const noexcept { return waiting_count_; }

  /// Hands over the facts still waiting, without a key, and forgets them.
  [[nodiscard]] std::vector<model::fact> take_waiting();

 private:
  static std::string* patient_of(model::fact& f);
  static std::string* key_of(model::fact& f);

  ready_handler on_ready_;
  std::unordered_map<std::string, std::string> keys_;                  // "Patient/123" → key
  std::unordered_map<std::string, std::vector<model::fact>> waiting_;  // by patient reference
  std::size_t waiting_count_ = 0;
};

}  // namespace covgate::fhir
