#include "covgate/cluster/nats_client.hpp"

#include <nats/nats.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <mutex>
#include <thread>
#include <unordered_map>
#include <utility>

namespace covgate::cluster {

namespace {

constexpr std::int64_t nanos_per_ms = 1'000'000;

bool retryable_status(natsStatus s, jsErrCode jerr) {
  // Leader elections and reconnects: the request went nowhere or its answer never came.
  // "No suitable peers for placement" too: while a cluster forms, the meta leader places
  // replicas only on peers that have reported to it, and a node that is down comes back.
  return s == NATS_TIMEOUT || s == NATS_NO_RESPONDERS || s == NATS_NO_SERVER ||
         s == NATS_CONNECTION_DISCONNECTED || s == NATS_NOT_YET_CONNECTED ||
         jerr == JSClusterNotAvailErr || jerr == JSClusterNoPeersErr ||
         jerr == JSStreamSubjectOverlapErr;
}

// "<operation>: <status text> [(JetStream error N)][: <detail>]", the detail left out when
// it only repeats the status text.
std::string error_text(const std::string& operation, natsStatus s, jsErrCode jerr,
                       std::string_view detail) {
  std::string what = operation + ": " + natsStatus_GetText(s);
  if (jerr != 0) what += " (JetStream error " + std::to_string(static_cast<int>(jerr)) + ")";
  if (!detail.empty() && detail != natsStatus_GetText(s)) {
    what += ": ";
    what += detail;
  }
  return what;
}

// The failure with the library's last error text as its detail.
[[noreturn]] void fail(const std::string& operation, natsStatus s,
                       jsErrCode jerr = static_cast<jsErrCode>(0)) {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  std::string_view detail = text != nullptr ? text : "";
  // nats.c prefixes its text with where it was raised, "(conn.c:2088): ": not for operators.
  if (!detail.empty() && detail.front() == '(') {
    if (const auto end = detail.find("): "); end != std::string_view::npos) {
      detail.remove_prefix(end + 3);
    }
  }
  throw nats_error(error_text(operation, s, jerr, detail), retryable_status(s, jerr));
}

// True when nats.c's last error is the stream's "maximum messages per subject exceeded" (its
// error code, 10077, is the one of every failed store).
bool subject_full_error() {
  natsStatus last = NATS_OK;
  const char* text = nats_GetLastError(&last);
  return text != nullptr &&
         std::string_view(text).find("maximum messages per subject") != std::string_view::npos;
}

template <class Attempt>
auto with_retry(const retry_policy& policy, Attempt&& attempt) {
  return cluster::with_retry<nats_error>(policy, std::forward<Attempt>(attempt));
}

// The stream that holds KV bucket `bucket`, and the prefix of its keys' subjects (the names
// nats.c gives them; the reads and the listing below go to the stream directly).
std::string kv_stream(const std::string& bucket) { return "KV_" + bucket; }
std::string kv_subject_prefix(const std::string& bucket) { return "$KV." + bucket + "."; }

// The JetStream API's answer to a compare-and-set whose expected revision is not the key's
// last one (nats.c 3.4.1 reports it as NATS_ERR with this text, without the error code).
bool lost_compare_and_set(natsStatus s) {
  if (s != NATS_ERR) return false;
  const char* detail = nats_GetLastError(nullptr);
  return detail != nullptr && std::strstr(detail, "wrong last sequence") != nullptr;
}

struct options_guard {
  natsOptions* opts = nullptr;
  ~options_guard() { natsOptions_Destroy(opts); }
};

}  // namespace

// ---- fetched_message ------------------------------------------------------------------------

fetched_message::fetched_message(void* msg) : msg_(msg) {
  auto* m = static_cast<natsMsg*>(msg_);
  jsMsgMetaData* meta = nullptr;
  if (natsMsg_GetMetaData(&meta, m) == NATS_OK) {
    stream_sequence_ = meta->Sequence.Stream;
    deliveries_ = meta->NumDelivered;
    delivery_sequence_ = meta->Sequence.Consumer;
    pending_ = meta->NumPending;
    stored_ms_ = meta->Timestamp / 1'000'000;  // nanoseconds since the epoch
    jsMsgMetaData_Destroy(meta);
  }
}

fetched_message::fetched_message(fetched_message&& other) noexcept
    : msg_(std::exchange(other.msg_, nullptr)),
      stream_sequence_(other.stream_sequence_),
      deliveries_(other.deliveries_),
      delivery_sequence_(other.delivery_sequence_),
      pending_(other.pending_),
      stored_ms_(other.stored_ms_) {}

fetched_message& fetched_message::operator=(fetched_message&& other) noexcept {
  if (this != &other) {
    natsMsg_Destroy(static_cast<natsMsg*>(msg_));
    msg_ = std::exchange(other.msg_, nullptr);
    stream_sequence_ = other.stream_sequence_;
    deliveries_ = other.deliveries_;
    delivery_sequence_ = other.delivery_sequence_;
    pending_ = other.pending_;
    stored_ms_ = other.stored_ms_;
  }
  return *this;
}

fetched_message::~fetched_message() { natsMsg_Destroy(static_cast<natsMsg*>(msg_)); }

std::string_view fetched_message::subject() const noexcept {
  const char* s = natsMsg_GetSubject(static_cast<const natsMsg*>(msg_));
  return s != nullptr ? std::string_view(s) : std::string_view();
}

std::string_view fetched_message::data() const noexcept {
  const auto* m = static_cast<const natsMsg*>(msg_);
  const char* d = natsMsg_GetData(m);
  return d != nullptr ? std::string_view(d, static_cast<std::size_t>(natsMsg_GetDataLength(m)))
                      : std::string_view();
}

std::string fetched_message::header(const char* name) const {
  const char* value = nullptr;
  if (natsMsgHeader_Get(static_cast<natsMsg*>(msg_), name, &value) != NATS_OK || value == nullptr) {
    return {};
  }
  return value;
}

void fetched_message::ack_sync(const retry_policy& retry) {
  with_retry(retry, [&] {
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = natsMsg_AckSync(static_cast<natsMsg*>(msg_), nullptr, &jerr);
    if (s != NATS_OK) {
      fail("acknowledge stream sequence " + std::to_string(stream_sequence_), s, jerr);
    }
  });
}

void fetched_message::nak() noexcept { (void)natsMsg_Nak(static_cast<natsMsg*>(msg_), nullptr); }

void fetched_message::term() noexcept { (void)natsMsg_Term(static_cast<natsMsg*>(msg_), nullptr); }

void fetched_message::in_progress() noexcept {
  (void)natsMsg_InProgress(static_cast<natsMsg*>(msg_), nullptr);
}

void fetched_message::nak(std::chrono::milliseconds delay) noexcept {
  (void)natsMsg_NakWithDelay(static_cast<natsMsg*>(msg_), delay.count(), nullptr);  // in ms
}

// ---- message_reader -------------------------------------------------------------------------

message_reader::message_reader(void* connection, void* sub, std::string filter,
                               std::chrono::milliseconds flush_wait)
    : connection_(connection), sub_(sub), filter_(std::move(filter)), flush_wait_(flush_wait) {}

message_reader::message_reader(message_reader&& other) noexcept
    : connection_(other.connection_),
      sub_(std::exchange(other.sub_, nullptr)),
      filter_(std::move(other.filter_)),
      flush_wait_(other.flush_wait_) {}

message_reader& message_reader::operator=(message_reader&& other) noexcept {
  if (this != &other) {
    close();
    connection_ = other.connection_;
    sub_ = std::exchange(other.sub_, nullptr);
    filter_ = std::move(other.filter_);
    flush_wait_ = other.flush_wait_;
  }
  return *this;
}

message_reader::~message_reader() { close(); }

// Unsubscribe, then a flush: once the server's answer to it is read, the connection's reader
// has finished every message that came before, and none comes for this subscription after.
// Only then is it freed. nats.c 3.4.1 (Debian's) can crash when a subscription is freed while
// its reader is handling a message for it (nats.c#637, fixed in 3.6.0): a question's inbox
// closed while answers were still coming in did under ASan, and so did a worker's pull
// subscription dropped at a handover. When the flush fails while connected (no answer in
// time) the subscription is left allocated, a few hundred bytes, rather than freed under the
// reader. Unsubscribing deletes an ephemeral ordered consumer (it would linger until the
// server's inactivity threshold otherwise) and never a bound durable.
static void close_subscription(void* connection, void* subscription,
                               std::chrono::milliseconds flush_wait) noexcept {
  if (subscription == nullptr) return;
  auto* sub = static_cast<natsSubscription*>(subscription);
  auto* nc = static_cast<natsConnection*>(connection);
  (void)natsSubscription_Unsubscribe(sub);
  if (nc != nullptr &&
      natsConnection_FlushTimeout(nc, std::max<std::int64_t>(flush_wait.count(), 1)) != NATS_OK &&
      natsConnection_Status(nc) == NATS_CONN_STATUS_CONNECTED) {
    return;  // connected but unconfirmed: messages may still be read for it
  }
  natsSubscription_Destroy(sub);
}

void message_reader::close() noexcept {
  close_subscription(connection_, std::exchange(sub_, nullptr), flush_wait_);
}

std::optional<fetched_message> message_reader::next(std::chrono::milliseconds wait) {
  natsMsg* msg = nullptr;
  const natsStatus s =
      natsSubscription_NextMsg(&msg, static_cast<natsSubscription*>(sub_), wait.count());
  if (s == NATS_TIMEOUT) return std::nullopt;
  if (s != NATS_OK) fail("read " + filter_, s);
  return fetched_message(msg);
}

// ---- pull_subscription ----------------------------------------------------------------------

pull_subscription::pull_subscription(void* connection, void* sub, std::string consumer,
                                     std::chrono::milliseconds flush_wait)
    : connection_(connection), sub_(sub), consumer_(std::move(consumer)), flush_wait_(flush_wait) {}

pull_subscription::pull_subscription(pull_subscription&& other) noexcept
    : connection_(other.connection_),
      sub_(std::exchange(other.sub_, nullptr)),
      consumer_(std::move(other.consumer_)),
      flush_wait_(other.flush_wait_) {}

pull_subscription& pull_subscription::operator=(pull_subscription&& other) noexcept {
  if (this != &other) {
    close_subscription(connection_, std::exchange(sub_, nullptr), flush_wait_);
    connection_ = other.connection_;
    sub_ = std::exchange(other.sub_, nullptr);
    consumer_ = std::move(other.consumer_);
    flush_wait_ = other.flush_wait_;
  }
  return *this;
}

pull_subscription::~pull_subscription() {
  close_subscription(connection_, std::exchange(sub_, nullptr), flush_wait_);
}

std::vector<fetched_message> pull_subscription::fetch(int batch, std::chrono::milliseconds wait) {
  natsMsgList list{};
  jsErrCode jerr = static_cast<jsErrCode>(0);
  const natsStatus s = natsSubscription_Fetch(&list, static_cast<natsSubscription*>(sub_), batch,
                                              wait.count(), &jerr);
  std::vector<fetched_message> messages;
  if (s != NATS_OK && !(s == NATS_TIMEOUT && list.Count == 0)) {
    natsMsgList_Destroy(&list);
    fail("fetch from consumer " + consumer_, s, jerr);
  }
  messages.reserve(static_cast<std::size_t>(list.Count));
  for (int i = 0; i < list.Count; ++i) {
    messages.push_back(fetched_message(list.Msgs[i]));
    list.Msgs[i] = nullptr;  // owned by the fetched_message now
  }
  natsMsgList_Destroy(&list);
  return messages;
}

// ---- key_value ------------------------------------------------------------------------------

key_value::key_value(void* kv, void* context, std::string bucket, retry_policy retry)
    : kv_(kv), context_(context), bucket_(std::move(bucket)), retry_(retry) {}

key_value::key_value(key_value&& other) noexcept
    : kv_(std::exchange(other.kv_, nullptr)),
      context_(std::exchange(other.context_, nullptr)),
      bucket_(std::move(other.bucket_)),
      retry_(other.retry_) {}

key_value& key_value::operator=(key_value&& other) noexcept {
  if (this != &other) {
    kvStore_Destroy(static_cast<kvStore*>(kv_));
    kv_ = std::exchange(other.kv_, nullptr);
    context_ = std::exchange(other.context_, nullptr);
    bucket_ = std::move(other.bucket_);
    retry_ = other.retry_;
  }
  return *this;
}

key_value::~key_value() { kvStore_Destroy(static_cast<kvStore*>(kv_)); }

std::optional<kv_entry> key_value::get(const std::string& key) {
  auto found = last(key);
  if (!found || found->removed) return std::nullopt;  // a deleted or purged key: absent
  return std::move(found->entry);
}

std::optional<key_value::last_message> key_value::last(const std::string& key) {
  // Read from the stream's leader (a message get), not with nats.c's kvStore_Get: a bucket
  // nats.c creates allows direct gets, which any replica answers, and a follower that has not
  // yet applied the last write answers the value before it. A lease check, a take-over and
  // the identity map then read a value that was already replaced (the cluster test saw a get
  // right after an update return the old value on a loaded machine).
  return with_retry(retry_, [&]() -> std::optional<last_message> {
    natsMsg* msg = nullptr;
    jsErrCode jerr{};
    const std::string stream = kv_stream(bucket_);
    const std::string subject = kv_subject_prefix(bucket_) + key;
    const natsStatus s = js_GetLastMsg(&msg, static_cast<jsCtx*>(context_), stream.c_str(),
                                       subject.c_str(), nullptr, &jerr);
    // No message on the key's subject; a missing stream (the bucket deleted) is an error.
    if (s == NATS_NOT_FOUND && jerr != JSStreamNotFoundErr) return std::nullopt;
    if (s != NATS_OK) fail("read key " + key + " of bucket " + bucket_, s, jerr);
    last_message out;
    const char* operation = nullptr;
    out.removed = natsMsgHeader_Get(msg, "KV-Operation", &operation) == NATS_OK &&
                  operation != nullptr &&
                  (std::string_view(operation) == "DEL" || std::string_view(operation) == "PURGE");
    if (const char* data = natsMsg_GetData(msg); data != nullptr && !out.removed) {
      out.entry.value.assign(data, static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
    }
    out.entry.revision = natsMsg_GetSequence(msg);
    natsMsg_Destroy(msg);
    return out;
  });
}

std::optional<std::uint64_t> key_value::create(const std::string& key, std::string_view value) {
  return with_retry(retry_, [&]() -> std::optional<std::uint64_t> {
    // An update expecting no entry for the key; where the key has a last message, the update
    // expects that one if it is a delete or purge marker. Not kvStore_Create, which does the
    // same but looks for the marker before its caller can read why the first update failed:
    // the lookup can leave the thread's last error empty, and a lost race read as a failure
    // ('create key …: Error', once, in CI).
    const auto update_expecting = [&](std::uint64_t last_revision) {
      std::uint64_t revision = 0;
      const natsStatus s =
          kvStore_Update(&revision, static_cast<kvStore*>(kv_), key.c_str(), value.data(),
                         static_cast<int>(value.size()), last_revision);
      if (s == NATS_OK) return std::optional<std::uint64_t>(revision);
      if (!lost_compare_and_set(s)) fail("create key " + key + " in bucket " + bucket_, s);
      return std::optional<std::uint64_t>();
    };
    if (auto created = update_expecting(0)) return created;
    const auto found = last(key);
    if (!found || !found->removed) return std::optional<std::uint64_t>();  // the race is lost
    return update_expecting(found->entry.revision);
  });
}

std::optional<std::uint64_t> key_value::update(const std::string& key, std::string_view value,
                                               std::uint64_t last_revision) {
  return with_retry(retry_, [&]() -> std::optional<std::uint64_t> {
    std::uint64_t revision = 0;
    const natsStatus s =
        kvStore_Update(&revision, static_cast<kvStore*>(kv_), key.c_str(), value.data(),
                       static_cast<int>(value.size()), last_revision);
    if (s == NATS_OK) return revision;
    if (lost_compare_and_set(s)) return std::nullopt;
    fail("update key " + key + " in bucket " + bucket_ + " at revision " +
             std::to_string(last_revision),
         s);
  });
}

std::uint64_t key_value::put(const std::string& key, std::string_view value) {
  return with_retry(retry_, [&] {
    std::uint64_t revision = 0;
    const natsStatus s = kvStore_Put(&revision, static_cast<kvStore*>(kv_), key.c_str(),
                                     value.data(), static_cast<int>(value.size()));
    if (s != NATS_OK) fail("write key " + key + " in bucket " + bucket_, s);
    return revision;
  });
}

std::vector<std::string> key_value::keys() {
  // One stream-info request for the subjects of the bucket's stream, not nats.c's kvStore_Keys:
  // 3.4.1's listing (an ordered consumer reading every entry) failed with "Timeout: not a
  // JetStream message" on every attempt once a NATS node of three was down and the bucket held
  // a few dozen keys, and a lease round that cannot list the workers renews nothing. The
  // server answers this from the stream's subject index, from whichever node leads the stream.
  const std::string stream = kv_stream(bucket_);
  const std::string prefix = kv_subject_prefix(bucket_);
  const std::string filter = prefix + ">";
  return with_retry(retry_, [&] {
    jsOptions options;
    jsOptions_Init(&options);
    options.Stream.Info.SubjectsFilter = filter.c_str();
    jsStreamInfo* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_GetStreamInfo(&raw, static_cast<jsCtx*>(context_), stream.c_str(), &options, &jerr);
    if (s != NATS_OK) fail("list the keys of bucket " + bucket_, s, jerr);
    const std::unique_ptr<jsStreamInfo, decltype(&jsStreamInfo_Destroy)> info(
        raw, &jsStreamInfo_Destroy);
    const jsStreamStateSubjects* subjects = info->State.Subjects;
    const int count = subjects != nullptr ? subjects->Count : 0;
    // The filter covers every subject of the stream, and nats.c gathers every page of the
    // list (the server pages past 100,000 subjects), so a shorter list than the stream's
    // subject count is a race with a key expiring between the two (cg-workers has a TTL):
    // asked again rather than a part passed for the whole.
    if (static_cast<std::int64_t>(count) < info->State.NumSubjects) {
      throw nats_error("list the keys of bucket " + bucket_ + ": the server listed " +
                           std::to_string(count) + " of its " +
                           std::to_string(info->State.NumSubjects) + " keys",
                       true);
    }
    std::vector<std::string> out;
    out.reserve(static_cast<std::size_t>(count));
    for (int i = 0; i < count; ++i) {
      const std::string_view subject = subjects->List[i].Subject;
      if (subject.size() > prefix.size() && subject.substr(0, prefix.size()) == prefix) {
        out.emplace_back(subject.substr(prefix.size()));
      }
    }
    return out;
  });
}

// ---- jetstream ------------------------------------------------------------------------------

struct jetstream::impl {
  natsConnection* connection = nullptr;
  jsCtx* context = nullptr;
  connection_settings settings;

  // publish_async's callbacks by message id, from just before the message is sent until its
  // acknowledgement, refusal or timeout comes back on nats.c's thread.
  std::mutex async_mutex;
  std::unordered_map<std::string, std::function<void(const publish_outcome&)>> async_waiting;

  ~impl() {
    // Every async publish is answered within request_timeout (its MaxWait): wait for the
    // callbacks still due, which use this object, before it goes.
    bool waiting = false;
    {
      std::lock_guard lock(async_mutex);
      waiting = !async_waiting.empty();
    }
    if (waiting) {
      jsPubOptions options;
      jsPubOptions_Init(&options);
      options.MaxWait = settings.request_timeout.count() * 2;
      (void)js_PublishAsyncComplete(context, &options);
    }
    jsCtx_Destroy(context);
    natsConnection_Destroy(connection);
  }

  // nats.c's jsPubAckHandler: `ack` when the stream stored it, else `error`.
  static void on_async_ack(jsCtx*, natsMsg* msg, jsPubAck* ack, jsPubAckErr* error, void* closure) {
    auto* self = static_cast<impl*>(closure);
    publish_outcome outcome;
    const char* id = nullptr;
    (void)natsMsgHeader_Get(msg, "Nats-Msg-Id", &id);
    std::function<void(const publish_outcome&)> done;
    {
      std::lock_guard lock(self->async_mutex);
      if (id != nullptr) {
        if (const auto it = self->async_waiting.find(id); it != self->async_waiting.end()) {
          done = std::move(it->second);
          self->async_waiting.erase(it);
        }
      }
    }
    if (ack != nullptr) {
      outcome.stored = true;
    } else {
      const natsStatus s = error != nullptr ? error->Err : NATS_ERR;
      const jsErrCode code = error != nullptr ? error->ErrCode : static_cast<jsErrCode>(0);
      const char* subject = natsMsg_GetSubject(msg);
      outcome.retryable = retryable_status(s, code);
      outcome.error =
          error_text("publish to " + std::string(subject != nullptr ? subject : ""), s, code,
                     error != nullptr && error->ErrText != nullptr ? error->ErrText : "");
    }
    natsMsg_Destroy(msg);
    if (done) done(outcome);
  }
};

jetstream::jetstream(const connection_settings& settings) : impl_(std::make_unique<impl>()) {
  impl_->settings = settings;
  if (settings.urls.empty()) throw nats_error("connect to NATS: no server URL configured", false);
  options_guard guard;
  natsStatus s = natsOptions_Create(&guard.opts);
  std::vector<const char*> urls;
  for (const auto& url : settings.urls) urls.push_back(url.c_str());
  if (s == NATS_OK) {
    s = natsOptions_SetServers(guard.opts, urls.data(), static_cast<int>(urls.size()));
  }
  if (s == NATS_OK) s = natsOptions_SetName(guard.opts, settings.name.c_str());
  if (s == NATS_OK) s = natsOptions_SetTimeout(guard.opts, settings.connect_timeout.count());
  // Keep reconnecting for the life of the process: a worker outlives any one node.
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(guard.opts, -1);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(guard.opts, settings.reconnect_wait.count());
  if (s == NATS_OK && !settings.credentials_file.empty()) {
    s = natsOptions_SetUserCredentialsFromFiles(guard.opts, settings.credentials_file.c_str(),
                                                nullptr);
  }
  if (s == NATS_OK && !settings.user.empty()) {
    s = natsOptions_SetUserInfo(guard.opts, settings.user.c_str(), settings.password.c_str());
  }
  if (s == NATS_OK && !settings.ca_file.empty()) {
    s = natsOptions_SetSecure(guard.opts, true);
    if (s == NATS_OK)
      s = natsOptions_LoadCATrustedCertificates(guard.opts, settings.ca_file.c_str());
    if (s == NATS_OK && !settings.cert_file.empty()) {
      s = natsOptions_LoadCertificatesChain(guard.opts, settings.cert_file.c_str(),
                                            settings.key_file.c_str());
    }
  }
  if (s != NATS_OK) fail("configure the NATS connection", s);
  s = natsConnection_Connect(&impl_->connection, guard.opts);
  if (s != NATS_OK) fail("connect to NATS", s);
  jsOptions js_options;
  jsOptions_Init(&js_options);
  js_options.Wait = settings.request_timeout.count();
  js_options.PublishAsync.MaxPending = settings.max_async_pending;
  js_options.PublishAsync.AckHandler = &impl::on_async_ack;
  js_options.PublishAsync.AckHandlerClosure = impl_.get();
  s = natsConnection_JetStream(&impl_->context, impl_->connection, &js_options);
  if (s != NATS_OK) fail("open the JetStream context", s);
}

jetstream::~jetstream() = default;

const retry_policy& jetstream::retry() const noexcept { return impl_->settings.retry; }

bool jetstream::connected() const noexcept {
  return natsConnection_Status(impl_->connection) == NATS_CONN_STATUS_CONNECTED;
}

void jetstream::ensure_stream(const stream_settings& settings) {
  jsStreamConfig config;
  jsStreamConfig_Init(&config);
  const char* subjects[] = {settings.subjects.c_str()};
  config.Name = settings.name.c_str();
  config.Subjects = subjects;
  config.SubjectsLen = 1;
  config.Storage = js_FileStorage;
  config.Retention = js_LimitsPolicy;
  config.Replicas = settings.replicas;
  config.Duplicates =
      std::chrono::duration_cast<std::chrono::nanoseconds>(settings.duplicate_window).count();
  config.MaxAge = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.max_age).count();
  config.MaxBytes = settings.max_bytes;
  if (settings.one_message_per_subject) {
    config.MaxMsgsPerSubject = 1;
    config.Discard = js_DiscardNew;
    config.DiscardNewPerSubject = true;
  } else if (settings.latest_per_subject) {
    config.MaxMsgsPerSubject = 1;  // Discard Old (the default): the newest stays
  }
  with_retry(impl_->settings.retry, [&] {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsStatus s = js_AddStream(&info, impl_->context, &config, nullptr, &jerr);
    // "Subjects overlap" came once for the stream itself, from a cluster whose node had just
    // restarted: the stream may exist, so it is updated; if that fails too, the overlap is
    // reported (and retried: it passes once the cluster's view is whole).
    const auto added = jerr;
    if (s != NATS_OK && (jerr == JSStreamNameExistErr || jerr == JSStreamSubjectOverlapErr)) {
      jerr = static_cast<jsErrCode>(0);
      if (settings.keep_existing_max_age && settings.max_age.count() == 0) {
        config.MaxAge =
            std::chrono::duration_cast<std::chrono::nanoseconds>(stream_max_age(settings.name))
                .count();
      }
      s = js_UpdateStream(&info, impl_->context, &config, nullptr, &jerr);
      if (s != NATS_OK && added == JSStreamSubjectOverlapErr) jerr = added;
    }
    jsStreamInfo_Destroy(info);
    if (s != NATS_OK) fail("create or update stream " + settings.name, s, jerr);
  });
}

namespace {

// Reads one stream's info (with the connection's retries) and hands it to `read`, which takes
// what it needs before the info is freed.
template <class Read>
auto read_stream_info(jsCtx* context, const retry_policy& retry, const std::string& stream,
                      Read read) {
  return with_retry(retry, [&] {
    jsStreamInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&info, context, stream.c_str(), nullptr, &jerr);
    if (s != NATS_OK) fail("read the state of stream " + stream, s, jerr);
    auto value = read(*info);
    jsStreamInfo_Destroy(info);
    return value;
  });
}

}  // namespace

