// covgate replay: files fed to the engine's intake in order, each kind of answer written to
// its own output, the state in memory or in a store that the next run continues.
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>
#include <thread>

#include "commands.hpp"
#include "covgate/engine/intake.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/server/store_lock.hpp"
#include "covgate/store/memory_state.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "inputs.hpp"
#include "load.hpp"
#include "reading_threads.hpp"

namespace covgate::app {
namespace {

using clock = std::chrono::steady_clock;

// An output file, or stdout when no path (or "-") is given (and nothing when `optional`).
// Written in blocks: a decision line or a set's 277 is mostly longer than 1 KiB, which
// libstdc++'s streams hand to the system one write each whatever their buffer (5 % of a
// claims-only replay went to those calls). Flushed and checked at each input file's end
// (before a store commits it), and as it is read when the input is standard input.
class output {
 public:
  output(std::filesystem::path path, bool optional) : path_(std::move(path)) {
    if (path_.empty() || path_ == "-") {
      if (!optional) stream_ = &std::cout;
      return;
    }
    file_.open(path_, std::ios::binary);
    if (!file_) throw std::runtime_error("cannot write " + path_.string());
    stream_ = &file_;
  }
  void write(std::string_view text) {
    if (stream_ == nullptr) return;
    if (text.size() >= block_size) {
      // A block or more (a set's 277 is about 1.2 MB for 1,000 claims) goes to the system as
      // it is, after what is pending: copied into the block first, every byte of every answer
      // was copied once more (3 % of a claims-only replay's gate thread, callgrind).
      flush();
      hand_over(text);
      return;
    }
    pending_ += text;
    if (pending_.size() >= block_size) flush();
  }
  /// Hands what is pending to the stream and the system; throws when that failed (a full disk,
  /// a closed pipe), naming the output.
  void flush() {
    if (stream_ == nullptr) return;
    hand_over(pending_);
    pending_.clear();
  }
  [[nodiscard]] bool enabled() const noexcept { return stream_ != nullptr; }

 private:
  void hand_over(std::string_view bytes) {
    stream_->write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
    stream_->flush();
    if (!*stream_) {
      throw std::runtime_error("cannot write " + (stream_ == &file_ ? path_.string() : "stdout"));
    }
  }

  static constexpr std::size_t block_size = 256 * 1024;
  std::filesystem::path path_;
  std::ofstream file_;
  std::ostream* stream_ = nullptr;
  std::string pending_;
};

std::string fixed(double value, int decimals) {
  char text[48];
  std::snprintf(text, sizeof text, "%.*f", decimals, value);
  return text;
}

// "1m05s", "12.3s": how long, as a person reads it.
std::string duration_text(double seconds) {
  if (seconds < 60) return fixed(seconds, 1) + "s";
  const auto whole = static_cast<std::uint64_t>(seconds);
  const auto h = whole / 3600, m = whole / 60 % 60, s = whole % 60;
  std::string out = h > 0 ? std::to_string(h) + "h" : "";
  out += (h > 0 && m < 10 ? "0" : "") + std::to_string(m) + "m";
  return out + (s < 10 ? "0" : "") + std::to_string(s) + "s";
}

// The progress line on stderr, rewritten in place (\r) at most 5 times a second: files done
// of all, megabytes read of all, claims per second, and the time left by bytes.
class progress_line {
 public:
  progress_line(bool enabled, std::size_t files, std::uint64_t bytes)
      : enabled_(enabled), files_(files), bytes_(bytes), started_(clock::now()) {}
  void update(std::size_t files_done, std::uint64_t bytes_done, std::uint64_t claims,
              bool force = false) {
    if (!enabled_) return;
    const auto now = clock::now();
    if (!force && now - shown_ < std::chrono::milliseconds(200)) return;
    shown_ = now;
    const double seconds = std::chrono::duration<double>(now - started_).count();
    std::string line = "\rreplay: " + std::to_string(files_done) + "/" + std::to_string(files_) +
                       " files, " + fixed(static_cast<double>(bytes_done) / 1e6, 1) + "/" +
                       fixed(static_cast<double>(bytes_) / 1e6, 1) + " MB, " +
                       std::to_string(claims) + " claims";
    if (seconds > 0.05) {
      line += ", " + fixed(static_cast<double>(claims) / seconds, 0) + " claims/s";
      if (bytes_done > 0 && bytes_ > bytes_done) {
        const double left =
            seconds * static_cast<double>(bytes_ - bytes_done) / static_cast<double>(bytes_done);
        line += ", ETA " + duration_text(left);
      }
    }
    line += "\x1b[K";  // clear what a longer line left
    std::cerr << line << std::flush;
    shown_once_ = true;
  }
  /// Takes the line away (before other output on stderr, and at the end); the next update
  /// draws it again.
  void clear() {
    if (enabled_ && shown_once_) std::cerr << "\r\x1b[K" << std::flush;
    shown_once_ = false;
  }

