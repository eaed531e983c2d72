// FHIR micro benchmarks: Observations/s for the JSON, NDJSON and XML readers beside the bare
// DOM parses of the same bytes (RapidJSON, simdjson, pugixml) in the same run, the floors to
// compare with. The Bundle is over 4 MiB at the default count, where the reader parses with
// RapidJSON; the NDJSON lines are parsed by simdjson, as a replay's records are.
//   fhir_bench [--observations N] [google benchmark flags]
#include <benchmark/benchmark.h>
#include <rapidjson/document.h>
#include <simdjson.h>

#include <cstring>
#include <memory>
#include <pugixml.hpp>
#include <string>

#include "covgate/fhir/reader.hpp"

namespace {

std::size_t observation_count = 10000;
std::string json_bundle;
std::string ndjson_lines;  // the Bundle's resources, one a line
std::string xml_bundle;

// Realistic lab traffic: C-peptide, fasting glucose, creatinine and HbA1c results, each with a
// reference range and interpretation, for one patient in a collection Bundle.
void make_inputs() {
  constexpr const char* loinc[] = {"1986-9", "1558-6", "2160-0", "4548-4"};
  constexpr const char* unit[] = {"ng/mL", "mg/dL", "mg/dL", "%"};
  json_bundle =
      R"({"resourceType":"Bundle","type":"collection","entry":[)"
      R"({"fullUrl":"urn:uuid:p","resource":{"resourceType":"Patient","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK73"}]}})";
  xml_bundle =
      R"(<Bundle xmlns="http://hl7.org/fhir"><type value="collection"/>)"
      R"(<entry><fullUrl value="urn:uuid:p"/><resource><Patient><identifier><system value="http://hl7.org/fhir/sid/us-mbi"/><value value="1EG4TE5MK73"/></identifier></Patient></resource></entry>)";
  for (std::size_t i = 0; i < observation_count; ++i) {
    const auto k = i % 4;
    const auto id = std::to_string(i);
    const auto value = std::to_string(0.5 + static_cast<double>(i % 50) / 10.0);
    const std::string observation =
        R"({"resourceType":"Observation","id":"o)" + id +
        R"(","status":"final","category":[{"coding":[{"system":"http://terminology.hl7.org/CodeSystem/observation-category","code":"laboratory"}]}],"code":{"coding":[{"system":"http://loinc.org","code":")" +
        loinc[k] +
        R"("}]},"subject":{"reference":"urn:uuid:p"},"effectiveDateTime":"2026-01-16T07:45:00Z","valueQuantity":{"value":)" +
        value + R"(,"unit":")" + unit[k] + R"(","system":"http://unitsofmeasure.org","code":")" +
        unit[k] +
        R"("},"interpretation":[{"coding":[{"code":"N"}]}],"referenceRange":[{"low":{"value":0.8,"code":")" +
        unit[k] + R"("},"high":{"value":3.1,"code":")" + unit[k] + R"("}}]})";
    json_bundle += R"(,{"fullUrl":"urn:uuid:o)" + id + R"(","resource":)" + observation + "}";
    // In NDJSON a reference names the Patient by its id, as a server's export does.
    ndjson_lines += observation.substr(0, observation.find("urn:uuid:p")) + "Patient/p" +
                    observation.substr(observation.find("urn:uuid:p") + 10) + "\n";
    xml_bundle +=
        R"(<entry><fullUrl value="urn:uuid:o)" + id + R"("/><resource><Observation><id value="o)" +
        id +
        R"("/><status value="final"/><category><coding><system value="http://terminology.hl7.org/CodeSystem/observation-category"/><code value="laboratory"/></coding></category><code><coding><system value="http://loinc.org"/><code value=")" +
        loinc[k] +
        R"("/></coding></code><subject><reference value="urn:uuid:p"/></subject><effectiveDateTime value="2026-01-16T07:45:00Z"/><valueQuantity><value value=")" +
        value + R"("/><unit value=")" + unit[k] +
        R"("/><system value="http://unitsofmeasure.org"/><code value=")" + unit[k] +
        R"("/></valueQuantity><interpretation><coding><code value="N"/></coding></interpretation><referenceRange><low><value value="0.8"/><code value=")" +
        unit[k] + R"("/></low><high><value value="3.1"/><code value=")" + unit[k] +
        R"("/></high></referenceRange></Observation></resource></entry>)";
  }
  json_bundle += "]}";
  ndjson_lines =
      R"({"resourceType":"Patient","id":"p","identifier":[{"system":"http://hl7.org/fhir/sid/us-mbi","value":"1EG4TE5MK73"}]})"
      "\n" +
      ndjson_lines;
  xml_bundle += "</Bundle>";
}

