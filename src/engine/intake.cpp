#include "covgate/engine/intake.hpp"

#include <algorithm>
#include <cassert>
#include <deque>
#include <future>
#include <optional>
#include <stdexcept>
#include <unordered_map>

#include "covgate/engine/x12_feed.hpp"
#include "covgate/engine/x12_input.hpp"
#include "covgate/hl7v2/ack.hpp"
#include "covgate/hl7v2/mllp.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/hl7v2/splitter.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/model/fact_index.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/status_writer.hpp"

namespace covgate::engine {
namespace {

// Every line of `text` prefixed with "source: " (finding lines name their input).
void report_lines(answer_sink& out, std::string_view source, std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::string line(source);
    line.append(": ").append(text.substr(start, end - start));
    out.finding(line);
    start = end + 1;
  }
}

// One line per FHIR warning or error, naming where (FHIRPath), never a value.
void report_issues(answer_sink& out, std::string_view source, const fhir::read_result& result) {
  for (const auto& i : result.issues) {
    if (i.level == fhir::severity::information) continue;
    std::string line(source);
    line.append(": ").append(fhir::name(i.level)).append(" ").append(i.code).append(" at ");
    line.append(i.expression.empty() ? std::string("(message)") : i.expression);
    line.append(": ").append(i.diagnostics);
    out.finding(line);
  }
}

}  // namespace

struct intake::impl {
  impl(const policy::policy_file& policy, const mapping::tables& t, engine::state& s,
       intake_settings settings_in)
      : tables(t),
        st(s),
        settings(std::move(settings_in)),
        gate_(policy, t, s, [this](event&& e) { on_gate_event(std::move(e)); }),
        control(static_cast<std::uint32_t>(s.counter("control", 1))) {}

  const mapping::tables& tables;
  engine::state& st;
  intake_settings settings;
  gate gate_;
  std::uint32_t control;  // our next ISA13 / GS06 / MSH-10 number

  // The operation under way: where its events go and when it happens.
  answer_sink* out = nullptr;
  message_time now;
  bool first_answers = false;  // events are the answers of the claims being read
  std::vector<event> answered;

  // Every event is history (but a repeated answer); first answers wait for their set's 277,
  // later ones go out as they happen.
  void on_gate_event(event&& e) {
    if (e.kind != event_kind::repeat && st.keeps_history()) {
      st.record_history(model::claim_key(e.claim()), {e.sequence, std::string(name(e.kind)),
                                                      now.unix_ms, e.decision, e.source, e.note});
    }
    if (first_answers) {
      answered.push_back(std::move(e));
    } else if (out != nullptr) {
      out->on_event(e, true);
    }
  }

  std::uint32_t take_control() {
    const auto c = control++;
    if (control == 0 || control > 999'999'999) control = 1;  // ISA13 has nine digits
    return c;
  }
  // Our control number survives in the state at the end of every operation.
  void save_control() { st.set_counter("control", control); }

  std::string stamp() const { return model::utc_stamp(now.unix_ms); }

  // The 277 answering `events` (status_message's: later events), valid until the next call:
  // written into one buffer kept for the intake's life, so that answers do not fault in fresh
  // pages each time (a fresh string per set, when every set's 277 went this way, was 12 % of
  // a claims-only replay; an X12 input's 277s now go into its remembered answer).
  std::string_view status_277(const std::vector<event>& events) {
    return status_277(events, answer_buffer, 0);
  }
  // The same written into `buffer` from byte `from` (its size if `from` is past it; what it
  // holds before is kept), valid until `buffer` changes.
  std::string_view status_277(const std::vector<event>& events, std::string& buffer,
                              std::size_t from) {
    from = std::min(from, buffer.size());
    std::size_t written = 0;
    // One interchange per ISA15 usage: a test claim is answered in a test interchange.
    for (const char usage : {'P', 'T'}) {
      // Both kept for the intake's life, like the buffer: a set's entries and their traces
      // are not allocated again for every answer.
      auto& traces = answer_traces;
      auto& entries = answer_entries;
      traces.clear();
      entries.clear();
      traces.reserve(events.size());  // entries view these strings: never moved while filled
      for (const auto& e : events) {
        if ((e.claim().envelope.usage == 'T') != (usage == 'T')) continue;
        traces.push_back(e.trace());
        entries.emplace_back(&e.claim(), &e.decision, traces.back(), name(e.kind), e.note);
      }
      if (entries.empty()) continue;
      x12::status_settings s;
      s.profile = settings.profile;
      s.sender_qualifier = settings.sender_qualifier;
      s.sender_id = settings.sender_id;
      const auto at = stamp();
      s.date = at.substr(0, 8);
      s.time = at.substr(8, 4);
      s.control = take_control();
      s.usage = usage;
      // Production and test claims in one set (rare): the second interchange right after the
      // first.
      written += x12::write_277(entries, s, buffer, from + written).size();
    }
    return {buffer.data() + from, written};
  }
  std::string answer_buffer;                      // status_277's
  std::vector<std::string> answer_traces;         // status_277's
  std::vector<x12::status_entry> answer_entries;  // status_277's, viewing answer_traces

