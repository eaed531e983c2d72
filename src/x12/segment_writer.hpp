// Builds X12 segments in a given set of delimiters and counts them (for SE01), shared by the
// 999/TA1 and 277 writers.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "covgate/x12/segment.hpp"

namespace covgate::x12 {

class segment_writer {
 public:
  segment_writer(const delimiters& d, bool line_breaks) : d_(d), breaks_(line_breaks) {}

  segment_writer& begin(std::string_view id) {
    out_.append(id);
    ++count_;
    return *this;
  }
  segment_writer& element(std::string_view value) {
    out_.push_back(d_.element);
    out_.append(value);
    return *this;
  }
  /// Appends a component to the element just written.
  segment_writer& component(std::string_view value) {
    out_.push_back(d_.component);
    out_.append(value);
    return *this;
  }
  /// A composite value ("A6:453"), trailing empty components dropped.
  [[nodiscard]] std::string composite(std::initializer_list<std::string_view> parts) const {
    std::string c;
    bool first = true;
    for (const auto p : parts) {
      if (!first) c.push_back(d_.component);
      first = false;
      c.append(p);
    }
    while (!c.empty() && c.back() == d_.component) c.pop_back();
    return c;
  }
  /// Ends the segment; trailing empty elements are not sent (X12 syntax rule).
  void end() {
    while (!out_.empty() && out_.back() == d_.element) out_.pop_back();
    out_.push_back(d_.segment);
    if (breaks_ && d_.segment != '\n' && d_.segment != '\r') out_.push_back('\n');
  }
  [[nodiscard]] std::uint32_t count() const noexcept { return count_; }
  void reset_count() noexcept { count_ = 0; }
  std::string& text() noexcept { return out_; }

 private:
  const delimiters& d_;
  bool breaks_;
  std::string out_;
  std::uint32_t count_ = 0;
};

}  // namespace covgate::x12