std::string jetstream::stream_leader(const std::string& stream) {
  return read_stream_info(impl_->context, impl_->settings.retry, stream,
                          [](const jsStreamInfo& info) {
                            return info.Cluster != nullptr && info.Cluster->Leader != nullptr
                                       ? std::string(info.Cluster->Leader)
                                       : std::string();
                          });
}

std::uint64_t jetstream::stream_last_sequence(const std::string& stream) {
  return read_stream_info(impl_->context, impl_->settings.retry, stream,
                          [](const jsStreamInfo& info) { return info.State.LastSeq; });
}

jetstream::stream_bounds jetstream::stream_sequences(const std::string& stream) {
  return read_stream_info(impl_->context, impl_->settings.retry, stream,
                          [](const jsStreamInfo& info) {
                            return stream_bounds{info.State.FirstSeq, info.State.LastSeq};
                          });
}

std::chrono::seconds jetstream::stream_max_age(const std::string& stream) {
  return read_stream_info(
      impl_->context, impl_->settings.retry, stream, [](const jsStreamInfo& info) {
        return std::chrono::duration_cast<std::chrono::seconds>(
            std::chrono::nanoseconds(info.Config != nullptr ? info.Config->MaxAge : 0));
      });
}

std::uint64_t jetstream::messages_on(const std::string& stream, const std::string& filter) {
  std::uint64_t total = 0;
  for (const auto& [subject, count] : subjects_of(stream, filter)) total += count;
  return total;
}

