#include "covgate/fhir/reader.hpp"

#include <rapidjson/document.h>
#include <rapidjson/error/en.h>
#include <simdjson.h>
#include <boost/container/small_vector.hpp>

#include <algorithm>
#include <array>
#include <cstring>
#include <iterator>
#include <map>
#include <memory>
#include <pugixml.hpp>
#include <utility>

#include "covgate/model/json_writer.hpp"
#include "datatypes.hpp"
#include "element.hpp"
#include "json_parsers.hpp"

namespace covgate::fhir {
namespace {

constexpr std::string_view loinc_system = "http://loinc.org";
constexpr std::string_view nucc_system = "http://nucc.org/provider-taxonomy";
constexpr std::string_view npi_system = "http://hl7.org/fhir/sid/us-npi";
constexpr std::string_view icd10cm_system = "http://hl7.org/fhir/sid/icd-10-cm";
constexpr std::string_view snomed_system = "http://snomed.info/sct";

// Every resource type of FHIR R4 (4.0.1); anything else is "unknown resourceType".
constexpr std::array<std::string_view, 146> r4_resource_types{"Account",
                                                              "ActivityDefinition",
                                                              "AdverseEvent",
                                                              "AllergyIntolerance",
                                                              "Appointment",
                                                              "AppointmentResponse",
                                                              "AuditEvent",
                                                              "Basic",
                                                              "Binary",
                                                              "BiologicallyDerivedProduct",
                                                              "BodyStructure",
                                                              "Bundle",
                                                              "CapabilityStatement",
                                                              "CarePlan",
                                                              "CareTeam",
                                                              "CatalogEntry",
                                                              "ChargeItem",
                                                              "ChargeItemDefinition",
                                                              "Claim",
                                                              "ClaimResponse",
                                                              "ClinicalImpression",
                                                              "CodeSystem",
                                                              "Communication",
                                                              "CommunicationRequest",
                                                              "CompartmentDefinition",
                                                              "Composition",
                                                              "ConceptMap",
                                                              "Condition",
                                                              "Consent",
                                                              "Contract",
                                                              "Coverage",
                                                              "CoverageEligibilityRequest",
                                                              "CoverageEligibilityResponse",
                                                              "DetectedIssue",
                                                              "Device",
                                                              "DeviceDefinition",
                                                              "DeviceMetric",
                                                              "DeviceRequest",
                                                              "DeviceUseStatement",
                                                              "DiagnosticReport",
                                                              "DocumentManifest",
                                                              "DocumentReference",
                                                              "EffectEvidenceSynthesis",
                                                              "Encounter",
                                                              "Endpoint",
                                                              "EnrollmentRequest",
                                                              "EnrollmentResponse",
                                                              "EpisodeOfCare",
                                                              "EventDefinition",
                                                              "Evidence",
                                                              "EvidenceVariable",
                                                              "ExampleScenario",
                                                              "ExplanationOfBenefit",
                                                              "FamilyMemberHistory",
                                                              "Flag",
                                                              "Goal",
                                                              "GraphDefinition",
                                                              "Group",
                                                              "GuidanceResponse",
                                                              "HealthcareService",
                                                              "ImagingStudy",
                                                              "Immunization",
                                                              "ImmunizationEvaluation",
                                                              "ImmunizationRecommendation",
                                                              "ImplementationGuide",
                                                              "InsurancePlan",
                                                              "Invoice",
                                                              "Library",
                                                              "Linkage",
                                                              "List",
                                                              "Location",
                                                              "Measure",
                                                              "MeasureReport",
                                                              "Media",
                                                              "Medication",
                                                              "MedicationAdministration",
                                                              "MedicationDispense",
                                                              "MedicationKnowledge",
                                                              "MedicationRequest",
                                                              "MedicationStatement",
                                                              "MedicinalProduct",
                                                              "MedicinalProductAuthorization",
                                                              "MedicinalProductContraindication",
                                                              "MedicinalProductIndication",
                                                              "MedicinalProductIngredient",
                                                              "MedicinalProductInteraction",
                                                              "MedicinalProductManufactured",
                                                              "MedicinalProductPackaged",
                                                              "MedicinalProductPharmaceutical",
                                                              "MedicinalProductUndesirableEffect",
                                                              "MessageDefinition",
                                                              "MessageHeader",
                                                              "MolecularSequence",
                                                              "NamingSystem",
                                                              "NutritionOrder",
                                                              "Observation",
                                                              "ObservationDefinition",
                                                              "OperationDefinition",
                                                              "OperationOutcome",
                                                              "Organization",
                                                              "OrganizationAffiliation",
                                                              "Parameters",
                                                              "Patient",
                                                              "PaymentNotice",
                                                              "PaymentReconciliation",
                                                              "Person",
                                                              "PlanDefinition",
                                                              "Practitioner",
                                                              "PractitionerRole",
                                                              "Procedure",
                                                              "Provenance",
                                                              "Questionnaire",
                                                              "QuestionnaireResponse",
                                                              "RelatedPerson",
                                                              "RequestGroup",
                                                              "ResearchDefinition",
                                                              "ResearchElementDefinition",
                                                              "ResearchStudy",
                                                              "ResearchSubject",
                                                              "RiskAssessment",
                                                              "RiskEvidenceSynthesis",
                                                              "Schedule",
                                                              "SearchParameter",
                                                              "ServiceRequest",
                                                              "Slot",
                                                              "Specimen",
                                                              "SpecimenDefinition",
                                                              "StructureDefinition",
                                                              "StructureMap",
                                                              "Subscription",
                                                              "Substance",
                                                              "SubstanceNucleicAcid",
                                                              "SubstancePolymer",
                                                              "SubstanceProtein",
                                                              "SubstanceReferenceInformation",
                                                              "SubstanceSourceMaterial",
                                                              "SubstanceSpecification",
                                                              "SupplyDelivery",
                                                              "SupplyRequest",
                                                              "Task",
                                                              "TerminologyCapabilities",
                                                              "TestReport",
                                                              "TestScript",
                                                              "ValueSet",
                                                              "VerificationResult",
                                                              "VisionPrescription"};

static_assert(std::is_sorted(r4_resource_types.begin(), r4_resource_types.end()));

// A binary search: a linear one compared an Observation with 95 names first.
bool known_type(std::string_view type) {
  return std::binary_search(r4_resource_types.begin(), r4_resource_types.end(), type);
}

// The resource types the mapper reads, each with its own function below.
enum class mapped_type : std::uint8_t {
  observation,
  encounter,
  patient,
  practitioner,
  practitioner_role,
  condition,
  bundle,
  other,  // a known type the rules do not read, or an unknown one
};

// Compared before known_type() is asked: nearly every resource is one of these, and the
// binary search over every R4 name, then a compare per type to pick the mapping, cost 2 % of
// reading a day's records (one compare of this list and a switch, callgrind).
mapped_type mapped_type_of(std::string_view type) {
  static constexpr std::pair<std::string_view, mapped_type> names[] = {
      {"Observation", mapped_type::observation},
      {"Encounter", mapped_type::encounter},
      {"Patient", mapped_type::patient},
      {"Practitioner", mapped_type::practitioner},
      {"PractitionerRole", mapped_type::practitioner_role},
      {"Condition", mapped_type::condition},
      {"Bundle", mapped_type::bundle},
  };
  for (const auto& [name, mapped] : names) {
    if (name == type) return mapped;
  }
  return mapped_type::other;
}

std::string str(std::optional<std::string_view> v) { return v ? std::string(*v) : std::string{}; }

// Resources a reference can point at inside one message: Bundle entries by fullUrl and by
// Type/id, and the current resource's contained resources by #id.
struct message_index {
  std::map<std::string, element, std::less<>> by_url;
  std::map<std::string, std::string, std::less<>> url_to_id;  // fullUrl → Type/id
};

class mapper {
 public:
  /// Maps one document into `out`, after whatever `out` holds already (earlier NDJSON lines):
  /// the resource limit and the error count are this document's own.
  mapper(const mapping::tables& tables, const read_limits& limits, read_result& out)
      : tables_(tables), limits_(limits), out_(out), counted_(out.issues.size()) {}

