#include "covgate/engine/inbox.hpp"

#include <map>

#include "covgate/fhir/reader.hpp"
#include "covgate/hl7v2/ack.hpp"
#include "covgate/x12/ack_writer.hpp"

namespace covgate::engine {
namespace {

// FNV-1a, 64 bits: stable across builds (it is stored), and enough to tell a retried message
// from a different one that reuses an interchange control number.
std::uint64_t digest(std::string_view bytes) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (const char c : bytes) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

std::string_view trim_end(std::string_view s) noexcept {
  const auto last = s.find_last_not_of(" \t\r\n");
  return last == std::string_view::npos ? std::string_view{} : s.substr(0, last + 1);
}

std::string_view skip_blanks(std::string_view s) noexcept {
  if (s.substr(0, 3) == "\xEF\xBB\xBF") s.remove_prefix(3);
  const auto first = s.find_first_not_of(" \t\r\n");
  return first == std::string_view::npos ? std::string_view{} : s.substr(first);
}

// Answers each accepted transaction set with one 277 as soon as its SE checks out, and the
// interchange with its 999/TA1 when anything was refused or a TA1 was asked for. An interchange
// accepted in an earlier message is answered as it was then (or refused, by settings).
class x12_sink final : public x12::reader_sink {
 public:
  using answer_set = std::function<void(std::vector<std::pair<model::claim, std::string>>&)>;
  /// Interchanges of this message found in the memory, with their earlier answers.
  using earlier_answers = std::map<std::string, interchange_memory::answer_given, std::less<>>;

  x12_sink(const std::string& source, answer_set on_set, x12::ack_settings ack, answer& out,
           interchange_memory* memory, const earlier_answers& earlier, bool answer_again,
           std::uint64_t message_digest)
      : source_(source),
        on_set_(std::move(on_set)),
        ack_(std::move(ack)),
        out_(out),
        memory_(memory),
        earlier_(earlier),
        answer_again_(answer_again),
        message_digest_(message_digest) {}

  void on_claim(const model::claim& claim) override {
    set_claims_.emplace_back(claim, source_ + ":" + std::to_string(claim.source_offset));
  }
  void on_set_end(const x12::set_result& set) override {
    if (!set.rejected) on_set_(set_claims_);
    set_claims_.clear();
  }
  void on_interchange_end(const x12::interchange_result& result) override {
    ++interchanges_;
    const auto key = result.sender_control();
    if (const auto it = earlier_.find(key);
        answer_again_ && it != earlier_.end() && it->second.message_digest == message_digest_ &&
        result.errors.size() == 1 && result.errors[0] == x12::error::duplicate_interchange) {
      out_.body += it->second.body;
      out_.rejected = out_.rejected || it->second.rejected;
      out_.claims += it->second.claims;
      ++out_.repeated_interchanges;
      begin_ = {out_.body.size(), out_.claims};
      return;
    }
    bool findings = result.ack_requested || !result.errors.empty() || result.rejected;
    bool refused = result.rejected || !result.any_accepted();
    for (const auto& g : result.groups) {
      if (g.rejected || g.ack_code() != 'A') findings = true;
      if (g.rejected || g.accepted_sets() < g.sets.size()) refused = true;
    }
    if (findings) out_.body += x12::write_acknowledgment(result, ack_);
    out_.rejected = out_.rejected || refused;
    // Remembered once anything in it was answered: its claims are in the gate now.
    if (memory_ != nullptr && (result.any_accepted() || out_.claims > begin_.second)) {
      memory_->remember(key, {out_.body.substr(begin_.first), refused, out_.claims - begin_.second,
                              message_digest_});
    }
    begin_ = {out_.body.size(), out_.claims};
  }
  [[nodiscard]] std::uint32_t interchanges() const noexcept { return interchanges_; }