std::vector<std::pair<std::string, std::uint64_t>> jetstream::subjects_of(
    const std::string& stream, const std::string& filter) {
  return with_retry(impl_->settings.retry, [&] {
    jsOptions options;
    jsOptions_Init(&options);
    options.Stream.Info.SubjectsFilter = filter.c_str();
    jsStreamInfo* raw = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetStreamInfo(&raw, impl_->context, stream.c_str(), &options, &jerr);
    if (s != NATS_OK) fail("count " + filter + " of stream " + stream, s, jerr);
    const std::unique_ptr<jsStreamInfo, decltype(&jsStreamInfo_Destroy)> info(
        raw, &jsStreamInfo_Destroy);
    std::vector<std::pair<std::string, std::uint64_t>> out;
    if (const jsStreamStateSubjects* subjects = info->State.Subjects; subjects != nullptr) {
      out.reserve(static_cast<std::size_t>(subjects->Count));
      for (int i = 0; i < subjects->Count; ++i) {
        out.emplace_back(subjects->List[i].Subject, subjects->List[i].Msgs);
      }
    }
    return out;
  });
}

void jetstream::purge_subject(const std::string& stream, const std::string& subject,
                              std::uint64_t before_sequence) {
  if (before_sequence == 0) return;  // "up to 0" would mean the whole subject to the server
  with_retry(impl_->settings.retry, [&] {
    jsOptions options;
    jsOptions_Init(&options);
    options.Stream.Purge.Subject = subject.c_str();
    options.Stream.Purge.Sequence = before_sequence;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_PurgeStream(impl_->context, stream.c_str(), &options, &jerr);
    if (s != NATS_OK) fail("purge " + subject + " of stream " + stream, s, jerr);
  });
}

