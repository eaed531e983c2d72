// The front: one thread plans and publishes messages in the order they came, one thread
// collects the workers' answers and answers whatever waits past its deadline. Publishes are
// asynchronous (one synchronous publish to a replicated stream is a round trip of about a
// millisecond, which bounded the front at about 1,000 parts/s): one connection keeps their
// order in the stream, nats.c's thread reports each acknowledgement, and a part the cluster
// did not take (an election, a timeout) is sent again under its message id by the publishing
// thread after a backoff, until its message's deadline. A message waits in `pending` from
// just before its first publish (a worker may answer before the publish call returns) until
// its last part is answered or its deadline passes, whichever comes first.
#include "covgate/cluster/front.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <condition_variable>
#include <deque>
#include <map>
#include <mutex>
#include <set>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "covgate/cluster/control_numbers.hpp"
#include "covgate/cluster/identity_map.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/hl7v2/ack.hpp"
#include "covgate/hl7v2/splitter.hpp"
#include "covgate/model/date.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/store/memory_state.hpp"
#include "covgate/x12/envelope_edit.hpp"

namespace covgate::cluster {
namespace {

using clock = std::chrono::steady_clock;

std::int64_t unix_now_ms() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::uint32_t number_of(const std::string& text) {
  std::uint32_t n = 0;
  (void)std::from_chars(text.data(), text.data() + text.size(), n);
  return n;
}

// A worker's answer to one part, as its reply carried it.
struct part_reply {
  bool arrived = false;
  std::string outcome;
  std::string body;
  std::string parts;      // Cg-Parts: lengths of HL7 v2 ACKs
  std::string decisions;  // after the answer in the body: Cg-Decisions-Bytes of it
  std::uint32_t claims = 0;
  std::uint32_t facts = 0;
  engine::disposition disposition = engine::disposition::accepted;  // Cg-Disposition
};

// What an intake of the front's own answered for a piece no worker needs.
struct local_answer {
  std::string text;  // X12 or the OperationOutcome
  std::vector<std::string> acks;
  engine::input_result result;
  engine::disposition disposition = engine::disposition::accepted;
  std::string decisions;  // its events' decision lines (front_settings::with_decisions)
};

class collected final : public engine::answer_sink {
 public:
  collected(local_answer& out, bool with_decisions) : out_(out), with_decisions_(with_decisions) {}
  void x12(std::string_view text) override { out_.text += text; }
  void fhir(std::string_view text) override { out_.text += text; }
  void hl7v2(std::string_view ack) override { out_.acks.emplace_back(ack); }
  void on_event(const engine::event& e, bool later) override {
    if (!later) out_.disposition = engine::combined(out_.disposition, engine::disposition_of(e));
    if (with_decisions_ && e.kind != engine::event_kind::repeat) {
      model::append_json(out_.decisions, e.decision, e.claim().billing.npi, engine::name(e.kind),
                         e.source);
      out_.decisions += '\n';
    }
  }

 private:
  local_answer& out_;
  bool with_decisions_;
};

// A part to publish again once `due` comes.
struct resend {
  std::uint64_t job = 0;
  std::size_t piece = 0;
  std::size_t part = 0;
  int attempt = 0;  // attempts made so far
  clock::time_point due;
};

struct job {
  std::uint64_t id = 0;
  std::string payload;  // the plan views it
  std::int64_t unix_ms = 0;
  route_plan plan;
  std::vector<local_answer> local;              // by piece (filled for local pieces)
  std::vector<std::vector<std::string>> pkeys;  // by piece, by part: where it is published
  // By piece, by part: held on CG_WAIT for its patient's identifier. A whole piece held is
  // answered from the front's own read of it; a held part of a split piece gets that read of
  // the part as its reply, merged with the workers' answers to the other parts.
  std::vector<std::vector<std::uint8_t>> held;
  [[nodiscard]] bool held_whole(std::size_t piece) const {
    return plan.pieces[piece].parts.size() == 1 && held[piece][0] != 0;
  }
  std::vector<std::vector<part_reply>> replies;  // by piece, by part
  std::size_t waiting = 0;
  clock::time_point deadline;
  std::function<void(front_answer)> done;
};

front_answer unavailable(std::string why,
                         engine::payload_kind kind = engine::payload_kind::unknown) {
  front_answer a;
  a.how = front_answer::status::unavailable;
  a.kind = kind;
  a.problem = std::move(why);
  return a;
}

}  // namespace

struct front::impl {
  impl(jetstream& js_in, kv_bucket& control, kv_bucket& identities_in,
       const policy::policy_file& policy_in, const mapping::tables& tables_in,
       front_settings settings_in)
      : js(js_in),
        numbers(control, "isa13"),
        identities(identities_in, settings_in.key_secret,
                   [this](const std::string& token, const std::string& pkey) {
                     forward_held(token, pkey);
                   }),
        policy(policy_in),
        tables(tables_in),
        settings(std::move(settings_in)),
        nonce(random_nonce()),
        inbox("_INBOX.cgf." + settings.front_id + "." + nonce + "."),
        replies(js.subscribe(inbox + ">")) {
    route.x12 = settings.intake.reader;
    route.fhir = settings.intake.fhir;
    route.hl7v2 = settings.intake.hl7v2;
  }