 private:
  const std::string& source_;
  answer_set on_set_;
  x12::ack_settings ack_;
  answer& out_;
  interchange_memory* memory_;
  const earlier_answers& earlier_;
  bool answer_again_;
  std::uint64_t message_digest_;
  std::vector<std::pair<model::claim, std::string>> set_claims_;
  std::pair<std::size_t, std::uint32_t> begin_{0, 0};  // the current interchange's answer
  std::uint32_t interchanges_ = 0;
};

}  // namespace

payload_kind sniff(std::string_view payload) noexcept {
  const auto s = skip_blanks(payload);
  if (s.substr(0, 3) == "ISA") return payload_kind::x12;
  if (hl7v2::looks_like_hl7v2(s)) return payload_kind::hl7v2;
  if (!s.empty() && (s.front() == '{' || s.front() == '<')) return payload_kind::fhir;
  return payload_kind::unknown;
}

std::string_view name(payload_kind k) noexcept {
  switch (k) {
    case payload_kind::x12:
      return "x12";
    case payload_kind::fhir:
      return "fhir";
    case payload_kind::hl7v2:
      return "hl7v2";
    case payload_kind::unknown:
      break;
  }
  return "unknown";
}

inbox::inbox(const policy::policy_file& policy, const mapping::tables& tables, store::store& claims,
             inbox_settings settings, std::uint32_t first_control)
    : tables_(tables),
      settings_(std::move(settings)),
      gate_(policy, tables, claims,
            [this](event&& e) {
              if (observer_) observer_(e);
              events_.push_back(std::move(e));
            }),
      control_(first_control) {}

answer inbox::receive(std::string_view payload, const std::string& source, const message_time& at) {
  events_.clear();
  answer out;
  switch (sniff(payload)) {
    case payload_kind::x12:
      out = receive_x12(payload, source, at);
      break;
    case payload_kind::fhir:
      out = receive_fhir(payload, source);
      break;
    case payload_kind::hl7v2:
      out = receive_hl7v2(payload, at);
      break;
    case payload_kind::unknown: {
      hl7v2::hl7_ack_settings s;
      s.timestamp = at.stamp;
      s.control_id = "CG" + std::to_string(control_++);
      out.body = hl7v2::hl7_ack(nullptr, "AR", "200",
                                "Unrecognized payload: not X12 (ISA), FHIR (JSON or XML) or "
                                "HL7 v2 (MSH)",
                                s);
      out.content_type = "x-application/hl7-v2+er7";
      out.rejected = true;
      break;
    }
  }
  return out;
}

answer inbox::receive_x12(std::string_view payload, const std::string& source,
                          const message_time& at) {
  answer out;
  out.kind = payload_kind::x12;
  out.content_type = "application/edi-x12";
  x12::ack_settings ack;
  ack.date = at.stamp.substr(2, 6);
  ack.time = at.stamp.substr(8, 4);
  ack.control = control_++;
  auto answer_set = [&](std::vector<std::pair<model::claim, std::string>>& claims) {
    events_.clear();
    for (auto& [claim, where] : claims) gate_.on_claim(std::move(claim), where);
    out.claims += static_cast<std::uint32_t>(claims.size());
    out.body += status_message(events_, at);
    events_.clear();
  };
  x12_sink::earlier_answers earlier;
  auto options = settings_.reader;
  if (interchanges_ != nullptr) {
    options.known_interchange = [&](std::string_view key) {
      auto given = interchanges_->answer_of(key);
      if (given) earlier.emplace(key, std::move(*given));
      return given.has_value();
    };
  }
  x12_sink sink(source, answer_set, ack, out, interchanges_, earlier,
                settings_.duplicates == duplicate_interchanges::answer_again,
                digest(trim_end(skip_blanks(payload))));
  x12::interchange_reader reader(sink, options);
  reader.put(payload);
  reader.finish();
  if (sink.interchanges() == 0) {
    // No ISA at all: nothing an X12 acknowledgment could echo.
    out.rejected = true;
  }
  return out;
}

answer inbox::receive_fhir(std::string_view payload, const std::string& source) {
  answer out;
  out.kind = payload_kind::fhir;
  out.content_type = "application/fhir+json";
  auto result = fhir::read(payload, fhir::sniff(payload), tables_);
  out.rejected = result.has_errors();
  out.facts = static_cast<std::uint32_t>(result.facts.size());
  out.body = fhir::operation_outcome_json(result);
  if (!result.rejected) {
    if (facts_observer_) facts_observer_(result.facts);
    gate_.on_facts(std::move(result.facts), source);
  }
  out.later = std::move(events_);
  events_.clear();
  return out;
}

answer inbox::receive_hl7v2(std::string_view payload, const message_time& at) {
  answer out;
  out.kind = payload_kind::hl7v2;
  out.content_type = "x-application/hl7-v2+er7";
  out.rejected = true;
  const auto header = hl7v2::parse_msh(payload);
  hl7v2::hl7_ack_settings s;
  s.timestamp = at.stamp;
  s.control_id = "CG" + std::to_string(control_++);
  out.body = hl7v2::hl7_ack(header ? &*header : nullptr, "AR", "200",
                            "Unsupported message type: covgate reads X12 837 and FHIR R4", s);
  return out;
}

std::size_t inbox::restore(std::string_view fhir_payload) {
  auto result = fhir::read(fhir_payload, fhir::sniff(fhir_payload), tables_);
  if (result.rejected) return 0;
  const auto n = result.facts.size();
  if (facts_observer_) facts_observer_(result.facts);
  gate_.restore_facts(std::move(result.facts));
  return n;
}

std::pair<gate::review_result, std::vector<event>> inbox::review(std::string_view claim_id,
                                                                 bool release,
                                                                 const std::string& source) {
  events_.clear();
  const auto result = gate_.review(claim_id, release, source);
  auto events = std::move(events_);
  events_.clear();
  return {result, std::move(events)};
}

std::string inbox::status_message(const std::vector<event>& events, const message_time& at) {
  if (events.empty()) return {};
  std::vector<std::string> traces;
  traces.reserve(events.size());
  std::vector<x12::status_entry> entries;
  entries.reserve(events.size());
  for (const auto& e : events) {
    traces.push_back(e.trace());
    entries.push_back({&e.claim, &e.decision, traces.back()});
  }
  x12::status_settings s;
  s.profile = settings_.profile;
  s.sender_qualifier = settings_.sender_qualifier;
  s.sender_id = settings_.sender_id;
  s.date = at.stamp.substr(0, 8);
  s.time = at.stamp.substr(8, 4);
  s.control = control_++;
  return x12::write_277(entries, s);
}

}  // namespace covgate::engine
