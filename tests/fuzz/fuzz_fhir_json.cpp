// Fuzz target: any bytes through the FHIR JSON and NDJSON readers and the OperationOutcome
// writer. The limits are small so deep or wide inputs stay fast.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "covgate/fhir/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto tables = covgate::mapping::tables::parse(covgate::mapping::embedded_sources());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  covgate::fhir::read_limits limits;
  limits.max_resources = 2000;
  for (const auto how : {covgate::fhir::encoding::json, covgate::fhir::encoding::ndjson}) {
    const auto result = covgate::fhir::read(text, how, tables, limits);
    (void)covgate::fhir::operation_outcome_json(result);
  }
  (void)covgate::fhir::sniff(text);
  return 0;
}