  // ---- the publishing thread -------------------------------------------------------------

  void publish_loop() {
    for (;;) {
      std::pair<std::string, std::function<void(front_answer)>> next;
      std::vector<resend> due;
      {
        std::unique_lock lock(mutex);
        const auto has_work = [&] {
          return stopping || !queue.empty() ||
                 (!resends.empty() && resends.front().due <= clock::now());
        };
        if (resends.empty()) {
          wake.wait(lock, has_work);
        } else {
          wake.wait_until(lock, resends.front().due, has_work);
        }
        if (stopping) return;
        const auto now = clock::now();
        while (!resends.empty() && resends.front().due <= now) {
          due.push_back(resends.front());
          resends.pop_front();
        }
        if (due.empty() && !queue.empty()) {
          next = std::move(queue.front());
          queue.pop_front();
        }
      }
      for (const auto& r : due) send_again(r);
      if (next.second) take(std::move(next.first), std::move(next.second));
    }
  }

  void take(std::string payload, std::function<void(front_answer)> done) {
    auto j = std::make_shared<job>();
    j->payload = std::move(payload);
    j->unix_ms = unix_now_ms();
    j->done = std::move(done);
    // The cluster did not answer (identity map, KV): the sender is told to send it again.
    const auto not_taken_by = [&](const std::exception& e) {
      not_taken.fetch_add(1);
      j->done(unavailable(std::string("the cluster did not take the message: ") + e.what(),
                          j->plan.kind));
    };
    j->plan = plan_route(j->payload, tables, route, j->unix_ms);
    if (!j->plan.refusal.empty()) {
      try {
        plan_with_links(*j);
      } catch (const std::exception& e) {
        return not_taken_by(e);
      }
    }
    if (!j->plan.refusal.empty()) {
      refused.fetch_add(1);
      return j->done(refusal_of(*j));
    }
    j->local.resize(j->plan.pieces.size());
    j->replies.resize(j->plan.pieces.size());
    try {
      place(*j);
    } catch (const std::exception& e) {
      return not_taken_by(e);
    }
    for (std::size_t i = 0; i < j->plan.pieces.size(); ++i) {
      const auto& piece = j->plan.pieces[i];
      if (j->held_whole(i)) {
        // Stored on CG_WAIT: answered from the front's own read, as a single server answers
        // facts whose Patient it does not know yet.
        j->local[i] = answer_locally(piece.text, j->unix_ms);
        continue;
      }
      if (piece.local || piece.reference) {
        // Reference data is answered from the front's own read, once CG_REF has stored it.
        j->local[i] = answer_locally(piece.text, j->unix_ms);
      }
      if (!piece.local) {
        j->replies[i].resize(piece.parts.size());
        for (std::size_t p = 0; p < piece.parts.size(); ++p) {
          if (j->held[i][p] != 0) {
            j->replies[i][p] = held_reply(piece.parts[p], j->unix_ms);
          } else {
            ++j->waiting;
          }
        }
      }
    }
    if (j->waiting == 0) return finish(*j);
    {
      std::lock_guard lock(mutex);
      j->id = next_job++;
      j->deadline = clock::now() + settings.answer_timeout;
      pending.emplace(j->id, j);
    }
    for (std::size_t i = 0; i < j->plan.pieces.size(); ++i) {
      auto& parts = j->plan.pieces[i].parts;
      for (std::size_t p = 0; p < parts.size(); ++p) {
        if (!j->held[i].empty() && j->held[i][p] != 0) continue;  // on CG_WAIT already
        if (parts[p].kind == message_kind::claim) {
          // A part is numbered once: sent again, it is the same interchange.
          try {
            if (!x12::set_interchange_control(parts[p].payload, numbers.next())) {
              throw std::runtime_error("a part's ISA13 could not be set");
            }
          } catch (const std::exception& e) {
            return fail_job(j->id,
                            std::string("the cluster did not take the message: ") + e.what());
          }
        }
        if (!send(*j, i, p, 1)) return;  // the message has its answer already
      }
    }
  }