  // A durable state keeps each accepted FHIR message's facts, one row per resource (an
  // Observation and its components together), for a restart.
  void keep(const std::vector<model::fact>& facts) {
    if (!st.durable()) return;
    std::vector<std::pair<std::string, std::vector<const model::fact*>>> by_resource;
    std::unordered_map<std::string, std::size_t> position;  // a Bundle may hold thousands
    for (const auto& f : facts) {
      auto resource = model::fact_index::resource_of(model::resource_id_of(f));
      const auto [it, added] = position.try_emplace(resource, by_resource.size());
      if (added) by_resource.emplace_back(std::move(resource), std::vector<const model::fact*>{});
      by_resource[it->second].second.push_back(&f);
    }
    std::string encoded;
    std::vector<model::fact> group;
    for (const auto& [resource, members] : by_resource) {
      group.clear();
      for (const auto* f : members) group.push_back(*f);
      encoded.clear();
      model::encode(group, encoded);
      st.save_facts(resource, model::last_updated_of(group.front()), encoded);
    }
  }

  // Scope of one public operation: where events go, and the control number saved after.
  struct operation {
    operation(impl& i, answer_sink& sink, message_time at) : self(i), saved_out(i.out) {
      self.out = &sink;
      self.now = at;
    }
    ~operation() {
      self.out = saved_out;
      self.save_control();
    }
    impl& self;
    answer_sink* saved_out;
  };
};

namespace {

using reading = intake::input;

// ---- X12 ---------------------------------------------------------------------------------

// Answers each accepted transaction set with one 277 as soon as its SE checks out, and the
// interchange with its 999/TA1 when anything was refused or a TA1 was asked for. An
// interchange answered in an earlier message is answered as it was then (or refused, by
// settings).
class x12_reading final : public reading, private x12_input::handler {
 public:
  x12_reading(intake::impl& i, std::string source, answer_sink& out)
      : i_(i),
        source_(std::move(source)),
        out_(out),
        input_(*this, options(),
               {i.settings.read_pool, i.settings.read_ahead, i.st.keeps_encoded_claims()}) {}

  void put(std::string_view bytes) override { input_.put(bytes); }
  void put_buffer(std::string& buffer) override { input_.put_buffer(buffer); }

  input_result finish() override {
    input_.finish();
    if (input_.interchanges() == 0) result_.rejected = true;  // not even an ISA
    if (input_.leading_bytes_skipped() > 0) {
      out_.finding(source_ + ": note: skipped " + std::to_string(input_.leading_bytes_skipped()) +
                   " bytes of text before the first ISA");
    }
    return result_;
  }

 private:
  x12::reader_options options() {
    auto o = i_.settings.reader;
    o.known_interchange = [this](std::string_view key) {
      return i_.st.interchange(key).has_value();
    };
    return o;
  }

  void accepted_set(std::span<model::claim> claims, const x12::set_result&) override {
    i_.first_answers = true;
    i_.answered.clear();
    std::string where = source_ + ":";  // "<source>:<offset>", one buffer for the set
    const auto prefix = where.size();
    // The set's events borrow these claims (they stay where the reader built them, buffers
    // and all, for the next set): answered is cleared before the span goes.
    for (std::size_t n = 0; n < claims.size(); ++n) {
      const auto& claim = claims[n];
      where.resize(prefix);
      where += std::to_string(claim.source_offset);
      i_.gate_.on_claim(claim, where, input_.encoded(n));
    }
    i_.first_answers = false;
    result_.claims += static_cast<std::uint32_t>(claims.size());
    for (const auto& e : i_.answered) out_.on_event(e, false);
    make_room_to_remember(claims.size());
    send_written_in_place(i_.status_277(i_.answered, answer_, answer_size_));
    i_.answered.clear();
  }

