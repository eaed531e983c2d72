// The X12 005010 base definitions of the segments the 837 guides use: each segment's elements
// in order, each element's data element reference number, data type and minimum/maximum
// length, and the components of its composites. These are the standard's own rules, which
// every implementation guide narrows (usage, code lists) but never widens; the guides'
// narrowing lives beside the loop structure in schema_837.cpp.
#pragma once

#include <array>
#include <cstdint>
#include <span>
#include <string_view>

#include "covgate/x12/segment.hpp"

namespace covgate::x12::dictionary {

/// X12 data types (the 5010 dictionary's: AN string, ID code, DT date, TM time, R decimal,
/// N0 integer).
enum class data_type : std::uint8_t { an, id, dt, tm, r, n0 };

/// One simple data element as the dictionary defines it.
struct element_def {
  std::uint16_t ref = 0;  ///< data element reference number (IK402)
  data_type type = data_type::an;
  std::uint16_t min = 1;
  std::uint16_t max = 1;
};

/// A composite: its id (C003…) and its components in order.
struct composite_def {
  std::string_view id;
  std::span<const element_def> components;
};

/// One element position of a segment: a simple element, or a composite.
struct slot {
  element_def element{};                     ///< the simple element (unused for a composite)
  const composite_def* composite = nullptr;  ///< set for a composite position
  /// The same as composite != nullptr, for compile-time code (some compilers will not compare
  /// a constant's address with null at compile time under -fsanitize=undefined).
  bool is_composite = false;
};

/// A segment: its id and its element positions (element 1 first).
struct segment_def {
  std::string_view id;
  std::span<const slot> slots;
};

namespace detail {

using enum data_type;

// The simple elements the 837 segments use, by reference number.
inline constexpr std::array elements{
    element_def{19, an, 2, 30},   element_def{26, id, 2, 3},    element_def{61, an, 1, 30},
    element_def{66, id, 1, 2},    element_def{67, an, 2, 80},   element_def{81, r, 1, 10},
    element_def{93, an, 1, 60},   element_def{96, n0, 1, 10},   element_def{98, id, 2, 3},
    element_def{100, id, 3, 3},   element_def{116, id, 3, 15},  element_def{118, r, 1, 9},
    element_def{127, an, 1, 50},  element_def{128, id, 2, 3},   element_def{143, id, 3, 3},
    element_def{156, id, 2, 2},   element_def{166, an, 1, 55},  element_def{212, r, 1, 17},
    element_def{234, an, 1, 48},  element_def{235, id, 2, 2},   element_def{236, id, 3, 3},
    element_def{280, r, 4, 10},   element_def{289, n0, 1, 2},   element_def{309, id, 1, 2},
    element_def{310, an, 1, 30},  element_def{329, an, 4, 9},   element_def{332, r, 1, 6},
    element_def{337, tm, 4, 8},   element_def{338, r, 1, 6},    element_def{350, an, 1, 20},
    element_def{352, an, 1, 80},  element_def{353, id, 2, 2},   element_def{355, id, 2, 2},
    element_def{363, id, 3, 3},   element_def{364, an, 1, 256}, element_def{365, id, 2, 2},
    element_def{366, id, 2, 2},   element_def{373, dt, 8, 8},   element_def{374, id, 3, 3},
    element_def{380, r, 1, 15},   element_def{443, an, 1, 20},  element_def{449, an, 1, 80},
    element_def{478, id, 1, 1},   element_def{499, an, 1, 10},  element_def{522, id, 1, 3},
    element_def{554, n0, 1, 6},   element_def{584, id, 2, 2},   element_def{594, id, 1, 1},
    element_def{609, n0, 1, 9},   element_def{628, an, 1, 12},  element_def{639, id, 2, 2},
    element_def{640, id, 2, 2},   element_def{648, id, 3, 3},   element_def{649, r, 1, 10},
    element_def{659, id, 1, 2},   element_def{669, id, 3, 3},   element_def{673, id, 2, 2},
    element_def{687, id, 2, 2},   element_def{704, id, 1, 2},   element_def{706, id, 2, 2},
    element_def{734, an, 1, 12},  element_def{735, id, 1, 2},   element_def{736, id, 1, 1},
    element_def{737, id, 2, 2},   element_def{738, id, 1, 3},   element_def{739, r, 1, 20},
    element_def{740, r, 1, 20},   element_def{741, r, 1, 20},   element_def{752, id, 2, 2},
    element_def{755, id, 2, 2},   element_def{756, id, 1, 2},   element_def{757, n0, 1, 2},
    element_def{782, r, 1, 18},   element_def{799, an, 1, 30},  element_def{901, id, 2, 2},
    element_def{923, id, 1, 1},   element_def{935, id, 2, 2},   element_def{936, id, 2, 2},
    element_def{954, r, 1, 10},   element_def{1005, id, 4, 4},  element_def{1018, r, 1, 15},
    element_def{1028, an, 1, 38}, element_def{1029, id, 1, 2},  element_def{1032, id, 1, 2},
    element_def{1033, id, 1, 2},  element_def{1034, id, 1, 5},  element_def{1035, an, 1, 60},
    element_def{1036, an, 1, 35}, element_def{1037, an, 1, 25}, element_def{1038, an, 1, 10},
    element_def{1039, an, 1, 10}, element_def{1065, id, 1, 1},  element_def{1066, id, 1, 2},
    element_def{1067, id, 1, 1},  element_def{1068, id, 1, 1},  element_def{1069, id, 2, 2},
    element_def{1073, id, 1, 1},  element_def{1109, id, 1, 1},  element_def{1136, id, 2, 2},
    element_def{1138, id, 1, 1},  element_def{1143, id, 1, 1},  element_def{1166, id, 2, 2},
    element_def{1220, id, 1, 1},  element_def{1221, id, 1, 3},  element_def{1222, an, 1, 30},
    element_def{1223, id, 3, 3},  element_def{1250, id, 2, 3},  element_def{1251, an, 1, 35},
    element_def{1270, id, 1, 3},  element_def{1271, an, 1, 30}, element_def{1314, id, 1, 1},
    element_def{1315, id, 1, 1},  element_def{1316, id, 1, 1},  element_def{1317, id, 1, 1},
    element_def{1321, id, 2, 3},  element_def{1322, id, 1, 1},  element_def{1325, id, 1, 1},
    element_def{1327, id, 1, 1},  element_def{1328, n0, 1, 2},  element_def{1331, an, 1, 2},
    element_def{1332, id, 1, 2},  element_def{1333, id, 1, 2},  element_def{1334, id, 1, 1},
    element_def{1335, id, 1, 1},  element_def{1336, id, 1, 3},  element_def{1337, id, 1, 1},
    element_def{1338, id, 1, 3},  element_def{1339, an, 2, 2},  element_def{1340, id, 1, 2},
    element_def{1341, an, 1, 2},  element_def{1342, id, 1, 1},  element_def{1343, id, 1, 2},
    element_def{1345, id, 1, 1},  element_def{1351, id, 1, 1},  element_def{1352, id, 1, 2},
    element_def{1359, id, 1, 1},  element_def{1360, id, 1, 1},  element_def{1362, id, 2, 3},
    element_def{1363, id, 1, 1},  element_def{1364, id, 1, 2},  element_def{1365, id, 1, 2},
    element_def{1366, id, 2, 3},  element_def{1367, id, 2, 3},  element_def{1371, r, 1, 10},
    element_def{1373, id, 2, 4},  element_def{1383, id, 2, 2},  element_def{1384, id, 1, 1},
    element_def{1473, id, 2, 2},  element_def{1514, id, 1, 2},  element_def{1525, id, 1, 2},
    element_def{1526, id, 1, 2},  element_def{1527, id, 1, 2},  element_def{1705, an, 1, 35},
    element_def{1715, id, 1, 3},
};

constexpr element_def e(std::uint16_t ref) {
  for (const auto& d : elements) {
    if (d.ref == ref) return d;
  }
  throw "data element not in the dictionary";  // a compile error: fix the table
}

constexpr slot s(std::uint16_t ref) { return slot{e(ref), nullptr, false}; }
constexpr slot c(const composite_def& composite) { return slot{{}, &composite, true}; }

// Composites.
inline constexpr std::array c001_components{e(355),  e(1018), e(649),  e(355),  e(1018),
                                            e(649),  e(355),  e(1018), e(649),  e(355),
                                            e(1018), e(649),  e(355),  e(1018), e(649)};
inline constexpr composite_def c001{"C001", c001_components};
inline constexpr std::array c002_components{e(704), e(704), e(704), e(704), e(704)};
inline constexpr composite_def c002{"C002", c002_components};
inline constexpr std::array c003_components{e(235),  e(234),  e(1339), e(1339),
                                            e(1339), e(1339), e(352),  e(234)};
inline constexpr composite_def c003{"C003", c003_components};
inline constexpr std::array c004_components{e(1328), e(1328), e(1328), e(1328)};
inline constexpr composite_def c004{"C004", c004_components};
inline constexpr std::array c022_components{e(1270), e(1271), e(1250), e(1251), e(782),
                                            e(380),  e(799),  e(1271), e(1073)};
inline constexpr composite_def c022{"C022", c022_components};
inline constexpr std::array c023_components{e(1331), e(1332), e(1325)};
inline constexpr composite_def c023{"C023", c023_components};
inline constexpr std::array c024_components{e(1362), e(1362), e(1362), e(156), e(26)};
inline constexpr composite_def c024{"C024", c024_components};
inline constexpr std::array c035_components{e(1222), e(1073)};
inline constexpr composite_def c035{"C035", c035_components};
inline constexpr std::array c040_components{e(128), e(127), e(128), e(127), e(128), e(127)};
inline constexpr composite_def c040{"C040", c040_components};
inline constexpr std::array c056_components{e(1109), e(1270), e(1271)};
inline constexpr composite_def c056{"C056", c056_components};

// Segments (element 1 first).
inline constexpr std::array amt{s(522), s(782), s(478)};
inline constexpr std::array bht{s(1005), s(353), s(127), s(373), s(337), s(640)};
inline constexpr std::array cas{s(1033), s(1034), s(782),  s(380),  s(1034), s(782), s(380),
                                s(1034), s(782),  s(380),  s(1034), s(782),  s(380), s(1034),
                                s(782),  s(380),  s(1034), s(782),  s(380)};
inline constexpr std::array cl1{s(1315), s(1314), s(1352), s(1345)};
inline constexpr std::array clm{s(1028), s(782),  s(1032), s(1343), c(c023), s(1073), s(1359),
                                s(1073), s(1363), s(1351), c(c024), s(1366), s(1073), s(1338),
                                s(1073), s(1360), s(1029), s(1073), s(1383), s(1514)};
inline constexpr std::array cn1{s(1166), s(782), s(332), s(127), s(338), s(799)};
inline constexpr std::array cr1{s(355), s(81),  s(1316), s(1317), s(355),
                                s(380), s(166), s(166),  s(352),  s(352)};
inline constexpr std::array cr2{s(609), s(380),  s(1367), s(1367), s(355), s(380),
                                s(380), s(1342), s(1073), s(352),  s(352), s(1073)};
inline constexpr std::array cr3{s(1322), s(355), s(380), s(1335), s(352)};
inline constexpr std::array crc{s(1136), s(1073), s(1321), s(1321), s(1321), s(1321), s(1321)};
inline constexpr std::array ctp{s(687), s(236), s(212), s(380), c(c001), s(648),
                                s(649), s(782), s(639), s(499), s(289)};
inline constexpr std::array cur{s(98),  s(100), s(280), s(98),  s(100), s(669), s(374),
                                s(373), s(337), s(374), s(373), s(337), s(374), s(373),
                                s(337), s(374), s(373), s(337), s(374), s(373), s(337)};
inline constexpr std::array dmg{s(1250), s(1251), s(1068), s(1067), c(c056), s(1066),
                                s(26),   s(659),  s(380),  s(1270), s(1271)};
inline constexpr std::array dtp{s(374), s(1250), s(1251)};
inline constexpr std::array frm{s(350), s(1073), s(127), s(373), s(332)};
inline constexpr std::array hcp{s(1473), s(782), s(782), s(127), s(118), s(127),  s(782), s(234),
                                s(235),  s(234), s(355), s(380), s(901), s(1526), s(1527)};
inline constexpr std::array hi{c(c022), c(c022), c(c022), c(c022), c(c022), c(c022),
                               c(c022), c(c022), c(c022), c(c022), c(c022), c(c022)};
inline constexpr std::array hl{s(628), s(734), s(735), s(736)};
inline constexpr std::array k3{s(449), s(1333), c(c001)};
inline constexpr std::array lin{s(350), s(235), s(234), s(235), s(234), s(235), s(234), s(235),
                                s(234), s(235), s(234), s(235), s(234), s(235), s(234), s(235),
                                s(234), s(235), s(234), s(235), s(234), s(235), s(234), s(235),
                                s(234), s(235), s(234), s(235), s(234), s(235), s(234)};
inline constexpr std::array lq{s(1270), s(1271)};
inline constexpr std::array lx{s(554)};
inline constexpr std::array mea{s(737), s(738), s(739), c(c001), s(740),  s(741),
                                s(935), s(936), s(752), s(1373), s(1270), s(1271)};
inline constexpr std::array mia{s(380), s(782), s(380), s(782), s(127), s(782), s(782), s(782),
                                s(782), s(782), s(782), s(782), s(782), s(782), s(380), s(782),
                                s(782), s(782), s(782), s(127), s(127), s(127), s(127), s(782)};
inline constexpr std::array moa{s(954), s(782), s(127), s(127), s(127),
                                s(127), s(127), s(782), s(782)};
inline constexpr std::array n3{s(166), s(166)};
inline constexpr std::array n4{s(19), s(156), s(116), s(26), s(309), s(310), s(1715)};
inline constexpr std::array nm1{s(98),   s(1065), s(1035), s(1036), s(1037), s(1038),
                                s(1039), s(66),   s(67),   s(706),  s(98),   s(1035)};
inline constexpr std::array nte{s(363), s(352)};
inline constexpr std::array oi{s(1032), s(1383), s(1073), s(1351), s(1360), s(1363)};
inline constexpr std::array pat{s(1069), s(1384), s(584), s(1220), s(1250),
                                s(1251), s(355),  s(81),  s(1073)};
inline constexpr std::array per{s(366), s(93),  s(365), s(364), s(365),
                                s(364), s(365), s(364), s(443)};
inline constexpr std::array prv{s(1221), s(128), s(127), s(156), c(c035), s(1223)};
inline constexpr std::array ps1{s(127), s(782), s(156)};
inline constexpr std::array pwk{s(755), s(756), s(757),  s(98),  s(66),
                                s(67),  s(352), c(c002), s(1525)};
inline constexpr std::array qty{s(673), s(380), c(c001), s(61)};
inline constexpr std::array ref{s(128), s(127), s(352), c(c040)};
inline constexpr std::array sbr{s(1138), s(1069), s(127), s(93),  s(1336),
                                s(1143), s(1073), s(584), s(1032)};
inline constexpr std::array se{s(96), s(329)};
inline constexpr std::array st{s(143), s(329), s(1705)};
inline constexpr std::array sv1{c(c003), s(782),  s(355),  s(380),  s(1331), s(1365), c(c004),
                                s(782),  s(1073), s(1340), s(1073), s(1073), s(1364), s(1341),
                                s(1327), s(1334), s(127),  s(116),  s(782),  s(1337), s(1360)};
inline constexpr std::array sv2{s(234),  c(c003), s(782),  s(355),  s(380),
                                s(1371), s(782),  s(1073), s(1345), s(1337)};
inline constexpr std::array sv5{c(c003), s(355), s(380), s(782), s(782), s(594), s(923)};
inline constexpr std::array svd{s(67), s(782), c(c003), s(234), s(380), s(554)};

}  // namespace detail

/// Every segment the 837 guides place, with its base definition.
inline constexpr std::array segments{
    segment_def{"AMT", detail::amt}, segment_def{"BHT", detail::bht},
    segment_def{"CAS", detail::cas}, segment_def{"CL1", detail::cl1},
    segment_def{"CLM", detail::clm}, segment_def{"CN1", detail::cn1},
    segment_def{"CR1", detail::cr1}, segment_def{"CR2", detail::cr2},
    segment_def{"CR3", detail::cr3}, segment_def{"CRC", detail::crc},
    segment_def{"CTP", detail::ctp}, segment_def{"CUR", detail::cur},
    segment_def{"DMG", detail::dmg}, segment_def{"DTP", detail::dtp},
    segment_def{"FRM", detail::frm}, segment_def{"HCP", detail::hcp},
    segment_def{"HI", detail::hi},   segment_def{"HL", detail::hl},
    segment_def{"K3", detail::k3},   segment_def{"LIN", detail::lin},
    segment_def{"LQ", detail::lq},   segment_def{"LX", detail::lx},
    segment_def{"MEA", detail::mea}, segment_def{"MIA", detail::mia},
    segment_def{"MOA", detail::moa}, segment_def{"N3", detail::n3},
    segment_def{"N4", detail::n4},   segment_def{"NM1", detail::nm1},
    segment_def{"NTE", detail::nte}, segment_def{"OI", detail::oi},
    segment_def{"PAT", detail::pat}, segment_def{"PER", detail::per},
    segment_def{"PRV", detail::prv}, segment_def{"PS1", detail::ps1},
    segment_def{"PWK", detail::pwk}, segment_def{"QTY", detail::qty},
    segment_def{"REF", detail::ref}, segment_def{"SBR", detail::sbr},
    segment_def{"SE", detail::se},   segment_def{"ST", detail::st},
    segment_def{"SV1", detail::sv1}, segment_def{"SV2", detail::sv2},
    segment_def{"SV5", detail::sv5}, segment_def{"SVD", detail::svd},
};

/// The base definition of segment `id` (used at compile time: an id the dictionary lacks
/// stops the build).
constexpr const segment_def* find(std::string_view id) {
  for (const auto& d : segments) {
    if (d.id == id) return &d;
  }
  throw "segment not in the dictionary";
}

/// True when the dictionary defines the segment with key `key` (segment_key of its id).
constexpr bool known(std::uint32_t key) noexcept {
  for (const auto& d : segments) {
    if (segment_key(d.id) == key) return true;
  }
  return false;
}

}  // namespace covgate::x12::dictionary