  // Decides where each part goes, in the pieces' order, before anything of the message is
  // published: the partition of its patient's key, or of the patient its local identity is
  // linked to (identity_map.hpp); an identity linked to no one yet has its piece held on
  // CG_WAIT now. A part whose Patients carry the key links them first, so that what waited
  // for them is forwarded to this partition ahead of the part; a part whose identity is linked
  // to another part's patient joins it first (join_linked_parts). Throws when the cluster does
  // not answer (the sender is told to send again; what was done is safe to repeat).
  void place(job& j) {
    j.pkeys.resize(j.plan.pieces.size());
    j.held.resize(j.plan.pieces.size());
    for (std::size_t i = 0; i < j.plan.pieces.size(); ++i) {
      if (j.plan.pieces[i].local || j.plan.pieces[i].reference) {
        j.held[i].assign(j.plan.pieces[i].parts.size(), 0);
        continue;
      }
      const auto routed = join_linked_parts(j, i);
      const auto& piece = j.plan.pieces[i];
      j.held[i].assign(piece.parts.size(), 0);
      j.pkeys[i].resize(piece.parts.size());
      for (std::size_t p = 0; p < piece.parts.size(); ++p) {
        const auto& part = piece.parts[p];
        if (!part.patient_identity.empty()) {
          // Planned again, a piece has only identities the first plan had (the links known
          // turn some into keys, never add one): every one is routed already.
          if (auto pkey = routed.at(part.patient_identity)) {
            j.pkeys[i][p] = std::move(*pkey);
          } else {
            hold(j, i, p);
          }
          continue;
        }
        j.pkeys[i][p] = partition_key(settings.key_secret, part.patient_key);
        for (const auto& resource : part.links) identities.link(resource, j.pkeys[i][p]);
      }
    }
  }

  // Routes the local identities of piece `i`'s parts (identity_map::route, once each: an
  // identity it does not know is marked waiting, and its part must then be held). A part
  // whose identity is linked to the patient of another part of the piece joins that part, and
  // parts whose identities are linked to one patient no other part names join each other
  // (joins_of): the piece is planned again with the links known (plan_route's `linked` and
  // `aliases`), so that one worker reads the patient's facts in one message, as one server
  // would. What it returns routes every local identity of the piece as planned now.
  identity_routes join_linked_parts(job& j, std::size_t i) {
    identity_routes routed;
    std::map<std::string, std::string, std::less<>> keyed;  // the piece's keyed parts, by pkey
    for (const auto& part : j.plan.pieces[i].parts) {
      if (part.patient_identity.empty()) {
        keyed.emplace(partition_key(settings.key_secret, part.patient_key), part.patient_key);
      } else if (!routed.contains(part.patient_identity)) {
        routed.emplace(part.patient_identity, identities.route(part.patient_identity));
      }
    }
    const auto joins = joins_of(routed, keyed);
    if (joins.joined() == 0) return routed;
    auto again =
        plan_route(j.plan.pieces[i].text, tables, route, j.unix_ms, joins.linked, joins.aliases);
    // One piece again, by the same reading with more known: a FHIR message is one piece.
    if (!again.refusal.empty() || again.pieces.size() != 1 || again.pieces[0].local ||
        again.pieces[0].reference) {
      return routed;  // cannot happen; the parts go as first planned
    }
    j.plan.pieces[i] = std::move(again.pieces[0]);
    joined.fetch_add(joins.joined());
    return routed;
  }

  // A message refused as several patients (a transaction Bundle, an HL7 v2 message) is
  // planned again when the identity map says they are one: it then goes whole to that
  // patient's partition, as one server reads it.
  // - One named by a Medicare identifier, the others by local identities only: when every
  //   one of those identities is linked to that patient.
  // - None by a Medicare identifier: when every local identity (and every Patient with local
  //   identifiers only) is linked to one partition. The message goes by the first identity,
  //   the others as its aliases; the map forwards it, and the worker's own links read them
  //   all as the patient they are.
  // No identity is marked waiting: a message that stays refused leaves the map as it was
  // (but for a forward of what waited for an identity linked already, which linked_to
  // finishes as route() would).
  void plan_with_links(job& j) {
    const auto named = patients_named(j.payload, tables, route);
    if (named.keys.empty()) return plan_as_one_identity(j, named);
    if (named.keys.size() != 1 || named.identities.empty()) return;
    const auto& key = *named.keys.begin();
    const auto pkey = partition_key(settings.key_secret, key);
    same_patients linked;
    for (const auto& identity : named.identities) {
      if (identities.linked_to(identity) != pkey) return;
      linked.emplace(identity, key);
    }
    adopt_if_routed(j, linked, {}, linked.size());
  }