void jetstream::ensure_consumer(const consumer_settings& settings) {
  jsConsumerConfig config;
  jsConsumerConfig_Init(&config);
  config.Durable = settings.durable.c_str();
  config.FilterSubject = settings.filter_subject.c_str();
  config.AckPolicy = js_AckExplicit;
  config.DeliverPolicy = js_DeliverAll;
  config.AckWait = settings.ack_wait.count() * nanos_per_ms;
  config.MaxAckPending = settings.max_ack_pending;
  with_retry(impl_->settings.retry, [&] {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_AddConsumer(&info, impl_->context, settings.stream.c_str(), &config, nullptr, &jerr);
    jsConsumerInfo_Destroy(info);
    if (s != NATS_OK) {
      fail("create consumer " + settings.durable + " on stream " + settings.stream, s, jerr);
    }
  });
}

std::string stored_message::header(std::string_view name) const {
  for (const auto& [key, value] : headers) {
    if (key == name) return value;
  }
  return {};
}

namespace {

// A stored message as nats.c handed it over (and freed here).
stored_message stored_of(natsMsg* msg) {
  stored_message out;
  out.sequence = natsMsg_GetSequence(msg);
  out.stored_ms = natsMsg_GetTime(msg) / 1'000'000;  // nanoseconds since the epoch
  out.subject = natsMsg_GetSubject(msg);
  out.data.assign(natsMsg_GetData(msg), static_cast<std::size_t>(natsMsg_GetDataLength(msg)));
  const char** keys = nullptr;
  int count = 0;
  if (natsMsgHeader_Keys(msg, &keys, &count) == NATS_OK) {
    for (int i = 0; i < count; ++i) {
      const char* value = nullptr;
      if (natsMsgHeader_Get(msg, keys[i], &value) == NATS_OK && value != nullptr) {
        out.headers.emplace_back(keys[i], value);
      }
    }
    free(static_cast<void*>(keys));
  }
  natsMsg_Destroy(msg);
  return out;
}

}  // namespace

