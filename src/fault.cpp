// fault.cpp — see fault.hpp. Only built into the fault-point test library.
#include "fault.hpp"

#if defined(ZFD_FAULT_POINTS)

#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <cstring>

namespace zerodds::flatdata::fault {
namespace {

struct Armed {
    char name[64] = {};
    long countdown = -1;  // -1: disarmed
};

const Armed& armed() {
    static const Armed a = [] {
        Armed r;
        const char* env = std::getenv("ZFD_FAULT_POINT");
        if (env == nullptr) return r;
        const char* colon = std::strchr(env, ':');
        if (colon == nullptr || static_cast<std::size_t>(colon - env) >= sizeof r.name) return r;
        std::memcpy(r.name, env, static_cast<std::size_t>(colon - env));
        r.countdown = std::strtol(colon + 1, nullptr, 10);
        return r;
    }();
    return a;
}

std::atomic<long> hits{0};

}  // namespace

void hit(const char* point) {
    const Armed& a = armed();
    if (a.countdown < 0 || std::strcmp(point, a.name) != 0) return;
    const long n = hits.fetch_add(1) + 1;
    if (a.countdown > 0 && n == a.countdown) ::kill(::getpid(), SIGKILL);
}

}  // namespace zerodds::flatdata::fault

#endif  // ZFD_FAULT_POINTS