  void plan_as_one_identity(job& j, const named_patients& named) {
    std::set<std::string> local = named.identities;
    local.insert(named.keyless_patients.begin(), named.keyless_patients.end());
    if (local.size() < 2) return;
    const auto& first = *local.begin();
    const auto pkey = identities.linked_to(first);
    if (!pkey) return;
    same_identities aliases;
    for (const auto& identity : local) {
      if (identity == first) continue;
      if (identities.linked_to(identity) != pkey) return;
      aliases.emplace(identity, first);
    }
    adopt_if_routed(j, {}, aliases, aliases.size());
  }

  // The message planned again with what the identity map said: taken when it now routes, and
  // its `joined` identities counted.
  void adopt_if_routed(job& j, const same_patients& linked, const same_identities& aliases,
                       std::size_t joined_identities) {
    auto again = plan_route(j.payload, tables, route, j.unix_ms, linked, aliases);
    if (!again.refusal.empty()) return;
    j.plan = std::move(again);
    joined.fetch_add(joined_identities);
  }

  // Stores a part of a patient known only by a local identity on CG_WAIT, where it waits for
  // the identity's link (a whole message, or its lines or entries of that patient). Should
  // the link have come while it was stored, it is forwarded at once.
  void hold(job& j, std::size_t piece, std::size_t part) {
    const auto& what = j.plan.pieces[piece].parts[part];
    const auto token = identities.token_of(what.patient_identity);
    // Named by what it is, so that a sender's repeat (answered "send it again" after this
    // part was held) is stored once.
    (void)js.publish(wait_subject(token, what.kind), what.payload,
                     "cgh-" + hold_token(settings.key_secret, token, what.payload));
    j.held[piece][part] = 1;
    held.fetch_add(1);
    identities.held(what.patient_identity);
  }

  // The identity map's forwarder: every message held on CG_WAIT under `token`, republished in
  // order to the partition of `pkey` under a message id of its CG_WAIT sequence (a forward
  // repeated by another front, or after a failure, is a duplicate), then purged up to the
  // last one read (one held meanwhile stays, and is forwarded by whoever held it).
  void forward_held(const std::string& token, const std::string& pkey) {
    const std::string stream(wait_stream);
    const auto filter = wait_subjects_of(token);
    if (js.messages_on(stream, filter) == 0) return;
    auto reader = js.read_from(stream, filter, 1);
    std::uint64_t last = 0;
    for (;;) {
      auto m = reader.next(std::chrono::seconds(5));
      if (!m) throw nats_error("forward held messages: CG_WAIT delivered none in 5 s", true);
      if (const auto kind = kind_of_wait_subject(m->subject())) {
        (void)js.publish(producer_subject(pkey, *kind), m->data(),
                         "cgw-" + std::to_string(m->stream_sequence()));
        forwarded.fetch_add(1);
      }
      last = m->stream_sequence();
      if (m->pending() == 0) break;
    }
    js.purge_subject(stream, filter, last + 1);
  }

  // Publishes part `part` of piece `piece` (attempt `attempt`, 1-based). False when the
  // message was answered `unavailable` because of it.
  bool send(const job& j, std::size_t piece, std::size_t part, int attempt) {
    const auto token =
        std::to_string(j.id) + "." + std::to_string(piece) + "." + std::to_string(part);
    const auto& what = j.plan.pieces[piece].parts[part];
    const bool reference = j.plan.pieces[piece].reference;
    const auto subject = reference ? reference_subject(what.kind)
                                   : producer_subject(j.pkeys[piece][part], what.kind);
    std::vector<message_header> headers;
    if (!reference) headers.push_back({"Cg-Reply-To", inbox + token});
    if (!reference && settings.with_decisions) headers.push_back({"Cg-Decisions", "want"});
    try {
      js.publish_async(subject, what.payload,
                       "cgf-" + settings.front_id + "-" + nonce + "-" + token, headers,
                       [link = link, id = j.id, piece, part, attempt](const publish_outcome& o) {
                         std::lock_guard lock(link->mutex);
                         if (link->front != nullptr)
                           link->front->on_published(id, piece, part, attempt, o);
                       });
      return true;
    } catch (const nats_error& e) {
      return not_sent(j.id, piece, part, attempt, e.retryable(), e.what());
    }
  }

  // nats.c's thread: what became of a publish.
  void on_published(std::uint64_t id, std::size_t piece, std::size_t part, int attempt,
                    const publish_outcome& outcome) {
    if (outcome.stored) {
      parts_published.fetch_add(1);
      stored_reference(id, piece, part);
      return;
    }
    (void)not_sent(id, piece, part, attempt, outcome.retryable, outcome.error);
  }