std::optional<stored_message> jetstream::message(const std::string& stream,
                                                 std::uint64_t sequence) {
  return with_retry(impl_->settings.retry, [&]() -> std::optional<stored_message> {
    natsMsg* msg = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_GetMsg(&msg, impl_->context, stream.c_str(), sequence, nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) return std::nullopt;
    if (s != NATS_OK) {
      fail("read sequence " + std::to_string(sequence) + " of stream " + stream, s, jerr);
    }
    return stored_of(msg);
  });
}

std::optional<stored_message> jetstream::last_message(const std::string& stream,
                                                      const std::string& subject) {
  return with_retry(impl_->settings.retry, [&]() -> std::optional<stored_message> {
    natsMsg* msg = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_GetLastMsg(&msg, impl_->context, stream.c_str(), subject.c_str(), nullptr, &jerr);
    if (s == NATS_NOT_FOUND || jerr == JSNoMessageFoundErr) return std::nullopt;
    if (s != NATS_OK) fail("read the last message of a subject of stream " + stream, s, jerr);
    return stored_of(msg);
  });
}

consumer_state jetstream::consumer_info(const std::string& stream, const std::string& durable) {
  return consumer_info(stream, durable, impl_->settings.retry);
}

consumer_state jetstream::consumer_info(const std::string& stream, const std::string& durable,
                                        const retry_policy& retry) {
  return with_retry(retry, [&] {
    jsConsumerInfo* info = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_GetConsumerInfo(&info, impl_->context, stream.c_str(), durable.c_str(), nullptr, &jerr);
    if (s != NATS_OK) fail("read consumer " + durable + " of stream " + stream, s, jerr);
    consumer_state state{info->NumPending, info->NumAckPending, info->AckFloor.Stream,
                         info->Delivered.Stream};
    jsConsumerInfo_Destroy(info);
    return state;
  });
}