 private:
  bool enabled_;
  std::size_t files_;
  std::uint64_t bytes_;
  clock::time_point started_;
  clock::time_point shown_{};
  bool shown_once_ = false;
};

// Writes every answer where it belongs; later releases of one message get their own 277.
class replay_output final : public engine::answer_sink {
 public:
  replay_output(const options& o, engine::intake& intake, progress_line& progress)
      : intake_(intake),
        progress_(progress),
        at_{o.time_ms},
        x12_(o.out, false),
        fhir_(o.fhir_out, true),
        hl7_(o.hl7_out, true),
        decisions_(o.decisions, true) {}

  void x12(std::string_view text) override { x12_.write(text); }
  /// Everything written so far handed to the system (at an input file's end).
  void flush() {
    for (auto* o : {&x12_, &fhir_, &hl7_, &decisions_}) o->flush();
  }
  void fhir(std::string_view text) override {
    fhir_.write(text);
    fhir_.write("\n");
  }
  void hl7v2(std::string_view text) override {
    hl7_.write(text);
    hl7_.write("\n");
  }
  void on_event(const engine::event& e, bool later) override {
    if (decisions_.enabled() && e.kind != engine::event_kind::repeat) {
      line_.clear();
      model::append_json(line_, e.decision, e.claim().billing.npi, engine::name(e.kind), e.source);
      line_ += '\n';
      decisions_.write(line_);
    }
    if (later) {
      later_.push_back(e);
    } else if (e.kind != engine::event_kind::repeat) {
      ++first_answers_;  // one per claim read (a repeat is a duplicate answered again)
    }
  }
  [[nodiscard]] std::uint64_t claims_read() const noexcept { return first_answers_; }
  void finding(std::string_view line) override {
    progress_.clear();  // a finding never lands in the middle of the progress line
    std::cerr << line << '\n';
  }
  void message_end() override {
    if (later_.empty()) return;
    x12_.write(intake_.status_message(later_, at_));
    later_.clear();
  }

