// covgate route: where a cluster front would send each message of the files given (and
// which tokens the identities typed stand for), read as a front reads an HTTP body, with
// nothing published: the operator's answer to "why does this message wait, and where?".
// Patient data never appears in what it prints: a patient or an identity is shown as its
// keyed token (docs/cluster.md §2 and §4), which only the cluster's secret computes.
#include <iostream>
#include <stdexcept>

#include "commands.hpp"
#include "covgate/cluster/front_route.hpp"
#include "covgate/cluster/partition_key.hpp"
#include "covgate/cluster/subjects.hpp"
#include "covgate/hosting/cluster_node.hpp"
#include "covgate/model/json_writer.hpp"
#include "covgate/server/config.hpp"
#include "inputs.hpp"
#include "load.hpp"

namespace covgate::app {
namespace {

// Reads the whole file as a front would take it as one body; false (said) when it is skipped
// or larger than a front's body limit.
bool read_message(const input_file& file, std::size_t limit, std::string& out) {
  file_reader reader;
  if (!reader.open(file)) return false;
  out.clear();
  for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next()) {
    if (out.size() + chunk.size() > limit) {
      std::cerr << "covgate: " << file.name() << ": larger than http.body_limit (" << limit
                << " bytes): a front would not take it\n";
      return false;
    }
    out += chunk;
  }
  if (!reader.failure().empty()) {
    std::cerr << "covgate: " << file.name() << ": " << reader.failure() << '\n';
    return false;
  }
  return true;
}

class route_printer {
 public:
  route_printer(std::string secret, int partitions)
      : secret_(std::move(secret)), partitions_(partitions) {}

  void identity(std::string_view identity) {
    line_.clear();
    model::json_writer w(line_);
    w.begin_object();
    w.key("identity").value(true);
    write_identity(w, identity);
    w.end_object();
    emit();
  }

  void message(const std::string& file, const cluster::route_plan& plan) {
    if (!plan.refusal.empty()) {
      start(file, 0, 0);
      writer_->key("route").value("refused");
      writer_->key("why").value(plan.refusal);
      finish();
      return;
    }
    for (std::size_t piece = 0; piece < plan.pieces.size(); ++piece) {
      const auto& p = plan.pieces[piece];
      if (p.local || p.parts.empty()) {
        start(file, piece + 1, 0);
        // Refused whole, nothing to keep, or a later HL7 v2 message a part already carries.
        writer_->key("route").value(p.carried_by ? "with-piece" : "front");
        if (p.carried_by) writer_->key("carried_by").value(std::int64_t(*p.carried_by + 1));
        finish();
        continue;
      }
      for (std::size_t part = 0; part < p.parts.size(); ++part) {
        const auto& r = p.parts[part];
        start(file, piece + 1, part + 1);
        writer_->key("kind").value(cluster::kind_token(r.kind));
        if (p.reference) {
          writer_->key("route").value("reference");
          writer_->key("subject").value(cluster::reference_subject(r.kind));
        } else if (!r.patient_key.empty()) {
          const auto pkey = cluster::partition_key(secret_, r.patient_key);
          writer_->key("route").value("partition");
          writer_->key("partition")
              .value(std::int64_t{cluster::partition_of_token(pkey, partitions_)});
          writer_->key("patient_token").value(pkey);
        } else {
          writer_->key("route").value("identity");
          write_identity(*writer_, r.patient_identity);
        }
        if (!r.links.empty()) {
          writer_->key("links").begin_array();
          for (const auto& link : r.links) {
            writer_->value(cluster::identity_token(secret_, link));
          }
          writer_->end_array();
        }
        finish();
      }
    }
  }

 private:
  void write_identity(model::json_writer& w, std::string_view identity) {
    const auto token = cluster::identity_token(secret_, identity);
    w.key("identity_token").value(token);
    w.key("waits_on").value(cluster::wait_subjects_of(token));
  }
  void start(const std::string& file, std::size_t piece, std::size_t part) {
    line_.clear();
    writer_.emplace(line_);
    writer_->begin_object();
    writer_->key("file").value(file);
    if (piece > 0) writer_->key("piece").value(std::int64_t(piece));
    if (part > 0) writer_->key("part").value(std::int64_t(part));
  }
  void finish() {
    writer_->end_object();
    writer_.reset();
    emit();
  }
  void emit() {
    line_ += '\n';
    std::cout.write(line_.data(), static_cast<std::streamsize>(line_.size()));
  }

  std::string secret_;
  int partitions_;
  std::string line_;
  std::optional<model::json_writer> writer_;
};

}  // namespace

int run_route(const options& o) {
  const auto config = load_config(o.config);
  if (config.cluster.key_secret_env.empty()) {
    throw std::runtime_error(
        "route needs the cluster's key secret: --config FILE whose cluster.key_secret_env names "
        "the variable holding it");
  }
  route_printer print(hosting::key_secret_of(config.cluster), config.cluster.partitions);
  for (const auto& identity : o.identities) print.identity(identity);

  const auto tables = load_tables(o.mappings.empty() ? config.mappings : o.mappings);
  cluster::route_settings settings;
  settings.x12 = config.x12;
  settings.fhir = config.fhir;
  settings.hl7v2 = config.hl7v2;
  bool any_skipped = false;
  std::string message;
  for (const auto& file : expand(o.paths)) {
    if (!read_message(file, config.http.body_limit, message)) {
      any_skipped = true;
      continue;
    }
    const auto plan = cluster::plan_route(message, tables, settings, o.time_ms);
    any_skipped = any_skipped || !plan.refusal.empty();
    print.message(file.name(), plan);
  }
  std::cout.flush();
  if (!std::cout) throw std::runtime_error("cannot write stdout");
  return any_skipped ? 1 : 0;
}

}  // namespace covgate::app