  void resource(const element& r, const std::string& path, std::size_t depth,
                std::string_view full_url = {}) {
    full_url_ = full_url;
    ++out_.resources;
    if (++resources_ > limits_.max_resources) {
      if (resources_ == limits_.max_resources + 1) {
        add(severity::error, "too-costly", "more resources than the configured limit", path);
        out_.rejected = true;
      }
      return;
    }
    if (!r.is_object()) {
      add(severity::error, "structure", "a resource must be an object", path);
      ++out_.invalid;
      return;
    }
    const auto type = r.resource_type();
    if (type.empty()) {
      add(severity::error, "required", "resourceType is missing", path);
      ++out_.invalid;
      return;
    }
    const auto mapped = mapped_type_of(type);
    if (mapped == mapped_type::other && !known_type(type)) {
      add(severity::error, "not-supported", "unknown resourceType '" + std::string(type) + "'",
          path);
      ++out_.invalid;
      return;
    }
    current_ = r;
    contained_indexed_ = false;
    const std::size_t facts_before = out_.facts.size();
    const std::size_t errors_before = error_count();
    check_datatypes(r, type, path, out_.issues);
    switch (mapped) {
      case mapped_type::bundle:
        return bundle(r, path, depth);
      case mapped_type::observation:
        observation(r, path);
        break;
      case mapped_type::encounter:
        encounter(r, path);
        break;
      case mapped_type::patient:
        patient(r, path);
        break;
      case mapped_type::practitioner:
        practitioner(r, path);
        break;
      case mapped_type::practitioner_role:
        practitioner_role(r, path);
        break;
      case mapped_type::condition:
        condition(r, path);
        break;
      case mapped_type::other:
        ++out_.ignored;
        return;  // a valid resource of a type the rules do not read (MessageHeader, Specimen…)
    }
    if (error_count() > errors_before) {
      ++out_.invalid;
      out_.facts.resize(facts_before);
    } else if (out_.facts.size() > facts_before) {
      ++out_.mapped;
    } else {
      ++out_.ignored;
    }
  }

 private:
  // ---- issues ------------------------------------------------------------------------------
  void add(severity level, std::string code, std::string diagnostics, std::string expression) {
    out_.issues.push_back({level, std::move(code), std::move(diagnostics), std::move(expression)});
  }
  // Errors so far, counted incrementally: a Bundle of many resources asks after each one.
  std::size_t error_count() {
    for (; counted_ < out_.issues.size(); ++counted_) {
      if (out_.issues[counted_].level <= severity::error) ++errors_;
    }
    return errors_;
  }
  // A required string element's text: absent or empty is "required"; a wrong type was
  // already named by check_datatypes, so it only stops the mapping here (nullopt both ways).
  std::optional<std::string_view> require_string(const element& r, std::string_view name,
                                                 const std::string& path) {
    const auto member = r.child(name);  // looked up once for every question
    if (member.is_json() && member.primitive_type() != element::json_type::string) return {};
    const auto text = member.text();
    if (!text || text->empty()) {
      add(severity::error, "required", std::string(name) + " is required",
          path + "." + std::string(name));
      return {};
    }
    return text;
  }

  // ---- references --------------------------------------------------------------------------
  /// "Type/id"; a resource without an id is known by its fullUrl ("Type/urn:uuid:…").
  std::string identity(const element& r, std::string_view full_url) const {
    const auto type = r.resource_type();
    const auto id = r.string("id");
    const auto tail = id && !id->empty() ? *id : full_url;
    // Sized once: a chain of + allocated a temporary per step.
    std::string out;
    out.reserve(type.size() + 1 + tail.size());
    out.append(type).append("/").append(tail);
    return out;
  }
  /// The identity of the resource being mapped.
  std::string identity(const element& r) const { return identity(r, full_url_); }

