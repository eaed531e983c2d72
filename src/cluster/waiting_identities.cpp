#include "covgate/cluster/waiting_identities.hpp"

#include <algorithm>
#include <map>

#include "covgate/cluster/subjects.hpp"
#include "covgate/model/date.hpp"
#include "covgate/model/json_writer.hpp"

namespace covgate::cluster {

waiting_listing group_waiting(const std::vector<std::pair<std::string, std::uint64_t>>& subjects) {
  std::map<std::string, waiting_identity, std::less<>> by_token;
  waiting_listing out;
  for (const auto& [subject, count] : subjects) {
    const auto parts = parse_wait_subject(subject);
    if (!parts || count == 0) continue;
    auto& entry = by_token[std::string(parts->identity_token)];
    entry.token = std::string(parts->identity_token);
    entry.messages += count;
    if (parts->kind == message_kind::fhir) entry.fhir += count;
    if (parts->kind == message_kind::hl7v2) entry.hl7v2 += count;
    out.messages += count;
  }
  out.identities = by_token.size();
  out.listed.reserve(by_token.size());
  for (auto& [token, entry] : by_token) out.listed.push_back(std::move(entry));
  std::stable_sort(out.listed.begin(), out.listed.end(),
                   [](const auto& a, const auto& b) { return a.messages > b.messages; });
  return out;
}

waiting_listing waiting_on_identities(jetstream& js, std::size_t limit,
                                      std::chrono::milliseconds wait) {
  const std::string stream(wait_stream);
  auto listing = group_waiting(js.subjects_of(stream, wait_stream_subject()));
  if (listing.listed.size() > limit) listing.listed.resize(limit);
  for (auto& entry : listing.listed) {
    auto reader = js.read_from(stream, wait_subjects_of(entry.token), 1);
    // Forwarded and purged since the count: nothing to date, and it is listed undated.
    if (const auto first = reader.next(wait)) entry.oldest_ms = first->stored_ms();
  }
  // Oldest first; an undated one (gone meanwhile) last.
  std::stable_sort(listing.listed.begin(), listing.listed.end(), [](const auto& a, const auto& b) {
    if ((a.oldest_ms == 0) != (b.oldest_ms == 0)) return b.oldest_ms == 0;
    return a.oldest_ms < b.oldest_ms;
  });
  return listing;
}

std::string waiting_json(const waiting_listing& listing, std::int64_t now_ms) {
  std::string out;
  model::json_writer w(out);
  w.begin_object();
  w.key("messages").value(static_cast<std::int64_t>(listing.messages));
  w.key("identities").value(static_cast<std::int64_t>(listing.identities));
  w.key("listed").begin_array();
  for (const auto& e : listing.listed) {
    w.begin_object().key("token").value(e.token);
    w.key("messages").value(static_cast<std::int64_t>(e.messages));
    w.key("fhir").value(static_cast<std::int64_t>(e.fhir));
    w.key("hl7v2").value(static_cast<std::int64_t>(e.hl7v2));
    w.key("oldest");
    if (e.oldest_ms > 0) {
      w.value(model::iso_instant(e.oldest_ms));
      w.key("age_seconds").value(std::max<std::int64_t>(0, (now_ms - e.oldest_ms) / 1000));
    } else {
      w.null().key("age_seconds").null();
    }
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

}  // namespace covgate::cluster
