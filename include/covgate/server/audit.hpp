// The documentation audit (`covgate audit`, GET /audit/csii): for every patient with an
// insulin-pump (CSII) claim, what the record documents on a date (docs/policy.md §3.2 items
// 2-4, read by policy::document_csii, the rules evaluate() applies), and three summary views
// over the claims: external heparin claims by setting, liver chemotherapy claims missing the
// resectability statement, implantable pump claims awaiting review. Read from a store and the
// engine's facts; written as CSV (the CSII rows), HTML (everything) or JSON (everything).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "covgate/engine/intake.hpp"
#include "covgate/policy/policy.hpp"
#include "covgate/store/sqlite_store.hpp"

namespace covgate::server {

/// One CSII patient.
struct csii_audit_row {
  std::string patient;                    ///< the patient key (member id)
  policy::csii_documentation doc;         ///< on the audit's date
  std::uint32_t claims = 0;               ///< CSII claims (voided ones not counted)
  model::date latest_dos;                 ///< of those claims
  std::uint32_t open_holds = 0;           ///< of the patient's claims, CSII or not
  std::vector<std::string> hold_reasons;  ///< reason codes of those holds, each once
};

/// A claim of one of the summary views.
struct audit_claim {
  std::string id;
  std::string billing_npi;  ///< with id, names the claim (model::claim_key); "" when none
  std::string patient;
  model::date dos;
  model::outcome result = model::outcome::release;
  bool closed = false;
  std::string setting;  ///< heparin: the line's setting (home, inpatient-or-snf, outpatient…)
  std::string place;    ///< the place of service, or "bill type NNN" (837I)
  std::string detail;   ///< the finding's detail (implantable: what is missing), or ""
  std::int64_t since_ms = 0;
};

struct audit_report {
  model::date as_of;
  std::vector<csii_audit_row> csii;        ///< by patient key
  std::vector<audit_claim> heparin;        ///< action item 3: external heparin claims
  std::vector<audit_claim> chemo_missing;  ///< action item 4: open, resectability missing
  std::vector<audit_claim> implantable;    ///< action item 6: open implantable reviews
};

/// Builds the report from every claim in `store` and the facts `intake` holds, on `as_of`.
[[nodiscard]] audit_report build_audit(const store::sqlite_store& store,
                                       const engine::intake& intake, const model::date& as_of,
                                       const policy::policy_file& policy,
                                       const mapping::tables& tables);

class durable_gate;
struct server_config;

/// The audit of a server's store as GET /audit/csii reads it: a store in a directory from a
/// connection and an engine of its own over the committed state (SQLite WAL gives it a
/// consistent snapshot), so the gate's lock, which every arriving message needs, is not held
/// while every claim and patient is read; an in-memory store through the gate. Throws
/// std::exception when the store cannot be read (busy past its timeout, or damaged).
[[nodiscard]] audit_report build_store_audit(const server_config& config, durable_gate& gate,
                                             const model::date& as_of,
                                             const policy::policy_file& policy,
                                             const mapping::tables& tables);

/// The formats the audit is written in.
enum class audit_format : std::uint8_t { json, csv, html };
/// "json", "csv", "html": the format's name in GET /audit/csii?format= and on the cluster's
/// wire (a name, not the enum's number, so a reordering cannot change what a peer reads).
[[nodiscard]] std::string_view name(audit_format format) noexcept;
/// The format of that name, or nullopt.
[[nodiscard]] std::optional<audit_format> audit_format_named(std::string_view text) noexcept;

/// The audit's rows, each already written in one format, with what the lists are sorted by
/// (and the heparin summary counted by): what a cluster worker sends of each partition it
/// holds and a front puts together (docs/cluster.md §5h), so the front needs neither the
/// claims nor the facts. Pure.
struct audit_rows {
  struct csii_row {
    std::string patient;
    std::string text;
  };
  struct claim_row {
    std::string id;
    std::int64_t since_ms = 0;
    std::string setting;
    bool released = false;
    std::string text;
  };
  model::date as_of;
  std::vector<csii_row> csii;  ///< by patient key
  std::vector<claim_row> heparin, chemo_missing, implantable;
};

/// `report`'s rows written in `format` (CSV has only the CSII rows).
[[nodiscard]] audit_rows audit_rows_of(const audit_report& report, audit_format format);
/// Adds the rows of `part` (another store's, another partition's) and sorts each list as
/// build_audit does: CSII rows by patient, heparin claims by setting then id, the others
/// oldest first then by id.
void merge_audit_rows(audit_rows& into, audit_rows&& part);
/// The whole document from its rows: for the rows of one report, audit_json(), audit_csv()
/// or audit_html() of that report, byte for byte.
[[nodiscard]] std::string write_audit(const audit_rows& rows, audit_format format);
/// The rows as the cluster sends them (one JSON object), and their reading: nullopt for
/// anything that is not such an object.
[[nodiscard]] std::string encode_audit_rows(const audit_rows& rows);
[[nodiscard]] std::optional<audit_rows> decode_audit_rows(std::string_view text);

/// The CSII rows as CSV (RFC 4180, CRLF-free: one row per line). The header starts with
/// patient,insulinopenia_documented,physician_visit_within_3_months,npp_visits_only.
[[nodiscard]] std::string audit_csv(const audit_report& report);
/// Everything as one HTML document (no script; every value escaped).
[[nodiscard]] std::string audit_html(const audit_report& report);
/// Everything as JSON (the worklist's audit page reads it).
[[nodiscard]] std::string audit_json(const audit_report& report);

}  // namespace covgate::server
