// The current version of every fact, by resource id: what the policy reads. A newer version of
// a resource replaces the older one (newer meta.lastUpdated; equal or absent: later arrival),
// and a retraction withdraws every fact of its resource. Pure and in memory.
#pragma once

#include <functional>
#include <string>
#include <unordered_map>
#include <vector>

#include "covgate/model/facts.hpp"

namespace covgate::model {

class fact_index {
 public:
  /// What apply() did, so the caller can re-evaluate the claims the change touches.
  enum class change : std::uint8_t {
    added,      ///< a resource seen for the first time
    replaced,   ///< a newer version replaced the current one
    ignored,    ///< an older version than the current one (kept the current)
    retracted,  ///< entered-in-error: the resource's facts are gone
  };

  /// Applies one message's facts for one resource id. Facts of a resource arrive together
  /// (an Observation and its components): pass them as one group (taken over, not copied).
  change apply(std::vector<fact> group);

  /// Every current fact for `patient_key`.
  [[nodiscard]] std::vector<const fact*> for_patient(const std::string& patient_key) const;
  /// The current facts of one resource (empty when unknown or retracted).
  [[nodiscard]] const std::vector<fact>* find(const std::string& resource_id) const;
  [[nodiscard]] std::size_t size() const noexcept { return by_resource_.size(); }

  /// The resource id of a fact without its "#component[n]" or "#…" suffix.
  [[nodiscard]] static std::string resource_of(const std::string& fact_id);

 private:
  struct entry {
    std::vector<fact> facts;
    std::string last_updated;
    std::string patient_key;
  };
  std::unordered_map<std::string, entry> by_resource_;
  std::unordered_map<std::string, std::vector<std::string>> by_patient_;  // key → resources
};

}  // namespace covgate::model
