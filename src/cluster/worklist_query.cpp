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

// Queue counts as rows of numbers: count and oldest start of each queue, in queue order.
constexpr std::size_t queue_numbers = 2 * std::tuple_size_v<queue_counts>;
constexpr auto max_time = static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max());

std::vector<std::uint64_t> row_of(const queue_counts& queues) {
  std::vector<std::uint64_t> row;
  row.reserve(queue_numbers);
  for (const auto& q : queues) {
    row.push_back(q.count);
    row.push_back(static_cast<std::uint64_t>(std::max<std::int64_t>(q.oldest_since_ms, 0)));
  }
  return row;
}

// Queue `q` of a row; a start beyond what a time holds (only a broken peer sends one) is
// clamped to the latest time.
store::queue_count queue_count_of(const std::vector<std::uint64_t>& row, std::size_t q) {
  return {row[2 * q], static_cast<std::int64_t>(std::min(row[2 * q + 1], max_time))};
}

// Asks every worker on `subject` and hands each partition's row of `width` numbers to `add`,
// each partition once (from the first answer naming it); a broken answer adds nothing.
partition_query_result gather_rows(
    jetstream& js, std::string_view requester, std::string_view subject, std::string_view request,
    int partitions, std::size_t width, std::chrono::milliseconds wait,
    const std::function<void(const std::vector<std::uint64_t>&)>& add) {
  return ask_every_partition(js, requester, std::string(subject), request, partitions, wait,
                             [&](const fetched_message& m, const std::vector<int>& fresh) {
                               const auto rows =
                                   decode_partition_numbers(m.data(), partitions, width);
                               if (!rows) return false;
                               for (const int p : fresh) {
                                 // A partition it holds but left out has no claim.
                                 if (const auto at = rows->find(p); at != rows->end()) {
                                   add(at->second);
                                 }
                               }
                               return false;
                             });
}

// A worker's reply: its rows and the partitions they speak for.
partition_query_responder::reply reply_of(const partition_numbers& rows,
                                          const std::vector<int>& caught_up) {
  partition_query_responder::reply r;
  r.body = encode_partition_numbers(rows);
  if (!caught_up.empty()) r.headers.push_back({"Cg-Caught-Up", partition_list(caught_up)});
  return r;
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

std::string encode_queue_counts(const partition_queue_counts& counts) {
  partition_numbers rows;
  for (const auto& [partition, queues] : counts) rows.emplace(partition, row_of(queues));
  return encode_partition_numbers(rows);
}

std::optional<partition_queue_counts> decode_queue_counts(std::string_view text, int partitions) {
  const auto rows = decode_partition_numbers(text, partitions, queue_numbers);
  if (!rows) return std::nullopt;
  partition_queue_counts out;
  for (const auto& [partition, row] : *rows) {
    auto& queues = out[partition];
    for (std::size_t q = 0; q < queues.size(); ++q) {
      if (row[2 * q + 1] > max_time) return std::nullopt;
      queues[q] = queue_count_of(row, q);
    }
  }
  return out;
}

numbers_result gather_chart_numbers(jetstream& js, std::string_view requester,
                                    std::string_view request, int partitions, std::size_t width,
                                    std::chrono::milliseconds wait) {
  numbers_result result;
  result.total.assign(width, 0);
  const auto asked = gather_rows(js, requester, charts_query_subject, request, partitions, width,
                                 wait, [&](const std::vector<std::uint64_t>& row) {
                                   for (std::size_t i = 0; i < width; ++i)
                                     result.total[i] += row[i];
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
                   const auto found = answer(m.data());
                   return reply_of(found.rows, found.caught_up);
                 }) {}

void chart_numbers_responder::stop() { responder_.stop(); }

queue_counts_result gather_queue_counts(jetstream& js, std::string_view requester,
                                        std::int64_t released_since_ms, int partitions,
                                        std::chrono::milliseconds wait) {
  queue_counts_result result;
  const auto asked =
      gather_rows(js, requester, queues_query_subject, std::to_string(released_since_ms),
                  partitions, queue_numbers, wait, [&](const std::vector<std::uint64_t>& row) {
                    for (std::size_t q = 0; q < result.total.size(); ++q) {
                      store::add_queue_count(result.total[q], queue_count_of(row, q));
                    }
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
                   std::int64_t since = 0;
                   const auto body = m.data();
                   const auto [at, error] =
                       std::from_chars(body.data(), body.data() + body.size(), since);
                   if (error != std::errc{} || at != body.data() + body.size()) {
                     return partition_query_responder::reply{};  // names no partition
                   }
                   const auto found = answer(since);
                   partition_numbers rows;
                   for (const auto& [partition, queues] : found.counts) {
                     rows.emplace(partition, row_of(queues));
                   }
                   return reply_of(rows, found.caught_up);
                 }) {}

void queue_counts_responder::stop() { responder_.stop(); }

changes_result gather_changes(jetstream& js, std::string_view requester, int partitions,
                              std::chrono::milliseconds wait) {
  std::map<std::string, std::string> versions;  // worker -> its store's version
  const auto asked =
      ask_every_partition(js, requester, std::string(changes_query_subject), "version", partitions,
                          wait, [&](const fetched_message& m, const std::vector<int>& fresh) {
                            if (!fresh.empty())
                              versions[m.header("Cg-Worker")] = std::string(m.data());
                            return false;
                          });
  changes_result out;
  out.answers = asked.answers;
  out.complete = asked.complete;
  out.uncovered = asked.uncovered;
  std::uint64_t hash = 14695981039346656037ull;  // FNV-1a, 64 bits
  for (const auto& [worker, version] : versions) {
    for (const char c : worker + "=" + version + ";") {
      hash = (hash ^ static_cast<unsigned char>(c)) * 1099511628211ull;
    }
  }
  static constexpr char digits[] = "0123456789abcdef";
  for (int shift = 60; shift >= 0; shift -= 4) out.version += digits[(hash >> shift) & 0xF];
  return out;
}

changes_responder::changes_responder(
    jetstream& js, std::string worker,
    std::function<std::pair<std::string, std::vector<int>>()> answer)
    : responder_(js, std::string(changes_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message&) {
                   auto [version, caught_up] = answer();
                   partition_query_responder::reply r;
                   r.body = std::move(version);
                   if (!caught_up.empty()) {
                     r.headers.push_back({"Cg-Caught-Up", partition_list(caught_up)});
                   }
                   return r;
                 }) {}

void changes_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