  /// Normalizes a reference to "Type/id" (or "#id" for contained ones it cannot place).
  std::string normalize(std::string_view ref) const {
    if (ref.empty()) return {};
    if (ref.front() == '#') return std::string(ref);
    if (const auto it = index_.url_to_id.find(ref); it != index_.url_to_id.end()) {
      return it->second;
    }
    if (ref.find("://") != std::string_view::npos) {
      // Absolute URL: [base]/Type/id[/_history/vid]
      if (const auto history = ref.find("/_history/"); history != std::string_view::npos) {
        ref = ref.substr(0, history);
      }
      const auto last = ref.rfind('/');
      if (last == std::string_view::npos || last == 0) return std::string(ref);
      const auto before = ref.rfind('/', last - 1);
      return std::string(ref.substr(before == std::string_view::npos ? 0 : before + 1));
    }
    return std::string(ref);
  }

  /// The contained resources of the resource being mapped, by "#id": indexed when a reference
  /// first asks, since few resources have any and looking for the member costs a walk over
  /// every member of each resource (1.4 % of reading a day's records).
  void index_contained() const {
    if (contained_indexed_) return;
    contained_indexed_ = true;
    contained_.clear();
    for (const auto& c : current_.resources("contained")) {
      if (const auto id = c.string("id")) contained_["#" + std::string(*id)] = c;
    }
  }

  /// The resource a reference points at inside this message, if any.
  element resolve(std::string_view ref) const {
    if (ref.empty()) return {};
    if (ref.front() == '#') {
      index_contained();
      const auto it = contained_.find(ref);
      return it == contained_.end() ? element{} : it->second;
    }
    if (const auto it = index_.by_url.find(ref); it != index_.by_url.end()) return it->second;
    const auto normalized = normalize(ref);
    if (const auto it = index_.by_url.find(normalized); it != index_.by_url.end()) {
      return it->second;
    }
    return {};
  }

  /// Fills a fact's patient reference and, when the message says who it is, its key.
  void subject(const element& r, std::string_view field, const std::string& path,
               std::string& patient, std::string& key) {
    const auto ref = r.child(field);
    if (!ref.exists()) return;
    if (const auto reference = ref.string("reference")) {
      patient = normalize(*reference);
      if (const auto target = resolve(*reference); target.exists()) {
        key = patient_key(target);
        if (patient.front() == '#') patient = identity(target);
      }
      return;
    }
    if (const auto identifier = ref.child("identifier"); identifier.exists()) {
      const auto system = identifier.string("system");
      const auto value = identifier.string("value");
      for (const auto& s : tables_.patient_identifier_systems()) {
        if (system == s && value) {
          key = std::string(*value);
          constexpr std::string_view prefix = "Patient?identifier=";
          patient.reserve(prefix.size() + s.size() + 1 + key.size());
          patient.assign(prefix).append(s).append("|").append(key);
          return;
        }
      }
      add(severity::warning, "not-found",
          "logical reference uses an identifier system that makes no patient key",
          path + "." + std::string(field) + ".identifier");
    }
  }

  std::string patient_key(const element& p) const {
    for (const auto& system : tables_.patient_identifier_systems()) {
      for (const auto& id : p.children("identifier")) {
        if (id.string("system") == system) {
          if (const auto value = id.string("value")) return std::string(*value);
        }
      }
    }
    return {};
  }

  // ---- shared value readers ----------------------------------------------------------------
  struct coding {
    std::string_view system, code;
  };
  // Views into the document, four kept in place: nearly every CodeableConcept has one or two
  // codings, and each one read took a heap list (0.5 % of reading a day's records).
  using coding_list = boost::container::small_vector<coding, 4>;
  static coding_list codings(const element& codeable) {
    coding_list out;
    codeable.for_each_member("coding", [&out](const element& c, std::size_t, bool) {
      out.push_back({c.string("system").value_or(""), c.string("code").value_or("")});
    });
    return out;
  }

  static model::moment when(const element& r, std::initializer_list<std::string_view> fields) {
    for (const auto field : fields) {
      std::optional<std::string_view> text;
      if (field == "effectivePeriod" || field == "period" || field == "onsetPeriod") {
        text = r.child(field).string("start");
      } else {
        text = r.string(field);
      }
      if (text) {
        if (const auto m = model::parse_fhir_datetime(*text)) return *m;
      }
    }
    return {};
  }

  // ---- Bundle ------------------------------------------------------------------------------
  void bundle(const element& b, const std::string& path, std::size_t depth) {
    if (depth >= limits_.max_bundle_depth) {
      add(severity::error, "too-costly", "Bundles nested deeper than the configured limit", path);
      ++out_.invalid;
      return;
    }
    const auto type = b.string("type").value_or("");
    if (type.empty()) {
      add(severity::error, "required", "type is required", path + ".type");
      ++out_.invalid;
      return;
    }
    const auto entries = b.children("entry");
    if (type == "message" &&
        (entries.empty() || entries.front().resources("resource").empty() ||
         entries.front().resources("resource").front().resource_type() != "MessageHeader")) {
      add(severity::error, "structure", "a message Bundle starts with a MessageHeader",
          path + ".entry[0]");
      ++out_.invalid;
      return;
    }
    ++out_.ignored;  // the Bundle itself gives no fact; its entries may
    const message_index saved = index_;
    for (const auto& entry : entries) {
      const auto full_url = entry.string("fullUrl").value_or("");
      for (const auto& r : entry.resources("resource")) {
        const auto id = identity(r, full_url);
        index_.by_url[id] = r;
        if (!full_url.empty()) {
          index_.by_url[std::string(full_url)] = r;
          index_.url_to_id[std::string(full_url)] = id;
        }
      }
    }
    const std::size_t facts_before = out_.facts.size();
    const std::size_t errors_before = error_count();
    for (std::size_t i = 0; i < entries.size(); ++i) {
      const auto entry_path = path + ".entry[" + std::to_string(i) + "]";
      const auto method = entries[i].child("request").string("method").value_or("");
      const auto resources = entries[i].resources("resource");
      if (resources.empty()) {
        if (method == "DELETE" || method == "GET" || method == "HEAD") continue;
        if (type == "transaction" || type == "batch") {
          add(severity::error, "required", "entry.resource is required", entry_path);
        }
        continue;
      }
      resource(resources.front(), entry_path + ".resource", depth + 1,
               entries[i].string("fullUrl").value_or(""));
    }
    if (type == "transaction" && error_count() > errors_before) {
      // All or nothing: one refused entry refuses the transaction.
      out_.facts.resize(facts_before);
      add(severity::error, "processing", "transaction refused: an entry has errors", path);
      out_.rejected = true;
    }
    index_ = saved;
  }