  void interchange_end(const x12::interchange_result& r,
                       const interchange_verdict& verdict) override {
    const auto key = r.sender_control();
    const bool only_duplicate =
        r.errors.size() == 1 && r.errors[0] == x12::error::duplicate_interchange;
    // Looked up here, at its end, in the input's order: an interchange read ahead asked at its
    // ISA, perhaps before an earlier one of this input with its number was remembered.
    const auto earlier =
        only_duplicate && i_.settings.duplicates == duplicate_interchanges::answer_again
            ? i_.st.interchange(key)
            : std::nullopt;
    if (earlier && earlier->message_digest == r.content_digest && !earlier->body.empty()) {
      // The same interchange again (a retry after a lost answer): its first answer, byte for
      // byte; nothing is processed twice.
      out_.x12(earlier->body);
      result_.rejected = result_.rejected || earlier->rejected;
      result_.claims += earlier->claims;
      ++result_.repeated_interchanges;
      end_interchange();
      return;
    }
    if (verdict.acknowledge) {
      x12::ack_settings ack;
      const auto at = i_.stamp();
      ack.date = at.substr(2, 6);
      ack.time = at.substr(8, 4);
      ack.control = i_.take_control();
      send_and_copy(x12::write_acknowledgment(r, ack));
    }
    const bool refused = !verdict.all_accepted;
    result_.rejected = result_.rejected || refused;
    report_lines(out_, source_, x12::describe_findings(r));
    if (verdict.answered_then_refused > 0) {
      out_.finding(source_ + ": note: " + std::to_string(verdict.answered_then_refused) +
                   " claims were answered before their group or interchange trailer was "
                   "rejected; their answers stand");
    }
    // Remembered once anything in it was answered: its claims are in the gate now.
    if (r.any_accepted() || result_.claims > claims_at_start_) {
      i_.st.remember_interchange(
          key, i_.now.unix_ms,
          {remembered_answer(), refused, result_.claims - claims_at_start_, r.content_digest});
    }
    end_interchange();
  }

  // The interchange's answer is remembered for a repeat as long as it stays within
  // max_remembered_answer: its pieces one after another at the start of answer_, each set's
  // 277 written there in place. Each 277 copied in after it was written cost a copy and, for
  // a large interchange, fresh pages for 16 MiB of copies mostly dropped at the limit (perf:
  // 5 % of the gate's thread in a claims-only replay); one string grown by appending copied
  // itself at every doubling besides. Past the limit nothing is kept (answer_size_ stays 0),
  // and each 277 is written at answer_'s start, then only a buffer used again.

  // Before a second set's 277 onward, while the interchange's answer is still kept: room for
  // all that may be kept and one set's 277 after it, made once. Grown by the writer set by
  // set, answer_ doubled its capacity, each time into fresh memory with a copy of all kept so
  // far: for a large interchange some 20 MB copied and twice the pages touched before the
  // limit was passed. Not for the first set: a one-set message (each of serve's) keeps a
  // buffer of its own size. Room not written is not touched, and costs no memory.
  void make_room_to_remember(std::size_t claims) {
    if (answer_overflowed_ || answer_size_ == 0) return;
    const auto room = i_.settings.max_remembered_answer + x12::status_277_room(claims);
    if (answer_.capacity() < room) answer_.reserve(room);
  }

  // Sends `text`, written into answer_ at answer_size_, and keeps it there.
  void send_written_in_place(std::string_view text) {
    if (text.empty()) return;
    assert(text.data() == answer_.data() + answer_size_);
    out_.x12(text);
    keep(text.size());
  }

  // Sends `text` (a 999 or TA1, written elsewhere), and keeps a copy of it.
  void send_and_copy(std::string_view text) {
    if (text.empty()) return;
    out_.x12(text);
    if (answer_overflowed_) return;
    answer_.replace(answer_size_, text.size(), text);  // over answer_'s room, if it has some
    keep(text.size());
  }

  void keep(std::size_t size) {
    if (answer_overflowed_) return;
    answer_size_ += size;
    if (answer_size_ > i_.settings.max_remembered_answer) {
      answer_overflowed_ = true;
      answer_size_ = 0;
    }
  }

  [[nodiscard]] std::string remembered_answer() const {
    if (answer_overflowed_) return {};
    return answer_.substr(0, answer_size_);
  }

