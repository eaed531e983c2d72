// HL7 v2 micro benchmarks over one generated file of ORU^R01 messages (LRI style: PID with MR
// and MC, ORC, OBR, six OBX of which four are results the rules read, SPM with an ask-at-order-
// entry fasting answer), fed in 1 MB chunks as a file reader would:
//   split        message_splitter alone (MB/s, messages/s)
//   tokenize     splitter + segments + every segment's fields indexed (MB/s)
//   read         splitter + hl7v2::read: ER7 to facts (MB/s, OBX/s)
// Usage: hl7v2_bench [--messages N] [--out FILE] [google benchmark flags]
// --out writes the generated file, so a peer (tools/bench/hl7v2.sh) parses the same bytes.
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <string>

#include "covgate/hl7v2/er7.hpp"
#include "covgate/hl7v2/reader.hpp"
#include "covgate/hl7v2/splitter.hpp"

namespace {

std::size_t message_count = 20000;
std::string input;
std::uint64_t obx_count = 0;
constexpr std::size_t chunk_size = 1 << 20;

void make_input() {
  constexpr const char* results[][4] = {
      {"1986-9^C peptide [Mass/volume] in Serum or Plasma^LN^CPEP^C-Peptide^L", "ng/mL", "0.8-3.5",
       "0."},
      {"1558-6^Fasting glucose [Mass/volume] in Serum or Plasma^LN^GLUF^Glucose^L", "mg/dL",
       "70-99", "1"},
      {"2160-0^Creatinine [Mass/volume] in Serum or Plasma^LN^CREA^Creatinine^L", "mg/dL",
       "0.57-1.00", "1."},
      {"4548-4^Hemoglobin A1c/Hemoglobin.total in Blood^LN^A1C^HbA1c^L", "%", "4.0-5.6", "7."},
      {"718-7^Hemoglobin [Mass/volume] in Blood^LN^HGB^Hemoglobin^L", "g/dL", "12.0-16.0", "13."},
      {"6690-2^Leukocytes [#/volume] in Blood^LN^WBC^WBC^L", "10*3/uL", "4.5-11.0", "6."},
  };
  input.clear();
  obx_count = 0;
  for (std::size_t i = 0; i < message_count; ++i) {
    const auto n = std::to_string(i);
    const auto mbi = std::to_string(1 + i % 9) + "EG4TE5MK7" + std::to_string(i % 10);
    input +=
        "MSH|^~\\&|SUNLAB^2.16.840.1.113883.3.9999.1^ISO|SUNLAB^05D9999999^CLIA|COVGATE|"
        "ACMEHOSP|20260312101530-0500||ORU^R01^ORU_R01|SL" +
        n + "|P|2.5.1|||AL|NE\r";
    input += "PID|1||MRN" + n + "^^^ACMEHOSP^MR~" + mbi +
             "^^^CMS&2.16.840.1.113883.4.927&ISO^MC||TESTPATIENT^MARGARET^A^^^^L||19510822|F|||"
             "12 ELM ST^^SPRINGFIELD^IL^62701^USA^H\r";
    input += "ORC|RE|ORD" + n + "^ACMEHOSP|SL-" + n +
             "^SUNLAB|||||||||1234567893^WELBY^MARCUS^J^^DR^^^NPI&2.16.840.1.113883.4.6&ISO^L^^^"
             "NPI\r";
    input += "OBR|1|ORD" + n + "^ACMEHOSP|SL-" + n +
             "^SUNLAB|DMPNL^DIABETES PANEL^L|||20260312071500-0500|||||||||1234567893^WELBY^"
             "MARCUS^J^^DR^^^NPI&2.16.840.1.113883.4.6&ISO^L^^^NPI||||||20260312101400-0500|||F\r";
    for (std::size_t k = 0; k < 6; ++k) {
      const auto& r = results[k];
      input += "OBX|" + std::to_string(k + 1) + "|NM|" + r[0] + "||" + r[3] +
               std::to_string(i % 10) + "|" + r[1] + "^^UCUM|" + r[2] +
               "|N|||F|||20260312071500-0500|||||20260312095200-0500||||SUNLAB REGIONAL LAB^^^^^"
               "CLIA&2.16.840.1.113883.4.7&ISO^XX^^^05D9999999\r";
      ++obx_count;
    }
    input += "SPM|1|SL-" + n +
             "-1&SUNLAB||119364003^Serum specimen^SCT|||||||P^Patient^HL70369||||||"
             "20260312071500-0500|20260312083000-0500\r";
    input += "OBX|7|CWE|49541-6^Fasting status - Reported^LN||Y^Yes^HL70136||||||F\r";
    ++obx_count;
  }
}

const covgate::mapping::tables& tables() {
  static const auto t = covgate::mapping::tables::parse(covgate::mapping::embedded_sources());
  return t;
}

template <class Handler>
std::uint64_t feed(Handler&& on_message) {
  covgate::hl7v2::message_splitter s(std::forward<Handler>(on_message));
  for (std::size_t at = 0; at < input.size(); at += chunk_size) {
    s.put(std::string_view(input).substr(at, chunk_size));
  }
  s.finish();
  return s.messages();
}

void split(benchmark::State& state) {
  std::uint64_t messages = 0;
  for (auto _ : state) {
    std::size_t bytes = 0;
    messages =
        feed([&](std::string_view m, const covgate::hl7v2::message_info&) { bytes += m.size(); });
    benchmark::DoNotOptimize(bytes);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * messages));
}

void tokenize(benchmark::State& state) {
  std::vector<covgate::hl7v2::segment_view> segments;
  std::uint64_t fields = 0;
  for (auto _ : state) {
    fields = 0;
    feed([&](std::string_view m, const covgate::hl7v2::message_info&) {
      const auto d = covgate::hl7v2::delimiters_of(m.substr(0, m.find('\r')));
      if (!d) return;
      (void)covgate::hl7v2::split_segments(m, segments, 100000);
      for (const auto& s : segments) {
        const covgate::hl7v2::field_index f(s.text, *d);
        fields += f.count();
      }
    });
    benchmark::DoNotOptimize(fields);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.counters["fields"] = static_cast<double>(fields);
}

void read(benchmark::State& state) {
  std::uint64_t facts = 0;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    facts = 0;
    feed([&](std::string_view m, const covgate::hl7v2::message_info&) {
      const auto r = covgate::hl7v2::read(m, tables());
      facts += r.facts.size();
      rejected += r.rejected;
    });
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * input.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * obx_count));
  state.counters["facts"] = static_cast<double>(facts);
  state.counters["rejected"] = static_cast<double>(rejected);
}

BENCHMARK(split)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(tokenize)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  int kept = 1;
  std::string out;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--messages") == 0 && i + 1 < argc) {
      message_count = std::stoul(argv[++i]);
    } else if (std::strcmp(argv[i], "--out") == 0 && i + 1 < argc) {
      out = argv[++i];
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  make_input();
  if (!out.empty()) std::ofstream(out, std::ios::binary) << input;
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
