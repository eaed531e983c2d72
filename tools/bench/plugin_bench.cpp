// Messages per second through libcovgate's C ABI (covgate_submit, answer copied out and freed)
// beside the same messages through the engine in-process (engine::intake over a memory state,
// as `covgate replay` drives it). The workload: one patient's FHIR record, then N claims of
// sample scenario 02 (each its own CLM01 and ISA13, all held for a missing lab), then the
// labs, which release all N as later answers, drained through covgate_poll/covgate_ack.
// Usage: plugin_bench [--claims N] [--samples DIR]   (DIR: samples/inputs/scenarios)
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <string>
#include <vector>

#include "covgate/covgate.h"
#include "covgate/engine/intake.hpp"
#include "covgate/mapping/tables.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/store/memory_state.hpp"

namespace {

using clock_type = std::chrono::steady_clock;

std::string read(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  if (!in) throw std::runtime_error("cannot read " + p.string());
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

std::string replace_all(std::string text, std::string_view from, const std::string& to) {
  for (auto at = text.find(from); at != std::string::npos; at = text.find(from, at + to.size())) {
    text.replace(at, from.size(), to);
  }
  return text;
}

struct workload {
  std::string record, labs;
  std::vector<std::string> claims;
};

workload make(const std::filesystem::path& scenarios, int n) {
  const auto folder = scenarios / "02-csii-release-after-late-lab";
  std::vector<std::filesystem::path> files;
  for (const auto& e : std::filesystem::directory_iterator(folder)) files.push_back(e.path());
  std::sort(files.begin(), files.end());
  if (files.size() != 3) throw std::runtime_error("scenario 02 should hold three files");
  workload w{read(files[0]), read(files[2]), {}};
  const auto claim = read(files[1]);
  for (int i = 0; i < n; ++i) {
    char isa13[16];
    std::snprintf(isa13, sizeof isa13, "%09d", 100000 + i);
    w.claims.push_back(
        replace_all(replace_all(claim, "000000502", isa13), "CSII-LATE", "B" + std::to_string(i)));
  }
  return w;
}

class counting_sink final : public covgate::engine::answer_sink {
 public:
  void x12(std::string_view text) override { bytes += text.size(); }
  void fhir(std::string_view text) override { bytes += text.size(); }
  void on_event(const covgate::engine::event& e, bool later) override {
    if (later) later_events.push_back(e);
  }
  std::size_t bytes = 0;
  std::vector<covgate::engine::event> later_events;
};

double seconds_since(clock_type::time_point start) {
  return std::chrono::duration<double>(clock_type::now() - start).count();
}

void report(const char* what, std::size_t messages, double seconds) {
  std::printf("%-34s %8zu msgs %8.3f s %10.0f msgs/s %8.1f us/msg\n", what, messages, seconds,
              static_cast<double>(messages) / seconds,
              seconds * 1e6 / static_cast<double>(messages));
}

// The engine in-process: intake::receive per message, later events turned into 277s as the
// plugin does.
void in_process(const workload& w) {
  using namespace covgate;
  auto policy = policy::policy_file::parse(policy::embedded_ncd223());
  for (const auto& [name, text] : policy::embedded_overlays()) {
    policy.add_overlay(policy::overlay::parse(text, name));
  }
  const auto tables = mapping::tables::parse(mapping::embedded_sources());
  store::memory_state state;
  engine::intake intake(policy, tables, state, {});
  const engine::message_time at{1'775'044'800'000};
  counting_sink sink;
  intake.receive(w.record, "bench:record", at, sink);
  const auto start = clock_type::now();
  for (const auto& c : w.claims) intake.receive(c, "bench", at, sink);
  report("in-process engine (claims)", w.claims.size(), seconds_since(start));
  const auto labs = clock_type::now();
  intake.receive(w.labs, "bench:labs", at, sink);
  std::size_t later_bytes = 0;
  for (const auto& e : sink.later_events) later_bytes += intake.status_message({e}, at).size();
  report("in-process engine (later 277s)", sink.later_events.size(), seconds_since(labs));
  if (sink.later_events.size() != w.claims.size() || later_bytes == 0) {
    throw std::runtime_error("in-process: the labs did not release every claim");
  }
}

void check(int32_t rc, const covgate_error& err, const char* call) {
  if (rc < 0) throw std::runtime_error(std::string(call) + ": " + err.message);
}

void c_abi(const workload& w) {
  covgate_error err{};
  err.size = sizeof err;
  covgate_handle* gate = nullptr;
  check(covgate_open(nullptr, 0, nullptr, &gate, &err), err, "covgate_open");
  std::size_t bytes = 0;
  auto submit = [&](const std::string& m) {
    covgate_answer* a = nullptr;
    check(covgate_submit(gate, m.data(), m.size(), nullptr, &a, &err), err, "covgate_submit");
    bytes += a->body_length + a->decisions_length;
    covgate_answer_free(a);
  };
  submit(w.record);
  const auto start = clock_type::now();
  for (const auto& c : w.claims) submit(c);
  report("C ABI covgate_submit (claims)", w.claims.size(), seconds_since(start));
  const auto labs = clock_type::now();
  submit(w.labs);
  std::size_t drained = 0;
  for (;;) {
    covgate_answer* a = nullptr;
    const auto rc = covgate_poll(gate, &a, &err);
    check(rc, err, "covgate_poll");
    if (rc == COVGATE_EMPTY) break;
    check(covgate_ack(gate, a->sequence, &err), err, "covgate_ack");
    covgate_answer_free(a);
    ++drained;
  }
  report("C ABI (labs, poll + ack each)", drained, seconds_since(labs));
  check(covgate_close(gate, &err), err, "covgate_close");
  if (drained != w.claims.size() || bytes == 0) {
    throw std::runtime_error("C ABI: the labs did not release every claim");
  }
}

}  // namespace

int main(int argc, char** argv) {
  int n = 20000;
  std::filesystem::path samples = "samples/inputs/scenarios";
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--claims") == 0) {
      n = std::max(1, std::atoi(argv[i + 1]));
    } else if (std::strcmp(argv[i], "--samples") == 0) {
      samples = argv[i + 1];
    }
  }
  try {
    const auto w = make(samples, n);
    in_process(w);
    c_abi(w);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "plugin_bench: %s\n", e.what());
    return 1;
  }
  return 0;
}