  void end_interchange() {
    answer_size_ = 0;
    answer_overflowed_ = false;
    claims_at_start_ = result_.claims;
    out_.message_end();
  }

  intake::impl& i_;
  std::string source_;
  answer_sink& out_;
  input_result result_{payload_kind::x12};
  // What the current interchange was answered so far (its first answer_size_ bytes), then room
  // for the next 277: for this input's life, at most max_remembered_answer and the largest
  // set's 277 with its writer's room (about 1.3 KB a claim), in a capacity of up to twice that.
  // An input is one message in serve: its buffer starts empty, a small allocation a message.
  std::string answer_;
  std::size_t answer_size_ = 0;     // 0 once past max_remembered_answer
  bool answer_overflowed_ = false;  // past max_remembered_answer: nothing is remembered
  std::uint32_t claims_at_start_ = 0;
  x12_feed input_;  // last: its reader calls back into the members above
};

// ---- FHIR --------------------------------------------------------------------------------

// A FHIR document (JSON or XML) is read whole; NDJSON streams in batches of whole lines, each
// line a message of its own, so a file of any size is read in bounded memory.
class fhir_reading final : public reading {
 public:
  fhir_reading(intake::impl& i, std::string source, answer_sink& out, bool whole)
      : i_(i), source_(std::move(source)), out_(out), whole_(whole) {}
  fhir_reading(const fhir_reading&) = delete;
  fhir_reading& operator=(const fhir_reading&) = delete;
  // A batch still being read borrows the intake's tables: an input given up before finish()
  // (its host failed) waits for it.
  ~fhir_reading() override {
    for (auto& batch : reading_) batch.result.wait();
  }

  void put(std::string_view bytes) override {
    if (too_large_) return;
    if (skipping_line_) {
      // The rest of an NDJSON line already refused for its length: up to its newline.
      const auto newline = bytes.find('\n');
      offset_ += newline == std::string_view::npos ? bytes.size() : newline + 1;
      if (newline == std::string_view::npos) return;
      skipping_line_ = false;
      ++line_;
      bytes.remove_prefix(newline + 1);
    }
    pending_.append(bytes);
    if (!whole_ && !decided_ &&
        (pending_.find('\n') != std::string::npos || pending_.size() > 4096)) {
      decide();
    }
    if (ndjson_) {
      const auto last_newline = pending_.rfind('\n');
      if (last_newline != std::string::npos) read_lines(last_newline + 1);
      if (pending_.size() > i_.settings.fhir.max_bytes) refuse_long_line();
    } else if (pending_.size() > i_.settings.fhir.max_bytes) {
      // Refused by its size: the rest is not kept.
      too_large_ = true;
      pending_.clear();
      pending_.shrink_to_fit();
    }
  }

  input_result finish() override {
    if (!decided_) decide();
    if (too_large_) {
      answer(fhir::too_large(i_.settings.fhir), 0);
    } else if (ndjson_) {
      if (!pending_.empty()) read_lines(pending_.size());
      answer_read_ahead(0);
    } else {
      answer(fhir::read(pending_, fhir::sniff(pending_), i_.tables, i_.settings.fhir), 0);
    }
    return result_;
  }

 private:
  void decide() {
    decided_ = true;
    ndjson_ = !whole_ && fhir::sniff(pending_) == fhir::encoding::ndjson;
  }

  // An NDJSON line longer than a message may be, with no end in sight: refused by its size,
  // and the rest of it skipped, so one line cannot hold unbounded memory.
  void refuse_long_line() {
    answer_read_ahead(0);  // the lines before it are answered first
    auto r = fhir::too_large(i_.settings.fhir);
    for (auto& issue : r.issues)
      issue.diagnostics = "line " + std::to_string(line_) + ": " + issue.diagnostics;
    answer(std::move(r), offset_);
    offset_ += pending_.size();
    pending_.clear();
    pending_.shrink_to_fit();
    skipping_line_ = true;
  }

