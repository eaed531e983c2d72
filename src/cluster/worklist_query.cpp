#include "covgate/cluster/worklist_query.hpp"

#include <charconv>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

// One number of a "p:…;" item and the separator that ends it, read strictly (every number is
// followed by one: ':' after the partition, ',' between numbers, ';' after the last).
template <typename T>
bool read_number(std::string_view& text, char end, T& out) {
  const auto stop = text.find(end);
  if (stop == std::string_view::npos || stop == 0) return false;
  const auto [at, error] = std::from_chars(text.data(), text.data() + stop, out);
  if (error != std::errc{} || at != text.data() + stop) return false;
  text.remove_prefix(stop + 1);
  return true;
}

}  // namespace

std::string encode_queue_counts(const partition_queue_counts& counts) {
  std::string out;
  for (const auto& [partition, queues] : counts) {
    out += std::to_string(partition);
    char separator = ':';
    for (const auto& q : queues) {
      out += separator;
      out += std::to_string(q.count) + "," + std::to_string(q.oldest_since_ms);
      separator = ',';
    }
    out += ';';
  }
  return out;
}

std::optional<partition_queue_counts> decode_queue_counts(std::string_view text, int partitions) {
  partition_queue_counts out;
  while (!text.empty()) {
    int partition = -1;
    if (!read_number(text, ':', partition) || partition < 0 || partition >= partitions) {
      return std::nullopt;
    }
    queue_counts queues{};
    for (std::size_t q = 0; q < queues.size(); ++q) {
      const char after = q + 1 < queues.size() ? ',' : ';';
      if (!read_number(text, ',', queues[q].count) ||
          !read_number(text, after, queues[q].oldest_since_ms) || queues[q].oldest_since_ms < 0) {
        return std::nullopt;
      }
    }
    if (!out.emplace(partition, queues).second) return std::nullopt;  // named twice
  }
  return out;
}

queue_counts_result gather_queue_counts(jetstream& js, std::string_view requester,
                                        std::int64_t released_since_ms, int partitions,
                                        std::chrono::milliseconds wait) {
  queue_counts_result result;
  const auto asked = ask_every_partition(
      js, requester, std::string(queues_query_subject), std::to_string(released_since_ms),
      partitions, wait, [&](const fetched_message& m, const std::vector<int>& fresh) {
        const auto counts = decode_queue_counts(m.data(), partitions);
        if (!counts) return false;  // a broken answer adds nothing; its partitions stay named
        for (const int p : fresh) {
          const auto at = counts->find(p);
          if (at == counts->end()) continue;  // a partition of no claim
          for (std::size_t q = 0; q < result.total.size(); ++q) {
            store::add_queue_count(result.total[q], at->second[q]);
          }
        }
        return false;
      });
  result.answers = asked.answers;
  result.complete = asked.complete;
  result.uncovered = asked.uncovered;
  return result;
}

queue_counts_responder::queue_counts_responder(
    jetstream& js, std::string worker, std::function<queue_counts_answer(std::int64_t)> answer)
    : responder_(js, std::string(queues_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   partition_query_responder::reply r;
                   std::int64_t since = 0;
                   const auto body = m.data();
                   const auto [at, error] =
                       std::from_chars(body.data(), body.data() + body.size(), since);
                   if (error != std::errc{} || at != body.data() + body.size()) {
                     return r;  // names no partition: the asker waits for the others
                   }
                   auto found = answer(since);
                   r.body = encode_queue_counts(found.counts);
                   if (!found.caught_up.empty()) {
                     r.headers.push_back({"Cg-Caught-Up", partition_list(found.caught_up)});
                   }
                   return r;
                 }) {}

void queue_counts_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
