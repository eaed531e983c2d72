// The one intake every gating host drives (covgate replay, serve, the C ABI, cluster workers;
// check and parse read without the gate, X12 through the same engine::x12_input):
// bytes in, answers out. An input (a file, a message, a stream) is sniffed once from its first
// bytes (X12, FHIR JSON/NDJSON/XML, HL7 v2, a recording of MLLP frames; anything else is
// reported as unrecognized, never answered with a TA1), read by its reader, fed to the gate,
// and answered in its own standard: X12 gets one 277 per accepted transaction set and a
// 999/TA1 when something was refused or a TA1 was asked for; FHIR an OperationOutcome; each
// HL7 v2 message its ACK (or a commit ACK and then an application ACK, as MSH-15/16 ask).
// An ACK says the facts were stored, never what they decided. Changes to earlier claims (a late lab
// releasing a hold) are reported as later events. Everything the engine keeps goes through
// engine::state. No I/O, no clock (the time of each message is an argument), not thread-safe: a
// host serializes calls.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/engine/event.hpp"
#include "covgate/engine/gate.hpp"
#include "covgate/engine/sniff.hpp"
#include "covgate/engine/state.hpp"
#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/status_writer.hpp"

namespace covgate::engine {

/// What to do with an interchange that was answered in an earlier message (same ISA05/ISA06
/// and ISA13). A control number reused for different content is always refused (TA1 025);
/// the same message sent again (a retry after a lost answer) is, by this setting:
enum class duplicate_interchanges : std::uint8_t {
  answer_again,  ///< answered as it was the first time; nothing is processed twice
  reject,        ///< refused like a reused number (TA1 note 025)
};

/// Threads a host lends the intake for pure work (NDJSON and X12 read ahead): the engine starts no
/// thread of its own, and owns none.
class work_pool {
 public:
  virtual ~work_pool() = default;
  /// Runs `work` on one of the host's threads, never the caller's, and soon: the intake waits
  /// for it.
  virtual void run(std::function<void()> work) = 0;
};

struct intake_settings {
  x12::reader_options reader;
  fhir::read_limits fhir;
  hl7v2::read_options hl7v2;
  x12::status_profile profile = x12::status_profile::notification_x212;
  std::string sender_qualifier = "ZZ";  ///< our ISA05/06 on 277s
  std::string sender_id = "COVGATE";
  duplicate_interchanges duplicates = duplicate_interchanges::answer_again;
  /// An interchange whose answer is longer is remembered without it: sent again, it is
  /// refused (TA1 025) instead of answered again, so a huge file costs no memory twice.
  std::size_t max_remembered_answer = 16u << 20;
  /// Reading ahead of the gate, on threads the host lends (`read_pool`, which outlives the
  /// intake). Reading is pure and the gate is not, so this is the part of a file that can use
  /// another core. Up to this many batches of an input are read ahead while the gate takes
  /// the earlier ones, in the input's order: NDJSON batches of whole lines (the lines of one
  /// put()), each parsed and mapped on any of the pool's threads, and one more waiting for
  /// the first of them that is free (set this to the pool's threads); X12 chunks (one put()'s
  /// bytes), read one after another by the input's one reader on one thread at a time. 0 or
  /// no pool (the default) reads on the caller's thread and answers each batch or set before
  /// put() returns, as a live stream needs; a host reading whole files sets both (covgate
  /// replay), and the answers of a batch then come with a later put() or with finish().
  /// Answers, events and stored state are the same either way, for an input that is finished:
  /// one given up before finish() leaves what is still in flight unapplied, and an exception
  /// from reading comes out of the put() or finish() that would have answered it. A host
  /// reading ahead finishes one input before it feeds the next: an X12 reader's question
  /// (was this interchange answered before?) may be answered before the sets ahead of it are
  /// applied, which is the same answer only while no other input changes the state.
  unsigned read_ahead = 0;
  work_pool* read_pool = nullptr;
};

/// When a message arrived: Unix milliseconds from the host's clock. Answers carry it as
/// CCYYMMDDHHMM (UTC); history rows carry it whole.
struct message_time {
  std::int64_t unix_ms = 0;
};

/// Where an input's answers go, each kind by itself, as soon as it is ready.
class answer_sink {
 public:
  virtual ~answer_sink() = default;
  /// X12 for the sender: the 277 of an accepted set, or a 999/TA1.
  virtual void x12(std::string_view text) { (void)text; }
  /// A FHIR message's OperationOutcome (JSON).
  virtual void fhir(std::string_view operation_outcome) { (void)operation_outcome; }
  /// An HL7 v2 ACK (one call per ACK message: an MLLP host frames each by itself).
  virtual void hl7v2(std::string_view ack) { (void)ack; }
  /// Every event: first answers (they are in the sender's 277) and later ones (`later`:
  /// changes to claims answered before, for an outbox or a 277 of their own).
  virtual void on_event(const event& e, bool later) { (void)e, (void)later; }
  /// One line for a person: what was refused or noted, naming positions and codes, never
  /// data values.
  virtual void finding(std::string_view line) { (void)line; }
  /// A message inside the input is done (an X12 interchange, a FHIR document or a batch of
  /// NDJSON lines, an HL7 v2 message, an MLLP frame).
  virtual void message_end() {}
};

/// What an input came to.
struct input_result {
  payload_kind kind = payload_kind::unknown;
  bool rejected = false;                    ///< all or part of it was refused (its answer says why)
  bool unrecognized = false;                ///< not a kind covgate reads; nothing was answered
  std::uint32_t claims = 0;                 ///< claims answered
  std::uint32_t facts = 0;                  ///< facts read
  std::uint32_t repeated_interchanges = 0;  ///< answered as they were in an earlier message
};

class intake {
 public:
  /// `policy`, `tables` and `state` outlive the intake.
  intake(const policy::policy_file& policy, const mapping::tables& tables, state& state,
         intake_settings settings);
  ~intake();
  intake(const intake&) = delete;
  intake& operator=(const intake&) = delete;

