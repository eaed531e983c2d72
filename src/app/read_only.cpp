#include "read_only.hpp"

#include <iostream>
#include <optional>

#include "covgate/engine/x12_feed.hpp"
#include "covgate/hl7v2/splitter.hpp"
#include "covgate/x12/ack_writer.hpp"
#include "inputs.hpp"
#include "reading_threads.hpp"

namespace covgate::app {
namespace {

// Prints every line of `text` prefixed with "file: " (finding lines name their input).
void print_lines(const std::string& file, std::string_view text) {
  std::size_t start = 0;
  while (start < text.size()) {
    auto end = text.find('\n', start);
    if (end == std::string_view::npos) end = text.size();
    std::cerr << file << ": " << text.substr(start, end - start) << '\n';
    start = end + 1;
  }
}

class x12_reading final : public engine::x12_input::handler {
 public:
  x12_reading(read_only_sink& out, std::string file, std::uint32_t& control)
      : out_(out), file_(std::move(file)), control_(control) {}
  void accepted_set(std::span<model::claim> claims, const x12::set_result&) override {
    out_.accepted_set(claims);
  }
  void interchange_end(const x12::interchange_result& result,
                       const engine::interchange_verdict& verdict) override {
    out_.interchange(result, verdict, control_++);
    print_lines(file_, x12::describe_findings(result));
    rejected = rejected || !verdict.all_accepted;
  }
  bool rejected = false;

 private:
  read_only_sink& out_;
  std::string file_;
  std::uint32_t& control_;
};

}  // namespace

bool read_inputs(const options& o, const mapping::tables& tables, read_only_sink& out,
                 bool read_ahead) {
  constexpr unsigned read_ahead_chunks = 2;
  std::optional<reading_threads> pool;  // made for the first X12 file
  bool any_rejected = false;
  std::uint32_t control = 1;
  const fhir::read_limits limits;
  for (const auto& file : expand(o.paths)) {
    file_reader reader;
    if (!reader.open(file)) {
      any_rejected = true;
      continue;
    }
    const auto name = file.name();
    auto chunk = reader.next();
    switch (engine::sniff(chunk)) {
      case engine::payload_kind::x12: {
        x12_reading handler(out, name, control);
        // Standard input is never read ahead: it may be a live feed, answered as it comes.
        const bool ahead = read_ahead && !file.standard_input;
        if (ahead && !pool) pool.emplace(1);
        engine::x12_feed input(handler, o.reader, {ahead ? &*pool : nullptr, read_ahead_chunks});
        input.put(chunk);
        std::string buffer;  // given to the feed and handed back: no copy of each chunk
        while (reader.next(buffer)) input.put_buffer(buffer);
        input.finish();
        if (input.leading_bytes_skipped() > 0) {
          std::cerr << name << ": note: skipped " << input.leading_bytes_skipped()
                    << " bytes of text before the first ISA\n";
        }
        any_rejected = any_rejected || handler.rejected || input.interchanges() == 0;
        break;
      }
      case engine::payload_kind::fhir: {
        fhir::read_result result;
        if (reader.size() > limits.max_bytes) {
          result = fhir::too_large(limits);  // refused by its size, before it is read
        } else {
          std::string text;
          for (; !chunk.empty() && text.size() <= limits.max_bytes; chunk = reader.next()) {
            text.append(chunk);
          }
          result = text.size() > limits.max_bytes
                       ? fhir::too_large(limits)
                       : fhir::read(text, fhir::sniff(text), tables, limits);
        }
        for (const auto& i : result.issues) {
          if (i.level == fhir::severity::information) continue;
          std::cerr << name << ": " << fhir::name(i.level) << " " << i.code << " at "
                    << (i.expression.empty() ? std::string("(message)") : i.expression) << ": "
                    << i.diagnostics << '\n';
        }
        out.fhir(result);
        any_rejected = any_rejected || result.has_errors();
        break;
      }
      case engine::payload_kind::hl7v2: {
        bool refused = false;
        hl7v2::message_splitter splitter(
            [&](std::string_view message, const hl7v2::message_info& where) {
              hl7v2::read_options options;
              options.first_line = where.line;
              const auto result =
                  where.oversize ? hl7v2::refuse(message, hl7v2::error::message_too_large, options)
                                 : hl7v2::read(message, tables, options);
              for (const auto& i : result.issues) {
                if (i.level == hl7v2::severity::information) continue;
                std::cerr << name << ": " << hl7v2::to_string(i) << '\n';
              }
              out.hl7v2(result, control++);
              refused = refused || result.ack() != hl7v2::ack_code::application_accept;
            },
            [&](const hl7v2::stream_notice& n) {
              std::cerr << name << ": line " << n.line << ": " << hl7v2::describe(n.code) << '\n';
            });
        for (; !chunk.empty(); chunk = reader.next()) splitter.put(chunk);
        splitter.finish();
        any_rejected = any_rejected || refused || splitter.messages() == 0;
        break;
      }
      case engine::payload_kind::mllp:
        std::cerr << name << ": a recording of MLLP frames: `covgate replay` reads it; skipped\n";
        any_rejected = true;
        break;
      case engine::payload_kind::unknown:
        std::cerr << name
                  << ": not X12 (ISA), FHIR (JSON or XML), HL7 v2 (MSH, FHS, BHS) or MLLP "
                     "frames: skipped\n";
        any_rejected = true;
        break;
    }
    if (!reader.failure().empty()) {
      std::cerr << name << ": " << reader.failure() << '\n';
      any_rejected = true;
    }
  }
  return any_rejected;
}

}  // namespace covgate::app
