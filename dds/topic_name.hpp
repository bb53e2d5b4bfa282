// topic_name.hpp — segment names <-> DDS topic names, and the name rules a
// bridge applies to names it hears from the network.
//
// "zfd/" + escape(name): letters, digits and '_' stay, every other byte is
// '/' and two upper-case hex digits. Segment names never contain '/', so
// the mapping is reversible; topic names keep to what DDS accepts.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace zerodds::flatdata::dds {

inline constexpr std::string_view kTopicPrefix = "zfd/";
inline constexpr std::string_view kDiscoveryTopic = "zfd/segments";

// 1..200 characters of [A-Za-z0-9._-] (zfd_segment_create's rule).
bool valid_segment_name(std::string_view name);
// "segments": its topic would be the discovery topic, so it is not bridged.
bool reserved_name(std::string_view name);
// A name a bridge will carry: a valid segment name, not reserved, not "."
// and without "..", so no tool that joins it into a path can be led astray.
bool bridgeable_name(std::string_view name);

std::string topic_of(std::string_view segment_name);  // name valid and not reserved
std::optional<std::string> segment_of(std::string_view topic);

}  // namespace zerodds::flatdata::dds