  void read_lines(std::size_t cut) {
    const std::string_view batch(pending_.data(), cut);
    const auto first_line = line_, offset = offset_;
    // Line by line with find() (memchr): a byte-wise count cost as much as parsing the JSON.
    for (auto at = batch.find('\n'); at != std::string_view::npos; at = batch.find('\n', at + 1)) {
      ++line_;
    }
    offset_ += cut;
    if (i_.settings.read_ahead == 0 || i_.settings.read_pool == nullptr) {
      answer(fhir::read_ndjson(batch, first_line, i_.tables, i_.settings.fhir), offset);
      pending_.erase(0, cut);
      return;
    }
    // The batch's bytes go with it: pending_'s buffer itself, and a spare one (a batch read
    // before) takes what follows the batch. A fresh megabyte per batch was page-faulted in
    // again each time: a fifth of the gate's thread.
    std::string text = take_spare();
    text.assign(pending_, cut);
    std::swap(text, pending_);
    text.resize(cut);
    read_ahead(std::move(text), first_line, offset);
  }

  // Hands a batch to the host's pool, then answers the batches before it while more than
  // read_ahead + 1 are in flight. The one more keeps every thread reading while the gate
  // applies a batch: with read_ahead in flight, the thread that had read the batch being
  // applied waited for the gate to hand it the next (a day's records replayed with two
  // threads: 1.28-1.56 → 1.16-1.35 s in four alternating rounds).
  void read_ahead(std::string text, std::size_t first_line, std::size_t offset) {
    // The tables and limits are the intake's, which outlives this input and never changes them.
    // The batch's records are encoded there too, for the gate to check and store (a third of
    // the gate's work on a records file was encoding them).
    auto read = std::make_shared<std::packaged_task<batch_read()>>(
        [text = std::move(text), first_line, &tables = i_.tables, &limits = i_.settings.fhir,
         ahead = take_spare_ahead()]() mutable {
          auto result = fhir::read_ndjson(text, first_line, tables, limits);
          if (!result.rejected) model::fact_index::encode_ahead(result.facts, ahead);
          return batch_read{std::move(result), std::move(text), std::move(ahead)};
        });
    reading_.push_back({read->get_future(), offset});
    try {
      i_.settings.read_pool->run([read] { (*read)(); });
    } catch (...) {
      reading_.pop_back();  // never to run: its future would only say "broken promise"
      throw;
    }
    answer_read_ahead(i_.settings.read_ahead + 1);
  }

  std::string take_spare() {
    if (spare_.empty()) return {};
    auto text = std::move(spare_.back());
    spare_.pop_back();
    return text;
  }

  model::fact_index::encoded_ahead take_spare_ahead() {
    if (spare_ahead_.empty()) return {};
    auto ahead = std::move(spare_ahead_.back());
    spare_ahead_.pop_back();
    return ahead;
  }

  // Answers the batches read ahead, oldest first, until at most `keep` are still being read.
  void answer_read_ahead(std::size_t keep) {
    while (reading_.size() > keep) {
      auto oldest = std::move(reading_.front());
      reading_.pop_front();
      auto read = oldest.result.get();
      spare_.push_back(std::move(read.text));
      answer(std::move(read.result), oldest.offset, &read.ahead);
      spare_ahead_.push_back(std::move(read.ahead));
    }
  }

  void answer(fhir::read_result r, std::size_t offset,
              const model::fact_index::encoded_ahead* ahead = nullptr) {
    report_issues(out_, source_, r);
    out_.fhir(fhir::operation_outcome_json(r));
    result_.rejected = result_.rejected || r.has_errors();
    result_.facts += static_cast<std::uint32_t>(r.facts.size());
    if (!r.rejected && !r.facts.empty()) {
      i_.keep(r.facts);
      i_.gate_.on_facts_spending(r.facts, source_ + ":" + std::to_string(offset), ahead);
      free_elsewhere(std::move(r.facts));
    }
    out_.message_end();
  }

  // A batch read ahead was allocated on a pool thread: it is freed there too, off the gate's
  // thread (9 % of the gate's work on a records file, callgrind), in jemalloc's cache of
  // a thread that allocates the next batches. Read on the caller's thread: freed here.
  void free_elsewhere(std::vector<model::fact> spent) {
    if (i_.settings.read_ahead == 0 || i_.settings.read_pool == nullptr) return;
    auto owned = std::make_shared<std::vector<model::fact>>(std::move(spent));
    i_.settings.read_pool->run([owned] { owned->clear(); });
  }