pull_subscription jetstream::bind(const std::string& stream, const std::string& durable,
                                  const std::string& filter_subject) {
  return with_retry(impl_->settings.retry, [&] {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream.c_str();
    options.Consumer = durable.c_str();  // bind: never create (or later delete) the durable
    natsSubscription* sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s = js_PullSubscribe(&sub, impl_->context, filter_subject.c_str(),
                                          durable.c_str(), nullptr, &options, &jerr);
    if (s != NATS_OK) fail("bind to consumer " + durable + " of stream " + stream, s, jerr);
    return pull_subscription(impl_->connection, sub, durable, impl_->settings.request_timeout);
  });
}

publish_result jetstream::publish(const std::string& subject, std::string_view data,
                                  const std::string& msg_id,
                                  const std::vector<message_header>& headers) {
  return publish(subject, data, msg_id, headers, impl_->settings.retry);
}

publish_result jetstream::publish(const std::string& subject, std::string_view data,
                                  const std::string& msg_id,
                                  const std::vector<message_header>& headers,
                                  const retry_policy& retry) {
  if (msg_id.empty()) {
    throw nats_error("publish to " + subject + ": a message id is required (de-duplication)",
                     false);
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = msg_id.c_str();
  return with_retry(retry, [&] {
    jsPubAck* ack = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    natsMsg* msg = nullptr;
    natsStatus s =
        natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
    for (const auto& h : headers) {
      if (s == NATS_OK) s = natsMsgHeader_Set(msg, h.name, h.value.c_str());
    }
    if (s == NATS_OK) s = js_PublishMsg(&ack, impl_->context, msg, &options, &jerr);
    natsMsg_Destroy(msg);
    // The refusal of a stream that keeps one message per subject: the subject is taken.
    if (s != NATS_OK && jerr == JSStreamStoreFailedErr && subject_full_error()) {
      return publish_result{0, false, true};
    }
    if (s != NATS_OK) fail("publish to " + subject, s, jerr);
    const publish_result result{ack->Sequence, ack->Duplicate};
    jsPubAck_Destroy(ack);
    return result;
  });
}

void jetstream::publish_async(const std::string& subject, std::string_view data,
                              const std::string& msg_id, const std::vector<message_header>& headers,
                              std::function<void(const publish_outcome&)> done) {
  if (msg_id.empty()) {
    throw nats_error("publish to " + subject + ": a message id is required (de-duplication)",
                     false);
  }
  {
    std::lock_guard lock(impl_->async_mutex);
    if (!impl_->async_waiting.emplace(msg_id, std::move(done)).second) {
      throw nats_error("publish to " + subject + ": message id " + msg_id + " is in flight", false);
    }
  }
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MsgId = msg_id.c_str();
  options.MaxWait = impl_->settings.request_timeout.count();
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& h : headers) {
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, h.name, h.value.c_str());
  }
  if (s == NATS_OK) s = js_PublishMsgAsync(impl_->context, &msg, &options);
  natsMsg_Destroy(msg);  // nats.c owns it (and this is a no-op) once it was sent
  if (s != NATS_OK) {
    // Not sent: nats.c will not call back, so the callback goes. (Sent but failed is reported
    // through the callback, and js_PublishMsgAsync then returns NATS_OK.)
    {
      std::lock_guard lock(impl_->async_mutex);
      impl_->async_waiting.erase(msg_id);
    }
    fail("publish to " + subject, s);
  }
}

