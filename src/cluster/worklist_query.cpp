#include "covgate/cluster/worklist_query.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <tuple>

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

std::string encode_partition_numbers(const partition_numbers& rows) {
  std::string out;
  for (const auto& [partition, row] : rows) {
    out += std::to_string(partition);
    char separator = ':';
    for (const auto n : row) {
      out += separator;
      out += std::to_string(n);
      separator = ',';
    }
    out += ';';
  }
  return out;
}

std::optional<partition_numbers> decode_partition_numbers(std::string_view text, int partitions,
                                                          std::size_t width) {
  partition_numbers out;
  if (width == 0) return text.empty() ? std::optional(out) : std::nullopt;
  while (!text.empty()) {
    int partition = -1;
    if (!read_number(text, ':', partition) || partition < 0 || partition >= partitions) {
      return std::nullopt;
    }
    std::vector<std::uint64_t> row(width);
    for (std::size_t i = 0; i < width; ++i) {
      if (!read_number(text, i + 1 < width ? ',' : ';', row[i])) return std::nullopt;
    }
    if (!out.emplace(partition, std::move(row)).second) return std::nullopt;  // named twice
  }
  return out;
}

// Queue counts as rows of numbers: count and oldest start of each queue, in queue order.
constexpr std::size_t queue_numbers = 2 * std::tuple_size_v<queue_counts>;

std::string encode_queue_counts(const partition_queue_counts& counts) {
  partition_numbers rows;
  for (const auto& [partition, queues] : counts) {
    auto& row = rows[partition];
    for (const auto& q : queues) {
      row.push_back(q.count);
      row.push_back(static_cast<std::uint64_t>(std::max<std::int64_t>(q.oldest_since_ms, 0)));
    }
  }
  return encode_partition_numbers(rows);
}

std::optional<partition_queue_counts> decode_queue_counts(std::string_view text, int partitions) {
  const auto rows = decode_partition_numbers(text, partitions, queue_numbers);
  if (!rows) return std::nullopt;
  partition_queue_counts out;
  for (const auto& [partition, row] : *rows) {
    auto& queues = out[partition];
    for (std::size_t q = 0; q < queues.size(); ++q) {
      const auto oldest = row[2 * q + 1];
      if (oldest > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) {
        return std::nullopt;
      }
      queues[q] = {row[2 * q], static_cast<std::int64_t>(oldest)};
    }
  }
  return out;
}

numbers_result gather_chart_numbers(jetstream& js, std::string_view requester,
                                    std::string_view request, int partitions, std::size_t width,
                                    std::chrono::milliseconds wait) {
  numbers_result result;
  result.total.assign(width, 0);
  const auto asked =
      ask_every_partition(js, requester, std::string(charts_query_subject), request, partitions,
                          wait, [&](const fetched_message& m, const std::vector<int>& fresh) {
                            const auto rows = decode_partition_numbers(m.data(), partitions, width);
                            if (!rows) return false;  // a broken answer adds nothing
                            for (const int p : fresh) {
                              const auto at = rows->find(p);
                              if (at == rows->end()) continue;  // a partition of no claim
                              for (std::size_t i = 0; i < width; ++i)
                                result.total[i] += at->second[i];
                            }
                            return false;
                          });
  result.answers = asked.answers;
  result.complete = asked.complete;
  result.uncovered = asked.uncovered;
  return result;
}

chart_numbers_responder::chart_numbers_responder(
    jetstream& js, std::string worker,
    std::function<partition_numbers_answer(std::string_view)> answer)
    : responder_(js, std::string(charts_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   auto found = answer(m.data());
                   partition_query_responder::reply r;
                   r.body = encode_partition_numbers(found.rows);
                   if (!found.caught_up.empty()) {
                     r.headers.push_back({"Cg-Caught-Up", partition_list(found.caught_up)});
                   }
                   return r;
                 }) {}

void chart_numbers_responder::stop() { responder_.stop(); }

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
