// The current version of every fact, by resource id: what the policy reads. A newer version of
// a resource replaces the older one (newer meta.lastUpdated; equal or absent: later arrival),
// and a retraction withdraws every fact of its resource. Pure and in memory.
//
// Kept encoded: a replay of a day holds millions of facts, and as decoded objects each cost
// ~750 bytes in small heap blocks (strings of ids, units, timestamps). Here each patient owns one
// buffer of records, one per resource: its id, its lastUpdated, and its facts in the store's
// binary form without what every fact of the record repeats (id, patient key, timestamp, and
// the subject reference when it is one of the two forms the patient is named by). A flat table maps
// a 32-bit hash of the resource id to the patient (8 bytes a slot; ids that share a hash, ~116
// pairs among a million by the birthday bound n^2/2^33, are told apart by the id each record
// keeps). The policy reads a patient's facts decoded, once per evaluation (for_patient). The record
// layout is in fact_index.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/unordered/unordered_flat_map.hpp>

#include "covgate/model/facts.hpp"
#include "covgate/model/key_table.hpp"
#include "covgate/model/keyed_index.hpp"
#include "covgate/model/text_hash.hpp"

namespace covgate::model {

namespace detail {

/// The first two subject references a patient's facts had (a reference, and an identifier
/// form), in one string ("first\0second"): one allocation and 32 bytes per patient instead
/// of two strings' (a subject holds no NUL: FHIR references and identifiers cannot).
class subject_forms {
 public:
  /// Form 0 or 1 ("" while unknown).
  [[nodiscard]] std::string_view operator[](std::size_t i) const noexcept { return both()[i]; }
  /// Both forms, with one look for the separator (a caller wanting both asks once).
  [[nodiscard]] std::array<std::string_view, 2> both() const noexcept {
    const std::string_view all(text_);
    const auto nul = all.find('\0');
    if (nul == std::string_view::npos) return {all, {}};
    return {all.substr(0, nul), all.substr(nul + 1)};
  }
  /// Keeps `subject` as a form while there is room and it is not one already.
  void add(std::string_view subject) {
    if (subject.empty() || subject.find('\0') != std::string_view::npos) return;
    if (text_.empty()) {
      text_.assign(subject);
    } else if (text_.find('\0') == std::string::npos && text_ != subject) {
      // One form so far, the whole text: a second one unless it is this.
      text_.push_back('\0');
      text_.append(subject);
    }
  }

 private:
  std::string text_;
};

}  // namespace detail

class fact_index {
 public:
  using hash_function = std::uint32_t (*)(std::string_view) noexcept;
  /// `hash` maps resource ids to table keys; two ids may share one (tests force it), the index
  /// tells them apart by the id stored with each record.
  explicit fact_index(hash_function hash = default_hash)
      : hash_(hash), patient_of_key_(0, {}, {&patients_}) {}
  // The patient table's equality reads patients_ through a pointer to it.
  fact_index(const fact_index&) = delete;
  fact_index& operator=(const fact_index&) = delete;

  /// Forgets every resource and patient (the memory stays for what comes next).
  void clear() noexcept;

  /// What apply() did, so the caller can re-evaluate the claims the change touches.
  enum class change : std::uint8_t {
    added,      ///< a resource seen for the first time
    replaced,   ///< a newer version replaced the current one
    ignored,    ///< an older version than the current one (kept the current)
    retracted,  ///< entered-in-error: the resource's facts are gone
  };

  /// Applies one message's facts for one resource id. Facts of a resource arrive together
  /// (an Observation and its components): pass them as one group. The group is encoded, and
  /// changed on the way (fields the record stores once are cleared): the caller's facts are
  /// spent, never copied.
  change apply(std::span<fact> group);
  change apply(std::vector<fact> group) { return apply(std::span<fact>(group)); }

  /// A batch's records encoded ahead of apply() on another thread (a reader's, while the
  /// gate's applies the batch before): per run of facts of one resource, in the batch's order,
  /// the body apply() stores for that run when the run repeats its resource's shared fields
  /// and names its patient by one subject, as nearly every resource does. Only apply() can
  /// tell (the patient's key comes from linking, its subject forms from the index), so it
  /// checks and uses the body, or encodes the run itself as before.
  struct encoded_ahead {
    struct run {
      std::uint32_t facts = 0;  ///< the run's length in the batch
      std::uint32_t begin = 0;  ///< its body in `bytes`
      std::uint32_t size = 0;   ///< 0: not encoded ahead
      std::uint32_t key = 0;    ///< default_hash of the run's resource id
    };
    std::vector<run> runs;
    std::string bytes;
    void clear() noexcept {
      runs.clear();
      bytes.clear();
    }
  };
  /// Encodes `facts` ahead into `out` (cleared first). Pure, and leaves the facts as they are.
  static void encode_ahead(std::span<const fact> facts, encoded_ahead& out);
  /// apply() with `ahead`: the run's body from encode_ahead(), or empty.
  change apply(std::span<fact> group, std::string_view ahead);

