// MLLP framing (HL7 Minimal Lower Layer Protocol, release 1 and 2): <SB> payload <EB><CR>,
// SB = 0x0B, EB = 0x1C, CR = 0x0D. A push decoder in the Beast parser style: feed whatever a
// read returned; every complete frame is handed over as it completes. It tolerates what real
// peers do (HL7 Version 2 MLLP, release 1 and 2): a frame split over many reads, several frames in
// one read, bytes between frames (CR LF, NULs, keep-alives) and, unless told otherwise, a frame
// whose final CR never comes. No I/O; one decoder per connection; not thread-safe.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

namespace covgate::hl7v2 {

inline constexpr char mllp_start = 0x0B;
inline constexpr char mllp_end = 0x1C;
inline constexpr char mllp_cr = 0x0D;
inline constexpr char mllp_commit_ack = 0x06;  ///< MLLP release 2 commit acknowledgment
inline constexpr char mllp_commit_nak = 0x15;  ///< MLLP release 2 negative acknowledgment

struct mllp_options {
  std::size_t max_frame_bytes = 16u << 20;  ///< a longer payload is an error (MLLP has no length)
  /// true: a frame is complete only at <EB><CR>, and <EB> followed by anything else is an
  /// error. false (default): <EB> completes the frame and a following CR is swallowed, so a
  /// peer that never sends the CR is answered instead of waiting forever.
  bool require_final_cr = false;
};

enum class mllp_error : std::uint8_t {
  none,
  frame_too_large,   ///< the payload passed max_frame_bytes before its <EB>
  missing_final_cr,  ///< <EB> not followed by <CR> (require_final_cr only)
};

/// "frame too large", "missing final CR"…
[[nodiscard]] std::string_view describe(mllp_error e) noexcept;

class mllp_decoder {
 public:
  explicit mllp_decoder(mllp_options options = {}) : options_(options) {}

  /// Consumes `bytes`, calling `on_frame(std::string_view payload)` for each frame completed
  /// (the view is valid during the call only). Returns the first error; after an error the
  /// decoder stays failed (the connection should be answered and closed) and consumes nothing.
  template <class OnFrame>
  mllp_error put(std::string_view bytes, OnFrame&& on_frame);

  /// Bytes seen outside any frame (between frames, or before the first one).
  [[nodiscard]] std::uint64_t skipped_bytes() const noexcept { return skipped_; }
  /// Frames abandoned because a new <SB> arrived before their <EB>.
  [[nodiscard]] std::uint64_t abandoned_frames() const noexcept { return abandoned_; }
  /// True while part of a frame has been received (a peer that stops here is stalled).
  [[nodiscard]] bool inside_frame() const noexcept { return state_ == state::payload; }
  /// Memory the decoder holds for frames (what a server's global budget counts).
  [[nodiscard]] std::size_t buffered_bytes() const noexcept { return frame_.capacity(); }
  [[nodiscard]] mllp_error error() const noexcept { return error_; }

 private:
  enum class state : std::uint8_t { between, payload, after_end };
  // A connection that once sent a large frame does not keep its buffer between frames.
  void release_large_frame() {
    if (frame_.capacity() > (64u << 10)) frame_ = std::string();
  }
  mllp_options options_;
  state state_ = state::between;
  std::string frame_;
  std::uint64_t skipped_ = 0;
  std::uint64_t abandoned_ = 0;
  mllp_error error_ = mllp_error::none;
};

/// <SB> payload <EB><CR>. MLLP cannot escape: check boundary::mllp_payload_ok(payload) first
/// when it holds anything a sender wrote.
[[nodiscard]] std::string mllp_frame(std::string_view payload);

template <class OnFrame>
mllp_error mllp_decoder::put(std::string_view bytes, OnFrame&& on_frame) {
  std::size_t i = 0;
  while (i < bytes.size() && error_ == mllp_error::none) {
    switch (state_) {
      case state::between: {
        const auto start = bytes.find(mllp_start, i);
        skipped_ += (start == std::string_view::npos ? bytes.size() : start) - i;
        if (start == std::string_view::npos) return error_;
        state_ = state::payload;
        frame_.clear();
        i = start + 1;
        break;
      }
      case state::payload: {
        // Copy the run up to the next <EB> (or <SB>, which abandons this frame) at once.
        const auto stop = bytes.find_first_of(std::string_view("\x1C\x0B", 2), i);
        const auto run = (stop == std::string_view::npos ? bytes.size() : stop) - i;
        if (frame_.size() + run > options_.max_frame_bytes) {
          error_ = mllp_error::frame_too_large;
          frame_.clear();
          frame_.shrink_to_fit();
          return error_;
        }
        frame_.append(bytes.substr(i, run));
        i += run;
        if (i == bytes.size()) return error_;
        if (bytes[i] == mllp_start) {
          ++abandoned_;
          frame_.clear();
          ++i;
          break;
        }
        ++i;  // <EB>
        state_ = state::after_end;
        if (!options_.require_final_cr) {
          on_frame(std::string_view(frame_));
          release_large_frame();
        }
        break;
      }
      case state::after_end: {
        const bool cr = bytes[i] == mllp_cr;
        if (options_.require_final_cr) {
          if (!cr) {
            error_ = mllp_error::missing_final_cr;
            return error_;
          }
          on_frame(std::string_view(frame_));
          release_large_frame();
        }
        if (cr) ++i;  // otherwise the byte belongs to whatever comes next
        state_ = state::between;
        break;
      }
    }
  }
  return error_;
}

}  // namespace covgate::hl7v2
