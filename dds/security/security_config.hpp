// security_config.hpp — from a directory of DDS Security credentials to the
// Cyclone DDS configuration that uses them, after checking them.
//
// Owns: the checks a host's credentials must pass before the DDS bridge
// starts a secured participant, and the <Domain><Security> fragment for
// Cyclone DDS 0.10.2 (Debian's libddsc0debian plugins). The directory holds
// the fixed file names below; tools/zfd-keys.sh makes such directories.
//
// Invariant: a config is handed out only when every check passed. Any
// failure is reported (which file, what is wrong) and nothing else is
// returned — never a fallback to an unsecured or partial configuration.
//
// The checks mirror what Cyclone's authentication and access-control plugins
// check when a participant is created, so a problem is named before Cyclone
// reports a bare DDS_RETCODE_ERROR. They use Debian's libcrypto (OpenSSL 3).
//
// Thread-safety: make_security_config may be called from any thread. Nothing
// here throws except std::bad_alloc.
#pragma once

#include <chrono>
#include <filesystem>
#include <optional>
#include <string>

namespace zerodds::flatdata::dds {

// The files of a security directory (written by `tools/zfd-keys.sh host`).
inline constexpr const char* kIdentityCaFile = "identity_ca.pem";
inline constexpr const char* kIdentityCertificateFile = "identity_certificate.pem";
inline constexpr const char* kIdentityPrivateKeyFile = "identity_private_key.pem";
inline constexpr const char* kPermissionsCaFile = "permissions_ca.pem";
inline constexpr const char* kGovernanceFile = "governance.p7s";
inline constexpr const char* kPermissionsFile = "permissions.p7s";

// What was wrong. The order follows the order of the checks.
enum class SecurityProblem {
    none,
    missing_file,           // the directory or a file does not exist
    unreadable_file,        // not a regular file, empty, or reading failed (errno in the message)
    insecure_private_key,   // the private key file is readable by group or others
    bad_certificate,        // a .pem file does not hold a parsable X.509 certificate
    unsupported_key,        // not RSA-2048 or EC prime256v1 (all Cyclone's plugins accept)
    not_yet_valid,          // the identity certificate starts in the future
    expired,                // the identity certificate has expired
    bad_private_key,        // unparsable, or encrypted with a password
    key_mismatch,           // the private key does not belong to the identity certificate
    untrusted_certificate,  // the identity certificate does not chain to the identity CA
    bad_document,           // a .p7s file is not S/MIME, or not a governance/permissions document
    bad_signature,          // the document does not match its signature (tampered or damaged)
    wrong_signer,           // the document is not signed by the permissions CA
    subject_mismatch,       // no grant in the permissions names the certificate's subject
    permissions_not_valid,  // the matching grant's validity period does not cover now
    missing_plugin,         // a Cyclone security plugin library is not installed
};

// A stable lower-case name of the problem ("key_mismatch"), for logs and JSON.
const char* security_problem_name(SecurityProblem problem);

struct SecurityError {
    SecurityProblem problem = SecurityProblem::none;
    std::filesystem::path file;  // the file (or directory) at fault
    std::string message;         // one line: "<file>: <what is wrong>"
};

struct SecurityConfig {
    std::string xml;      // <Domain id="any"><Security>...</Security></Domain>, one line
    std::string subject;  // the identity certificate's subject, RFC 2253 ("CN=alpha")
    std::chrono::system_clock::time_point not_before;  // identity certificate validity
    std::chrono::system_clock::time_point not_after;
};

// Where Debian's libddsc0debian keeps libdds_security_{auth,ac,crypto}.so
// (set at build time from the CycloneDDS pkg-config libdir).
std::filesystem::path default_security_plugin_dir();

struct SecurityOptions {
    // The time to check validity against; unset = now. (Tests move it.)
    std::optional<std::chrono::system_clock::time_point> now;
    // Directory of the three plugin libraries; empty = default_security_plugin_dir().
    std::filesystem::path plugin_dir;
};

// Checks the credentials in `dir` and builds Cyclone's security configuration.
//
// Checks, in order: the six files exist, are regular, non-empty and readable;
// the private key is not readable by group or others; both CA certificates
// and the identity certificate parse and use keys Cyclone accepts; the
// identity certificate is valid at `now` (expired / not yet valid, with its
// dates); the private key parses, is not password-protected, and belongs to
// the certificate; the certificate chains to the identity CA; governance.p7s
// and permissions.p7s are S/MIME documents whose content matches their
// signature and whose signer is the permissions CA, and they hold a
// governance and a permissions document respectively; a grant in the
// permissions names the certificate's subject (compared as Cyclone does) and
// is valid at `now`; the three plugin libraries exist.
//
// The XML names every file by an absolute "file:" URI (XML-escaped; Cyclone
// does not percent-decode) and every plugin by its absolute path. Use it as
// (part of) CYCLONEDDS_URI or as the config string of dds_create_domain().
//
// Returns true and fills *out (which may be NULL), or returns false and fills
// *error (which may be NULL). Only the first problem found is reported.
bool make_security_config(const std::filesystem::path& dir, SecurityConfig* out,
                          SecurityError* error, const SecurityOptions& options = {});

}  // namespace zerodds::flatdata::dds