  intake::impl& i_;
  std::string source_;
  answer_sink& out_;
  bool whole_;  // a message of its own (NDJSON then answered by one OperationOutcome)
  input_result result_{payload_kind::fhir};
  std::string pending_;
  bool decided_ = false;
  bool ndjson_ = false;
  bool too_large_ = false;
  bool skipping_line_ = false;
  std::size_t line_ = 1;
  std::size_t offset_ = 0;
  struct batch_read {
    fhir::read_result result;
    std::string text;                        // the batch's bytes, whose buffer is used again
    model::fact_index::encoded_ahead ahead;  // its records, used again too
  };
  struct batch_being_read {
    std::future<batch_read> result;
    std::size_t offset;  // of its first byte in the input
  };
  std::deque<batch_being_read> reading_;  // settings.read_ahead's, oldest first
  std::vector<std::string> spare_;        // buffers of batches answered
  std::vector<model::fact_index::encoded_ahead> spare_ahead_;
};

// ---- HL7 v2 ------------------------------------------------------------------------------

// A stream of HL7 v2 messages (one, a file of many, batches): each message read into facts
// and answered with its ACK(s) as soon as the next one shows where it ends. A message sent
// again (the same MSH-10 from the same sender) gets its first answer, not processed twice.
class hl7v2_reading final : public reading {
 public:
  hl7v2_reading(intake::impl& i, std::string source, answer_sink& out)
      : i_(i),
        source_(std::move(source)),
        out_(out),
        splitter_(
            [this](std::string_view m, const hl7v2::message_info& where) { message(m, where); },
            [this](const hl7v2::stream_notice& n) { notice(n); }, splitter_limits()) {}

  void put(std::string_view bytes) override { splitter_.put(bytes); }

  input_result finish() override {
    splitter_.finish();
    if (splitter_.messages() == 0) result_.rejected = true;
    return result_;
  }

 private:
  hl7v2::splitter_limits splitter_limits() const {
    hl7v2::splitter_limits l;
    l.max_message_bytes = i_.settings.hl7v2.limits.max_message_bytes;
    return l;
  }

  void message(std::string_view text, const hl7v2::message_info& where) {
    auto options = i_.settings.hl7v2;
    options.first_line = where.line;
    auto r = where.oversize ? hl7v2::refuse(text, hl7v2::error::message_too_large, options)
                            : hl7v2::read(text, i_.tables, options);
    const auto key = r.header ? "hl7v2/" + r.dedupe_key() : std::string();
    const auto digest = content_digest(text);
    if (!key.empty()) {
      if (const auto earlier = i_.st.interchange(key)) {
        if (earlier->message_digest == digest) {
          // The same message again (a retry after a lost ACK): its first answer, byte for
          // byte; nothing is processed twice.
          for (const auto& ack : split_acks(earlier->body)) out_.hl7v2(ack);
          result_.rejected = result_.rejected || earlier->rejected;
          ++result_.repeated_interchanges;
        } else {
          // Another message under a control id this sender already used: refused, like an
          // X12 control number reused for other content (TA1 025).
          hl7v2::hl7_ack_settings s;
          s.timestamp = i_.stamp();
          s.control_id = "CG" + std::to_string(i_.take_control());
          out_.hl7v2(hl7v2::hl7_ack(&*r.header, "AR", "207",
                                    "MSH-10 was already used by this sender for another message",
                                    s));
          out_.finding(source_ + ":" + std::to_string(where.offset) +
                       ": MSH-10 reused for another message: refused");
          result_.rejected = true;
        }
        out_.message_end();
        return;
      }
    }
    const std::string where_text = source_ + ":" + std::to_string(where.offset);
    for (const auto& issue : r.issues) {
      if (issue.level == hl7v2::severity::information) continue;
      out_.finding(where_text + ": " + hl7v2::to_string(issue));
    }
    const bool refused = r.ack() != hl7v2::ack_code::application_accept;
    result_.rejected = result_.rejected || refused;
    result_.facts += static_cast<std::uint32_t>(r.facts.size());
    if (!r.rejected && !r.facts.empty()) {
      i_.keep(r.facts);
      i_.gate_.on_facts(std::move(r.facts), where_text);
    }
    hl7v2::hl7_ack_settings s;
    s.timestamp = i_.stamp();
    s.control_id = "CG" + std::to_string(i_.take_control());
    std::string answer;
    for (const auto& ack : hl7v2::write_acks(r, s)) {
      out_.hl7v2(ack);
      answer += ack;
      answer += '\x1E';  // the ACKs of one message, kept apart for a repeat
    }
    if (!key.empty() && !r.rejected) {
      i_.st.remember_interchange(key, i_.now.unix_ms, {std::move(answer), refused, 0, digest});
    }
    out_.message_end();
  }

