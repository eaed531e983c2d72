// Fuzz target: any bytes through the FHIR XML reader (pugixml underneath) and the
// OperationOutcome writer.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "covgate/fhir/reader.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto tables = covgate::mapping::tables::parse(covgate::mapping::embedded_sources());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  covgate::fhir::read_limits limits;
  limits.max_resources = 2000;
  const auto result = covgate::fhir::read(text, covgate::fhir::encoding::xml, tables, limits);
  (void)covgate::fhir::operation_outcome_json(result);
  return 0;
}
