// Fuzz target: any bytes through the FHIR JSON and NDJSON readers and the OperationOutcome
// writer. The limits are small so deep or wide inputs stay fast. Both readers are also run with
// RapidJSON alone (json_parsers.hpp): what they accept or refuse, the issues they name and the
// facts they count must not depend on the parser, or the target stops. The facts' values are
// not compared: RapidJSON rounds some decimals differently (long ones, large exponents).
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "covgate/fhir/reader.hpp"
#include "json_parsers.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  static const auto tables = covgate::mapping::tables::parse(covgate::mapping::embedded_sources());
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  covgate::fhir::read_limits limits;
  limits.max_resources = 2000;
  for (const auto how : {covgate::fhir::encoding::json, covgate::fhir::encoding::ndjson}) {
    const auto result = covgate::fhir::read(text, how, tables, limits);
    const auto outcome = covgate::fhir::operation_outcome_json(result);
    using covgate::fhir::json_parser;
    const auto reference =
        how == covgate::fhir::encoding::json
            ? covgate::fhir::read_json(text, json_parser::rapidjson_only, tables, limits)
            : covgate::fhir::read_ndjson(text, json_parser::rapidjson_only, tables, limits);
    if (outcome != covgate::fhir::operation_outcome_json(reference) ||
        result.facts.size() != reference.facts.size() || result.mapped != reference.mapped ||
        result.ignored != reference.ignored || result.invalid != reference.invalid ||
        result.resources != reference.resources || result.rejected != reference.rejected) {
      std::fprintf(stderr, "the reader's answer depends on the JSON parser:\n%s\nagainst\n%s\n",
                   outcome.c_str(), covgate::fhir::operation_outcome_json(reference).c_str());
      std::abort();
    }
  }
  (void)covgate::fhir::sniff(text);
  return 0;
}
