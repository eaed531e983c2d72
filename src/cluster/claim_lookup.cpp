#include "covgate/cluster/claim_lookup.hpp"

#include <atomic>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

constexpr std::chrono::milliseconds poll{200};  // how long a stop may wait for the responder

}  // namespace

claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                  std::string_view claim_id, int live_workers,
                                  std::chrono::milliseconds wait) {
  claim_lookup_result result;
  if (claim_id.empty() || claim_id.size() > max_lookup_claim_id) {
    result.how = claim_lookup_result::status::unknown;  // no claim has such an id
    return result;
  }
  // An inbox of this call alone: subscribed before the request goes out on the same
  // connection, so no answer can come before it listens.
  static std::atomic<std::uint64_t> calls{0};
  const std::string inbox =
      "_INBOX.cgq." + std::string(requester) + "." + random_nonce() + "." + std::to_string(++calls);
  auto replies = js.subscribe(inbox);
  js.send(std::string(claim_query_subject), claim_id, {{"Cg-Reply-To", inbox}});
  const auto deadline = std::chrono::steady_clock::now() + wait;
  int not_mine = 0;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now()) {
    auto m = replies.next(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now) +
                          std::chrono::milliseconds(1));
    if (!m) continue;
    ++result.answers;
    if (m->header("Cg-Held") == "yes") {
      result.how = claim_lookup_result::status::found;
      result.body = std::string(m->data());
      result.worker = m->header("Cg-Worker");
      return result;
    }
    result.not_held_by.push_back(m->header("Cg-Worker"));
    if (++not_mine >= live_workers) {
      result.how = claim_lookup_result::status::unknown;
      return result;
    }
  }
  result.how = live_workers > 0 && not_mine >= live_workers
                   ? claim_lookup_result::status::unknown
                   : claim_lookup_result::status::unavailable;
  return result;
}

claim_lookup_responder::claim_lookup_responder(
    jetstream& js, std::string worker,
    std::function<std::optional<std::string>(std::string_view)> answer)
    : js_(js), worker_(std::move(worker)), answer_(std::move(answer)) {
  thread_ = std::thread([this] { run(); });
}

claim_lookup_responder::~claim_lookup_responder() { stop(); }

void claim_lookup_responder::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void claim_lookup_responder::run() {
  while (!stopping_) {
    try {
      // nats.c subscribes again by itself after a reconnect; a failure here is a connection
      // that is closed for good or a subscription refused: tried again after a pause.
      auto queries = js_.subscribe(std::string(claim_query_subject));
      while (!stopping_) {
        const auto m = queries.next(poll);
        if (!m) continue;
        const auto reply_to = m->header("Cg-Reply-To");
        if (!is_reply_subject(reply_to)) continue;  // nobody to answer, or not a reply subject
        const auto claim_id = m->data();
        std::optional<std::string> body;
        if (!claim_id.empty() && claim_id.size() <= max_lookup_claim_id) body = answer_(claim_id);
        try {
          js_.send(reply_to, body ? *body : std::string(),
                   {{"Cg-Held", body ? "yes" : "no"}, {"Cg-Worker", worker_}});
        } catch (const nats_error&) {
          // The asker waits for its deadline: nothing else to do for one lost answer.
        }
      }
    } catch (const nats_error&) {
      for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(poll);
    }
  }
}

}  // namespace covgate::cluster
