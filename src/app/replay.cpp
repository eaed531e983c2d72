// covgate replay: files fed to the engine's intake in order, each kind of answer written to
// its own output, the state in memory or in a store that the next run continues.
#include <fstream>
#include <iostream>
#include <memory>
#include <optional>

#include "commands.hpp"
#include "covgate/engine/intake.hpp"
#include "covgate/model/decision_json.hpp"
#include "covgate/store/memory_state.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "inputs.hpp"
#include "load.hpp"

namespace covgate::app {
namespace {

// An output file, or stdout when no path is given (and nothing when `optional`).
class output {
 public:
  output(const std::filesystem::path& path, bool optional) {
    if (path.empty()) {
      if (!optional) stream_ = &std::cout;
      return;
    }
    file_.open(path, std::ios::binary);
    if (!file_) throw std::runtime_error("cannot write " + path.string());
    stream_ = &file_;
  }
  void write(std::string_view text) {
    if (stream_ != nullptr) stream_->write(text.data(), static_cast<std::streamsize>(text.size()));
  }
  [[nodiscard]] bool enabled() const noexcept { return stream_ != nullptr; }

 private:
  std::ofstream file_;
  std::ostream* stream_ = nullptr;
};

// Writes every answer where it belongs; later releases of one message get their own 277.
class replay_output final : public engine::answer_sink {
 public:
  replay_output(const options& o, engine::intake& intake)
      : intake_(intake),
        at_{o.time_ms},
        x12_(o.out, false),
        fhir_(o.fhir_out, true),
        hl7_(o.hl7_out, true),
        decisions_(o.decisions, true) {}

  void x12(std::string_view text) override { x12_.write(text); }
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
      model::append_json(line_, e.decision, engine::name(e.kind), e.source);
      line_ += '\n';
      decisions_.write(line_);
    }
    if (later) later_.push_back(e);
  }
  void finding(std::string_view line) override { std::cerr << line << '\n'; }
  void message_end() override {
    if (later_.empty()) return;
    x12_.write(intake_.status_message(later_, at_));
    later_.clear();
  }

 private:
  engine::intake& intake_;
  engine::message_time at_;
  output x12_, fhir_, hl7_, decisions_;
  std::vector<engine::event> later_;
  std::string line_;
};

void print_summary(const engine::statistics& s) {
  std::cerr << "covgate replay: " << s.claims << " claims (" << s.duplicates << " duplicates, "
            << s.replacements << " replacements, " << s.voids << " voids), " << s.facts
            << " facts\n";
  // Outcomes and reasons in name order, as a reader scans them.
  std::vector<std::pair<std::string_view, std::uint64_t>> outcomes;
  for (const auto o : model::outcomes) {
    const auto n = s.by_outcome[static_cast<std::size_t>(o)];
    if (n > 0) outcomes.emplace_back(model::name(o), n);
  }
  std::sort(outcomes.begin(), outcomes.end());
  for (const auto& [name, n] : outcomes) std::cerr << "  " << name << ": " << n << '\n';
  std::vector<std::pair<std::string_view, std::uint64_t>> reasons;
  for (const auto& r : model::reasons()) {
    const auto n = s.by_reason[static_cast<std::size_t>(r.id)];
    if (n > 0) reasons.emplace_back(r.code, n);
  }
  std::sort(reasons.begin(), reasons.end());
  for (const auto& [code, n] : reasons) std::cerr << "    " << code << ": " << n << '\n';
}

}  // namespace

int run_replay(const options& o) {
  const auto tables = load_tables(o.mappings);
  const auto policy = load_policy();
  std::unique_ptr<engine::state> state;
  store::sqlite_store* durable = nullptr;
  if (o.store.empty()) {
    state = std::make_unique<store::memory_state>();
  } else {
    auto sqlite = std::make_unique<store::sqlite_store>(o.store, true);
    durable = sqlite.get();
    state = std::move(sqlite);
  }
  engine::intake_settings settings;
  settings.reader = o.reader;
  settings.profile = o.profile;
  engine::intake intake(policy, tables, *state, settings);
  if (durable != nullptr) intake.restore();
  replay_output out(o, intake);
  bool any_rejected = false;
  for (const auto& file : expand(o.paths)) {
    file_reader reader;
    if (!reader.open(file)) {
      any_rejected = true;
      continue;
    }
    // With a store, each file is one transaction: it is there whole after a crash, or not.
    if (durable != nullptr) durable->begin();
    auto input = intake.open(file.path.string(), {o.time_ms}, out);
    for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next()) input->put(chunk);
    const auto result = input->finish();
    if (durable != nullptr) {
      durable->commit();
      durable->checkpoint();  // the WAL into the database file (no checkpoints run by themselves)
    }
    any_rejected = any_rejected || result.rejected || result.unrecognized;
  }
  print_summary(intake.summary());
  return any_rejected ? 1 : 0;
}

}  // namespace covgate::app
