#include "covgate/cluster/claim_lookup.hpp"

#include <algorithm>

#include "covgate/cluster/subjects.hpp"

namespace covgate::cluster {

namespace {

// A key asked of every worker on `subject`: the holder's answer, or "not mine" answers that
// name every partition, or neither within `wait`.
claim_lookup_result look_up(jetstream& js, std::string_view requester, std::string_view subject,
                            std::string_view key, std::size_t longest_key, int partitions,
                            std::chrono::milliseconds wait) {
  claim_lookup_result result;
  if (key.empty() || key.size() > longest_key) {
    result.how = claim_lookup_result::status::unknown;  // nothing has such a key
    return result;
  }
  const auto asked =
      ask_every_partition(js, requester, std::string(subject), key, partitions, wait,
                          [&](const fetched_message& m, const std::vector<int>&) {
                            if (m.header("Cg-Held") != "yes") {
                              // Once per worker, though a question asked again is answered again.
                              auto worker = m.header("Cg-Worker");
                              if (std::find(result.not_held_by.begin(), result.not_held_by.end(),
                                            worker) == result.not_held_by.end()) {
                                result.not_held_by.push_back(std::move(worker));
                              }
                              return false;
                            }
                            result.how = claim_lookup_result::status::found;
                            result.body = std::string(m.data());
                            result.gone = m.header("Cg-Gone") == "yes";
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

partition_query_responder::reply reply_of(std::optional<std::string> held, bool gone,
                                          const std::vector<int>& caught_up) {
  partition_query_responder::reply r;
  const bool yes = held.has_value() || gone;
  r.headers.push_back({"Cg-Held", yes ? "yes" : "no"});
  if (gone) r.headers.push_back({"Cg-Gone", "yes"});
  if (!caught_up.empty()) r.headers.push_back({"Cg-Caught-Up", partition_list(caught_up)});
  if (held) r.body = std::move(*held);
  return r;
}

}  // namespace

claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                  std::string_view claim_id, int partitions,
                                  std::chrono::milliseconds wait) {
  return look_up(js, requester, claim_query_subject, claim_id, max_lookup_claim_id, partitions,
                 wait);
}

claim_lookup_result look_up_resource(jetstream& js, std::string_view requester,
                                     std::string_view resource, int partitions,
                                     std::chrono::milliseconds wait) {
  return look_up(js, requester, resource_query_subject, resource, max_lookup_resource, partitions,
                 wait);
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
                   return reply_of(std::move(found.claim), false, found.caught_up);
                 }) {}

void claim_lookup_responder::stop() { responder_.stop(); }

resource_lookup_responder::resource_lookup_responder(
    jetstream& js, std::string worker,
    std::function<resource_lookup_answer(std::string_view)> answer)
    : responder_(js, std::string(resource_query_subject), std::move(worker),
                 [answer = std::move(answer)](const fetched_message& m) {
                   const auto resource = m.data();
                   resource_lookup_answer found;
                   if (!resource.empty() && resource.size() <= max_lookup_resource) {
                     found = answer(resource);
                   }
                   return reply_of(std::move(found.resource), found.retracted, found.caught_up);
                 }) {}

void resource_lookup_responder::stop() { responder_.stop(); }

}  // namespace covgate::cluster