  // A reference part is answered once CG_REF stored it: every worker applies it from there.
  // On nats.c's thread: finish() makes no NATS call for it, as a message of reference data is
  // one FHIR or HL7 v2 piece (only X12 answers are renumbered from KV).
  void stored_reference(std::uint64_t id, std::size_t piece, std::size_t part) {
    std::shared_ptr<job> complete;
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(id);
      if (it == pending.end()) return;
      auto& j = *it->second;
      if (piece >= j.plan.pieces.size() || !j.plan.pieces[piece].reference) return;
      auto& slot = j.replies[piece][part];
      if (slot.arrived) return;
      slot.arrived = true;
      if (--j.waiting == 0) {
        complete = it->second;
        pending.erase(it);
      }
    }
    if (complete) finish(*complete);
  }

  // A part the cluster did not take: sent again after a backoff while its message waits and
  // the failure may pass, else the message is answered `unavailable`. Parts already taken are
  // applied all the same; the sender's repeat of the message is answered as a repeat where it
  // overlaps. True when the part will be sent again.
  bool not_sent(std::uint64_t id, std::size_t piece, std::size_t part, int attempt, bool retryable,
                const std::string& why) {
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(id);
      if (it == pending.end()) return false;  // answered already
      if (retryable && !stopping && attempt < js.retry().attempts) {
        const auto due =
            std::min(clock::now() + retry_delay(js.retry(), attempt), it->second->deadline);
        // Kept in order of `due`: the backoffs differ, so a later failure may be due sooner.
        const auto at =
            std::upper_bound(resends.begin(), resends.end(), due,
                             [](clock::time_point t, const resend& r) { return t < r.due; });
        resends.insert(at, resend{id, piece, part, attempt, due});
        wake.notify_one();
        return true;
      }
    }
    fail_job(id, "the cluster did not take the message: " + why);
    return false;
  }

  void send_again(const resend& r) {
    std::shared_ptr<job> j;
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(r.job);
      if (it == pending.end()) return;  // answered meanwhile (or its deadline passed)
      j = it->second;
    }
    resent.fetch_add(1);
    (void)send(*j, r.piece, r.part, r.attempt + 1);
  }

  void fail_job(std::uint64_t id, const std::string& why) {
    if (auto mine = take_pending(id)) {
      not_taken.fetch_add(1);
      mine->done(unavailable(why, mine->plan.kind));
    }
  }

  // A refusal in the sender's terms: HL7 v2 gets an ACK AR per message, echoing its MSH (a
  // sender files an ACK by MSA-2); X12 and FHIR get the transport's refusal (HTTP 422, MLLP
  // ACK AR), since neither standard has a code for "cannot be routed as sent".
  front_answer refusal_of(const job& j) {
    front_answer a;
    a.kind = j.plan.kind;
    a.problem = j.plan.refusal;
    if (j.plan.kind != engine::payload_kind::hl7v2) {
      a.how = front_answer::status::refused;
      return a;
    }
    a.content_type = std::string(engine::answer_media_type(a.kind));
    a.rejected = true;
    hl7v2::hl7_ack_settings ack;
    ack.timestamp = model::utc_stamp(j.unix_ms);
    hl7v2::message_splitter splitter([&](std::string_view text, const hl7v2::message_info&) {
      const auto read = hl7v2::read(text, tables, route.hl7v2);
      ack.control_id =
          "CGF" + std::to_string(refused.load()) + "-" + std::to_string(a.acks.size() + 1);
      a.acks.push_back(
          hl7v2::hl7_ack(read.header ? &*read.header : nullptr, "AR", "207", j.plan.refusal, ack));
      a.body += a.acks.back();
    });
    splitter.put(j.payload);
    splitter.finish();
    return a;
  }

  // The reply a held part of a split piece gets: the front's own read of the part, as the
  // worker of its patient would have answered it (facts of a patient not known yet are
  // accepted and wait, as in a single server).
  part_reply held_reply(const routed_part& part, std::int64_t unix_ms) {
    const auto local = answer_locally(part.payload, unix_ms);
    part_reply r;
    r.arrived = true;
    r.outcome = local.result.rejected ? "rejected" : "accepted";
    r.body = local.text;
    r.decisions = local.decisions;
    r.claims = local.result.claims;
    r.facts = local.result.facts;
    r.disposition = local.disposition;
    return r;
  }

  local_answer answer_locally(std::string_view text, std::int64_t unix_ms) {
    local_answer out;
    store::memory_state scratch;
    engine::intake reader(policy, tables, scratch, settings.intake);
    collected sink(out, settings.with_decisions);
    out.result = reader.receive(text, "front", engine::message_time{unix_ms}, sink);
    return out;
  }

  // ---- the collecting thread -------------------------------------------------------------

  void collect_loop() {
    while (!stopping.load()) {
      try {
        if (auto m = replies.next(std::chrono::milliseconds(100))) on_reply(*m);
      } catch (const nats_error&) {
        // The connection reconnects by itself; deadlines keep running meanwhile.
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      }
      expire(clock::now());
    }
  }

  void on_reply(const fetched_message& m) {
    auto subject = m.subject();
    if (subject.substr(0, inbox.size()) != inbox) return;
    subject.remove_prefix(inbox.size());
    std::uint64_t id = 0;
    std::size_t piece = 0;
    std::size_t part = 0;
    const char* at = subject.data();
    const char* end = subject.data() + subject.size();
    auto r = std::from_chars(at, end, id);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return;
    r = std::from_chars(r.ptr + 1, end, piece);
    if (r.ec != std::errc() || r.ptr == end || *r.ptr != '.') return;
    r = std::from_chars(r.ptr + 1, end, part);
    if (r.ec != std::errc() || r.ptr != end) return;
    std::shared_ptr<job> complete;
    {
      std::lock_guard lock(mutex);
      const auto it = pending.find(id);
      if (it == pending.end()) return;  // answered already (its deadline passed)
      auto& j = *it->second;
      if (piece >= j.replies.size() || part >= j.replies[piece].size()) return;
      auto& slot = j.replies[piece][part];
      if (slot.arrived) return;
      slot.arrived = true;
      slot.outcome = m.header("Cg-Outcome");
      slot.body = std::string(m.data());
      // The decision lines asked for come after the answer; a length past the body is not
      // trusted (none taken).
      if (const auto n = number_of(m.header("Cg-Decisions-Bytes"));
          n > 0 && n <= slot.body.size()) {
        slot.decisions = slot.body.substr(slot.body.size() - n);
        slot.body.resize(slot.body.size() - n);
      }
      slot.parts = m.header("Cg-Parts");
      slot.claims = number_of(m.header("Cg-Claims"));
      slot.facts = number_of(m.header("Cg-Facts"));
      slot.disposition = engine::disposition_named(m.header("Cg-Disposition"))
                             .value_or(engine::disposition::accepted);
      if (--j.waiting == 0) {
        complete = it->second;
        pending.erase(it);
      }
    }
    if (complete) finish(*complete);
  }

  void expire(clock::time_point now) {
    std::vector<std::shared_ptr<job>> late;
    {
      std::lock_guard lock(mutex);
      for (auto it = pending.begin(); it != pending.end();) {
        if (it->second->deadline <= now) {
          late.push_back(it->second);
          it = pending.erase(it);
        } else {
          ++it;
        }
      }
    }
    for (const auto& j : late) {
      timed_out.fetch_add(1);
      j->done(unavailable("no answer from the cluster within " +
                              std::to_string(settings.answer_timeout.count()) +
                              " ms; the message may have been applied: send it again (a repeat is "
                              "answered as one)",
                          j->plan.kind));
    }
  }

  std::shared_ptr<job> take_pending(std::uint64_t id) {
    std::lock_guard lock(mutex);
    const auto it = pending.find(id);
    if (it == pending.end()) return nullptr;
    auto j = it->second;
    pending.erase(it);
    return j;
  }

  // ---- assembling the answer -------------------------------------------------------------

  // Appends each interchange of `text` renumbered; only 277s (GS01 HN) when `only_277`.
  void add_x12(std::string& body, std::string_view text, bool only_277) {
    for (const auto piece : x12::split_interchanges(text)) {
      if (only_277 && x12::first_functional_id(piece) != "HN") continue;
      std::string renumbered(piece);
      (void)x12::set_interchange_control(renumbered, numbers.next());
      body += renumbered;
    }
  }

  void finish(job& j) {
    front_answer a;
    a.kind = j.plan.kind;
    a.content_type = std::string(engine::answer_media_type(j.plan.kind));
    // HL7 v2 split by message: a part carrying several messages of one patient is answered
    // with all their ACKs; each message takes its own by MSA-2, in the payload's order.
    std::map<std::size_t, std::vector<std::pair<std::string, std::string>>> carried;
    for (const auto& piece : j.plan.pieces) {
      if (piece.carried_by) carried[*piece.carried_by];
    }
    const auto take_acks = [&](std::size_t carrier, const std::string& control_id) {
      for (auto& [id, ack] : carried[carrier]) {
        if (id != control_id || ack.empty()) continue;
        a.body += ack;
        a.acks.push_back(std::move(ack));
        ack.clear();
      }
    };
    try {
      for (std::size_t i = 0; i < j.plan.pieces.size(); ++i) {
        const auto& piece = j.plan.pieces[i];
        if (piece.carried_by) {
          take_acks(*piece.carried_by, piece.control_id);
          continue;
        }
        if (piece.local || piece.reference || j.held_whole(i)) {
          const auto& local = j.local[i];
          a.rejected = a.rejected || local.result.rejected;
          a.unrecognized = a.unrecognized || local.result.unrecognized;
          a.claims += local.result.claims;
          a.facts += local.result.facts;
          a.disposition = engine::combined(a.disposition, local.disposition);
          if (a.kind == engine::payload_kind::x12) {
            add_x12(a.body, local.text, false);
          } else {
            a.body += local.text;
          }
          for (const auto& ack : local.acks) {
            a.body += ack;
            a.acks.push_back(ack);
          }
          continue;
        }
        if (a.kind == engine::payload_kind::x12) add_x12(a.body, piece.acknowledgment, false);
        if (!piece.parts.empty() &&
            (!piece.parts.front().lines.empty() || !piece.parts.front().entries.empty())) {
          merge_split_fhir(a, piece, j.replies[i]);
          continue;
        }
        for (const auto& reply : j.replies[i]) {
          a.rejected = a.rejected || reply.outcome != "accepted";
          a.claims += reply.claims;
          a.facts += reply.facts;
          a.disposition = engine::combined(a.disposition, reply.disposition);
          if (a.kind == engine::payload_kind::x12) {
            add_x12(a.body, reply.body, true);
          } else if (a.kind == engine::payload_kind::hl7v2 && carried.contains(i)) {
            front_answer all;
            add_acks(all, reply);
            for (auto& ack : all.acks)
              carried[i].emplace_back(acknowledged_id(ack), std::move(ack));
            take_acks(i, piece.control_id);
            // Whatever names none of the part's messages stays with its first (never lost).
            std::set<std::string> theirs;
            for (const auto& p : j.plan.pieces) {
              if (p.carried_by == i) theirs.insert(p.control_id);
            }
            for (auto& [id, ack] : carried[i]) {
              if (theirs.contains(id) || ack.empty()) continue;
              a.body += ack;
              a.acks.push_back(std::move(ack));
              ack.clear();
            }
          } else if (a.kind == engine::payload_kind::hl7v2) {
            add_acks(a, reply);
          } else {
            a.body += reply.body;
          }
        }
      }
    } catch (const std::exception& e) {
      return j.done(
          unavailable(std::string("the answer could not be numbered: ") + e.what(), j.plan.kind));
    }
    if (settings.with_decisions) {
      for (std::size_t i = 0; i < j.plan.pieces.size(); ++i) {
        const auto& piece = j.plan.pieces[i];
        if (piece.carried_by) continue;
        if (piece.local || piece.reference || j.held_whole(i)) {
          a.decisions += j.local[i].decisions;
          continue;
        }
        for (const auto& reply : j.replies[i]) a.decisions += reply.decisions;
      }
    }
    answered.fetch_add(1);
    j.done(std::move(a));
  }

  // An NDJSON message or a Bundle split by patient: one OperationOutcome, as a single server
  // answers it.
  static void merge_split_fhir(front_answer& a, const route_piece& piece,
                               const std::vector<part_reply>& replies) {
    std::vector<const routed_part*> parts;
    std::vector<std::string_view> outcomes;
    for (std::size_t k = 0; k < replies.size() && k < piece.parts.size(); ++k) {
      a.rejected = a.rejected || replies[k].outcome != "accepted";
      a.facts += replies[k].facts;
      parts.push_back(&piece.parts[k]);
      outcomes.push_back(replies[k].body);
    }
    a.body += piece.parts.front().entries.empty()
                  ? merge_ndjson_outcomes(parts, outcomes, piece.own_outcome)
                  : merge_bundle_outcomes(parts, outcomes, piece.own_outcome);
    a.rejected = a.rejected || piece.own_rejected;
    a.facts -= std::min(a.facts, piece.repeated_facts);  // the shared entries' facts, once
  }

  // MSA-2 of an ACK: the control id of the message it acknowledges ("" when it has none).
  static std::string acknowledged_id(std::string_view ack) {
    if (ack.size() < 4 || ack.substr(0, 3) != "MSH") return {};
    const char field = ack[3];
    const auto msa = ack.find(std::string("\rMSA") + field);
    if (msa == std::string_view::npos) return {};
    auto rest = ack.substr(msa + 5);      // MSA-1 onward
    const auto first = rest.find(field);  // end of MSA-1
    if (first == std::string_view::npos) return {};
    rest.remove_prefix(first + 1);
    return std::string(rest.substr(0, rest.find_first_of(std::string("\r") + field)));
  }

  static void add_acks(front_answer& a, const part_reply& reply) {
    a.body += reply.body;
    if (reply.parts.empty()) {
      a.acks.push_back(reply.body);
      return;
    }
    std::string_view rest = reply.body;
    std::string_view lengths = reply.parts;
    while (!lengths.empty()) {
      const auto comma = lengths.find(',');
      std::size_t n = 0;
      const auto field = lengths.substr(0, comma);
      (void)std::from_chars(field.data(), field.data() + field.size(), n);
      n = std::min(n, rest.size());
      a.acks.emplace_back(rest.substr(0, n));
      rest.remove_prefix(n);
      lengths = comma == std::string_view::npos ? std::string_view() : lengths.substr(comma + 1);
    }
  }

  jetstream& js;
  control_numbers numbers;
  identity_map identities;  // the publishing thread's alone
  const policy::policy_file& policy;
  const mapping::tables& tables;
  const front_settings settings;
  route_settings route;
  const std::string nonce;
  const std::string inbox;  // "_INBOX.cgf.<front>.<nonce>."
  message_reader replies;

  std::mutex mutex;
  std::condition_variable wake;
  std::deque<std::pair<std::string, std::function<void(front_answer)>>> queue;
  std::deque<resend> resends;  // in order of `due`
  std::unordered_map<std::uint64_t, std::shared_ptr<job>> pending;
  std::uint64_t next_job = 1;
  std::atomic<bool> stopping{false};

  std::atomic<std::uint64_t> messages{0}, parts_published{0}, answered{0}, refused{0}, timed_out{0},
      not_taken{0}, resent{0}, held{0}, forwarded{0}, joined{0};

  // What nats.c's thread calls through: cleared by stop(), so a late acknowledgement finds
  // no front rather than a destroyed one.
  struct callback_link {
    std::mutex mutex;
    impl* front = nullptr;
  };
  std::shared_ptr<callback_link> link = std::make_shared<callback_link>();

  std::thread publisher;
  std::thread collector;
};

