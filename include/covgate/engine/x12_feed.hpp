// X12 for the gate, read on the caller's thread or ahead of it on a thread a host lends.
//
// Read ahead, each put()'s (or put_buffer()'s) bytes are one chunk. The chunks go through one
// x12_input in their order, on one of the pool's threads at a time, and what it hands over (each
// accepted set with its claims, each interchange's verdict) reaches the receiver on the caller's
// thread, in the same order, from put() and finish(). Only the reading moves: the receiver (the
// gate, the 277s, the state) sees the same calls either way.
//
// An interchange's one question for the state (was it answered in an earlier message?) is
// asked at its ISA and answered on the caller's thread, while it waits in put() or finish():
// the state is the gate's and not thread-safe. The answer may then come before the sets read
// ahead of it are handed over, which changes nothing: an interchange of this input answered
// earlier is in the reader's own list of the stream's control numbers, and the state learns
// no other interchange meanwhile (one input at a time).
#pragma once

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "covgate/engine/intake.hpp"
#include "covgate/engine/x12_input.hpp"

namespace covgate::engine {

class x12_feed final : private x12_input::handler {
 public:
  struct read_ahead {
    work_pool* pool = nullptr;  ///< outlives the feed; none: read on the caller's thread
    unsigned chunks = 0;        ///< chunks read ahead at most; 0: read on the caller's thread
    /// Read ahead, each claim is also encoded on the reader's thread as model::encode_own_part
    /// and model::encode_set_part write it (encoded), for a state that keeps claims so
    /// (state::keeps_encoded_claims).
    bool encode_claims = false;
  };

  x12_feed(x12_input::handler& receiver, x12::reader_options options, read_ahead ahead);
  /// Waits for the chunks still being read (an input given up before finish()); what they
  /// read is not handed over.
  ~x12_feed() override;
  x12_feed(const x12_feed&) = delete;
  x12_feed& operator=(const x12_feed&) = delete;

  /// Read ahead: hands the bytes to the pool, hands over what was read of the chunks before,
  /// and returns once at most read_ahead::chunks are still unread. An exception from reading
  /// a chunk comes out of the put() or finish() that would have handed its sets over.
  void put(std::string_view bytes);
  /// put() taking the caller's buffer instead of copying its bytes, and leaving in `buffer` one
  /// to fill next: a chunk's buffer read before when there is one (its size and contents
  /// unspecified). On the caller's thread, the same as put(). If it throws, the bytes are
  /// gone with the chunk (as put()'s copy would be).
  void put_buffer(std::string& buffer);
  /// Everything read and handed over.
  void finish();
  /// After finish():
  [[nodiscard]] std::uint64_t leading_bytes_skipped() const noexcept {
    return input_.leading_bytes_skipped();
  }
  [[nodiscard]] std::uint32_t interchanges() const noexcept { return input_.interchanges(); }
  /// Only inside the receiver's accepted_set, read ahead with read_ahead::encode_claims: claim
  /// `i` of the set as encoded on the reader's thread; claims with the same set part view the
  /// same bytes. Otherwise empty views.
  [[nodiscard]] encoded_claim encoded(std::size_t i) const noexcept;

 private:
  struct chunk {
    std::string bytes;
    bool last = false;  // no bytes: the reader's finish()
  };
  // A set's claims encoded (read_ahead::encode_claims): claim i's own part is
  // own_parts[own_ends[i - 1], own_ends[i]), its set part set_parts[set_from[i], set_ends[i]).
  // Consecutive claims of one billing provider share one set part: it is encoded when the
  // provider or the envelope changes, not per claim.
  struct encoded_set {
    std::string own_parts;
    std::vector<std::size_t> own_ends;
    std::string set_parts;
    std::vector<std::size_t> set_from;
    std::vector<std::size_t> set_ends;
    void clear() {
      own_parts.clear();
      own_ends.clear();
      set_parts.clear();
      set_from.clear();
      set_ends.clear();
    }
  };
  // A set's claims, and their encodings, given back by the caller for their buffers.
  struct spare_set {
    std::vector<model::claim> claims;
    encoded_set encoded;
  };
  // What the reader handed over, kept for the caller's thread: an accepted set, or (with
  // `end`) an interchange's end.
  struct step {
    std::vector<model::claim> claims;  // the set's are the first `count`
    std::size_t count = 0;
    encoded_set encoded;  // read_ahead::encode_claims
    x12::set_result set;
    std::unique_ptr<x12::interchange_result> end;
    interchange_verdict verdict;
  };

  [[nodiscard]] bool ahead() const noexcept { return ahead_.pool != nullptr && ahead_.chunks > 0; }
  void send(chunk c);
  std::string take_spare_bytes();  // a chunk's buffer read before, or an empty one
  void read_next();                // on the pool: the oldest chunk sent
  bool ask(std::string_view key);  // on the pool: known_interchange, answered by the caller
  void hand_over(std::size_t unread);
  void apply(std::vector<step>& steps);

  void accepted_set(std::span<model::claim> claims, const x12::set_result& set) override;
  void interchange_end(const x12::interchange_result& result,
                       const interchange_verdict& verdict) override;

  x12_input::handler& receiver_;
  read_ahead ahead_;
  std::function<bool(std::string_view)> known_;  // the caller's known_interchange

  // Shared between the caller and the pool, under mutex_.
  std::mutex mutex_;
  std::condition_variable changed_;
  std::deque<chunk> unread_;
  std::vector<step> read_;  // not yet handed over, in order
  std::size_t sent_ = 0;
  std::size_t done_ = 0;
  std::optional<std::string> question_;
  std::optional<bool> answer_;
  std::exception_ptr failure_;
  bool abandoned_ = false;
  // Sets of claims in existence: the one the reader fills and the one the gate takes. More
  // would let the reader run further ahead, but the claims it wrote would have left the
  // cache before the gate reads them: with three, a claims-only replay took 1.62-1.73 s
  // against 1.52-1.58 s (200,000 claims, the same minutes).
  static constexpr std::size_t claim_sets = 2;
  std::size_t claim_sets_ = 1;                 // the reader's own
  std::vector<spare_set> spare_sets_;          // handed over, their buffers kept
  std::vector<std::string> spare_bytes_;       // chunks read, their buffers kept
  const encoded_set* handing_over_ = nullptr;  // the caller's, during accepted_set (encoded)

  // The reader's, under reading_: one chunk at a time, in order.
  std::mutex reading_;
  encoded_set encoded_;  // the set just read, encoded (read_ahead::encode_claims)
  x12_input input_;      // last: its reader calls back into the members above
};

}  // namespace covgate::engine
