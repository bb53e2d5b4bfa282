// topic_name.cpp — see topic_name.hpp.
#include "topic_name.hpp"

namespace zerodds::flatdata::dds {

namespace {

bool keeps(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_';
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;  // lower case is not produced, so not accepted: one spelling per name
}

}  // namespace

bool valid_segment_name(std::string_view name) {
    if (name.empty() || name.size() > 200) return false;
    for (char c : name) {
        if (!keeps(c) && c != '.' && c != '-') return false;
    }
    return true;
}

bool reserved_name(std::string_view name) { return name == kDiscoveryTopic.substr(kTopicPrefix.size()); }

bool bridgeable_name(std::string_view name) {
    return valid_segment_name(name) && !reserved_name(name) && name != "." &&
           name.find("..") == std::string_view::npos;
}

std::string topic_of(std::string_view segment_name) {
    static constexpr char kDigits[] = "0123456789ABCDEF";
    std::string out(kTopicPrefix);
    for (char c : segment_name) {
        if (keeps(c)) {
            out.push_back(c);
        } else {
            const auto b = static_cast<unsigned char>(c);
            out.push_back('/');
            out.push_back(kDigits[b >> 4]);
            out.push_back(kDigits[b & 15]);
        }
    }
    return out;
}

std::optional<std::string> segment_of(std::string_view topic) {
    if (topic.substr(0, kTopicPrefix.size()) != kTopicPrefix) return std::nullopt;
    topic.remove_prefix(kTopicPrefix.size());
    std::string name;
    for (std::size_t i = 0; i < topic.size(); ++i) {
        const char c = topic[i];
        if (keeps(c)) {
            name.push_back(c);
            continue;
        }
        // '/' and two hex digits, all three inside the topic name.
        if (c != '/' || topic.size() - i < 3) return std::nullopt;
        const int hi = hex_value(topic[i + 1]);
        const int lo = hex_value(topic[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        const char decoded = static_cast<char>(hi * 16 + lo);
        if (keeps(decoded)) return std::nullopt;  // escaped what stays: not our spelling
        name.push_back(decoded);
        i += 2;
    }
    if (!valid_segment_name(name) || reserved_name(name)) return std::nullopt;
    return name;
}

}  // namespace zerodds::flatdata::dds
