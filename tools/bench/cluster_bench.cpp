// The producer side of tools/bench/cluster.sh: cuts a covgate-gen file into one interchange
// per patient (x12::split_by_patient), publishes each under its patient's
// partition key from several connections at once, and waits until every partition's durable
// consumer has delivered and had acknowledged everything (the workers applied and committed
// it). Prints one line:
//   cluster claims=N messages=M publish_s=P total_s=T claims_per_s=C
//   cluster_bench --urls URL[,URL…] --partitions N --secret S --run ID [--threads T] FILE
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/x12/split_by_patient.hpp"

using namespace covgate::cluster;

namespace {

// One interchange per patient: covgate-gen's file is cut at each ISA (it writes several
// interchanges once large), and each interchange split by x12::split_by_patient, numbered
// on from the parts before it so that no ISA13 repeats.
std::vector<covgate::x12::patient_part> split_by_patient(const std::string& x12) {
  std::vector<covgate::x12::patient_part> out;
  std::size_t at = x12.find("ISA");
  while (at != std::string::npos) {
    const auto next = x12.find("ISA", at + 106);
    const auto interchange = std::string_view(x12).substr(at, next - at);
    covgate::x12::split_options options;
    const auto first = out.size();
    options.control_number = [first](std::size_t part) {
      char control[10];
      std::snprintf(control, sizeof control, "%09zu", first + part + 1);
      return std::string(control);
    };
    auto split = covgate::x12::split_by_patient(interchange, options);
    if (!split.ok()) throw std::runtime_error("cannot split: " + split.error);
    for (auto& part : split.parts) out.push_back(std::move(part));
    at = next;
  }
  return out;
}

std::string argument(int argc, char** argv, const std::string& name, std::string fallback = {}) {
  for (int i = 1; i + 1 < argc; ++i) {
    if (argv[i] == name) return argv[i + 1];
  }
  if (fallback.empty()) throw std::runtime_error("missing " + name);
  return fallback;
}

}  // namespace

int main(int argc, char** argv) try {
  connection_settings settings;
  std::stringstream urls(argument(argc, argv, "--urls"));
  for (std::string url; std::getline(urls, url, ',');) settings.urls.push_back(url);
  settings.name = "covgate-cluster-bench";
  const int partitions = std::stoi(argument(argc, argv, "--partitions"));
  const auto secret = argument(argc, argv, "--secret");
  const auto run = argument(argc, argv, "--run");
  const int threads = std::stoi(argument(argc, argv, "--threads", "4"));
  std::ifstream in(argv[argc - 1], std::ios::binary);
  const std::string x12((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  const auto pieces = split_by_patient(x12);
  std::size_t claims = 0;  // one claim per set (covgate-gen --claims-per-set 1)
  for (const auto& p : pieces) claims += p.source_sets.size();

  const auto started = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t) {
    publishers.emplace_back([&] {
      jetstream js(settings);
      for (std::size_t i; (i = next++) < pieces.size();) {
        const auto& p = pieces[i];
        js.publish(producer_subject(partition_key(secret, p.patient_key), message_kind::claim),
                   p.interchange, run + "-" + std::to_string(i));
      }
    });
  }
  for (auto& t : publishers) t.join();
  const auto published = std::chrono::steady_clock::now();

  jetstream js(settings);
  const auto deadline = published + std::chrono::minutes(10);
  for (;;) {
    bool done = true;
    for (int p = 0; p < partitions && done; ++p) {
      const auto state =
          js.consumer_info(std::string(in_stream), partition_consumer(p, partitions));
      done = state.pending == 0 && state.ack_pending == 0;
    }
    if (done) break;
    if (std::chrono::steady_clock::now() > deadline) throw std::runtime_error("not drained");
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  const auto finished = std::chrono::steady_clock::now();
  const auto seconds = [&](auto to) { return std::chrono::duration<double>(to - started).count(); };
  std::cout << "cluster claims=" << claims << " messages=" << pieces.size()
            << " publish_s=" << seconds(published) << " total_s=" << seconds(finished)
            << " claims_per_s="
            << static_cast<long>(static_cast<double>(claims) / seconds(finished)) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "cluster_bench: " << e.what() << "\n";
  return 1;
}
