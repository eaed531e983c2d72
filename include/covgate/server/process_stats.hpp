// What the operating system says about this process, for the standard Prometheus process_*
// metrics: CPU time, resident and virtual memory, open and allowed file descriptors, start
// time. Read from /proc/self on each call (Linux); a value that cannot be read is 0.
#pragma once

#include <cstdint>

namespace covgate::server {

struct process_stats {
  double cpu_seconds = 0;  ///< user + system
  std::uint64_t resident_bytes = 0;
  std::uint64_t virtual_bytes = 0;
  std::uint64_t open_fds = 0;
  std::uint64_t max_fds = 0;      ///< the soft RLIMIT_NOFILE
  double start_time_seconds = 0;  ///< Unix time the process started
};

[[nodiscard]] process_stats sample_process();

}  // namespace covgate::server
