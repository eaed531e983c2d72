// The in-memory store for replay and tests. A claim and its decision are kept in their compact
// encodings (model/claim_codec.hpp, store/record_codec.hpp): the gate keeps every claim it
// ever answered (a retracted fact can reopen a released one), so a million claims must cost
// their bytes, not their objects.
// Not thread-safe.
#pragma once

#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "covgate/store/store.hpp"

namespace covgate::store {

class memory_store final : public store {
 public:
  [[nodiscard]] std::optional<claim_record> load(std::string_view claim_id) const override;
  void save(const claim_record& record) override;
  [[nodiscard]] std::vector<claim_summary> claims_of(std::string_view patient) const override;
  [[nodiscard]] std::size_t size() const override { return records_.size(); }

 private:
  struct stored {
    std::string claim;     // encoded (model/claim_codec.hpp)
    std::string decision;  // encoded (store/record_codec.hpp)
    std::string patient;   // the key it is filed under in by_patient_
    model::outcome result = model::outcome::release;
    std::string source;
    bool closed = false;
    bool csii_released = false;
    std::uint32_t events = 0;
  };
  // Heterogeneous lookup by string_view.
  struct hash {
    using is_transparent = void;
    std::size_t operator()(std::string_view s) const noexcept {
      return std::hash<std::string_view>{}(s);
    }
  };
  std::unordered_map<std::string, stored, hash, std::equal_to<>> records_;
  std::unordered_map<std::string, std::vector<std::string>, hash, std::equal_to<>> by_patient_;
};

}  // namespace covgate::store
