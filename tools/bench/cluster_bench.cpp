// The producer side of tools/bench/cluster.sh: cuts a covgate-gen file of one-claim sets
// (--claims-per-set 1) into one interchange per set, publishes each under its patient's
// partition key from several connections at once, and waits until every partition's durable
// consumer has delivered and had acknowledged everything (the workers applied and committed
// it). Prints one line:
//   cluster claims=N publish_s=P total_s=T claims_per_s=C
//   cluster_bench --urls URL[,URL…] --partitions N --secret S --run ID [--threads T] FILE
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "covgate/cluster/nats_client.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"

using namespace covgate::cluster;

namespace {

struct piece {
  std::string member;  // NM109 of the subscriber (NM1*IL)
  std::string interchange;
};

// One interchange per ST/SE set: the file's ISA and GS, the set, then GE/IEA counting one,
// with ISA13/IEA02 numbered per piece so that none repeats an earlier interchange.
std::vector<piece> split_sets(const std::string& x12) {
  if (x12.size() < 106 || x12.compare(0, 3, "ISA") != 0) throw std::runtime_error("not X12");
  const char element = x12[3];
  const char terminator = x12[105];
  const auto gs_end = x12.find(terminator, x12.find(std::string("GS") + element)) + 1;
  const std::string gs = x12.substr(106, gs_end - 106);
  const auto gs06 = [&] {
    std::vector<std::string> fields;
    std::stringstream in(gs.substr(0, gs.size() - 1));
    for (std::string f; std::getline(in, f, element);) fields.push_back(f);
    return fields.at(6);
  }();
  std::vector<piece> out;
  std::size_t at = gs_end;
  const std::string st = std::string("ST") + element, se = std::string("SE") + element;
  const std::string il = std::string("NM1") + element + "IL" + element;
  while ((at = x12.find(st, at)) != std::string::npos) {
    const auto se_at = x12.find(se, at);
    const auto end = x12.find(terminator, se_at) + 1;
    piece p;
    const auto set = x12.substr(at, end - at);
    const auto nm1 = set.find(il);
    if (nm1 != std::string::npos) {
      const auto seg = set.substr(nm1, set.find(terminator, nm1) - nm1);
      p.member = seg.substr(seg.rfind(element) + 1);
    }
    char control[10];
    std::snprintf(control, sizeof control, "%09zu", out.size() + 1);
    auto isa = x12.substr(0, 106);
    isa.replace(90, 9, control);
    p.interchange = isa + gs + set + "GE" + element + "1" + element + gs06 + terminator + "IEA" +
                    element + "1" + element + control + terminator;
    out.push_back(std::move(p));
    at = end;
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
  const auto pieces = split_sets(x12);

  const auto started = std::chrono::steady_clock::now();
  std::atomic<std::size_t> next{0};
  std::vector<std::thread> publishers;
  for (int t = 0; t < threads; ++t) {
    publishers.emplace_back([&] {
      jetstream js(settings);
      for (std::size_t i; (i = next++) < pieces.size();) {
        const auto& p = pieces[i];
        js.publish(producer_subject(partition_key(secret, p.member), message_kind::claim),
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
  std::cout << "cluster claims=" << pieces.size() << " publish_s=" << seconds(published)
            << " total_s=" << seconds(finished) << " claims_per_s="
            << static_cast<long>(static_cast<double>(pieces.size()) / seconds(finished)) << "\n";
  return 0;
} catch (const std::exception& e) {
  std::cerr << "cluster_bench: " << e.what() << "\n";
  return 1;
}