 private:
  engine::intake& intake_;
  progress_line& progress_;
  engine::message_time at_;
  output x12_, fhir_, hl7_, decisions_;
  std::vector<engine::event> later_;
  std::string line_;
  std::uint64_t first_answers_ = 0;
};

struct run_figures {
  std::size_t files = 0, skipped = 0;
  std::uint64_t bytes = 0, claims_read = 0;
  double seconds = 0;
};

std::string destination(const std::filesystem::path& path, std::string_view fallback) {
  return path.empty() || path == "-" ? std::string(fallback) : path.string();
}

// What the run did, for people: every outcome (zeros included, so a reader sees what did not
// happen), held claims per reason (a claim counts once per reason), time and throughput, and
// where each kind of answer went.
void print_summary(const engine::statistics& s, const run_figures& f, const options& o) {
  std::cerr << "covgate replay: " << f.files << " files (" << f.skipped << " skipped), "
            << fixed(static_cast<double>(f.bytes) / 1e6, 1) << " MB, " << s.claims << " claims ("
            << s.duplicates << " duplicates, " << s.replacements << " replacements, " << s.voids
            << " voids), " << s.facts << " facts\n";
  std::cerr << "  claims by outcome (open claims, as they stand at the end):\n";
  std::vector<std::pair<std::string_view, std::uint64_t>> outcomes;
  for (const auto outcome : model::outcomes) {
    outcomes.emplace_back(model::name(outcome), s.by_outcome[static_cast<std::size_t>(outcome)]);
  }
  std::sort(outcomes.begin(), outcomes.end());
  for (const auto& [name, n] : outcomes) std::cerr << "    " << name << ": " << n << '\n';
  std::vector<std::pair<std::string_view, std::uint64_t>> reasons;
  for (const auto& r : model::reasons()) {
    const auto n = s.by_reason[static_cast<std::size_t>(r.id)];
    if (n > 0) reasons.emplace_back(r.code, n);
  }
  std::sort(reasons.begin(), reasons.end());
  std::cerr << "  held claims by reason (a claim counts once per reason):"
            << (reasons.empty() ? " none\n" : "\n");
  for (const auto& [code, n] : reasons) std::cerr << "    " << code << ": " << n << '\n';
  const double seconds = std::max(f.seconds, 1e-6);
  std::cerr << "  elapsed " << duration_text(f.seconds) << ", "
            << fixed(static_cast<double>(f.claims_read) / seconds, 0) << " claims/s, "
            << fixed(static_cast<double>(f.bytes) / 1e6 / seconds, 1) << " MB/s\n";
  std::cerr << "  answers: X12 (277, 999/TA1) to " << destination(o.out, "stdout");
  if (!o.fhir_out.empty()) std::cerr << "; FHIR OperationOutcomes to " << o.fhir_out.string();
  if (!o.hl7_out.empty()) std::cerr << "; HL7 v2 ACKs to " << o.hl7_out.string();
  if (!o.decisions.empty()) std::cerr << "; decisions to " << o.decisions.string();
  if (!o.store.empty()) std::cerr << "; state kept in " << o.store.string();
  std::cerr << '\n';
}

// Chunks (a megabyte each) a file is read ahead of the gate when there are threads to spare.
constexpr std::size_t file_chunks_ahead = 4;

// NDJSON batches and X12 chunks read ahead of the gate (engine::intake_settings::read_ahead):
// one per core by default, as reading is much of the work of a file; none on one core. None
// with standard input among the inputs: a batch read ahead is answered only when the next one
// comes, and a live feed is answered as it comes.
unsigned read_threads(const options& o, const std::vector<input_file>& files) {
  if (o.read_threads) return *o.read_threads;
  const bool live =
      std::any_of(files.begin(), files.end(), [](const input_file& f) { return f.standard_input; });
  // On one core nothing is read in parallel, and handing what was read over costs (X12: 15 %).
  const auto cores = std::thread::hardware_concurrency();
  return live || cores < 2 ? 0 : std::min(cores, max_read_threads);
}

}  // namespace

int run_replay(const options& o) {
  const auto tables = load_tables(o.mappings);
  const auto policy = load_policy();
  // One process per store directory, as for serve.
  std::optional<server::store_lock> lock;
  if (!o.store.empty()) lock.emplace(o.store);
  std::unique_ptr<engine::state> state;
  store::sqlite_store* durable = nullptr;
  if (o.store.empty()) {
    state = std::make_unique<store::memory_state>();
  } else {
    auto sqlite = std::make_unique<store::sqlite_store>(o.store, true);
    durable = sqlite.get();
    state = std::move(sqlite);
  }
  const auto files = expand(o.paths);
  engine::intake_settings settings;
  settings.reader = o.reader;
  settings.profile = o.profile;
  settings.read_ahead = read_threads(o, files);
  std::optional<reading_threads> readers;  // outlives the intake, which borrows it
  if (settings.read_ahead > 0) settings.read_pool = &readers.emplace(settings.read_ahead);
  engine::intake intake(policy, tables, *state, settings);
  if (durable != nullptr) intake.restore();
  std::uint64_t total_bytes = 0;
  for (const auto& file : files) {
    std::error_code ec;
    if (!file.standard_input && file.problem.empty()) {
      const auto n = std::filesystem::file_size(file.path, ec);
      if (!ec) total_bytes += n;
    }
  }
  const auto started = clock::now();
  progress_line progress(o.progress.value_or(::isatty(STDERR_FILENO) == 1), files.size(),
                         total_bytes);
  replay_output out(o, intake, progress);
  run_figures figures;
  figures.files = files.size();
  bool any_rejected = false;
  std::string buffer;  // a chunk's, given to the input and handed back, file after file
  for (const auto& file : files) {
    file_reader reader;
    if (!reader.open(file)) {
      any_rejected = true;
      ++figures.skipped;
      continue;
    }
    // With a store, each file is one transaction: it is there whole after a crash, or not.
    if (durable != nullptr) durable->begin();
    auto input = intake.open(file.name(), {o.time_ms}, out);
    // With threads to read ahead, the file is read on one of its own too, a few chunks ahead:
    // the read calls' copies were a tenth of the gate thread's time in a day's replay (perf).
    if (settings.read_ahead > 0) reader.read_ahead(file_chunks_ahead);
    while (reader.next(buffer)) {
      input->put_buffer(buffer);  // the buffer given away, another handed back (no copy)
      // A stream on standard input may be a live feed: its answers go out as they come.
      if (file.standard_input) out.flush();
      progress.update(static_cast<std::size_t>(&file - files.data()),
                      figures.bytes + reader.consumed(), out.claims_read());
    }
    const auto result = input->finish();
    // The answers are out (or the run stops) before the store commits the file: a store that
    // kept claims whose answers were lost would not answer them again.
    out.flush();
    if (durable != nullptr) {
      durable->commit();
      // The WAL into the database file (no checkpoints run by themselves); one that fails is
      // tried again after the next file, and as the store closes.
      if (const auto due = durable->checkpoint()) std::cerr << "store: " << *due << '\n';
    }
    figures.bytes += reader.consumed();
    if (result.unrecognized) ++figures.skipped;
    any_rejected = any_rejected || result.rejected || result.unrecognized;
    if (!reader.failure().empty()) {
      progress.clear();
      std::cerr << file.name() << ": " << reader.failure() << '\n';
      any_rejected = true;
    }
    progress.update(static_cast<std::size_t>(&file - files.data()) + 1, figures.bytes,
                    out.claims_read());
  }
  progress.clear();
  figures.claims_read = out.claims_read();
  figures.seconds = std::chrono::duration<double>(clock::now() - started).count();
  print_summary(intake.summary(), figures, o);
  return any_rejected ? 1 : 0;
}

}  // namespace covgate::app