  // ---- Observation -------------------------------------------------------------------------
  void observation(const element& o, const std::string& path) {
    const auto status_text = require_string(o, "status", path);
    const auto code = o.child("code");
    if (!code.exists() || !code.is_object()) {
      add(severity::error, "required", "code is required", path + ".code");
      return;
    }
    if (!status_text) return;
    const auto status = *status_text;
    std::string patient, key;
    subject(o, "subject", path, patient, key);
    const auto id = identity(o);
    if (status == "entered-in-error") {
      out_.facts.emplace_back(model::retraction{id, patient, key});
      return;
    }
    if (status != "final" && status != "amended" && status != "corrected") {
      add(severity::information, "informational",
          "status '" + std::string(status) + "' does not count (final, amended, corrected do)",
          path + ".status");
      return;
    }
    const auto effective =
        when(o, {"effectiveDateTime", "effectiveInstant", "effectivePeriod", "issued"});
    const auto last_updated = str(o.child("meta").string("lastUpdated"));
    const std::size_t before = out_.facts.size();
    observation_code(o, code, path, id, patient, key, effective, std::string(status), last_updated);
    o.for_each_member("component", [&](const element& component, std::size_t i, bool) {
      const auto component_path = path + ".component[" + std::to_string(i) + "]";
      observation_code(component, component.child("code"), component_path,
                       id + "#component[" + std::to_string(i) + "]", patient, key, effective,
                       std::string(status), last_updated);
    });
    if (out_.facts.size() == before) {
      add(severity::information, "informational",
          "no code the coverage rules read (LOINC in loinc.json or an evidence code)",
          path + ".code");
      return;
    }
    if (patient.empty()) {
      out_.facts.resize(before);
      add(severity::warning, "required", "subject is required to link the result to a patient",
          path + ".subject");
      return;
    }
    if (!effective.valid()) {
      out_.facts.resize(before);
      add(severity::warning, "required",
          "effective[x] or issued is required: the rules compare dates", path + ".effective");
    }
  }

  void observation_code(const element& o, const element& code, const std::string& path,
                        const std::string& id, const std::string& patient, const std::string& key,
                        const model::moment& effective, const std::string& status,
                        const std::string& last_updated) {
    for (const auto& c : codings(code)) {
      if (c.system == loinc_system) {
        if (const auto info = tables_.loinc(c.code)) {
          lab(o, path, *info, std::string(c.code), id, patient, key, effective, status,
              last_updated);
          return;
        }
      }
      if (const auto ev = tables_.evidence(c.system, c.code)) {
        evidence_value(o, path, *ev, id, patient, key, effective, last_updated);
        return;
      }
    }
  }

  void lab(const element& o, const std::string& path, const mapping::loinc_info& info,
           std::string loinc, const std::string& id, const std::string& patient,
           const std::string& key, const model::moment& effective, const std::string& status,
           const std::string& last_updated) {
    model::lab_result r;
    r.resource_id = id;
    r.patient = patient;
    r.patient_key = key;
    r.kind = info.kind;
    r.loinc = std::move(loinc);
    r.effective = effective;
    r.status = status;
    r.last_updated = last_updated;
    r.fasting = info.fasting ? model::fasting_state::fasting : specimen_fasting(o);
    const auto quantity = o.child("valueQuantity");
    if (quantity.exists()) {
      const auto value = quantity.number("value");
      if (!value) {
        // Present but not a decimal: check_datatypes named it already.
        if (!quantity.child("value").exists()) {
          add(severity::error, "required", "valueQuantity.value is required",
              path + ".valueQuantity.value");
        }
        return;
      }
      r.has_value = true;
      r.original_value = *value;
      r.original_unit = str(quantity.string("code"));
      if (r.original_unit.empty()) r.original_unit = str(quantity.string("unit"));
      if (const auto c = tables_.to_canonical(info.kind, r.original_unit, *value)) {
        r.value = c->value;
        r.unit = std::string(c->unit);
        r.unit_known = true;
      } else {
        r.value = *value;
        r.unit = r.original_unit;
        add(severity::warning, "code-invalid",
            "unit '" + r.original_unit + "' is not listed for " +
                std::string(mapping::quantity_of(info.kind)) + " in units.json: kept, flagged",
            path + ".valueQuantity.code");
      }
      const auto range = o.child("referenceRange");
      auto bound = [&](std::string_view which) -> std::optional<double> {
        const auto q = range.child(which);
        const auto v = q.number("value");
        if (!v) return std::nullopt;
        auto unit = str(q.string("code"));
        if (unit.empty()) unit = str(q.string("unit"));
        if (unit.empty()) unit = r.original_unit;
        const auto c = tables_.to_canonical(info.kind, unit, *v);
        return c ? std::optional<double>{c->value} : std::nullopt;
      };
      r.low = bound("low");
      r.high = bound("high");
    } else if (const auto codeable = o.child("valueCodeableConcept"); codeable.exists()) {
      for (const auto& c : codings(codeable)) {
        if (c.code == "POS" || c.code == "10828004" || c.code == "positive") {
          r.interpretation.emplace_back("POS");
        } else if (c.code == "NEG" || c.code == "260385009" || c.code == "negative") {
          r.interpretation.emplace_back("NEG");
        }
      }
    }
    o.for_each_member("interpretation", [&r](const element& interp, std::size_t, bool) {
      for (const auto& c : codings(interp)) r.interpretation.emplace_back(c.code);
    });
    if (!r.has_value && r.interpretation.empty()) {
      add(severity::information, "informational",
          "no value or interpretation (dataAbsentReason or an unsupported value[x])",
          path + ".value");
      return;
    }
    out_.facts.emplace_back(std::move(r));
  }

