// X12 micro benchmarks over one input file (made by covgate-gen):
//   tokenizer   segment_reader alone (MB/s)
//   read_837    envelope + loop schema + mapping to model::claim (MB/s, claims/s)
// Usage: x12_bench --input FILE [google benchmark flags]
#include <benchmark/benchmark.h>

#include <cstring>
#include <fstream>
#include <iostream>
#include <sstream>
#include <string>

#include "covgate/x12/interchange_reader.hpp"
#include "covgate/x12/segment_reader.hpp"

namespace {

std::string& input() {
  static std::string data;
  return data;
}

constexpr std::size_t chunk_size = 1 << 20;  // what a file or socket reader hands over

struct counting_handler {
  std::uint64_t segments = 0;
  std::uint64_t elements = 0;
  void on_segment(const covgate::x12::segment& s) {
    ++segments;
    elements += s.element_count();
  }
  void on_reader_error(const covgate::x12::reader_event&) {}
};

void tokenizer(benchmark::State& state) {
  const auto& data = input();
  std::uint64_t segments = 0;
  for (auto _ : state) {
    covgate::x12::segment_reader reader;
    counting_handler handler;
    for (std::size_t at = 0; at < data.size(); at += chunk_size) {
      reader.put(std::string_view(data).substr(at, chunk_size), handler);
    }
    reader.finish(handler);
    segments = handler.segments;
    benchmark::DoNotOptimize(handler.elements);
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.counters["segments"] = static_cast<double>(segments);
}

struct counting_sink final : covgate::x12::reader_sink {
  std::uint64_t claims = 0;
  std::uint64_t lines = 0;
  std::uint64_t rejected_sets = 0;
  void on_claim(const covgate::model::claim& c) override {
    ++claims;
    lines += c.lines.size();
  }
  void on_set_end(const covgate::x12::set_result& s) override { rejected_sets += s.rejected; }
  void on_interchange_end(const covgate::x12::interchange_result&) override {}
};

void read_837(benchmark::State& state) {
  const auto& data = input();
  std::uint64_t claims = 0;
  std::uint64_t rejected = 0;
  for (auto _ : state) {
    counting_sink sink;
    covgate::x12::interchange_reader reader(sink);
    for (std::size_t at = 0; at < data.size(); at += chunk_size) {
      reader.put(std::string_view(data).substr(at, chunk_size));
    }
    reader.finish();
    claims = sink.claims;
    rejected = sink.rejected_sets;
  }
  state.SetBytesProcessed(static_cast<std::int64_t>(state.iterations() * data.size()));
  state.SetItemsProcessed(static_cast<std::int64_t>(state.iterations() * claims));
  state.counters["claims"] = static_cast<double>(claims);
  state.counters["rejected_sets"] = static_cast<double>(rejected);
}

BENCHMARK(tokenizer)->Unit(benchmark::kMillisecond)->UseRealTime();
BENCHMARK(read_837)->Unit(benchmark::kMillisecond)->UseRealTime();

}  // namespace

int main(int argc, char** argv) {
  std::string path;
  int kept = 1;
  for (int i = 1; i < argc; ++i) {
    if (std::strcmp(argv[i], "--input") == 0 && i + 1 < argc) {
      path = argv[++i];
    } else {
      argv[kept++] = argv[i];
    }
  }
  argc = kept;
  if (path.empty()) {
    std::cerr << "x12_bench: --input FILE is required (make one with covgate-gen)\n";
    return 2;
  }
  std::ifstream in(path, std::ios::binary);
  std::ostringstream buffer;
  buffer << in.rdbuf();
  input() = buffer.str();
  if (input().empty()) {
    std::cerr << "x12_bench: " << path << " is empty or unreadable\n";
    return 2;
  }
  benchmark::Initialize(&argc, argv);
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