  /// Whether keys are default_hash (an encoded_ahead run's key is then this index's).
  [[nodiscard]] bool hashes_by_default() const noexcept { return hash_ == default_hash; }
  /// The table key of a resource id (its hash), for warm() and apply() runs later.
  [[nodiscard]] std::uint32_t key_of(std::string_view resource) const noexcept {
    return hash_(resource);
  }
  /// Starts fetching what looking `key` up reads, and returns at once. A batch's keys are
  /// spread over a table of every resource, so each run's lookup was a cache miss of its own,
  /// waited for one after the other; a caller that warms the runs a few ahead of the one it
  /// applies has them in the cache when it gets there.
  void warm(std::uint32_t key) const noexcept { patient_of_hash_.prefetch(key); }
  /// apply() with `key`, key_of() the group's resource (the caller computed it to warm it).
  change apply(std::span<fact> group, std::string_view ahead, std::uint32_t key);

  /// Forgets the facts of one resource (its id without a "#…" suffix), as if it had never
  /// come: a later version of it is then added, not compared with this one. False when it had
  /// none. A cluster worker forgets a stale copy of a partition's facts this way, resource by
  /// resource, while the other partitions' facts stay.
  bool forget(std::string_view resource);

  /// Every current fact for `patient_key`, decoded, in the order their resources arrived.
  [[nodiscard]] std::vector<fact> for_patient(std::string_view patient_key) const;
  /// The same into the front of `out`, which grows as needed and never shrinks: returns how
  /// many facts it decoded, and what lies past them is left from earlier calls. A fact it
  /// overwrites keeps its strings' memory, so a caller that decodes patient after patient
  /// into one list allocates little once the list is warm.
  std::size_t for_patient(std::string_view patient_key, std::vector<fact>& out) const;
  /// The current facts of one resource (nullopt when unknown or retracted).
  [[nodiscard]] std::optional<std::vector<fact>> find(std::string_view resource_id) const;
  /// How many resources have current facts.
  [[nodiscard]] std::size_t size() const noexcept { return resources_; }

  /// The resource id of a fact without its "#component[n]" or "#…" suffix.
  [[nodiscard]] static std::string resource_of(const std::string& fact_id);
  /// The same as a view into `fact_id` (valid while it is).
  [[nodiscard]] static std::string_view resource_view_of(std::string_view fact_id) noexcept {
    return fact_id.substr(0, fact_id.find('#'));
  }

  static std::uint32_t default_hash(std::string_view resource_id) noexcept;

 private:
  struct location;
  /// `hash` is hash_(resource), computed once by the caller (it was twice per fact).
  [[nodiscard]] std::optional<location> locate(std::string_view resource, std::uint32_t hash) const;
  std::uint32_t patient_slot(const std::string& patient_key);
  struct patient_records;
  /// Encodes `group` (changing it) as one record of `resource` for `patient`'s buffer: a view
  /// into body_, valid until the next call. `ahead`, when it fits, is the encoded body.
  std::string_view encode_record(std::string_view resource, patient_records& patient,
                                 std::span<fact> group, std::string_view ahead);
  void forget(std::string_view resource, const location& where);
  void remember(std::string_view resource, std::uint32_t hash, std::uint32_t patient);

  struct patient_records {
    std::string key;
    detail::subject_forms subjects;
    std::string records;
  };
  // The patient table holds patients_' indexes, looked up by key: each key is kept once, in
  // patients_ (a map from key to index kept it twice: 40 bytes and more per patient), and each
  // entry carries its key's hash, which the table rehashes it by as it grows.
  struct key_of_patient {
    std::string_view operator()(const patient_records& p) const noexcept { return p.key; }
  };
  hash_function hash_;
  std::vector<patient_records> patients_;
  keyed_index<std::vector<patient_records>, key_of_patient> patient_of_key_;
  key_table patient_of_hash_;
  /// The rare resource whose hash another resource's entry already holds, by its full id.
  std::unordered_map<std::string, std::uint32_t> patient_of_collided_;
  /// How many resources of patient_of_collided_ have each hash: only a resource whose hash is
  /// here is looked up there by its id. With a million resources some hashes are bound to be
  /// shared (see above), and then every fact paid that lookup, a string built and hashed.
  boost::unordered_flat_map<std::uint32_t, std::uint32_t> collided_hashes_;
  std::size_t resources_ = 0;
  /// The patient patient_slot() gave last (none after clear()): asked first, as resources come
  /// patient by patient (a message's, and most lines of a bulk file).
  std::uint32_t last_patient_ = no_patient;
  static constexpr std::uint32_t no_patient = 0xFFFFFFFF;
  std::string resource_;  // the resource id being applied, reused
  std::string stamp_;     // its lastUpdated, reused
  std::string body_;      // the record being written (after room for its length), reused
};

}  // namespace covgate::model
