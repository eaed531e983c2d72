#include "covgate/cluster/audit_query.hpp"

#include <charconv>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

audit_parts_result gather_audit_parts(jetstream& js, std::string_view requester,
                                      std::string_view request, int partitions,
                                      std::chrono::milliseconds wait) {
  audit_parts_result result;
  const auto asked =
      ask_every_partition(js, requester, std::string(audit_query_subject), request, partitions,
                          wait, [&](const fetched_message& m, const std::vector<int>& fresh) {
                            // One partition per answer; an answer naming several (a newer peer, or
                            // a broken one) speaks for none of them, so their rows are never taken
                            // from the wrong body.
                            if (fresh.size() != 1) return false;
                            const int p = fresh.front();
                            if (const auto size = m.header("Cg-Too-Large"); !size.empty()) {
                              std::size_t n = 0;
                              (void)std::from_chars(size.data(), size.data() + size.size(), n);
                              result.too_large[p] = n;
                            } else {
                              result.rows[p] = std::string(m.data());
                            }
                            return false;
                          });
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
                   std::vector<partition_query_responder::reply> replies;
                   for (auto& [partition, rows] : answer(m.data())) {
                     partition_query_responder::reply r;
                     r.headers.push_back({"Cg-Caught-Up", std::to_string(partition)});
                     if (rows.size() > max_audit_part_bytes) {
                       r.headers.push_back({"Cg-Too-Large", std::to_string(rows.size())});
                     } else {
                       r.body = std::move(rows);
                     }
                     replies.push_back(std::move(r));
                   }
                   return replies;
                 }) {}

void audit_parts_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
