// covgate audit: the CSII documentation audit (docs/policy.md, action items 1 and 2) and the
// summary views of items 3, 4 and 6, over a store (--store DIR) or over files replayed into a
// throwaway store (PATH...), on --as-of; CSV or HTML to --out or stdout.
#include <fstream>
#include <iostream>

#include "commands.hpp"
#include "covgate/engine/intake.hpp"
#include "covgate/model/date.hpp"
#include "covgate/server/audit.hpp"
#include "covgate/store/sqlite_store.hpp"
#include "inputs.hpp"
#include "load.hpp"

namespace covgate::app {

int run_audit(const options& o) {
  constexpr std::int64_t day_ms = 86'400'000;
  const auto tables = load_tables(o.mappings);
  const auto policy = load_policy();
  // The audit's date; replayed files arrive at its start, so their history is reproducible.
  model::date as_of =
      model::date::from_days_since_epoch(static_cast<std::int32_t>(o.time_ms / day_ms));
  std::int64_t at_ms = o.time_ms;
  if (!o.as_of.empty()) {
    as_of = *model::parse_iso_date(o.as_of);
    at_ms = std::int64_t{as_of.days_since_epoch()} * day_ms;
  }
  if (!o.store.empty() && !std::filesystem::exists(o.store / "covgate.db")) {
    throw std::runtime_error("--store " + o.store.string() + " holds no covgate.db");
  }
  // A store is read as it is (its open creates nothing a serve would not); files go into a
  // private in-memory store.
  store::sqlite_store state(o.store.empty() ? std::filesystem::path(":memory:") : o.store, false);
  engine::intake_settings settings;
  settings.reader = o.reader;
  engine::intake intake(policy, tables, state, settings);
  bool any_rejected = false;
  if (!o.store.empty()) {
    intake.restore();
  } else {
    engine::answer_sink discard;
    for (const auto& file : expand(o.paths)) {
      file_reader reader;
      if (!reader.open(file)) {
        any_rejected = true;
        continue;
      }
      auto input = intake.open(file.path.string(), {at_ms}, discard);
      for (auto chunk = reader.next(); !chunk.empty(); chunk = reader.next()) input->put(chunk);
      const auto result = input->finish();
      any_rejected = any_rejected || result.rejected || result.unrecognized;
      if (!reader.failure().empty()) {
        std::cerr << file.name() << ": " << reader.failure() << '\n';
        any_rejected = true;
      }
    }
  }
  const auto report = server::build_audit(state, intake, as_of, policy, tables);
  const auto text = o.format == "html" ? server::audit_html(report) : server::audit_csv(report);
  if (o.out.empty()) {
    std::cout.write(text.data(), static_cast<std::streamsize>(text.size()));
    std::cout.flush();
  } else {
    std::ofstream out(o.out, std::ios::binary);
    out.write(text.data(), static_cast<std::streamsize>(text.size()));
    if (!out) throw std::runtime_error("cannot write " + o.out.string());
  }
  std::cerr << "covgate audit: " << report.csii.size() << " CSII patients as of " << as_of.iso()
            << "; " << report.heparin.size() << " external heparin claims, "
            << report.chemo_missing.size() << " liver chemotherapy claims missing the "
            << "resectability statement, " << report.implantable.size()
            << " implantable pump claims awaiting review\n";
  return any_rejected ? 1 : 0;
}

}  // namespace covgate::app
