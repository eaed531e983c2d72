#include "covgate/cluster/claim_lookup.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>
#include <optional>
#include <set>
#include <stdexcept>

#include "covgate/cluster/subjects.hpp"
#include "covgate/model/claim_key.hpp"
#include "covgate/model/hex.hpp"

namespace covgate::cluster {

namespace {

// A key asked of every worker on `subject`: the holder's answer, or "not mine" answers that
// name every partition, or neither within `wait`.
// A claim asked by its CLM01 alone may be two billing providers' claims, in two partitions:
// every holder is heard, and the billing NPIs they name are gathered.
bool names_a_clm01(std::string_view claim_reference) {
  return claim_reference.find(model::claim_key_separator) == std::string_view::npos;
}

// The billing NPIs a holder's reply names (hex, so that any byte travels in a header).
void add_billing_npis(const fetched_message& m, std::set<std::string>& npis) {
  const auto also = m.header("Cg-Also-Billed-By");
  std::string_view list = also;
  // A holder's claim without a billing NPI names none: "" among the NPIs.
  if (auto own = model::unhex(m.header("Cg-Billing-Npi"))) npis.insert(std::move(*own));
  while (!list.empty()) {
    const auto comma = list.find(',');
    const auto item = list.substr(0, comma);
    if (item == "-") {
      npis.insert(std::string());
    } else if (auto npi = model::unhex(item)) {
      npis.insert(std::move(*npi));
    }
    list.remove_prefix(comma == std::string_view::npos ? list.size() : comma + 1);
  }
}

// A CLM01's holders gathered: ambiguous when they name more than one billing NPI.
void settle_billing_npis(claim_lookup_result& r, const std::set<std::string>& npis) {
  if (r.how != claim_lookup_result::status::found || npis.size() < 2) return;
  r.how = claim_lookup_result::status::ambiguous;
  r.billing_npis.assign(npis.begin(), npis.end());
}

claim_lookup_result look_up(jetstream& js, std::string_view requester, std::string_view subject,
                            std::string_view key, std::size_t longest_key, int partitions,
                            std::chrono::milliseconds wait, bool gather_billing_npis = false) {
  claim_lookup_result result;
  if (key.empty() || key.size() > longest_key) {
    result.how = claim_lookup_result::status::unknown;  // nothing has such a key
    return result;
  }
  std::set<std::string> npis;
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
                            if (gather_billing_npis) add_billing_npis(m, npis);
                            if (result.how == claim_lookup_result::status::found) return false;
                            result.how = claim_lookup_result::status::found;
                            result.body = std::string(m.data());
                            result.gone = m.header("Cg-Gone") == "yes";
                            result.worker = m.header("Cg-Worker");
                            return !gather_billing_npis;
                          });
  result.answers = asked.answers;
  if (result.how == claim_lookup_result::status::found) {
    // Every partition heard, or the wait ended with one holder heard: its answer stands.
    settle_billing_npis(result, npis);
    return result;
  }
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

// A claim's billing NPI and the other billing NPIs of its CLM01 the worker holds, in hex.
void add_billing_headers(partition_query_responder::reply& r, const claim_lookup_answer& a) {
  // A header's value is never empty (nats.c refuses one): a claim without an NPI says none.
  if (!a.billing_npi.empty()) r.headers.push_back({"Cg-Billing-Npi", model::hex(a.billing_npi)});
  if (a.also_billed_by.empty()) return;
  std::string list;
  for (const auto& npi : a.also_billed_by) {
    // An empty NPI (a claim without one) travels as "-", which no hex text is.
    list.append(list.empty() ? "" : ",").append(npi.empty() ? "-" : model::hex(npi));
  }
  r.headers.push_back({"Cg-Also-Billed-By", std::move(list)});
}

}  // namespace

claim_lookup_result look_up_claim(jetstream& js, std::string_view requester,
                                  std::string_view claim_id, int partitions,
                                  std::chrono::milliseconds wait) {
  return look_up(js, requester, claim_query_subject, claim_id, max_lookup_claim_id, partitions,
                 wait, names_a_clm01(claim_id));
}