  /// One input fed in chunks of any size (a file in bounded memory): put() the bytes, then
  /// finish(). X12 sets are answered as soon as their SE checks out, NDJSON lines as soon as
  /// a batch of whole lines arrived, MLLP frames one by one; a FHIR document or an HL7 v2
  /// message when it is whole. `source` names the input in events ("file", "mllp:17"): a
  /// claim's source is "<source>:<byte offset>". `out` outlives the input.
  class input {
   public:
    virtual ~input() = default;
    virtual void put(std::string_view bytes) = 0;
    /// put() for bytes whose buffer the caller gives away: an input that keeps bytes past the
    /// call (X12 read ahead) takes the buffer instead of copying them, and leaves in `buffer`
    /// one to fill next (its size and contents unspecified). Others read them as put() does.
    /// If it throws, what `buffer` held may be gone (the input has failed as put() would).
    virtual void put_buffer(std::string& buffer) { put(std::string_view(buffer)); }
    virtual input_result finish() = 0;
  };
  [[nodiscard]] std::unique_ptr<input> open(std::string source, message_time at, answer_sink& out);

  /// One whole message (serve, the C ABI): open(), put(), finish().
  input_result receive(std::string_view message, std::string source, message_time at,
                       answer_sink& out);

  /// A reviewer's release or cancel (gate::review) of the claim keyed `claim_key`
  /// (model::claim_key): its event goes to `out` as later.
  gate::review_result review(std::string_view claim_key, bool release, std::string_view who,
                             std::string_view why, message_time at, answer_sink& out);

  /// The 277s announcing `events` (later events: one interchange per ISA15 usage of their
  /// claims). Takes control numbers.
  [[nodiscard]] std::string status_message(const std::vector<event>& events, message_time at);

  /// Start-up over a durable state: the facts it kept go back into the gate's index (nothing
  /// is re-evaluated: the stored decisions already reflect them), and the open claims it holds
  /// are counted in summary(). Throws std::runtime_error when stored facts do not decode.
  void restore();
  /// The same for one stored facts row (its encoded body) and one open claim's decision: what
  /// a state took in besides messages (a cluster partition's snapshot). Throws
  /// std::runtime_error when the facts do not decode.
  void restore_facts(std::string_view encoded);
  void restore_open_decision(const model::decision& decision);
  /// After rows were taken out of the state beneath the intake (a cluster partition's stale
  /// copy replaced by a snapshot): the gate forgets each facts row's resource taken out
  /// (gate::forget_resource) before the rows that replace them are restored, and
  /// forget_open_decision() uncounts each open claim taken out.
  void forget_fact_resource(std::string_view resource);
  void forget_open_decision(const model::decision& decision);

  [[nodiscard]] statistics summary() const;
  [[nodiscard]] const intake_settings& settings() const noexcept;
  /// The gate's view of a patient now (gate::context_of): for read models. The one member that
  /// may run on another thread while the host feeds the intake.
  [[nodiscard]] policy::patient_context patient_context(const std::string& patient_key) const;

  struct impl;  ///< the implementation (its readers live in intake.cpp)

 private:
  std::unique_ptr<impl> impl_;
};

}  // namespace covgate::engine
