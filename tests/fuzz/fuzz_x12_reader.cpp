// Fuzz target: any bytes through the whole 837 reader, split at a data-chosen point so the
// straddling-segment path is exercised too, then through the acknowledgment writer, whose
// output must read back without a crash.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "covgate/x12/ack_writer.hpp"
#include "covgate/x12/interchange_reader.hpp"

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
  null_sink again;
  covgate::x12::interchange_reader reader(again);
  reader.put(s.acks);
  reader.finish();
  return 0;
}