  // FNV-1a over the message without its trailing line ends (a resend may differ there).
  static std::uint64_t content_digest(std::string_view text) {
    while (!text.empty() && (text.back() == '\r' || text.back() == '\n')) text.remove_suffix(1);
    std::uint64_t h = 14695981039346656037ull;
    for (const char c : text) {
      h ^= static_cast<unsigned char>(c);
      h *= 1099511628211ull;
    }
    return h;
  }

  static std::vector<std::string_view> split_acks(std::string_view kept) {
    std::vector<std::string_view> out;
    for (std::size_t start = 0; start < kept.size();) {
      const auto end = kept.find('\x1E', start);
      out.push_back(kept.substr(start, end - start));
      if (end == std::string_view::npos) break;
      start = end + 1;
    }
    return out;
  }

  void notice(const hl7v2::stream_notice& n) {
    out_.finding(source_ + ": line " + std::to_string(n.line) + ": " +
                 std::string(hl7v2::describe(n.code)));
  }

  intake::impl& i_;
  std::string source_;
  answer_sink& out_;
  input_result result_{payload_kind::hl7v2};
  hl7v2::message_splitter splitter_;  // last: it calls back into the members above
};

// ---- anything else -----------------------------------------------------------------------

class unrecognized_reading final : public reading {
 public:
  unrecognized_reading(std::string source, answer_sink& out)
      : source_(std::move(source)), out_(out) {}
  void put(std::string_view) override {}
  input_result finish() override {
    out_.finding(source_ +
                 ": not X12 (ISA), FHIR (JSON or XML), HL7 v2 (MSH, FHS, BHS) or MLLP frames: "
                 "skipped");
    return {payload_kind::unknown, true, true};
  }

 private:
  std::string source_;
  answer_sink& out_;
};

}  // namespace

// ---- MLLP recordings ---------------------------------------------------------------------

namespace {

// A file of MLLP frames as captured from a live feed: each frame is a message of its own,
// of whatever kind it holds, named "<source>#<frame number>".
class mllp_reading final : public reading {
 public:
  mllp_reading(intake& owner, std::string source, message_time at, answer_sink& out)
      : owner_(owner), source_(std::move(source)), at_(at), out_(out), decoder_(options()) {}

  void put(std::string_view bytes) override {
    const auto error = decoder_.put(bytes, [&](std::string_view frame) {
      const auto r = owner_.receive(frame, source_ + "#" + std::to_string(frames_ + 1), at_, out_);
      result_.rejected = result_.rejected || r.rejected || r.unrecognized;
      result_.claims += r.claims;
      result_.facts += r.facts;
      result_.repeated_interchanges += r.repeated_interchanges;
      ++frames_;
    });
    if (error != hl7v2::mllp_error::none && !failed_) {
      failed_ = true;
      result_.rejected = true;
      out_.finding(source_ + ": " + std::string(hl7v2::describe(error)) + " after " +
                   std::to_string(frames_) + " frames; the rest is not read");
    }
  }

  input_result finish() override {
    if (decoder_.inside_frame()) {
      result_.rejected = true;
      out_.finding(source_ + ": the last frame has no end block (0x1C): not read");
    }
    return result_;
  }

 private:
  static hl7v2::mllp_options options() {
    hl7v2::mllp_options o;
    o.max_frame_bytes = 64u << 20;
    return o;
  }
  intake& owner_;
  std::string source_;
  message_time at_;
  answer_sink& out_;
  hl7v2::mllp_decoder decoder_;
  input_result result_{payload_kind::mllp};
  std::uint32_t frames_ = 0;
  bool failed_ = false;
};

// Holds the first bytes until the kind is clear, then hands everything to its reader.
class sniffing_input final : public reading {
 public:
  sniffing_input(intake& owner, intake::impl& i, std::string source, message_time at,
                 answer_sink& out, bool whole)
      : owner_(owner), i_(i), source_(std::move(source)), at_(at), out_(out), whole_(whole) {}

  void put(std::string_view bytes) override {
    if (reader_) return reader_->put(bytes);
    head_.append(bytes);  // a blank prefix may be long
    if (enough_to_sniff(head_)) start();
  }
  void put_buffer(std::string& buffer) override {
    if (reader_) return reader_->put_buffer(buffer);
    put(std::string_view(buffer));
  }