std::vector<claim_lookup_result> look_up_claims(jetstream& js, std::string_view requester,
                                                const std::vector<std::string>& ids, int partitions,
                                                std::chrono::milliseconds wait) {
  if (ids.size() > max_lookup_batch) {
    throw std::invalid_argument("a batched claim lookup asks at most " +
                                std::to_string(max_lookup_batch) + " ids");
  }
  std::vector<claim_lookup_result> results(ids.size());
  std::string question;
  std::vector<std::size_t> asked;  // the index in `ids` of each line of the question
  for (std::size_t i = 0; i < ids.size(); ++i) {
    const auto& id = ids[i];
    if (id.empty() || id.size() > max_lookup_claim_id ||
        id.find_first_of("\r\n") != std::string::npos) {
      results[i].how = claim_lookup_result::status::unknown;  // nothing has such an id
      continue;
    }
    question += id;
    question += '\n';
    asked.push_back(i);
  }
  if (asked.empty()) return results;
  using status = claim_lookup_result::status;
  // A CLM01 alone is heard from every partition (its NPIs gathered); a key from its holder.
  std::size_t still_looking = 0;
  for (const auto i : asked) still_looking += names_a_clm01(ids[i]) ? 0 : 1;
  const bool every_one_a_key = still_looking == asked.size();
  std::vector<std::set<std::string>> npis(asked.size());
  std::vector<std::string> not_held_by;
  const auto outcome = ask_every_partition(
      js, requester, std::string(claim_batch_query_subject), question, partitions, wait,
      [&](const fetched_message& m, const std::vector<int>&) {
        auto worker = m.header("Cg-Worker");
        if (m.header("Cg-Held") != "yes") {  // the worker's last reply: what it checked
          if (std::find(not_held_by.begin(), not_held_by.end(), worker) == not_held_by.end()) {
            not_held_by.push_back(std::move(worker));
          }
          return false;
        }
        const auto index_text = m.header("Cg-Index");
        std::size_t line = 0;
        const auto [end, error] =
            std::from_chars(index_text.data(), index_text.data() + index_text.size(), line);
        if (error != std::errc{} || end != index_text.data() + index_text.size() ||
            line >= asked.size()) {
          return false;  // not one of ours
        }
        const bool gather = names_a_clm01(ids[asked[line]]);
        if (gather) add_billing_npis(m, npis[line]);
        auto& r = results[asked[line]];
        if (r.how == status::found) return false;  // found already (a question asked again)
        r.how = status::found;
        r.body = std::string(m.data());
        r.worker = std::move(worker);
        if (gather) return false;
        return --still_looking == 0 && every_one_a_key;  // each found: no need to hear the rest
      });
  for (std::size_t line = 0; line < asked.size(); ++line) {
    auto& r = results[asked[line]];
    r.answers = outcome.answers;
    settle_billing_npis(r, npis[line]);
    if (r.how == status::found || r.how == status::ambiguous) continue;
    r.not_held_by = not_held_by;
    r.how = outcome.complete ? claim_lookup_result::status::unknown
                             : claim_lookup_result::status::unavailable;
    r.uncovered = outcome.uncovered;
  }
  return results;
}

std::vector<partition_query_responder::reply> claim_batch_replies(
    std::string_view ids_text, const std::function<claim_lookup_answer(std::string_view)>& answer) {
  std::vector<partition_query_responder::reply> out;
  std::optional<std::vector<int>> checked;  // caught up at every id's check
  std::size_t index = 0;
  for (std::size_t lines = 0; !ids_text.empty() && lines < max_lookup_batch; ++lines) {
    const auto end = ids_text.find('\n');
    const auto id = ids_text.substr(0, end);
    ids_text.remove_prefix(end == std::string_view::npos ? ids_text.size() : end + 1);
    const auto line = index++;
    if (id.empty() || id.size() > max_lookup_claim_id) continue;
    auto found = answer(id);
    std::sort(found.caught_up.begin(), found.caught_up.end());
    if (!checked) {
      checked = found.caught_up;
    } else {
      std::vector<int> both;
      std::set_intersection(checked->begin(), checked->end(), found.caught_up.begin(),
                            found.caught_up.end(), std::back_inserter(both));
      *checked = std::move(both);
    }
    if (found.claim) {
      partition_query_responder::reply r;
      r.headers.push_back({"Cg-Held", "yes"});
      r.headers.push_back({"Cg-Index", std::to_string(line)});
      add_billing_headers(r, found);
      r.body = std::move(*found.claim);
      out.push_back(std::move(r));
    }
  }
  if (!ids_text.empty()) return {};  // more ids than a batch may ask: answered for none
  // Last, so that the asker has every claim before the partitions count as answered for.
  out.push_back(reply_of(std::nullopt, false, checked.value_or(std::vector<int>{})));
  return out;
}

claim_lookup_result look_up_resource(jetstream& js, std::string_view requester,
                                     std::string_view resource, int partitions,
                                     std::chrono::milliseconds wait) {
  return look_up(js, requester, resource_query_subject, resource, max_lookup_resource, partitions,
                 wait);
}

claim_lookup_responder::claim_lookup_responder(
    jetstream& js, std::string worker, std::function<claim_lookup_answer(std::string_view)> answer)
    : responder_(js, std::string(claim_query_subject), worker,
                 [answer](const fetched_message& m) {
                   const auto claim_id = m.data();
                   claim_lookup_answer found;
                   if (!claim_id.empty() && claim_id.size() <= max_lookup_claim_id) {
                     found = answer(claim_id);
                   }
                   const bool held = found.claim.has_value();
                   auto r = reply_of(std::move(found.claim), false, found.caught_up);
                   if (held) add_billing_headers(r, found);
                   return r;
                 }),
      batch_responder_(js, std::string(claim_batch_query_subject), std::move(worker),
                       [answer = std::move(answer)](const fetched_message& m) {
                         return claim_batch_replies(m.data(), answer);
                       }) {}

void claim_lookup_responder::stop() {
  responder_.stop();
  batch_responder_.stop();
}

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
