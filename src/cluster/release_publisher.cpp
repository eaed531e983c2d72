#include "covgate/cluster/release_publisher.hpp"

#include <stdexcept>
#include <vector>

#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/x12/envelope_edit.hpp"

namespace covgate::cluster {

release_publisher::release_publisher(jetstream& js, control_numbers& numbers,
                                     std::string key_secret, std::string worker_id)
    : js_(js), numbers_(numbers), secret_(std::move(key_secret)), worker_(std::move(worker_id)) {
  if (secret_.empty()) throw std::invalid_argument("release publisher: the key secret is empty");
}

release_result release_publisher::publish(std::string_view key, std::string_view content_type,
                                          std::string body, std::string_view event,
                                          std::string_view decision) {
  release_result out;
  try {
    const auto token = release_token(secret_, key);
    const auto subject = release_subject(token);
    // Each attempt takes a new number: an attempt whose answer was lost may have stored the
    // message under the number it had, and the stream keeps that first copy (the message id
    // and the subject make the second a duplicate), so no number is ever sent twice.
    (void)x12::set_interchange_control(body, numbers_.next());
    std::vector<message_header> headers{{release_key_header, std::string(key)},
                                        {"Content-Type", std::string(content_type)},
                                        {release_worker_header, worker_}};
    if (!event.empty()) headers.push_back({release_event_header, std::string(event)});
    if (!decision.empty()) headers.push_back({release_decision_header, std::string(decision)});
    // One try: the outbox that calls this has its own backoff, and a worker stopping must
    // not wait out a whole election per release.
    const auto stored = js_.publish(subject, body, token, headers, retry_policy{1});
    out.sequence = stored.sequence;
    out.how = stored.subject_taken || stored.duplicate ? release_result::status::already_published
                                                       : release_result::status::published;
  } catch (const std::exception& e) {  // NATS, a damaged control-number key, an empty key
    out.error = e.what();
  }
  return out;
}

}  // namespace covgate::cluster
