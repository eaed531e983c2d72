#include "covgate/cluster/claim_lookup.hpp"

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                  std::string_view claim_id, int partitions,
                                  std::chrono::milliseconds wait) {
  claim_lookup_result result;
  if (claim_id.empty() || claim_id.size() > max_lookup_claim_id) {
    result.how = claim_lookup_result::status::unknown;  // no claim has such an id
    return result;
  }
  const auto asked =
      ask_every_partition(js, requester, std::string(claim_query_subject), claim_id, partitions,
                          wait, [&](const fetched_message& m, const std::vector<int>&) {
                            if (m.header("Cg-Held") != "yes") {
                              result.not_held_by.push_back(m.header("Cg-Worker"));
                              return false;
                            }
                            result.how = claim_lookup_result::status::found;
                            result.body = std::string(m.data());
                            result.worker = m.header("Cg-Worker");
                            return true;
                          });
  result.answers = asked.answers;
  if (asked.stopped) return result;
  result.how = asked.complete ? claim_lookup_result::status::unknown
                              : claim_lookup_result::status::unavailable;
  result.uncovered = asked.uncovered;
  return result;
}

claim_lookup_responder::claim_lookup_responder(
    jetstream& js, std::string worker, std::function<claim_lookup_answer(std::string_view)> answer)
    : responder_(js, std::string(claim_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   const auto claim_id = m.data();
                   claim_lookup_answer found;
                   if (!claim_id.empty() && claim_id.size() <= max_lookup_claim_id) {
                     found = answer(claim_id);
                   }
                   partition_query_responder::reply r;
                   r.headers.push_back({"Cg-Held", found.claim ? "yes" : "no"});
                   if (!found.caught_up.empty()) {
                     r.headers.push_back({"Cg-Caught-Up", partition_list(found.caught_up)});
                   }
                   if (found.claim) r.body = std::move(*found.claim);
                   return r;
                 }) {}

void claim_lookup_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
