// The engine's state in memory: replay without --store, tests, the C ABI's memory mode.
// Claims and decisions are kept in their compact encodings (model/claim_codec.hpp,
// model/decision_codec.hpp): the gate keeps every claim it ever answered (a retracted fact can
// reopen a released one), so a million claims cost their bytes, not their objects. What a
// claim shares with its transaction set (the envelope, the billing provider: a third of its
// encoding) is kept once per distinct value. Facts are
// not copied here: a memory state never restarts, and the gate's fact index holds them.
// History is kept only when asked for (it costs a decision per event). Not thread-safe.
#pragma once

#include <deque>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "covgate/engine/state.hpp"
#include "covgate/model/keyed_index.hpp"
#include "covgate/model/text_hash.hpp"

namespace covgate::store {

class memory_state final : public engine::state {
 public:
  explicit memory_state(bool keep_history = false) : keep_history_(keep_history) {}
  // Its tables read their keys through pointers to its deques: a copy's would read the
  // original's.
  memory_state(const memory_state&) = delete;
  memory_state& operator=(const memory_state&) = delete;

  [[nodiscard]] bool durable() const noexcept override { return false; }
  [[nodiscard]] bool keeps_history() const noexcept override { return keep_history_; }
  [[nodiscard]] bool keeps_encoded_claims() const noexcept override { return true; }
  [[nodiscard]] std::optional<engine::claim_record> load(std::string_view claim_key) const override;
  void save(const engine::claim_record_view& record) override;
  [[nodiscard]] std::vector<engine::claim_summary> claims_of(
      std::string_view patient) const override;
  [[nodiscard]] std::size_t size() const override { return records_.size(); }
  /// How many distinct set parts (envelope and billing provider) it keeps.
  [[nodiscard]] std::size_t set_parts() const noexcept { return set_parts_.size(); }
  /// Distinct heads of the claims' sources kept (see sources_).
  [[nodiscard]] std::size_t source_heads() const noexcept { return sources_.size(); }
  [[nodiscard]] std::vector<engine::claim_summary> open_claims_of(std::string_view patient,
                                                                  bool released_too) const override;
  [[nodiscard]] bool csii_released_other_than(std::string_view patient,
                                              std::string_view claim_key) const override;
  void for_each_open_decision(
      const std::function<void(const model::decision&)>& visit) const override;

  void record_history(std::string_view claim_key, const engine::history_entry& entry) override;
  [[nodiscard]] std::vector<engine::history_entry> history(
      std::string_view claim_key) const override;

  void save_facts(std::string_view, std::string_view, std::string_view) override {}
  void for_each_facts(const std::function<void(std::string_view)>&) const override {}

  [[nodiscard]] std::optional<engine::interchange_answer> interchange(
      std::string_view sender_control) const override;
  void remember_interchange(std::string_view sender_control, std::int64_t at_ms,
                            engine::interchange_answer answer) override;

  [[nodiscard]] std::int64_t counter(std::string_view name, std::int64_t fallback) const override;
  void set_counter(std::string_view name, std::int64_t value) override;

