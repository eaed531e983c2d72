// Fuzz target: any bytes through the decoders of what cluster members send each other over
// NATS (a list request and a worker's page, the worklist's rows of numbers, a reviewer's
// action) and of an outbox row's later answer: each must refuse damaged bytes, never crash.
// The first byte picks the decoder; the rest is the message. Invariant: what decodes, encoded
// again, is a fixed point (decoding and encoding it once more gives the same bytes).
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <variant>

#include "covgate/cluster/claim_list_query.hpp"
#include "covgate/cluster/review_message.hpp"
#include "covgate/cluster/worklist_query.hpp"
#include "covgate/store/later_answer.hpp"

using namespace covgate;

namespace {

constexpr int partitions = 16;

template <class Decode, class Encode>
void fixed_point(std::string_view bytes, Decode decode, Encode encode) {
  const auto value = decode(bytes);
  if (!value) return;
  const std::string once = encode(*value);
  const auto again = decode(once);
  if (!again) std::abort();  // our own encoding refused
  if (encode(*again) != once) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fixed_point(bytes, cluster::decode_claim_list_request, cluster::encode_claim_list_request);
      break;
    case 1:
      fixed_point(
          bytes, [](std::string_view b) { return cluster::decode_claim_list_page(b, partitions); },
          cluster::encode_claim_list_page);
      break;
    case 2:
      fixed_point(
          bytes, [](std::string_view b) { return cluster::decode_queue_counts(b, partitions); },
          cluster::encode_queue_counts);
      break;
    case 3:
      fixed_point(
          bytes,
          [](std::string_view b) { return cluster::decode_partition_numbers(b, partitions, 3); },
          cluster::encode_partition_numbers);
      break;
    case 4: {
      const auto decode = [](std::string_view b) -> std::optional<cluster::review_message> {
        auto r = cluster::decode_review(b);
        if (auto* review = std::get_if<cluster::review_message>(&r)) return *review;
        return std::nullopt;
      };
      fixed_point(bytes, decode, cluster::encode_review);
      break;
    }
    default: {
      const auto row = store::unpack_later(bytes);
      if (!row) break;
      const auto packed = store::pack_later(row->event, row->decision, row->body);
      const auto again = store::unpack_later(packed);
      if (!again || again->event != row->event || again->decision != row->decision ||
          again->body != row->body) {
        std::abort();
      }
      break;
    }
  }
  return 0;
}