bool jetstream::await_publishes(std::chrono::milliseconds wait) {
  jsPubOptions options;
  jsPubOptions_Init(&options);
  options.MaxWait = std::max<std::int64_t>(wait.count(), 1);
  return js_PublishAsyncComplete(impl_->context, &options) == NATS_OK;
}

message_reader jetstream::read_from(const std::string& stream, const std::string& filter_subject,
                                    std::uint64_t start) {
  return with_retry(impl_->settings.retry, [&] {
    jsSubOptions options;
    jsSubOptions_Init(&options);
    options.Stream = stream.c_str();
    options.Ordered = true;
    options.Config.DeliverPolicy = start > 1 ? js_DeliverByStartSequence : js_DeliverAll;
    options.Config.OptStartSeq = start > 1 ? start : 0;
    natsSubscription* sub = nullptr;
    jsErrCode jerr = static_cast<jsErrCode>(0);
    const natsStatus s =
        js_SubscribeSync(&sub, impl_->context, filter_subject.c_str(), nullptr, &options, &jerr);
    if (s != NATS_OK) {
      fail("read " + filter_subject + " of stream " + stream + " from sequence " +
               std::to_string(start),
           s, jerr);
    }
    return message_reader(impl_->connection, sub, filter_subject, impl_->settings.request_timeout);
  });
}