  model::fasting_state specimen_fasting(const element& o) const {
    const auto ref = o.child("specimen").string("reference");
    if (!ref) return model::fasting_state::unknown;
    const auto specimen = resolve(*ref);
    for (const auto& c :
         codings(specimen.child("collection").child("fastingStatusCodeableConcept"))) {
      if (c.code == "F") return model::fasting_state::fasting;
      if (c.code == "NF") return model::fasting_state::not_fasting;
    }
    return model::fasting_state::unknown;
  }

  void evidence_value(const element& o, const std::string& path, std::string_view code,
                      const std::string& id, const std::string& patient, const std::string& key,
                      const model::moment& effective, const std::string& last_updated) {
    model::evidence e;
    e.resource_id = id;
    e.patient = patient;
    e.patient_key = key;
    e.code = std::string(code);
    e.value_type = std::string(tables_.evidence_value_type(code));
    e.effective = effective;
    e.last_updated = last_updated;
    if (const auto flag = o.boolean("valueBoolean")) {
      e.flag = *flag;
    } else if (const auto q = o.child("valueQuantity").number("value")) {
      e.number = *q;
      e.flag = true;
    } else if (const auto n = o.number("valueInteger")) {
      e.number = *n;
      e.flag = true;
    } else if (const auto s = o.string("valueString")) {
      e.text = std::string(*s);
      e.flag = true;
    } else {
      add(severity::error, "required",
          "evidence '" + e.code + "' needs a value (" + e.value_type + ")", path + ".value");
      return;
    }
    if (e.value_type == "quantity" && e.number == 0 && !o.child("valueQuantity").exists() &&
        !o.child("valueInteger").exists()) {
      add(severity::error, "value", "evidence '" + e.code + "' must be a quantity",
          path + ".value");
      return;
    }
    out_.facts.emplace_back(std::move(e));
  }

  // ---- Encounter ---------------------------------------------------------------------------
  void encounter(const element& r, const std::string& path) {
    const auto status_text = require_string(r, "status", path);
    const auto cls = r.child("class");
    const auto class_code = cls.string("code");
    if (!cls.exists() || !class_code || class_code->empty()) {
      add(severity::error, "required", "class is required (a Coding)", path + ".class");
      return;
    }
    if (!status_text) return;
    model::encounter e;
    e.resource_id = identity(r);
    e.status = std::string(*status_text);
    e.class_code = std::string(*class_code);
    subject(r, "subject", path, e.patient, e.patient_key);
    if (e.status == "entered-in-error") {
      out_.facts.emplace_back(model::retraction{e.resource_id, e.patient, e.patient_key});
      return;
    }
    e.start = when(r, {"period"});
    if (const auto end = r.child("period").string("end")) {
      e.end = model::parse_fhir_datetime(*end).value_or(model::moment{});
    }
    e.last_updated = str(r.child("meta").string("lastUpdated"));
    for (const auto& p : r.children("participant")) {
      model::participant who;
      who.reference = normalize(p.child("individual").string("reference").value_or(""));
      for (const auto& t : p.children("type")) {
        for (const auto& c : codings(t)) who.roles.emplace_back(c.code);
      }
      const auto target = resolve(p.child("individual").string("reference").value_or(""));
      who.type = provider_type_of(target);
      if (!who.reference.empty()) e.participants.push_back(std::move(who));
    }
    for (const auto& l : r.children("location")) {
      if (const auto ref = l.child("location").string("reference")) {
        e.locations.push_back(normalize(*ref));
      }
    }
    if (e.patient.empty()) {
      add(severity::warning, "required", "subject is required to link the encounter",
          path + ".subject");
      return;
    }
    out_.facts.emplace_back(std::move(e));
  }

  // A PractitionerRole's own NUCC codes, else its Practitioner's qualifications: one hop at
  // most, and only to a Practitioner, so a role that references a role (a cycle in hostile
  // input) cannot recurse.
  mapping::provider_type provider_type_of(const element& target) const {
    if (!target.exists()) return mapping::provider_type::unknown;
    if (target.resource_type() == "Practitioner") return qualification_type(target);
    if (target.resource_type() != "PractitionerRole") return mapping::provider_type::unknown;
    const auto type = role_type(target);
    if (type != mapping::provider_type::unknown) return type;
    const auto practitioner =
        resolve(target.child("practitioner").string("reference").value_or(""));
    return practitioner.exists() && practitioner.resource_type() == "Practitioner"
               ? qualification_type(practitioner)
               : mapping::provider_type::unknown;
  }

  mapping::provider_type role_type(const element& role) const {
    for (const char* field : {"code", "specialty"}) {
      for (const auto& codeable : role.children(field)) {
        for (const auto& c : codings(codeable)) {
          if (c.system == nucc_system) return tables_.taxonomy(c.code);
        }
      }
    }
    return mapping::provider_type::unknown;
  }

