#include "covgate/cluster/audit_query.hpp"

#include <charconv>
#include <iterator>
#include <utility>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

constexpr const char* chunked_header = "Cg-Chunked";
constexpr const char* partition_header = "Cg-Audit-Partition";
constexpr const char* chunk_header = "Cg-Chunk";
constexpr const char* chunks_header = "Cg-Chunks";

std::size_t number_of(std::string_view text, std::size_t otherwise) {
  std::size_t n = 0;
  const auto [end, error] = std::from_chars(text.data(), text.data() + text.size(), n);
  return error == std::errc{} && end == text.data() + text.size() ? n : otherwise;
}

// The chunks of one partition from one worker, appended as they come.
struct chunk_run {
  std::size_t next = 0;  // the chunk expected next
  std::size_t chunks = 0;
  std::string rows;
  bool broken = false;
};

}  // namespace

std::vector<partition_query_responder::reply> audit_replies(int partition, std::string rows,
                                                            bool chunked, std::size_t chunk,
                                                            std::size_t limit) {
  std::vector<partition_query_responder::reply> out;
  const auto caught_up = message_header{"Cg-Caught-Up", std::to_string(partition)};
  if (rows.size() <= chunk) {
    out.push_back({std::move(rows), {caught_up}});
    return out;
  }
  if (!chunked || rows.size() > limit || chunk == 0) {
    out.push_back({{}, {caught_up, {"Cg-Too-Large", std::to_string(rows.size())}}});
    return out;
  }
  const std::size_t chunks = (rows.size() + chunk - 1) / chunk;
  for (std::size_t i = 0; i < chunks; ++i) {
    partition_query_responder::reply r;
    r.body = rows.substr(i * chunk, chunk);
    r.headers.push_back({partition_header, std::to_string(partition)});
    r.headers.push_back({chunk_header, std::to_string(i)});
    r.headers.push_back({chunks_header, std::to_string(chunks)});
    if (i + 1 == chunks) r.headers.push_back(caught_up);  // answered for once all are sent
    out.push_back(std::move(r));
  }
  return out;
}

audit_parts_result gather_audit_parts(jetstream& js, std::string_view requester,
                                      std::string_view request, int partitions,
                                      std::chrono::milliseconds wait) {
  audit_parts_result result;
  // Chunks in progress, by worker and partition: a worker asked again answers again, and two
  // holders of one partition (a handover) may both answer; the last chunk that comes first
  // decides, from its own worker's run.
  std::map<std::pair<std::string, int>, chunk_run> runs;
  const auto on_chunk = [&](const fetched_message& m) {
    const auto partition = number_of(m.header(partition_header), ~std::size_t{0});
    if (partition >= static_cast<std::size_t>(partitions)) return;
    const int p = static_cast<int>(partition);
    if (result.rows.contains(p) || result.too_large.contains(p)) return;  // taken already
    const auto index = number_of(m.header(chunk_header), ~std::size_t{0});
    const auto chunks = number_of(m.header(chunks_header), 0);
    auto& run = runs[{std::string(m.header("Cg-Worker")), p}];
    if (index == 0) run = chunk_run{0, chunks, {}, false};  // a new answer from the start
    if (run.broken || index != run.next || chunks != run.chunks ||
        run.rows.size() + m.data().size() > max_audit_partition_bytes) {
      run.broken = true;
      return;
    }
    run.rows += m.data();
    ++run.next;
  };
  const auto asked = ask_every_partition(
      js, requester, std::string(audit_query_subject), request, partitions, wait,
      [&](const fetched_message& m, const std::vector<int>& fresh) {
        const bool chunk = !m.header(chunk_header).empty();
        if (chunk) on_chunk(m);
        // One partition per answer; an answer naming several (a newer peer, or a broken one)
        // speaks for none of them, so their rows are never taken from the wrong body.
        if (fresh.size() != 1) return false;
        const int p = fresh.front();
        if (const auto size = m.header("Cg-Too-Large"); !size.empty()) {
          result.too_large[p] = number_of(size, 0);
        } else if (!chunk) {
          result.rows[p] = std::string(m.data());
        } else {
          // The last chunk: every one before it from the same worker, in order.
          const auto it = runs.find({std::string(m.header("Cg-Worker")), p});
          if (it != runs.end() && !it->second.broken && it->second.next == it->second.chunks &&
              number_of(m.header(partition_header), ~std::size_t{0}) ==
                  static_cast<std::size_t>(p)) {
            result.rows[p] = std::move(it->second.rows);
          } else {
            result.broken.push_back(p);
          }
          if (it != runs.end()) runs.erase(it);
        }
        return false;
      },
      {{chunked_header, "1"}});
  result.complete = asked.complete;
  result.uncovered = asked.uncovered;
  result.answers = asked.answers;
  return result;
}

audit_parts_responder::audit_parts_responder(
    jetstream& js, std::string worker,
    std::function<std::map<int, std::string>(std::string_view)> answer)
    : responder_(js, std::string(audit_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   const bool chunked = m.header(chunked_header) == "1";
                   std::vector<partition_query_responder::reply> replies;
                   for (auto& [partition, rows] : answer(m.data())) {
                     auto some = audit_replies(partition, std::move(rows), chunked);
                     std::move(some.begin(), some.end(), std::back_inserter(replies));
                   }
                   return replies;
                 }) {}

void audit_parts_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
