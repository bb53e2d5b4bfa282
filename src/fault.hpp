// fault.hpp — kill points at every protocol step, for crash torture.
//
// Compiled in only when ZFD_FAULT_POINTS is defined (the test-only library
// libzerodds_flatdata_faults.so); otherwise ZFD_FAULT_POINT is nothing. With
// ZFD_FAULT_POINT=<name>:<n> in the environment, the n-th time the process
// passes point <name> it SIGKILLs itself, so a test can stop a writer or a
// reader at exactly that instruction of the protocol and check that the
// survivors recover. ZFD_FAULT_POINT=<name>:0 never fires but still counts.
#pragma once

#if defined(ZFD_FAULT_POINTS)
namespace zerodds::flatdata::fault {
void hit(const char* point);
}  // namespace zerodds::flatdata::fault
#define ZFD_FAULT_POINT(name) ::zerodds::flatdata::fault::hit(name)
#else
#define ZFD_FAULT_POINT(name) ((void)0)
#endif
