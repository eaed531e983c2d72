// Fuzz target: any bytes through the whole 837 reader, split at a data-chosen point so the
// straddling-segment path is exercised too, then through the acknowledgment writer, whose
// output must read back without a crash. Then split by patient: the input is either refused or
// every part reads back unrejected, the parts together holding exactly the input's claims.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>

#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/envelope_edit.hpp"
#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/split_by_patient.hpp"

namespace {

struct sink final : covgate::x12::reader_sink {
  std::string acks;
  void on_claim(const covgate::model::claim&) override {}
  void on_interchange_end(const covgate::x12::interchange_result& r) override {
    acks += covgate::x12::write_acknowledgment(r, {});
  }
};

struct null_sink final : covgate::x12::reader_sink {
  void on_claim(const covgate::model::claim&) override {}
  void on_interchange_end(const covgate::x12::interchange_result&) override {}
};

// Counts claims and whether anything was rejected.
struct counting_sink final : covgate::x12::reader_sink {
  std::size_t claims = 0;
  std::size_t interchanges = 0;
  bool rejected = false;
  void on_claim(const covgate::model::claim&) override { ++claims; }
  void on_interchange_end(const covgate::x12::interchange_result& r) override {
    ++interchanges;
    rejected = rejected || r.rejected;
    for (const auto& group : r.groups) {
      rejected = rejected || group.rejected;
      for (const auto& set : group.sets) rejected = rejected || set.rejected;
    }
  }
};

counting_sink count(std::string_view bytes, const covgate::x12::reader_options& options) {
  counting_sink counted;
  covgate::x12::interchange_reader reader(counted, options);
  reader.put(bytes);
  reader.finish();
  return counted;
}

void check_split(std::string_view bytes, const covgate::x12::reader_options& options) {
  covgate::x12::split_options split;
  split.reader = options;
  const auto result = covgate::x12::split_by_patient(bytes, split);
  if (!result.ok()) return;
  std::size_t claims = 0;
  for (const auto& part : result.parts) {
    const auto counted = count(part.interchange, options);
    if (counted.interchanges != 1 || counted.rejected) std::abort();
    claims += counted.claims;
  }
  if (claims != count(bytes, options).claims) std::abort();
}

// The envelope edits of a cluster front: the pieces hold every byte once, in order, and a
// renumbered piece keeps its length.
void check_envelope_edits(std::string_view bytes) {
  std::size_t at = 0;
  for (const auto piece : covgate::x12::split_interchanges(bytes)) {
    if (piece.data() != bytes.data() + at) std::abort();
    at += piece.size();
    (void)covgate::x12::first_functional_id(piece);
    std::string copy(piece);
    if (covgate::x12::set_interchange_control(copy, "123456789") && copy.size() != piece.size()) {
      std::abort();
    }
  }
  if (at != bytes.size()) std::abort();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t split = size ? data[0] % (size + 1) : 0;
  sink s;
  covgate::x12::reader_options options;
  options.limits.max_segment_length = 512;
  options.limits.max_elements = 32;
  options.max_segments_per_set = 2000;
  {
    covgate::x12::interchange_reader reader(s, options);
    reader.put(bytes.substr(0, split));
    reader.put(bytes.substr(split));
    reader.finish();
  }
  check_split(bytes, options);
  check_envelope_edits(bytes);
  null_sink again;
  covgate::x12::interchange_reader reader(again);
  reader.put(s.acks);
  reader.finish();
  return 0;
}