const covgate::mapping::tables& tables() {
  static const auto t = covgate::mapping::tables::parse(covgate::mapping::embedded_sources());
  return t;
}

void finish(benchmark::State& state, const std::string& input) {
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * observation_count));
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
}

// The reader over `input`, whole, as covgate::fhir::read takes a message.
void read_all(benchmark::State& state, const std::string& input, covgate::fhir::encoding how) {
  std::size_t facts = 0;
  for (auto _ : state) facts = covgate::fhir::read(input, how, tables()).facts.size();
  state.counters["facts"] = static_cast<double>(facts);
  finish(state, input);
}

void rapidjson_dom(benchmark::State& state) {
  for (auto _ : state) {
    rapidjson::Document d;
    d.Parse<rapidjson::kParseIterativeFlag>(json_bundle.data(), json_bundle.size());
    benchmark::DoNotOptimize(d.IsObject());
  }
  finish(state, json_bundle);
}

void read_json(benchmark::State& state) {
  read_all(state, json_bundle, covgate::fhir::encoding::json);
}

void simdjson_dom(benchmark::State& state) {
  const simdjson::padded_string padded(json_bundle);
  simdjson::dom::parser parser;
  for (auto _ : state) {
    simdjson::dom::element root;
    benchmark::DoNotOptimize(parser.parse(padded).get(root));
  }
  finish(state, json_bundle);
}

// The NDJSON lines one at a time, as the reader takes them.
template <class Parse>
void each_line(Parse&& parse) {
  std::string_view rest = ndjson_lines;
  while (!rest.empty()) {
    const auto end = rest.find('\n');
    parse(rest.substr(0, end));
    rest.remove_prefix(end == std::string_view::npos ? rest.size() : end + 1);
  }
}

// As the reader parsed each line before simdjson: a copy parsed in place, into a pool that
// starts in a block kept from line to line.
void rapidjson_dom_lines(benchmark::State& state) {
  using pooled = rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                                            rapidjson::MemoryPoolAllocator<>>;
  constexpr std::size_t values_size = 48u << 10;
  constexpr std::size_t stack_size = 16u << 10;
  const auto block = std::make_unique<char[]>(values_size + stack_size);
  std::string copy;
  for (auto _ : state) {
    each_line([&](std::string_view line) {
      copy.assign(line).append(16, '\0');
      rapidjson::MemoryPoolAllocator<> values(block.get(), values_size);
      rapidjson::MemoryPoolAllocator<> stack(block.get() + values_size, stack_size);
      pooled d(&values, 1024, &stack);
      d.ParseInsitu<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(
          copy.data());
      benchmark::DoNotOptimize(d.IsObject());
    });
  }
  finish(state, ndjson_lines);
}

void simdjson_dom_lines(benchmark::State& state) {
  simdjson::dom::parser parser;
  std::string copy;  // padded, as the reader's copy of each line is
  for (auto _ : state) {
    each_line([&](std::string_view line) {
      copy.assign(line).append(simdjson::SIMDJSON_PADDING, '\0');
      simdjson::dom::element root;
      benchmark::DoNotOptimize(parser.parse(copy.data(), line.size(), false).get(root));
    });
  }
  finish(state, ndjson_lines);
}

void read_ndjson(benchmark::State& state) {
  read_all(state, ndjson_lines, covgate::fhir::encoding::ndjson);
}

void pugixml_dom(benchmark::State& state) {
  for (auto _ : state) {
    pugi::xml_document d;
    benchmark::DoNotOptimize(d.load_buffer(xml_bundle.data(), xml_bundle.size()));
  }
  finish(state, xml_bundle);
}

void read_xml(benchmark::State& state) {
  read_all(state, xml_bundle, covgate::fhir::encoding::xml);
}

BENCHMARK(rapidjson_dom)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(simdjson_dom)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_json)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(rapidjson_dom_lines)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(simdjson_dom_lines)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_ndjson)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(pugixml_dom)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_xml)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--observations") == 0 && i + 1 < argc) {
      observation_count = std::stoul(argv[++i]);
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  make_inputs();
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
