// Fuzz target: any bytes through the store's decoders (claim, decision, facts, and a partition
// snapshot), which read what a store on disk or a cluster's snapshot holds and so must refuse
// damaged bytes, never crash or load an invalid value; and through the memory state's
// in-process forms (a claim in two parts, a decision by reason enumerator), held to the same. The
// first byte picks the decoder; the rest is the stored form. Invariant: what decodes, encoded again
// in the current format, is a fixed point (decoding and encoding it once more gives the same
// bytes), whatever format the input was in.
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <optional>
#include <span>
#include <string>
#include <string_view>

#include "covgate/model/claim_codec.hpp"
#include "covgate/model/decision_codec.hpp"
#include "covgate/model/fact_codec.hpp"
#include "covgate/store/partition_snapshot.hpp"

using namespace covgate::model;

namespace {

template <class Decode>
void fixed_point(std::string_view bytes, Decode decode) {
  const auto value = decode(bytes);
  if (!value) return;
  std::string once;
  encode(*value, once);
  const auto again = decode(once);
  if (!again) std::abort();  // our own encoding refused
  std::string twice;
  encode(*again, twice);
  if (twice != once) std::abort();
}

// A snapshot written again from what read_snapshot() handed over.
struct snapshot_copy final : covgate::store::snapshot_visitor {
  explicit snapshot_copy(std::string& out, const covgate::store::snapshot_header& header)
      : writer(out, header) {}
  void table(std::string_view name, std::span<const std::string_view> columns) override {
    writer.table(name, columns);  // the reader checked what the writer checks
  }
  void row(std::span<const covgate::store::snapshot_cell> cells) override { writer.row(cells); }
  covgate::store::snapshot_writer writer;
};

std::optional<std::string> copy_snapshot(std::string_view bytes) {
  std::string error;
  const auto header = covgate::store::read_snapshot(bytes, nullptr, error);
  if (!header) {
    if (error.empty()) std::abort();  // a refusal always says why
    return std::nullopt;
  }
  std::string out;
  snapshot_copy copy(out, *header);
  if (!covgate::store::read_snapshot(bytes, &copy, error)) std::abort();  // checked, then not
  copy.writer.finish();
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  if (size == 0) return 0;
  const std::string_view bytes(reinterpret_cast<const char*>(data) + 1, size - 1);
  switch (data[0] % 6) {
    case 0:
      fixed_point(bytes, [](std::string_view b) { return decode_claim(b); });
      break;
    case 1:
      fixed_point(bytes, [](std::string_view b) { return decode_decision(b); });
      break;
    case 2:
      fixed_point(bytes, [](std::string_view b) { return decode_facts(b); });
      break;
    case 4: {
      // The first byte says where the own part ends and the set's part begins. Compared by
      // their bytes encoded again, as fixed_point() does (a decoded NaN is not == itself).
      if (bytes.empty()) break;
      const auto split =
          std::min<std::size_t>(static_cast<std::uint8_t>(bytes[0]), bytes.size() - 1);
      const auto parts = bytes.substr(1);
      const auto claim = decode_claim(parts.substr(0, split), parts.substr(split));
      if (!claim) break;
      std::string own, set;
      encode_own_part(*claim, own);
      encode_set_part(*claim, set);
      const auto again = decode_claim(own, set);
      if (!again) std::abort();  // our own encoding refused
      std::string own_twice, set_twice;
      encode_own_part(*again, own_twice);
      encode_set_part(*again, set_twice);
      if (own_twice != own || set_twice != set) std::abort();
      break;
    }
    case 5: {
      const auto d = decode_in_process_decision(bytes);
      if (!d) break;
      std::string once;
      encode_in_process(*d, once);
      const auto again = decode_in_process_decision(once);
      if (!again) std::abort();
      std::string twice;
      encode_in_process(*again, twice);
      if (twice != once) std::abort();
      break;
    }
    default: {
      const auto once = copy_snapshot(bytes);
      if (!once) break;
      const auto twice = copy_snapshot(*once);
      if (!twice || *twice != *once) std::abort();
      break;
    }
  }
  return 0;
}
