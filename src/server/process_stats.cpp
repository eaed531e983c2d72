#include "covgate/server/process_stats.hpp"

#include <sys/resource.h>
#include <unistd.h>

#include <charconv>
#include <cstdint>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <string_view>

namespace covgate::server {
namespace {

// A field of /proc: a decimal count. Read without exceptions (std::stod would throw on a
// field a future kernel writes otherwise, from a /metrics scrape): anything else reads 0.
std::uint64_t count_of(std::string_view field) {
  std::uint64_t value = 0;
  const auto [end, error] = std::from_chars(field.data(), field.data() + field.size(), value);
  return error == std::errc{} && end == field.data() + field.size() ? value : 0;
}

}  // namespace

process_stats sample_process() {
  process_stats s;
  const double ticks = static_cast<double>(::sysconf(_SC_CLK_TCK));
  const auto page = static_cast<std::uint64_t>(::sysconf(_SC_PAGESIZE));
  {
    // /proc/self/stat: "pid (comm) state ..." — comm may hold spaces: fields count from the
    // last ')'. utime is field 14, stime 15, starttime 22, vsize 23, rss 24 (pages).
    std::ifstream in("/proc/self/stat");
    std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    const auto close = text.rfind(')');
    if (close != std::string::npos && ticks > 0) {
      std::istringstream fields(text.substr(close + 2));
      std::string f;
      for (int field = 3; fields >> f; ++field) {
        if (field == 14 || field == 15) s.cpu_seconds += static_cast<double>(count_of(f)) / ticks;
        if (field == 22) s.start_time_seconds = static_cast<double>(count_of(f)) / ticks;
        if (field == 23) s.virtual_bytes = count_of(f);
        if (field == 24) {
          s.resident_bytes = count_of(f) * page;
          break;
        }
      }
    }
  }
  {
    std::ifstream in("/proc/stat");
    std::string line;
    double boot = 0;
    while (std::getline(in, line)) {
      if (line.rfind("btime ", 0) == 0) {
        boot = static_cast<double>(count_of(std::string_view(line).substr(6)));
        break;
      }
    }
    s.start_time_seconds = boot > 0 ? boot + s.start_time_seconds : 0;
  }
  std::error_code ec;
  for (std::filesystem::directory_iterator it("/proc/self/fd", ec), end; !ec && it != end;
       it.increment(ec)) {
    ++s.open_fds;
  }
  if (s.open_fds > 0) --s.open_fds;  // the iterator's own descriptor
  rlimit limit{};
  if (::getrlimit(RLIMIT_NOFILE, &limit) == 0) s.max_fds = limit.rlim_cur;
  return s;
}

}  // namespace covgate::server
