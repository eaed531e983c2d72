#include "covgate/cluster/partition_query.hpp"

#include <algorithm>
#include <charconv>
#include <exception>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

constexpr std::chrono::milliseconds poll{200};  // how long a stop may wait for the responder

// A worker answers once, for the partitions it has caught up at that moment; one catching a
// partition up (a takeover, seconds) answers again only when asked again. So the question is
// sent again while some partition is uncovered: after 250 ms, then at doubling intervals
// (asks at 0, 0.25, 0.75, 1.75 and 3.75 s of a 5 s wait), so a long wait costs each worker
// a handful of answers, not one per tick.
constexpr std::chrono::milliseconds first_reask{250};

}  // namespace

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

partition_query_result ask_every_partition(
    jetstream& js, std::string_view requester, const std::string& subject, std::string_view body,
    int partitions, std::chrono::milliseconds wait,
    const std::function<bool(const fetched_message&, const std::vector<int>& fresh)>& on_answer,
    const std::vector<message_header>& headers) {
  partition_query_result result;
  // An inbox of this call alone: subscribed before the request goes out on the same
  // connection, so no answer can come before it listens.
  static std::atomic<std::uint64_t> calls{0};
  const std::string inbox =
      "_INBOX.cgq." + std::string(requester) + "." + random_nonce() + "." + std::to_string(++calls);
  auto replies = js.subscribe(inbox);
  std::vector<message_header> question = headers;
  question.push_back({"Cg-Reply-To", inbox});
  const auto ask = [&] {
    js.send(subject, body, question);
    ++result.asks;
  };
  ask();
  const auto deadline = std::chrono::steady_clock::now() + wait;
  auto reask_after = first_reask;
  auto next_ask = std::chrono::steady_clock::now() + reask_after;
  std::vector<std::uint8_t> covered(static_cast<std::size_t>(std::max(partitions, 0)), 0);
  int uncovered = partitions;
  for (auto now = std::chrono::steady_clock::now(); now < deadline;
       now = std::chrono::steady_clock::now()) {
    if (now >= next_ask) {
      ask();  // throws nats_error like the first: the caller reports the cluster unreachable
      reask_after *= 2;
      next_ask = now + reask_after;
    }
    const auto until = std::min(deadline, next_ask);
    auto m = replies.next(std::chrono::duration_cast<std::chrono::milliseconds>(until - now) +
                          std::chrono::milliseconds(1));
    if (!m) continue;
    ++result.answers;
    auto named = parse_partition_list(m->header("Cg-Caught-Up"));
    std::sort(named.begin(), named.end());
    std::vector<int> fresh;
    for (const int p : named) {
      if (p < partitions && covered[static_cast<std::size_t>(p)] == 0) {
        covered[static_cast<std::size_t>(p)] = 1;
        --uncovered;
        fresh.push_back(p);
      }
    }
    if (on_answer(*m, fresh)) {
      result.stopped = true;
      return result;
    }
    if (uncovered == 0) {
      result.complete = true;
      return result;
    }
  }
  for (int p = 0; p < partitions; ++p) {
    if (covered[static_cast<std::size_t>(p)] == 0) result.uncovered.push_back(p);
  }
  return result;
}

partition_query_responder::partition_query_responder(
    jetstream& js, std::string subject, std::string worker,
    std::function<reply(const fetched_message&)> answer)
    : partition_query_responder(js, std::move(subject), std::move(worker),
                                [answer = std::move(answer)](const fetched_message& m) {
                                  return std::vector<reply>{answer(m)};
                                }) {}

partition_query_responder::partition_query_responder(
    jetstream& js, std::string subject, std::string worker,
    std::function<std::vector<reply>(const fetched_message&)> answers)
    : js_(js),
      subject_(std::move(subject)),
      worker_(std::move(worker)),
      answers_(std::move(answers)) {
  thread_ = std::thread([this] { run(); });
}

partition_query_responder::~partition_query_responder() { stop(); }

void partition_query_responder::stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void partition_query_responder::run() {
  while (!stopping_) {
    try {
      // nats.c subscribes again by itself after a reconnect; a failure here is a connection
      // that is closed for good or a subscription refused: tried again after a pause.
      auto queries = js_.subscribe(subject_);
      while (!stopping_) {
        const auto m = queries.next(poll);
        if (!m) continue;
        const auto reply_to = m->header("Cg-Reply-To");
        if (!is_reply_subject(reply_to)) continue;  // nobody to answer, or not a reply subject
        std::vector<reply> answers;
        try {
          answers = answers_(*m);
        } catch (const std::exception&) {
          // Not a NATS failure: nothing to subscribe again for. A wrong answer ("not held")
          // would be worse than none, so none: the asker says the partitions are unknown.
          continue;
        }
        for (auto& answer : answers) {
          answer.headers.push_back({"Cg-Worker", worker_});
          try {
            js_.send(reply_to, answer.body, answer.headers);
          } catch (const nats_error&) {
            // The asker waits for its deadline: nothing else to do for one lost answer.
          }
        }
      }
    } catch (const nats_error&) {
      for (int i = 0; i < 5 && !stopping_; ++i) std::this_thread::sleep_for(poll);
    }
  }
}

}  // namespace covgate::cluster
