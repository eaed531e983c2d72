#include "inputs.hpp"

#include <algorithm>
#include <iostream>
#include <utility>

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

bool file_reader::open(const input_file& file) {
  auto skip = [&](std::string_view why) {
    std::cerr << file.name() << ": " << why << '\n';
    return false;
  };
  if (!file.problem.empty()) return skip(file.problem);
  if (file.standard_input) {
    in_ = &std::cin;
  } else {
    file_.open(file.path, std::ios::binary);
    if (!file_) return skip("cannot be read");
    in_ = &file_;
    std::error_code ec;
    size_ = fs::file_size(file.path, ec);
    if (ec) size_ = 0;
  }
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  first_ = std::string_view(buffer_.data(), static_cast<std::size_t>(in_->gcount()));
  if (first_.find_first_not_of(" \t\r\n") == std::string_view::npos)
    return skip("empty file, skipped");
  return true;
}

std::string_view file_reader::next() {
  if (!first_.empty()) {
    consumed_ += first_.size();
    return std::exchange(first_, {});
  }
  if (in_ == nullptr || !*in_) return {};
  in_->read(buffer_.data(), static_cast<std::streamsize>(buffer_.size()));
  const auto n = static_cast<std::size_t>(in_->gcount());
  consumed_ += n;
  return {buffer_.data(), n};
}

}  // namespace covgate::app
