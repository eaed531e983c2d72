#include "covgate/model/codes.hpp"

#include <array>

namespace covgate::model {
namespace {

constexpr std::array<std::string_view, 15> lab_kind_names{"unknown",
                                                          "c-peptide",
                                                          "c-peptide-fasting",
                                                          "fasting-glucose",
                                                          "glucose",
                                                          "creatinine-clearance",
                                                          "serum-creatinine",
                                                          "egfr",
                                                          "gad65-antibody",
                                                          "ia2-antibody",
                                                          "insulin-antibody",
                                                          "znt8-antibody",
                                                          "islet-cell-antibody",
                                                          "hba1c",
                                                          "body-weight"};
static_assert(lab_kind_names.size() == static_cast<std::size_t>(lab_kind::body_weight) + 1);

constexpr std::array<std::string_view, 6> provider_names{"unknown",
                                                         "physician",
                                                         "nurse-practitioner",
                                                         "physician-assistant",
                                                         "clinical-nurse-specialist",
                                                         "other"};
static_assert(provider_names.size() == static_cast<std::size_t>(provider_type::other) + 1);

template <class Enum, std::size_t N>
std::optional<Enum> named(const std::array<std::string_view, N>& names, std::string_view text) {
  for (std::size_t i = 0; i < N; ++i) {
    if (names[i] == text) return static_cast<Enum>(i);
  }
  return std::nullopt;
}

}  // namespace

std::string_view name(lab_kind kind) noexcept {
  return lab_kind_names[static_cast<std::size_t>(kind)];
}
std::optional<lab_kind> lab_kind_named(std::string_view text) noexcept {
  return named<lab_kind>(lab_kind_names, text);
}
bool is_autoantibody(lab_kind kind) noexcept {
  return kind >= lab_kind::gad65_antibody && kind <= lab_kind::islet_cell_antibody;
}
std::string_view name(provider_type t) noexcept {
  return provider_names[static_cast<std::size_t>(t)];
}
std::optional<provider_type> provider_type_named(std::string_view text) noexcept {
  return named<provider_type>(provider_names, text);
}

}  // namespace covgate::model
