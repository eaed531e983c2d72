// Fuzz target: any bytes through the HL7 v2 splitter (fed whole, split at a point the input
// chooses, and one byte at a time), every message through the reader (default and tight
// limits), and every result through the ACK writer.
// Invariants: splitting never depends on how the bytes are chunked; the reader never throws or
// crashes and gives the same result twice; every ACK it asks for starts with a readable MSH and
// answers with an MSA; nothing exceeds its limit.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/hl7v2/reader.hpp"
#include "covgate/hl7v2/splitter.hpp"

using namespace covgate;

namespace {

struct split_result {
  std::vector<std::string> messages;
  std::vector<std::uint64_t> lines;
  std::size_t notices = 0;
  bool operator==(const split_result&) const = default;
};

split_result split(std::string_view bytes, std::size_t first, std::size_t chunk) {
  split_result out;
  hl7v2::splitter_limits limits;
  limits.max_message_bytes = 4096;
  limits.max_batch_segment_bytes = 64;
  hl7v2::message_splitter s(
      [&](std::string_view m, const hl7v2::message_info& info) {
        if (m.size() > limits.max_message_bytes) std::abort();
        out.messages.emplace_back(m);
        out.lines.push_back(info.line);
      },
      [&](const hl7v2::stream_notice&) { ++out.notices; }, limits);
  s.put(bytes.substr(0, first));
  for (std::size_t at = first; at < bytes.size(); at += chunk) s.put(bytes.substr(at, chunk));
  s.finish();
  return out;
}

const mapping::tables& tables() {
  static const auto t = mapping::tables::parse(mapping::embedded_sources());
  return t;
}

void read_and_answer(std::string_view message, const hl7v2::read_options& options) {
  const auto r = hl7v2::read(message, tables(), options);
  if (r.segments > options.limits.max_segments) std::abort();
  if (r.rejected && !r.facts.empty()) std::abort();
  const auto again = hl7v2::read(message, tables(), options);
  if (again.facts != r.facts || again.issues.size() != r.issues.size()) std::abort();
  hl7v2::hl7_ack_settings settings;
  settings.control_id = "F1";
  for (const bool stored : {true, false}) {
    for (const auto& ack : hl7v2::write_acks(r, settings, stored)) {
      const auto header = hl7v2::parse_msh(ack);
      if (!header || ack.find("\rMSA") == std::string::npos) std::abort();
      if (header->message_type != "ACK") std::abort();
    }
  }
  (void)r.dedupe_key();
  for (const auto& i : r.issues) (void)hl7v2::to_string(i);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view bytes(reinterpret_cast<const char*>(data), size);
  const std::size_t first = size == 0 ? 0 : data[0] % size;
  const auto whole = split(bytes, size, 1);
  if (split(bytes, first, size + 1) != whole) std::abort();
  if (size <= 2048 && split(bytes, 0, 1) != whole) std::abort();
  hl7v2::read_options tight;
  tight.limits.max_message_bytes = 2048;
  tight.limits.max_segments = 16;
  tight.limits.max_field_bytes = 64;
  tight.limits.max_repetitions = 3;
  for (const auto& m : whole.messages) {
    read_and_answer(m, {});
    read_and_answer(m, tight);
  }
  read_and_answer(bytes, {});
  return 0;
}
