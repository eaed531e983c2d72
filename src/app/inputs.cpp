#include "inputs.hpp"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cassert>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <deque>
#include <exception>
#include <iostream>
#include <mutex>
#include <thread>
#include <utility>

#include "covgate/engine/sniff.hpp"

namespace covgate::app {
namespace fs = std::filesystem;
namespace {

// Why `p` is not a readable regular file ("" when it is): FIFOs, devices and sockets would
// block or never end, so only regular files (or symlinks to them) are read.
std::string unreadable(const fs::path& p) {
  std::error_code ec;
  const auto status = fs::status(p, ec);
  if (ec || !fs::exists(status)) {
    return fs::is_symlink(fs::symlink_status(p, ec)) ? "dangling symbolic link, skipped"
                                                     : "no such file or folder";
  }
  if (!fs::is_regular_file(status)) return "not a regular file (FIFO, device or socket), skipped";
  return {};
}

}  // namespace

std::vector<input_file> expand(const std::vector<fs::path>& paths) {
  std::vector<input_file> files;
  for (const auto& p : paths) {
    std::error_code ec;
    if (p == "-") {
      files.push_back({p, {}, true});
    } else if (fs::is_directory(p, ec)) {
      std::vector<input_file> found;
      for (const auto& entry : fs::recursive_directory_iterator(p, ec)) {
        if (entry.is_directory(ec)) continue;
        found.push_back({entry.path(), unreadable(entry.path())});
      }
      if (ec) files.push_back({p, "cannot list the folder: " + ec.message()});
      std::sort(found.begin(), found.end(),
                [](const input_file& a, const input_file& b) { return a.path < b.path; });
      files.insert(files.end(), found.begin(), found.end());
    } else {
      files.push_back({p, unreadable(p)});
    }
  }
  return files;
}

// The reading thread's side: it reads chunks into buffers the reader handed back (or new ones)
// while fewer than `depth` wait to be taken, and ends at the file's end, a failed read or the
// reader's going away.
struct file_reader::ahead {
  std::mutex mutex;
  std::condition_variable changed;
  std::deque<std::string> read;    // chunks read, in the file's order
  std::vector<std::string> spare;  // buffers handed back, to read into
  std::size_t depth = 1;
  bool done = false;         // the last chunk is in `read` (or the read failed)
  bool stopping = false;     // the reader is going away
  std::exception_ptr error;  // what the thread threw (an allocation), thrown again by next()
  std::thread thread;
};

file_reader::file_reader() = default;

file_reader::~file_reader() {
  if (!ahead_) return;
  {
    const std::lock_guard lock(ahead_->mutex);
    ahead_->stopping = true;
  }
  ahead_->changed.notify_all();
  ahead_->thread.join();
}

void file_reader::read_ahead(std::size_t chunks) {
  // Nothing left to read (open() read it all), or a live feed: read here, as before.
  if (standard_input_ || at_end_ || ahead_) return;
  ahead_ = std::make_unique<ahead>();
  ahead_->depth = std::max<std::size_t>(chunks, 1);
  // From here only this thread reads the file (fill(), at_end_, failure_); next() learns of
  // the end and of failure_ through `done`, set under the mutex after them.
  ahead_->thread = std::thread([this, &a = *ahead_] {
    try {
      for (bool end = false; !end;) {
        std::string buffer;
        {
          std::unique_lock lock(a.mutex);
          a.changed.wait(lock, [&] { return a.stopping || a.read.size() < a.depth; });
          if (a.stopping) return;
          if (!a.spare.empty()) {
            buffer = std::move(a.spare.back());
            a.spare.pop_back();
          }
        }
        const auto n = fill_chunk(buffer);
        end = n == 0 || at_end_;
        {
          const std::lock_guard lock(a.mutex);
          if (n > 0) a.read.push_back(std::move(buffer));
          a.done = end;
        }
        a.changed.notify_all();
      }
    } catch (...) {
      {
        const std::lock_guard lock(a.mutex);
        a.error = std::current_exception();
        a.done = true;
      }
      a.changed.notify_all();
    }
  });
}

bool file_reader::next_read_ahead(std::string& into) {
  auto& a = *ahead_;
  std::unique_lock lock(a.mutex);
  a.changed.wait(lock, [&] { return !a.read.empty() || a.done; });
  if (a.read.empty()) {
    if (a.error) std::rethrow_exception(a.error);
    return false;
  }
  // The chunk read swapped in; the caller's buffer read into next.
  std::swap(into, a.read.front());
  a.spare.push_back(std::move(a.read.front()));
  a.read.pop_front();
  lock.unlock();
  a.changed.notify_all();
  consumed_ += into.size();
  return true;
}

bool file_reader::open(const input_file& file) {
  auto skip = [&](std::string_view why) {
    std::cerr << file.name() << ": " << why << '\n';
    return false;
  };
  if (!file.problem.empty()) return skip(file.problem);
  standard_input_ = file.standard_input;
  if (!standard_input_) {
    file_.open(file.path, std::ios::binary);
    if (!file_) return skip("cannot be read");
    std::error_code ec;
    size_ = fs::file_size(file.path, ec);
    if (ec) size_ = 0;
  }
  // Enough to tell the input's kind (check and parse sniff the first chunk), or the end, or a
  // full buffer. A file fills the buffer at once; a feed on standard input may come a few
  // bytes at a time.
  std::size_t have = 0;
  while (!at_end_ && have < buffer_.size() &&
         !engine::enough_to_sniff(std::string_view(buffer_.data(), have))) {
    have += fill(buffer_.data() + have, buffer_.size() - have);
  }
  first_ = std::string_view(buffer_.data(), have);
  if (first_.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return skip("empty file, skipped");
  return true;
}

std::string_view file_reader::next() {
  assert(!ahead_ && "a file read ahead is taken with next(std::string&)");
  if (!first_.empty()) {
    consumed_ += first_.size();
    return std::exchange(first_, {});
  }
  const auto n = fill(buffer_.data(), buffer_.size());
  consumed_ += n;
  return {buffer_.data(), n};
}

bool file_reader::next(std::string& into) {
  if (!first_.empty()) {
    into.assign(first_);
    consumed_ += first_.size();
    first_ = {};
    return true;
  }
  if (ahead_) return next_read_ahead(into);
  if (standard_input_) {
    // A pipe gives some 64 KiB a read: read in place and copied. Grown back to a chunk for
    // each read, the buffer would be zero-filled a megabyte at a time (16 % of `check -`).
    const auto piece = next();
    into.assign(piece);
    return !piece.empty();
  }
  const auto n = fill_chunk(into);
  consumed_ += n;
  return n > 0;
}

std::size_t file_reader::fill_chunk(std::string& into) {
  // Grown only when smaller than a chunk: a buffer given back after a whole chunk keeps that
  // size, and is not zero-filled again before the read writes over it (a file's reads are
  // whole chunks but the last).
  if (into.size() < chunk) into.resize(chunk);
  const auto n = fill(into.data(), chunk);
  into.resize(n);
  return n;
}

// Standard input may be a live feed (a pipe, a terminal): what has come is handed on at once,
// where a stream's read() waits for a whole chunk (a megabyte) or the end. A file is read a
// chunk at a time.
std::size_t file_reader::fill(char* to, std::size_t room) {
  if (at_end_) return 0;
  if (!standard_input_) {
    file_.read(to, static_cast<std::streamsize>(room));
    const auto n = static_cast<std::size_t>(file_.gcount());
    at_end_ = !file_ || n == 0;
    if (file_.bad()) failure_ = "read failed";
    return n;
  }
  for (;;) {
    const auto n = ::read(STDIN_FILENO, to, room);
    if (n > 0) return static_cast<std::size_t>(n);
    if (n == 0) break;
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) {
      // A host may hand us a non-blocking descriptor: nothing has come yet, which is not the
      // end. Wait for it as a blocking read would.
      pollfd ready{STDIN_FILENO, POLLIN, 0};
      if (::poll(&ready, 1, -1) >= 0 || errno == EINTR) continue;
    }
    // An error ends the input, said, so that a truncated feed is not taken for a whole one.
    failure_ = std::string("read failed: ") + std::strerror(errno);
    break;
  }
  at_end_ = true;
  return 0;
}

}  // namespace covgate::app
