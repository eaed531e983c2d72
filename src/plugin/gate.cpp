#include "gate.hpp"

#include <sys/eventfd.h>
#include <unistd.h>

#include <algorithm>
#include <cctype>
#include <chrono>
#include <fstream>

#include "cluster_link.hpp"
#include "covgate/mapping/json_config.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/server/durable_gate.hpp"
#include "covgate/store/later_answer.hpp"
#include "covgate/store/memory_state.hpp"

namespace covgate::plugin {
namespace {

constexpr std::string_view x12_type = "application/edi-x12";
constexpr std::string_view fhir_type = "application/fhir+json";
constexpr std::string_view hl7v2_type = "x-application/hl7-v2+er7";

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// The tables of `dir` ("": the built-in ones), as `covgate serve --mappings DIR` reads them.
mapping::tables load_tables(const std::filesystem::path& dir) {
  if (dir.empty()) return mapping::tables::parse(mapping::embedded_sources());
  mapping::table_sources s;
  const std::pair<const char*, std::string*> files[] = {
      {"loinc.json", &s.loinc},       {"units.json", &s.units},
      {"pos.json", &s.pos},           {"bill-types.json", &s.bill_types},
      {"taxonomy.json", &s.taxonomy}, {"qualifications.json", &s.qualifications},
      {"hcpcs.json", &s.hcpcs},       {"icd10.json", &s.icd10},
      {"evidence.json", &s.evidence}, {"identity.json", &s.identity},
      {"hl7v2.json", &s.hl7v2}};
  for (const auto& [name, text] : files) {
    if (std::string_view(name) == "hl7v2.json" && !std::filesystem::exists(dir / name)) continue;
    *text = read_file(dir / name);
  }
  return mapping::tables::parse(s);
}

policy::policy_file load_policy() {
  auto policy = policy::policy_file::parse(policy::embedded_ncd223());
  for (const auto& [name, text] : policy::embedded_overlays()) {
    policy.add_overlay(policy::overlay::parse(text, name));
  }
  return policy;
}

// The configuration names a store directory: serve's default ("covgate-data") applies only
// when the key is there, so a configuration without one keeps the state in memory.
bool names_store_directory(std::string_view config_text) {
  const auto d = mapping::parse_json_config(config_text, "covgate.json");
  if (!d.IsObject()) return false;
  const auto store = d.FindMember("store");
  if (store == d.MemberEnd() || !store->value.IsObject()) return false;
  const auto dir = store->value.FindMember("directory");
  return dir != store->value.MemberEnd() && dir->value.IsString() &&
         dir->value.GetStringLength() > 0 && std::string_view(dir->value.GetString()) != ":memory:";
}

disposition disposition_of(engine::disposition d) {
  switch (d) {
    case engine::disposition::hold:
      return disposition::hold;
    case engine::disposition::release:
      return disposition::release;
    case engine::disposition::closed:
      return disposition::closed;
    case engine::disposition::accepted:
      break;
  }
  return disposition::accepted;
}

disposition later_disposition(engine::event_kind k) {
  switch (k) {
    case engine::event_kind::release:
      return disposition::release;
    case engine::event_kind::void_claim:
    case engine::event_kind::cancel:
      return disposition::closed;
    default:
      return disposition::hold;
  }
}

// A later answer in an outbox row under store::host_destination (store::pack_later's form).
answer unpack(const store::outbox_item& item) {
  const auto row = store::unpack_later(item.body);
  if (!row) throw store::store_error("an outbox row of the host is not in the plugin's form");
  answer a;
  a.event = std::string(row->event);
  a.decisions = std::string(row->decision) + '\n';
  a.body = std::string(row->body);
  return a;
}

}  // namespace

std::optional<engine::payload_kind> hinted_kind(std::string_view content_type) {
  // The media type without parameters, lower case.
  auto type = content_type.substr(0, content_type.find(';'));
  while (!type.empty() && (type.back() == ' ' || type.back() == '\t')) type.remove_suffix(1);
  while (!type.empty() && (type.front() == ' ' || type.front() == '\t')) type.remove_prefix(1);
  std::string t(type);
  std::transform(t.begin(), t.end(), t.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  if (t == "application/edi-x12" || t == "application/x12") return engine::payload_kind::x12;
  if (t == "application/fhir+json" || t == "application/fhir+xml" || t == "application/json" ||
      t == "application/xml" || t == "application/x-ndjson" || t == "application/fhir+ndjson" ||
      t == "application/ndjson") {
    return engine::payload_kind::fhir;
  }
  if (t == "x-application/hl7-v2+er7" || t == "application/hl7-v2" ||
      t == "application/hl7-v2+er7") {
    return engine::payload_kind::hl7v2;
  }
  return std::nullopt;
}

// One message's answers, its events as decision lines, and its later events.
class gate::collector final : public engine::answer_sink {
 public:
  void x12(std::string_view text) override { add(text, x12_type); }
  void fhir(std::string_view text) override { add(text, fhir_type); }
  void hl7v2(std::string_view text) override { add(text, hl7v2_type); }
  void on_event(const engine::event& e, bool later) override {
    if (e.kind != engine::event_kind::repeat) {
      model::append_json(a.decisions, e.decision, e.claim().billing.npi, engine::name(e.kind),
                         e.source);
      a.decisions += '\n';
    }
    if (later) {
      later_events.push_back(e);
      return;
    }
    first = engine::combined(first, engine::disposition_of(e));
  }
  void finding(std::string_view line) override { a.findings.append(line).append(1, '\n'); }

  answer a;
  std::vector<engine::event> later_events;
  engine::disposition first = engine::disposition::accepted;  // of the first answers

 private:
  void add(std::string_view text, std::string_view type) {
    a.parts.emplace_back(a.body.size(), text.size());
    a.body.append(text);
    a.content_type = type;
  }
};

gate::gate(std::string_view config_text, const std::filesystem::path& base)
    : config_(server::parse_config(std::string(config_text.empty() ? "{}" : config_text), base,
                                   "covgate.json")),
      tables_(load_tables(config_.mappings)),
      policy_(load_policy()) {
  const bool to_cluster = config_.cluster.front();
  const bool durable = names_store_directory(config_text.empty() ? "{}" : config_text);
  if (config_.cluster.worker()) {
    mapping::config_failure("covgate.json", "/cluster/role",
                            "a C ABI host can be a cluster's front, not a worker (run `covgate "
                            "serve` for a worker)");
  }
  if (to_cluster && !durable) {
    mapping::config_failure("covgate.json", "/store/directory",
                            "a C ABI host pointed at a cluster keeps the cluster's later answers "
                            "in a store until covgate_ack: name its directory");
  }
  if (to_cluster) {
    try {
      (void)hosting::key_secret_of(config_.cluster);  // said before the store or a connection
    } catch (const std::runtime_error& e) {
      mapping::config_failure("covgate.json", "/cluster/key_secret_env", e.what());
    }
  }
  if (durable) {
    auto sqlite = std::make_unique<store::sqlite_store>(config_.store.directory,
                                                        config_.store.synchronous_full);
    sqlite_ = sqlite.get();
    state_ = std::move(sqlite);
  } else {
    state_ = std::make_unique<store::memory_state>();
  }
  intake_ = std::make_unique<engine::intake>(policy_, tables_, *state_,
                                             server::intake_settings_of(config_));
  if (sqlite_ != nullptr) {
    intake_->restore();
    messages_ = static_cast<std::uint64_t>(sqlite_->counter("plugin.messages", 0));
    // What the host did not acknowledge before is handed out again.
    for (std::int64_t after = 0;;) {
      const auto rows = sqlite_->pending(store::host_destination, after, 512);
      for (const auto& r : rows) unacked_.insert(static_cast<std::uint64_t>(r.id));
      if (rows.size() < 512) break;
      after = rows.back().id;
    }
    const auto now = unix_ms_now();
    last_checkpoint_ms_ = now;
    maintain(now);
  }
  ready_ = unacked_;
  wait_fd_ = ::eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
  {
    std::lock_guard lock(mutex_);
    signal();
  }
  if (to_cluster) {
    try {
      cluster_ = std::make_unique<cluster_link>(
          config_, policy_, tables_,
          [this](const store::outbox_item& release) { return keep_later(release); }, troubles_);
    } catch (const cluster::nats_error& e) {
      if (wait_fd_ >= 0) ::close(wait_fd_);
      throw cluster_unavailable(std::string("cluster: ") + e.what());
    } catch (...) {
      if (wait_fd_ >= 0) ::close(wait_fd_);
      throw;
    }
  }
}

gate::~gate() {
  cluster_.reset();  // its delivery thread keeps releases here: stopped first
  if (wait_fd_ >= 0) ::close(wait_fd_);
}

std::string gate::keep_later(const store::outbox_item& release) {
  std::lock_guard lock(mutex_);
  if (!healthy_) return "the store failed earlier";  // noted when it failed
  try {
    // A release offered again (its acknowledgement to the cluster was lost) is kept once:
    // the outbox keeps one row per key and destination.
    const auto now = unix_ms_now();
    const auto id = sqlite_->enqueue(
        {0, release.key, store::host_destination, std::string(x12_type), release.body, 0}, now);
    if (id > 0) {
      unacked_.insert(static_cast<std::uint64_t>(id));
      ready_.insert(static_cast<std::uint64_t>(id));
    }
  } catch (const store::store_error& e) {
    troubles_.note(std::string("a later answer could not be kept: ") + e.what(), unix_ms_now(),
                   trouble_book::standing::keeping);
    return e.what();
  }
  troubles_.clear(trouble_book::standing::keeping);
  signal();
  try {  // kept: pruning that fails now is tried again at the next message
    maintain(unix_ms_now());
  } catch (const store::store_error& e) {
    troubles_.note(std::string("store upkeep failed: ") + e.what(), unix_ms_now(),
                   trouble_book::standing::passing);
  }
  return {};
}

answer gate::submit_to_cluster(std::string_view message) {
  auto from = cluster_->submit(std::string(message));
  answer a;
  using status = cluster::front_answer::status;
  if (from.how == status::unavailable) {
    troubles_.note("a message was not answered: " + from.problem, unix_ms_now(),
                   trouble_book::standing::passing);
    throw cluster_unavailable(from.problem);
  }
  if (from.how == status::refused) {  // cannot be routed as sent: nothing was published
    a.result = disposition::rejected;
    a.findings = from.problem + '\n';
    return a;
  }
  a.body = std::move(from.body);
  a.content_type = a.body.empty() ? std::string_view{} : engine::answer_media_type(from.kind);
  if (!from.acks.empty()) {
    std::size_t at = 0;
    for (const auto& ack : from.acks) {
      a.parts.emplace_back(at, ack.size());
      at += ack.size();
    }
  } else if (!a.body.empty()) {
    a.parts.emplace_back(0, a.body.size());
  }
  a.claims = from.claims;
  a.facts = from.facts;
  a.decisions = std::move(from.decisions);
  if (from.unrecognized) {
    a.flags |= flag::unrecognized;
    a.result = disposition::rejected;
  } else if (from.rejected && from.claims == 0 && from.facts == 0) {
    a.result = disposition::rejected;
  } else {
    if (from.rejected) a.flags |= flag::part_rejected;
    a.result = disposition_of(from.disposition);
  }
  return a;
}

void gate::signal() {
  later_waiting_.store(unacked_.size(), std::memory_order_relaxed);
  const bool ready = !ready_.empty();
  if (wait_fd_ < 0 || ready == signalled_) return;
  if (ready) {
    const std::uint64_t one = 1;
    if (::write(wait_fd_, &one, sizeof one) == sizeof one) signalled_ = true;
  } else {
    std::uint64_t count = 0;
    if (::read(wait_fd_, &count, sizeof count) == sizeof count) signalled_ = false;
  }
}

void gate::maintain(std::int64_t now_ms) {
  if (sqlite_ == nullptr) return;
  // The WAL into the database file (the store runs no automatic checkpoint), about every
  // second; remembered interchanges past their age once an hour, as serve does.
  if (now_ms - last_checkpoint_ms_ >= 1000) {
    last_checkpoint_ms_ = now_ms;
    try {
      // Tried again in a second; noted once a minute at most, as serve logs it.
      if (auto due = sqlite_->checkpoint()) {
        if (const auto wall_ms = unix_ms_now(); wall_ms - last_checkpoint_trouble_ms_ >= 60'000) {
          last_checkpoint_trouble_ms_ = wall_ms;
          troubles_.note(std::move(*due), wall_ms, trouble_book::standing::passing);
        }
      }
    } catch (const store::store_error& e) {
      // A sync failed: pages may be lost, and no checkpoint runs again (the WAL would grow
      // for good). Refused until a reopen rebuilds the state, as serve does.
      healthy_ = false;
      troubles_.note(std::string("the store failed: ") + e.what(), unix_ms_now(),
                     trouble_book::standing::passing);
      return;
    }
  }
  if (last_prune_ms_ == 0 || now_ms - last_prune_ms_ >= 3'600'000) {
    sqlite_->prune_journal(
        now_ms,
        std::chrono::duration_cast<std::chrono::milliseconds>(config_.store.journal_max_age),
        config_.store.journal_max_bytes);
    last_prune_ms_ = now_ms;
  }
}

void gate::queue_later(const std::vector<engine::event>& events, engine::message_time at) {
  for (const auto& e : events) {
    std::string line;
    model::append_json(line, e.decision, e.claim().billing.npi, engine::name(e.kind), e.source);
    auto body = intake_->status_message({e}, at);
    const auto event = engine::name(e.kind);
    if (sqlite_ != nullptr) {
      const auto id =
          sqlite_->enqueue({0, e.delivery_key(), store::host_destination, std::string(x12_type),
                            store::pack_later(event, line, body), 0},
                           at.unix_ms);
      if (id > 0) {
        unacked_.insert(static_cast<std::uint64_t>(id));
        ready_.insert(static_cast<std::uint64_t>(id));
      }
    } else {
      const auto id = next_memory_id_++;
      memory_outbox_.emplace(id, later_answer{e.delivery_key(), std::string(event), std::move(line),
                                              std::move(body), later_disposition(e.kind)});
      unacked_.insert(id);
      ready_.insert(id);
    }
  }
}

answer gate::submit(std::string_view message, std::string_view content_type,
                    std::string_view source, std::int64_t unix_ms) {
  const engine::message_time at{unix_ms != 0 ? unix_ms : unix_ms_now()};
  const auto hint = hinted_kind(content_type);
  std::unique_lock lock(mutex_);
  if (!healthy_) throw unavailable("the store failed earlier: open the gate again");
  collector out;
  if (hint && engine::sniff(message.substr(0, 64)) != *hint) {
    // As serve's routes refuse a body that is not theirs (415): nothing is processed.
    out.a.result = disposition::rejected;
    out.a.flags = flag::unrecognized;
    out.a.findings =
        "the content type names " + std::string(engine::name(*hint)) + " but the message is " +
        std::string(engine::name(engine::sniff(message.substr(0, 64)))) + ": not processed\n";
    return std::move(out.a);
  }
  if (cluster_) {  // the workers answer, each for its patients: nothing to hold the lock for
    lock.unlock();
    return submit_to_cluster(message);
  }
  const auto number = ++messages_;
  std::string name = source.empty() ? std::string("covgate") : std::string(source);
  name += ':';
  name += std::to_string(number);
  engine::input_result result;
  try {
    if (sqlite_ != nullptr) sqlite_->begin();
    result = intake_->receive(message, std::move(name), at, out);
    queue_later(out.later_events, at);
    if (sqlite_ != nullptr) {
      sqlite_->set_counter("plugin.messages", static_cast<std::int64_t>(messages_));
      sqlite_->commit();
    }
  } catch (const store::store_error& e) {
    // The engine may now hold what the store lost: refuse everything until a reopen rebuilds
    // one from the other (as serve's durable gate does).
    healthy_ = false;
    troubles_.note(std::string("the store failed: ") + e.what(), unix_ms_now(),
                   trouble_book::standing::passing);  // the state says failed from now on
    try {
      if (sqlite_ != nullptr) sqlite_->rollback();
    } catch (const store::store_error&) {
    }
    throw unavailable(e.what());
  }
  try {  // the message is stored: answered whatever the upkeep after it meets
    maintain(at.unix_ms);
  } catch (const store::store_error& e) {
    troubles_.note(std::string("store upkeep failed: ") + e.what(), unix_ms_now(),
                   trouble_book::standing::passing);
  }
  signal();
  auto& a = out.a;
  a.claims = result.claims;
  a.facts = result.facts;
  if (result.repeated_interchanges > 0) a.flags |= flag::repeated;
  if (result.unrecognized) {
    a.flags |= flag::unrecognized;
    a.result = disposition::rejected;
  } else if (result.rejected && result.claims == 0 && result.facts == 0 &&
             result.repeated_interchanges == 0) {
    a.result = disposition::rejected;
  } else {
    if (result.rejected) a.flags |= flag::part_rejected;
    a.result = disposition_of(out.first);
  }
  return std::move(a);
}

std::optional<answer> gate::poll() {
  std::lock_guard lock(mutex_);
  while (!ready_.empty()) {
    const auto id = *ready_.begin();  // the oldest
    ready_.erase(ready_.begin());
    answer a;
    if (sqlite_ != nullptr) {
      const auto rows =
          sqlite_->pending(store::host_destination, static_cast<std::int64_t>(id) - 1, 1);
      if (rows.empty() || static_cast<std::uint64_t>(rows.front().id) != id) {
        unacked_.erase(id);  // no longer in the store
        continue;
      }
      a = unpack(rows.front());
      a.key = rows.front().key;
      a.result = a.event == "release"                         ? disposition::release
                 : (a.event == "void" || a.event == "cancel") ? disposition::closed
                                                              : disposition::hold;
    } else {
      const auto& item = memory_outbox_.at(id);
      a.key = item.key;
      a.event = item.event;
      a.decisions = item.decision + '\n';
      a.body = item.body;
      a.result = item.result;
    }
    a.sequence = id;
    a.flags = flag::later;
    a.content_type = x12_type;
    a.parts.emplace_back(0, a.body.size());
    signal();
    return a;
  }
  signal();
  return std::nullopt;
}

bool gate::ack(std::uint64_t sequence) {
  std::lock_guard lock(mutex_);
  if (unacked_.erase(sequence) == 0) return false;
  const bool was_ready = ready_.erase(sequence) > 0;
  if (sqlite_ != nullptr) {
    try {
      sqlite_->remove(static_cast<std::int64_t>(sequence), store::host_destination);
    } catch (const store::store_error&) {
      unacked_.insert(sequence);
      if (was_ready) ready_.insert(sequence);
      throw;
    }
  } else {
    memory_outbox_.erase(sequence);
  }
  signal();
  return true;
}

void gate::redeliver() {
  std::lock_guard lock(mutex_);
  ready_ = unacked_;
  signal();
}

health gate::health_now() const {
  health h;
  h.durable = sqlite_ != nullptr;
  h.cluster = cluster_ != nullptr;
  h.connected = cluster_ && cluster_->connected();
  h.later_waiting = later_waiting_.load(std::memory_order_relaxed);
  h.troubles = troubles_.read();
  if (!healthy_) {
    h.state = health::level::failed;
  } else if (h.cluster && (!h.connected || h.troubles.standing)) {
    h.state = health::level::degraded;
  }
  return h;
}

void gate::flush() {
  std::lock_guard lock(mutex_);
  if (sqlite_ == nullptr || !healthy_) return;
  try {
    // A copy that fails here is SQLite's to try again as the store closes.
    (void)sqlite_->checkpoint();
  } catch (const store::store_error&) {
    healthy_ = false;  // as in maintain(): a sync failed
    throw;
  }
}

}  // namespace covgate::plugin