  mapping::provider_type qualification_type(const element& practitioner) const {
    for (const auto& q : practitioner.children("qualification")) {
      for (const auto& c : codings(q.child("code"))) {
        const auto type = tables_.qualification(c.code);
        if (type != mapping::provider_type::unknown) return type;
      }
    }
    return mapping::provider_type::unknown;
  }

  // ---- Patient, Practitioner, PractitionerRole ---------------------------------------------
  void patient(const element& r, const std::string& /*path*/) {
    model::patient p;
    p.resource_id = identity(r);
    p.key = patient_key(r);
    for (const auto& id : r.children("identifier")) {
      p.identifiers.push_back(str(id.string("system")) + "|" + str(id.string("value")));
    }
    if (const auto birth = r.string("birthDate")) {
      if (const auto m = model::parse_fhir_datetime(*birth)) p.birth_date = m->day;
    }
    const auto gender = r.string("gender").value_or("");
    p.sex = gender == "female"    ? 'F'
            : gender == "male"    ? 'M'
            : gender == "other"   ? 'O'
            : gender == "unknown" ? 'U'
                                  : 0;
    out_.facts.emplace_back(std::move(p));
  }

  void practitioner(const element& r, const std::string& /*path*/) {
    model::practitioner p;
    p.resource_id = identity(r);
    for (const auto& id : r.children("identifier")) {
      if (id.string("system") == npi_system) p.npi = str(id.string("value"));
    }
    for (const auto& q : r.children("qualification")) {
      for (const auto& c : codings(q.child("code"))) p.qualifications.emplace_back(c.code);
    }
    p.type = qualification_type(r);
    out_.facts.emplace_back(std::move(p));
  }

  void practitioner_role(const element& r, const std::string& /*path*/) {
    model::practitioner_role p;
    p.resource_id = identity(r);
    p.practitioner = normalize(r.child("practitioner").string("reference").value_or(""));
    for (const char* field : {"code", "specialty"}) {
      for (const auto& codeable : r.children(field)) {
        for (const auto& c : codings(codeable)) {
          if (c.system == nucc_system) p.taxonomies.emplace_back(c.code);
        }
      }
    }
    p.type = provider_type_of(r);
    out_.facts.emplace_back(std::move(p));
  }

  // ---- Condition ---------------------------------------------------------------------------
  void condition(const element& r, const std::string& path) {
    const auto code = r.child("code");
    std::string patient, key;
    subject(r, "subject", path, patient, key);
    if (patient.empty()) {
      add(severity::error, "required", "subject is required", path + ".subject");
      return;
    }
    const auto id = identity(r);
    for (const auto& c : codings(r.child("verificationStatus"))) {
      if (c.code == "entered-in-error") {
        out_.facts.emplace_back(model::retraction{id, patient, key});
        return;
      }
    }
    const auto recorded = when(r, {"recordedDate", "onsetDateTime", "onsetPeriod"});
    const auto last_updated = str(r.child("meta").string("lastUpdated"));
    std::string clinical;
    for (const auto& c : codings(r.child("clinicalStatus"))) clinical = std::string(c.code);
    for (const auto& c : codings(code)) {
      if (const auto ev = tables_.evidence(c.system, c.code)) {
        model::evidence e;
        e.resource_id = id;
        e.patient = patient;
        e.patient_key = key;
        e.code = std::string(*ev);
        e.value_type = std::string(tables_.evidence_value_type(*ev));
        e.flag = clinical != "resolved" && clinical != "inactive";
        e.effective = recorded;
        e.last_updated = last_updated;
        out_.facts.emplace_back(std::move(e));
      }
      if (c.system == icd10cm_system || c.system == snomed_system) {
        model::condition d;
        d.resource_id = id;
        d.patient = patient;
        d.patient_key = key;
        d.system = std::string(c.system);
        d.code = std::string(c.code);
        d.code.erase(std::remove(d.code.begin(), d.code.end(), '.'), d.code.end());
        d.clinical_status = clinical;
        d.recorded = recorded;
        d.last_updated = last_updated;
        out_.facts.emplace_back(std::move(d));
      }
    }
    if (!code.exists()) {
      add(severity::information, "informational", "no code: nothing to read", path + ".code");
    }
  }

  const mapping::tables& tables_;
  const read_limits& limits_;
  read_result& out_;
  message_index index_;
  element current_;  // the resource being mapped
  // current_'s contained resources by "#id", once index_contained() has filled it.
  mutable std::map<std::string, element, std::less<>> contained_;
  mutable bool contained_indexed_ = false;
  std::string_view full_url_;  // of the Bundle entry being mapped, for identity()
  std::size_t counted_ = 0;    // issues already looked at by error_count()
  std::size_t resources_ = 0;  // in this document, for the limit
  std::size_t errors_ = 0;     // errors among them
};

// The memory JSON documents are parsed in, reused from one document to the next, so a line of
// NDJSON costs no allocation to parse: the copy of the text both parsers read (copied once per
// document), simdjson's parser and document (their buffers grow to the longest text and stay),
// and the block RapidJSON's pool and stack start in (RapidJSON's default document mallocs a
// 64 KiB pool and a stack per document and frees both after it; a document larger than the
// block continues in pool chunks of its own, freed with it). The block is made on RapidJSON's
// first use: most batches never need it.
class json_arena {
 public:
  [[nodiscard]] char* values() { return rapidjson_block(); }
  [[nodiscard]] char* stack() { return rapidjson_block() + values_size; }
  [[nodiscard]] simdjson::dom::parser& parser() noexcept { return parser_; }
  [[nodiscard]] simdjson::dom::document& document() noexcept { return document_; }
  /// `json` as a NUL-terminated copy the parsers may read past and RapidJSON may change.
  /// simdjson reads up to SIMDJSON_PADDING bytes past the end; RapidJSON's SSE2 scans load 16
  /// aligned bytes at a time and may read up to 15 past the NUL. The padding is zeroed, so no
  /// parser reads a byte nobody wrote.
  [[nodiscard]] char* text(std::string_view json) {
    if (text_.size() < json.size() + padding) text_.resize(json.size() + padding);
    if (!json.empty()) std::memcpy(text_.data(), json.data(), json.size());  // data() may be null
    std::memset(text_.data() + json.size(), 0, padding);
    return text_.data();
  }
  static constexpr std::size_t padding = std::max<std::size_t>(simdjson::SIMDJSON_PADDING, 16);
  static constexpr std::size_t values_size = 48u << 10;
  static constexpr std::size_t stack_size = 16u << 10;