 private:
  static constexpr std::uint32_t no_record = UINT32_MAX;
  // One allocation per claim: its key, its encoded claim without its set's part, its decision
  // in the in-process form (reasons by enumerator) and the end of its source, one after the
  // other (a million claims are a million of these). The key kept as a string of its own was a
  // second allocation per claim (CLM01 and an NPI are mostly longer than a short string's 15
  // bytes), and its 32 bytes here beside the record's.
  struct stored {
    std::unique_ptr<char[]> bytes;
    std::uint32_t id_size = 0;  // its key (model/claim_key.hpp): CLM01 and the billing NPI
    std::uint32_t claim_size = 0;
    std::uint32_t decision_size = 0;
    std::uint32_t source_size = 0;  // its source's tail; the head is sources_[source_head]
    std::uint32_t patient = 0;      // its patient's index in patients_
    std::uint32_t set_part = 0;     // its set's part of the claim, in set_parts_
    std::uint32_t events = 0;
    std::uint32_t source_head = 0;
    std::uint32_t next_of_patient = no_record;  // the patient's next claim, in first-save order
    model::outcome result = model::outcome::release;
    bool closed = false;
    bool csii_released = false;
    [[nodiscard]] std::string_view id() const { return {bytes.get(), id_size}; }
    [[nodiscard]] std::string_view claim() const { return {bytes.get() + id_size, claim_size}; }
    [[nodiscard]] std::string_view decision() const {
      return {bytes.get() + id_size + claim_size, decision_size};
    }
    [[nodiscard]] std::string_view source_tail() const {
      return {bytes.get() + id_size + claim_size + decision_size, source_size};
    }
  };
  // A patient's claims are a list threaded through their records (next_of_patient): a vector
  // per patient was a third allocation per claim for a patient with one.
  struct patient {
    std::string key;
    std::uint32_t first = no_record, last = no_record;  // indexes in records_
    std::uint32_t csii_released = 0;                    // claims released with a pump line
  };
  using hash = model::text_hash;  // heterogeneous lookup by string_view
  template <class T>
  using by_name = std::unordered_map<std::string, T, hash, std::equal_to<>>;
  // An open-addressing table of the indexes of a deque's items, looked up by a key as a
  // string_view (model::keyed_index). A node-based map cost a cache miss per lookup, and a
  // replay looks each claim up four times: 12 % of a claims-only replay.
  [[nodiscard]] static std::string_view key_of(const stored& s) noexcept { return s.id(); }
  [[nodiscard]] static std::string_view key_of(const patient& p) noexcept { return p.key; }
  [[nodiscard]] static std::string_view key_of(const std::string& s) noexcept { return s; }
  struct item_key {
    template <class T>
    std::string_view operator()(const T& item) const noexcept {
      return key_of(item);
    }
  };
  template <class T>
  using index_of = model::keyed_index<std::deque<T>, item_key>;

  [[nodiscard]] const stored* find(std::string_view claim_key) const;
  [[nodiscard]] const patient* find_patient(std::string_view key) const;
  std::uint32_t patient_index(const std::string& key);
  void link(std::uint32_t record, std::uint32_t to);      // at the end of its list
  void unlink(std::uint32_t record, std::uint32_t from);  // out of its list
  // The index of `text` in `texts`, appended (and indexed) when it is not there yet.
  static std::uint32_t intern(std::deque<std::string>& texts, index_of<std::string>& index,
                              std::string_view text);
  std::uint32_t set_part_of(const engine::claim_record_view& record);
  std::uint32_t source_head_index(std::string_view head);

  bool keep_history_;
  // Deques: growing one moves nothing, where a vector's growth copies a million records at
  // once and holds both copies for a moment.
  std::deque<stored> records_;  // in first-save order
  index_of<stored> record_of_{0, {}, {&records_}};
  std::deque<patient> patients_;
  index_of<patient> patient_of_{0, {}, {&patients_}};
  std::deque<std::string> set_parts_;  // distinct encoded set parts, never dropped
  index_of<std::string> set_part_of_{0, {}, {&set_parts_}};
  // A source is "<input>:<offset>" ("<channel>:<message>:<offset>" from a host): every claim
  // of an input names it again, so the head up to the first ':' (a file's path, a channel's
  // name) is kept once and a record keeps the rest. Not up to the last: a host's message
  // number would make a head per message, kept for good.
  std::deque<std::string> sources_;  // distinct source heads, never dropped
  index_of<std::string> source_of_{0, {}, {&sources_}};
  std::uint32_t last_source_ = no_record;  // the head saved last: a set's claims share it
  by_name<std::vector<engine::history_entry>> history_;
  by_name<engine::interchange_answer> interchanges_;
  std::map<std::string, std::int64_t, std::less<>> counters_;
  std::string encoding_;   // save()'s working buffer, reused
  std::string claim_key_;  // save()'s claim key, built in a buffer reused
  // The set part saved last (an index into set_parts_ once there is one), and, when its claim
  // came unencoded, its fields: a set's claims come one after another, and comparing them costs
  // less than encoding and hashing the part again (set_part_of).
  std::uint32_t last_set_part_ = 0;
  bool has_last_set_ = false;  // last_set_'s fields are last_set_part_'s
  model::claim last_set_;      // only the fields model::same_set_part compares
};

}  // namespace covgate::store
