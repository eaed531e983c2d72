#include "covgate/cluster/claim_lookup.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

constexpr std::chrono::milliseconds poll{200};  // how long a stop may wait for the responder

// "0,3,5": partition numbers; anything else in the list is skipped (a newer or broken peer).
std::vector<int> parse_partition_list(std::string_view text) {
  std::vector<int> out;
  while (!text.empty()) {
    const auto comma = text.find(',');
    const auto item = text.substr(0, comma);
    int p = -1;
    const auto [end, error] = std::from_chars(item.data(), item.data() + item.size(), p);
    if (error == std::errc{} && end == item.data() + item.size() && p >= 0) out.push_back(p);
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  return out;
}

std::string partition_list(const std::vector<int>& partitions) {
  std::string out;
  for (const int p : partitions) {
    if (!out.empty()) out += ',';
    out += std::to_string(p);
  }
  return out;
}

}  // namespace

claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                  std::string_view claim_id, int partitions,
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
  std::vector<std::uint8_t> covered(static_cast<std::size_t>(std::max(partitions, 0)), 0);
  int uncovered = partitions;
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
    for (const int p : parse_partition_list(m->header("Cg-Caught-Up"))) {
      if (p < partitions && covered[static_cast<std::size_t>(p)] == 0) {
        covered[static_cast<std::size_t>(p)] = 1;
        --uncovered;
      }
    }
    if (uncovered == 0) {
      result.how = claim_lookup_result::status::unknown;
      return result;
    }
  }
  result.how = claim_lookup_result::status::unavailable;
  for (int p = 0; p < partitions; ++p) {
    if (covered[static_cast<std::size_t>(p)] == 0) result.uncovered.push_back(p);
  }
  return result;
}

claim_lookup_responder::claim_lookup_responder(
    jetstream& js, std::string worker, std::function<claim_lookup_answer(std::string_view)> answer)
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
        claim_lookup_answer found;
        if (!claim_id.empty() && claim_id.size() <= max_lookup_claim_id) found = answer_(claim_id);
        try {
          std::vector<message_header> headers{{"Cg-Held", found.claim ? "yes" : "no"},
                                              {"Cg-Worker", worker_}};
          if (!found.caught_up.empty()) {
            headers.push_back({"Cg-Caught-Up", partition_list(found.caught_up)});
          }
          js_.send(reply_to, found.claim ? *found.claim : std::string(), headers);
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