 private:
  char* rapidjson_block() {
    if (!block_) block_ = std::make_unique_for_overwrite<char[]>(values_size + stack_size);
    return block_.get();
  }

  std::unique_ptr<char[]> block_;
  std::vector<char> text_;
  simdjson::dom::parser parser_;
  simdjson::dom::document document_;
};

using pooled_document =
    rapidjson::GenericDocument<rapidjson::UTF8<>, rapidjson::MemoryPoolAllocator<>,
                               rapidjson::MemoryPoolAllocator<>>;

// The largest text simdjson parses (read_json_document): 56 MiB reserved at most per reader.
constexpr std::size_t simdjson_max_bytes = 4u << 20;

void map_document(const element& root, const std::string& path_prefix,
                  const mapping::tables& tables, const read_limits& limits, read_result& out) {
  mapper m(tables, limits, out);
  m.resource(root, path_prefix.empty() ? std::string(root.resource_type()) : path_prefix, 0);
}

void read_json_document(std::string_view json, const std::string& path_prefix,
                        const mapping::tables& tables, const read_limits& limits, json_arena& arena,
                        read_result& out, json_parser parser = json_parser::simdjson_first) {
  char* const text = arena.text(json);
  // simdjson first: it parses a record twice as fast as RapidJSON's DOM in place. Not a text
  // over simdjson_max_bytes: simdjson reserves 14 bytes per byte of the text (its tape and
  // string buffer, sized for the worst case), a big Bundle gains little, and RapidJSON's DOM is
  // a few times the text.
  if (parser == json_parser::simdjson_first && json.size() <= simdjson_max_bytes &&
      arena.parser().parse_into_document(arena.document(), text, json.size(), false).error() ==
          simdjson::SUCCESS &&
      !json_tape::holds_float_zero(arena.document())) {
    return map_document(element(json_tape(arena.document())), path_prefix, tables, limits, out);
  }
  // What simdjson refuses goes to RapidJSON as before, so that every text is accepted or refused
  // as it was, in the same words: RapidJSON reads a few texts simdjson refuses (bytes that are
  // not UTF-8, text after the value, a lone low surrogate, an integer beyond 64 bits, nesting
  // deeper than 1024), and its refusals name the byte. The one kind of text simdjson reads and
  // RapidJSON refuses holds a zero with an exponent past a double's (0e400): a text with a
  // floating-point zero comes here too.
  rapidjson::MemoryPoolAllocator<> values(arena.values(), json_arena::values_size);
  rapidjson::MemoryPoolAllocator<> stack(arena.stack(), json_arena::stack_size);
  pooled_document document(&values, 1024, &stack);
  // Iterative parsing: nesting depth in the input never becomes recursion depth here. In place:
  // a NUL byte ends the text as it ended the length-bounded parse (a JSON text has none
  // outside its strings, and inside one it is refused either way). Not kParseFullPrecisionFlag,
  // though simdjson rounds every decimal correctly and RapidJSON's default mode reads some long
  // ones, and some with a large exponent, a few units off in the last place: in RapidJSON 1.1.0
  // that mode reads 0e-40 as 4.6e18 (passing zero to clz on the way), json_parsers_test.cpp.
  document.ParseInsitu<rapidjson::kParseIterativeFlag | rapidjson::kParseStopWhenDoneFlag>(text);
  if (document.HasParseError()) {
    out.issues.push_back({severity::fatal, "structure",
                          std::string("not valid JSON at byte ") +
                              std::to_string(document.GetErrorOffset()) + ": " +
                              rapidjson::GetParseError_En(document.GetParseError()),
                          path_prefix});
    out.rejected = true;
    return;
  }
  map_document(element(&document), path_prefix, tables, limits, out);
}

std::string root_path(const element& e) { return std::string(e.resource_type()); }

}  // namespace

bool read_result::has_errors() const noexcept {
  return rejected || std::any_of(issues.begin(), issues.end(),
                                 [](const issue& i) { return i.level <= severity::error; });
}

std::string_view name(severity s) noexcept {
  switch (s) {
    case severity::fatal:
      return "fatal";
    case severity::error:
      return "error";
    case severity::warning:
      return "warning";
    case severity::information:
      return "information";
  }
  return "error";
}

encoding sniff(std::string_view text) noexcept {
  std::size_t at = 0;
  if (text.substr(0, 3) == "\xEF\xBB\xBF") at = 3;
  while (at < text.size() &&
         (text[at] == ' ' || text[at] == '\n' || text[at] == '\r' || text[at] == '\t')) {
    ++at;
  }
  if (at < text.size() && text[at] == '<') return encoding::xml;
  // NDJSON: a newline followed by another '{' after the first top-level object closes.
  int depth = 0;
  bool in_string = false;
  for (std::size_t i = at; i < text.size(); ++i) {
    const char c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
      continue;
    }
    if (c == '"')
      in_string = true;
    else if (c == '{' || c == '[')
      ++depth;
    else if (c == '}' || c == ']') {
      if (--depth == 0) {
        for (std::size_t j = i + 1; j < text.size(); ++j) {
          if (text[j] == '{') return encoding::ndjson;
          if (text[j] != ' ' && text[j] != '\n' && text[j] != '\r' && text[j] != '\t') break;
        }
        return encoding::json;
      }
    }
  }
  return encoding::json;
}