  input_result finish() override {
    if (!reader_) start();
    return reader_->finish();
  }

 private:
  void start() {
    switch (sniff(head_)) {
      case payload_kind::x12:
        reader_ = std::make_unique<x12_reading>(i_, source_, out_);
        break;
      case payload_kind::fhir:
        reader_ = std::make_unique<fhir_reading>(i_, source_, out_, whole_);
        break;
      case payload_kind::hl7v2:
        reader_ = std::make_unique<hl7v2_reading>(i_, source_, out_);
        break;
      case payload_kind::mllp:
        reader_ = std::make_unique<mllp_reading>(owner_, source_, at_, out_);
        break;
      case payload_kind::unknown:
        reader_ = std::make_unique<unrecognized_reading>(source_, out_);
        break;
    }
    reader_->put(head_);
    head_.clear();
    head_.shrink_to_fit();
  }

  intake& owner_;
  intake::impl& i_;
  std::string source_;
  message_time at_;
  answer_sink& out_;
  bool whole_;
  std::string head_;
  std::unique_ptr<reading> reader_;
};

// An input that keeps its operation's scope (time, sink, the control number saved at the
// end) around each call.
class scoped_input final : public reading {
 public:
  scoped_input(intake::impl& i, message_time at, answer_sink& out, std::unique_ptr<reading> inner)
      : i_(i), at_(at), out_(out), inner_(std::move(inner)) {}
  void put(std::string_view bytes) override {
    intake::impl::operation op(i_, out_, at_);
    inner_->put(bytes);
  }
  void put_buffer(std::string& buffer) override {
    intake::impl::operation op(i_, out_, at_);
    inner_->put_buffer(buffer);
  }
  input_result finish() override {
    intake::impl::operation op(i_, out_, at_);
    return inner_->finish();
  }

 private:
  intake::impl& i_;
  message_time at_;
  answer_sink& out_;
  std::unique_ptr<reading> inner_;
};

}  // namespace

intake::intake(const policy::policy_file& policy, const mapping::tables& tables, state& state,
               intake_settings settings)
    : impl_(std::make_unique<impl>(policy, tables, state, std::move(settings))) {}

intake::~intake() = default;

std::unique_ptr<intake::input> intake::open(std::string source, message_time at, answer_sink& out) {
  return std::make_unique<scoped_input>(
      *impl_, at, out,
      std::make_unique<sniffing_input>(*this, *impl_, std::move(source), at, out, false));
}

input_result intake::receive(std::string_view message, std::string source, message_time at,
                             answer_sink& out) {
  scoped_input in(
      *impl_, at, out,
      std::make_unique<sniffing_input>(*this, *impl_, std::move(source), at, out, true));
  in.put(message);
  return in.finish();
}

gate::review_result intake::review(std::string_view claim_key, bool release, std::string_view who,
                                   std::string_view why, message_time at, answer_sink& out) {
  impl::operation op(*impl_, out, at);
  return impl_->gate_.review(claim_key, release, "review:" + std::string(who), std::string(why));
}

std::string intake::status_message(const std::vector<event>& events, message_time at) {
  answer_sink none;
  impl::operation op(*impl_, none, at);
  return std::string(impl_->status_277(events));
}

void intake::restore() {
  impl_->st.for_each_open_decision([&](const model::decision& d) { restore_open_decision(d); });
  impl_->st.for_each_facts([&](std::string_view encoded) { restore_facts(encoded); });
}

void intake::restore_facts(std::string_view encoded) {
  auto facts = model::decode_facts(encoded);
  if (!facts) {
    throw std::runtime_error(
        "stored facts do not decode (a state written by a newer covgate, or damaged)");
  }
  impl_->gate_.restore_facts(std::move(*facts));
}

void intake::restore_open_decision(const model::decision& decision) {
  impl_->gate_.count_stored(decision);
}

void intake::forget_fact_resource(std::string_view resource) {
  impl_->gate_.forget_resource(resource);
}

void intake::forget_open_decision(const model::decision& decision) {
  impl_->gate_.forget_stored(decision);
}

statistics intake::summary() const { return impl_->gate_.summary(); }

const intake_settings& intake::settings() const noexcept { return impl_->settings; }

policy::patient_context intake::patient_context(const std::string& patient_key) const {
  return impl_->gate_.context_of(patient_key);
}

}  // namespace covgate::engine
