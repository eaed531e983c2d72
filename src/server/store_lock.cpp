#include "covgate/server/store_lock.hpp"

#include <fcntl.h>
#include <sys/file.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <stdexcept>
#include <string>

namespace covgate::server {

store_lock::store_lock(const std::filesystem::path& directory) {
  if (directory.empty() || directory == ":memory:") return;
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) throw std::runtime_error("cannot create " + directory.string() + ": " + ec.message());
  const auto path = directory / "covgate.lock";
  fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0644);
  if (fd_ < 0) {
    throw std::runtime_error("cannot open " + path.string() + ": " + std::strerror(errno));
  }
  if (::flock(fd_, LOCK_EX | LOCK_NB) != 0) {
    const int error = errno;
    char pid[32] = {};
    const auto n = ::pread(fd_, pid, sizeof pid - 1, 0);
    std::string holder = n > 0 ? std::string(pid, static_cast<std::size_t>(n)) : std::string();
    while (!holder.empty() && (holder.back() == '\n' || holder.back() == ' ')) holder.pop_back();
    ::close(fd_);
    fd_ = -1;
    if (error != EWOULDBLOCK) {
      throw std::runtime_error("cannot lock " + path.string() + ": " + std::strerror(error));
    }
    throw std::runtime_error("the store " + directory.string() + " is in use by another covgate" +
                             (holder.empty() ? std::string() : " (pid " + holder + ")") +
                             "; stop it first, or give this one another store directory");
  }
  // Ours now: say who holds it, for the message a second process prints.
  const auto text = std::to_string(::getpid()) + "\n";
  if (::ftruncate(fd_, 0) == 0) (void)!::pwrite(fd_, text.data(), text.size(), 0);
}

store_lock::~store_lock() {
  if (fd_ >= 0) ::close(fd_);  // releases the lock
}

}  // namespace covgate::server