message_reader jetstream::subscribe(const std::string& subject) {
  natsSubscription* sub = nullptr;
  const natsStatus s = natsConnection_SubscribeSync(&sub, impl_->connection, subject.c_str());
  if (s != NATS_OK) fail("subscribe to " + subject, s);
  // The subscription is known to the server once this returns: a reply sent right after is
  // not missed.
  if (const natsStatus f =
          natsConnection_FlushTimeout(impl_->connection, impl_->settings.request_timeout.count());
      f != NATS_OK) {
    natsSubscription_Destroy(sub);
    fail("subscribe to " + subject, f);
  }
  return message_reader(impl_->connection, sub, subject, impl_->settings.request_timeout);
}

void jetstream::send(const std::string& subject, std::string_view data,
                     const std::vector<message_header>& headers) {
  natsMsg* msg = nullptr;
  natsStatus s =
      natsMsg_Create(&msg, subject.c_str(), nullptr, data.data(), static_cast<int>(data.size()));
  for (const auto& h : headers) {
    if (s == NATS_OK) s = natsMsgHeader_Set(msg, h.name, h.value.c_str());
  }
  if (s == NATS_OK) s = natsConnection_PublishMsg(impl_->connection, msg);
  natsMsg_Destroy(msg);
  if (s != NATS_OK) fail("send a reply", s);
}

key_value jetstream::bucket(const bucket_settings& settings) {
  return with_retry(impl_->settings.retry, [&] {
    kvStore* kv = nullptr;
    natsStatus s = js_KeyValue(&kv, impl_->context, settings.name.c_str());
    if (s == NATS_NOT_FOUND) {
      kvConfig config;
      kvConfig_Init(&config);
      config.Bucket = settings.name.c_str();
      config.History = 1;
      config.Replicas = settings.replicas;
      config.StorageType = js_FileStorage;
      config.TTL = std::chrono::duration_cast<std::chrono::nanoseconds>(settings.ttl).count();
      s = js_CreateKeyValue(&kv, impl_->context, &config);
    }
    if (s != NATS_OK) fail("open or create bucket " + settings.name, s);
    auto retry = impl_->settings.retry;
    retry.budget = settings.retry_budget;
    return key_value(kv, impl_->context, settings.name, retry);
  });
}

void shutdown_nats_library(std::chrono::milliseconds wait) { nats_CloseAndWait(wait.count()); }

}  // namespace covgate::cluster