front::front(jetstream& js, kv_bucket& control, kv_bucket& identities,
             const policy::policy_file& policy, const mapping::tables& tables,
             front_settings settings) {
  if (!is_worker_id(settings.front_id)) {
    throw std::invalid_argument("front: the front id must be 1 to 64 of [A-Za-z0-9_-]");
  }
  if (settings.key_secret.empty()) throw std::invalid_argument("front: the key secret is empty");
  impl_ = std::make_unique<impl>(js, control, identities, policy, tables, std::move(settings));
  impl_->link->front = impl_.get();
  impl_->publisher = std::thread([this] { impl_->publish_loop(); });
  impl_->collector = std::thread([this] { impl_->collect_loop(); });
}

front::~front() { stop(); }

void front::submit(std::string payload, std::function<void(front_answer)> done) {
  {
    std::lock_guard lock(impl_->mutex);
    if (!impl_->stopping) {
      impl_->messages.fetch_add(1);
      impl_->queue.emplace_back(std::move(payload), std::move(done));
      impl_->wake.notify_one();
      return;
    }
  }
  done(unavailable("the front is stopping"));
}

void front::stop() {
  {
    std::lock_guard lock(impl_->mutex);
    if (impl_->stopping.exchange(true)) return;
    impl_->wake.notify_all();
  }
  if (impl_->publisher.joinable()) impl_->publisher.join();
  if (impl_->collector.joinable()) impl_->collector.join();
  {
    std::lock_guard lock(impl_->link->mutex);  // waits for a callback running now
    impl_->link->front = nullptr;
  }
  std::deque<std::pair<std::string, std::function<void(front_answer)>>> queued;
  std::unordered_map<std::uint64_t, std::shared_ptr<job>> waiting;
  {
    std::lock_guard lock(impl_->mutex);
    queued.swap(impl_->queue);
    waiting.swap(impl_->pending);
  }
  for (auto& [payload, done] : queued) done(unavailable("the front is stopping"));
  for (auto& [id, j] : waiting) j->done(unavailable("the front is stopping", j->plan.kind));
}

front_counts front::counts() const {
  front_counts c;
  c.messages = impl_->messages.load();
  c.parts = impl_->parts_published.load();
  c.answered = impl_->answered.load();
  c.refused = impl_->refused.load();
  c.timed_out = impl_->timed_out.load();
  c.not_taken = impl_->not_taken.load();
  c.resent = impl_->resent.load();
  c.held = impl_->held.load();
  c.forwarded = impl_->forwarded.load();
  c.joined = impl_->joined.load();
  std::lock_guard lock(impl_->mutex);
  c.in_flight = impl_->pending.size();
  return c;
}

}  // namespace covgate::cluster