namespace {

// The text after a UTF-8 byte order mark, if it starts with one.
std::string_view without_bom(std::string_view text) {
  return text.substr(0, 3) == "\xEF\xBB\xBF" ? text.substr(3) : text;
}

}  // namespace

// The shortest line a fact comes from in practice ({"resourceType":"Patient","id":"a"} and an
// identifier is longer): for sizing a batch's list of facts only.
constexpr std::size_t min_resource_line = 64;

namespace {

read_result read_lines(std::string_view text, std::size_t first_line, const mapping::tables& tables,
                       const read_limits& limits, json_parser parser) {
  read_result out;
  text = without_bom(text);
  // About a fact per line: room for them up front, so the batch's facts are not moved at every
  // doubling of the list. Bounded by the text's size, so a batch of blank lines reserves little.
  std::size_t lines = 1;  // counted with memchr: a byte-wise count cost 4 % of a replay
  for (auto at = text.find('\n'); at != std::string_view::npos; at = text.find('\n', at + 1)) {
    ++lines;
  }
  out.facts.reserve(std::min(lines, text.size() / min_resource_line + 1));
  json_arena arena;
  for (std::size_t line = first_line; !text.empty(); ++line) {
    const auto end = text.find('\n');
    auto row = text.substr(0, end);
    text.remove_prefix(end == std::string_view::npos ? text.size() : end + 1);
    while (!row.empty() && (row.back() == '\r' || row.back() == ' ')) row.remove_suffix(1);
    if (row.empty()) continue;
    // Each line is read straight into `out` (no result of its own to move its facts out of):
    // its issues are those from `first_issue` on, and `rejected` says this line was.
    const std::size_t first_issue = out.issues.size();
    if (row.size() > limits.max_bytes) {
      out.issues.push_back({severity::fatal, "too-costly",
                            "resource larger than the configured limit of " +
                                std::to_string(limits.max_bytes) + " bytes",
                            ""});
      out.rejected = true;
    } else {
      read_json_document(row, "", tables, limits, arena, out, parser);
    }
    for (auto i = out.issues.begin() + static_cast<std::ptrdiff_t>(first_issue);
         i != out.issues.end(); ++i) {
      i->diagnostics = "line " + std::to_string(line) + ": " + i->diagnostics;
    }
    // A refused line counts as invalid; the batch itself is not refused for it.
    if (out.rejected) ++out.invalid;
    out.rejected = false;
  }
  return out;
}

}  // namespace

read_result read_ndjson(std::string_view text, std::size_t first_line,
                        const mapping::tables& tables, const read_limits& limits) {
  return read_lines(text, first_line, tables, limits, json_parser::simdjson_first);
}

read_result read_ndjson(std::string_view text, json_parser parser, const mapping::tables& tables,
                        const read_limits& limits) {
  return read_lines(text, 1, tables, limits, parser);
}

read_result too_large(const read_limits& limits) {
  read_result out;
  out.issues.push_back(
      {severity::fatal, "too-costly",
       "message larger than the configured limit of " + std::to_string(limits.max_bytes) + " bytes",
       ""});
  out.rejected = true;
  return out;
}

read_result read_json(std::string_view text, json_parser parser, const mapping::tables& tables,
                      const read_limits& limits) {
  if (text.size() > limits.max_bytes) return too_large(limits);
  read_result out;
  json_arena arena;
  read_json_document(without_bom(text), "", tables, limits, arena, out, parser);
  return out;
}

namespace {

read_result read_xml(std::string_view text, const mapping::tables& tables,
                     const read_limits& limits) {
  if (text.size() > limits.max_bytes) return too_large(limits);
  text = without_bom(text);
  read_result out;
  pugi::xml_document document;
  const auto parsed = document.load_buffer(text.data(), text.size(),
                                           pugi::parse_default | pugi::parse_ws_pcdata_single);
  if (!parsed) {
    out.issues.push_back({severity::fatal, "structure",
                          std::string("not valid XML at byte ") + std::to_string(parsed.offset) +
                              ": " + parsed.description(),
                          ""});
    out.rejected = true;
    return out;
  }
  const auto root = document.document_element();
  if (std::string_view(root.attribute("xmlns").value()) != "http://hl7.org/fhir") {
    out.issues.push_back({severity::error, "structure",
                          "the root element is not in the FHIR namespace "
                          "(xmlns=\"http://hl7.org/fhir\")",
                          root.name()});
    out.rejected = true;
    return out;
  }
  mapper m(tables, limits, out);
  m.resource(element(root), root_path(element(root)), 0);
  return out;
}

}  // namespace

read_result read(std::string_view text, encoding how, const mapping::tables& tables,
                 const read_limits& limits) {
  switch (how) {
    case encoding::ndjson:
      return read_ndjson(text, 1, tables, limits);  // limits per line
    case encoding::json:
      return read_json(text, json_parser::simdjson_first, tables, limits);
    case encoding::xml:
      break;
  }
  return read_xml(text, tables, limits);
}

std::string operation_outcome_json(const read_result& result) {
  std::string out;
  model::json_writer w(out);
  w.begin_object().key("resourceType").value("OperationOutcome").key("issue").begin_array();
  if (result.issues.empty()) {
    w.begin_object().key("severity").value("information").key("code").value("informational");
    w.key("diagnostics").value("accepted").end_object();
  }
  for (const auto& i : result.issues) {
    w.begin_object().key("severity").value(name(i.level)).key("code").value(i.code);
    w.key("diagnostics").value(i.diagnostics);
    if (!i.expression.empty()) w.key("expression").begin_array().value(i.expression).end_array();
    w.end_object();
  }
  w.end_array().end_object();
  return out;
}

}  // namespace covgate::fhir
