// security_config_test.cpp — make_security_config as a specification: which
// credential directories give Cyclone a security configuration and how each
// broken one is reported. Every credential is made at test time by
// tools/zfd-keys.sh ($ZFD_KEYS) and openssl in a private temp dir.
#include "security_config.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <string>

namespace fs = std::filesystem;
namespace sec = zerodds::flatdata::dds;
using std::chrono::hours;
using Clock = std::chrono::system_clock;

namespace {

// Runs a shell command; returns its exit status and fills *output (stdout+stderr).
int run(const std::string& command, std::string* output = nullptr) {
    std::FILE* pipe = ::popen((command + " 2>&1").c_str(), "r");
    if (pipe == nullptr) return -1;
    std::string text;
    std::array<char, 512> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), pipe)) > 0) text.append(buf.data(), n);
    int status = ::pclose(pipe);
    if (output != nullptr) *output = text;
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

std::string quote(const fs::path& p) { return "'" + p.string() + "'"; }

std::string read_text(const fs::path& p) {
    std::ifstream in(p, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_text(const fs::path& p, const std::string& text) {
    std::ofstream(p, std::ios::binary | std::ios::trunc) << text;
}

// `openssl x509 -noout -<field> -dateopt iso_8601` -> "2026-12-01 07:57:12Z".
std::string openssl_date(const fs::path& cert, const char* field) {
    std::string out;
    run(fmt::format("openssl x509 -in {} -noout -{} -dateopt iso_8601", quote(cert), field), &out);
    auto eq = out.find('=');
    return eq == std::string::npos ? out : out.substr(eq + 1, out.find('\n') - eq - 1);
}

class SecurityConfig : public ::testing::Test {
protected:
    // One set of credentials for the whole suite (key generation is the slow part).
    static void SetUpTestSuite() {
        const char* keys = std::getenv("ZFD_KEYS");
        ASSERT_NE(keys, nullptr) << "ZFD_KEYS must name tools/zfd-keys.sh";
        std::string tmpl = (fs::temp_directory_path() / "zfd-sec-test.XXXXXX").string();
        ASSERT_NE(::mkdtemp(tmpl.data()), nullptr);
        root_ = tmpl;
        const std::string k = fmt::format("bash {}", quote(keys));
        const fs::path pki = root_ / "pki", other = root_ / "other";
        for (const std::string& cmd : {
                 fmt::format("{} init {}", k, quote(pki)),
                 fmt::format("{} host {} alpha --publish a --subscribe '*'", k, quote(pki)),
                 fmt::format("{} host {} beta --subscribe a", k, quote(pki)),
                 fmt::format("{} host {} old --expired", k, quote(pki)),
                 fmt::format("{} host {} future --not-yet-valid", k, quote(pki)),
                 fmt::format("{} init {}", k, quote(other)),
                 fmt::format("{} host {} mallory --publish '*'", k, quote(other)),
             }) {
            std::string out;
            ASSERT_EQ(run(cmd, &out), 0) << cmd << "\n" << out;
        }
    }
    static void TearDownTestSuite() {
        std::error_code ec;
        if (!root_.empty()) fs::remove_all(root_, ec);
    }

    static fs::path host(const char* name) { return root_ / "pki" / "hosts" / name; }
    static fs::path other_host(const char* name) { return root_ / "other" / "hosts" / name; }

    // A private copy of a host directory, free to damage.
    fs::path copy_of(const fs::path& src, const std::string& name = "") {
        fs::path dst =
            root_ / "cases" /
            (name.empty() ? ::testing::UnitTest::GetInstance()->current_test_info()->name() : name);
        fs::remove_all(dst);
        fs::create_directories(dst.parent_path());
        fs::copy(src, dst, fs::copy_options::recursive);
        return dst;
    }

    sec::SecurityError expect_failure(const fs::path& dir,
                                      const sec::SecurityOptions& options = {}) {
        sec::SecurityConfig config;
        sec::SecurityError error;
        EXPECT_FALSE(sec::make_security_config(dir, &config, &error, options));
        EXPECT_TRUE(config.xml.empty()) << "no configuration may leak out of a failed check";
        EXPECT_FALSE(error.message.empty());
        return error;
    }

    static fs::path root_;
};
fs::path SecurityConfig::root_;

TEST_F(SecurityConfig, GoodDirectoryGivesTheCycloneSecurityFragment) {
    const fs::path dir = host("alpha");
    sec::SecurityConfig config;
    sec::SecurityError error;
    ASSERT_TRUE(sec::make_security_config(dir, &config, &error)) << error.message;
    EXPECT_EQ(error.problem, sec::SecurityProblem::none);

    const fs::path lib = sec::default_security_plugin_dir();
    const std::string d = dir.string();
    const std::string expected = fmt::format(
        R"(<Domain id="any"><Security>)"
        R"(<Authentication><Library path="{0}/libdds_security_auth.so" initFunction="init_authentication" finalizeFunction="finalize_authentication"/>)"
        R"(<IdentityCA>file:{1}/identity_ca.pem</IdentityCA>)"
        R"(<IdentityCertificate>file:{1}/identity_certificate.pem</IdentityCertificate>)"
        R"(<PrivateKey>file:{1}/identity_private_key.pem</PrivateKey></Authentication>)"
        R"(<AccessControl><Library path="{0}/libdds_security_ac.so" initFunction="init_access_control" finalizeFunction="finalize_access_control"/>)"
        R"(<PermissionsCA>file:{1}/permissions_ca.pem</PermissionsCA>)"
        R"(<Governance>file:{1}/governance.p7s</Governance>)"
        R"(<Permissions>file:{1}/permissions.p7s</Permissions></AccessControl>)"
        R"(<Cryptographic><Library path="{0}/libdds_security_crypto.so" initFunction="init_crypto" finalizeFunction="finalize_crypto"/></Cryptographic>)"
        R"(</Security></Domain>)",
        lib.string(), d);
    EXPECT_EQ(config.xml, expected);
    EXPECT_EQ(config.subject, "CN=alpha");
    // zfd-keys.sh backdates by an hour and gives 365 days.
    EXPECT_EQ(config.not_after - config.not_before, hours(365 * 24 + 1));
    EXPECT_LT(config.not_before, Clock::now());
}

TEST_F(SecurityConfig, RelativeDirectoryIsNamedByAbsoluteUris) {
    const fs::path saved = fs::current_path();
    fs::current_path(host("alpha").parent_path());
    sec::SecurityConfig config;
    sec::SecurityError error;
    bool ok = sec::make_security_config("alpha", &config, &error);
    fs::current_path(saved);
    ASSERT_TRUE(ok) << error.message;
    EXPECT_NE(config.xml.find("file:" + host("alpha").string() + "/identity_ca.pem"),
              std::string::npos)
        << config.xml;
}

TEST_F(SecurityConfig, XmlSpecialCharactersInThePathAreEscaped) {
    const fs::path dir = copy_of(host("alpha"), "odd & <dir> \"'");
    sec::SecurityConfig config;
    sec::SecurityError error;
    ASSERT_TRUE(sec::make_security_config(dir, &config, &error)) << error.message;
    EXPECT_NE(config.xml.find("odd &amp; &lt;dir&gt; &quot;&apos;/permissions.p7s"),
              std::string::npos)
        << config.xml;
    EXPECT_EQ(config.xml.find("odd &"), config.xml.find("odd &amp;"));
}

TEST_F(SecurityConfig, DirectoryThatDoesNotExistIsMissing) {
    const fs::path dir = root_ / "no-such-dir";
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::missing_file);
    EXPECT_EQ(error.file, dir);
    EXPECT_NE(error.message.find(dir.string()), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, EachMissingFileIsNamed) {
    for (const char* name :
         {sec::kIdentityCaFile, sec::kIdentityCertificateFile, sec::kIdentityPrivateKeyFile,
          sec::kPermissionsCaFile, sec::kGovernanceFile, sec::kPermissionsFile}) {
        SCOPED_TRACE(name);
        const fs::path dir = copy_of(host("alpha"));
        fs::remove(dir / name);
        auto error = expect_failure(dir);
        EXPECT_EQ(error.problem, sec::SecurityProblem::missing_file);
        EXPECT_EQ(error.file, dir / name);
        EXPECT_EQ(error.message, (dir / name).string() + ": missing");
    }
}

TEST_F(SecurityConfig, DirectoryInPlaceOfAFileIsUnreadable) {
    const fs::path dir = copy_of(host("alpha"));
    fs::remove(dir / sec::kGovernanceFile);
    fs::create_directory(dir / sec::kGovernanceFile);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::unreadable_file);
    EXPECT_NE(error.message.find("governance.p7s: not a regular file"), std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, EmptyFileIsUnreadable) {
    const fs::path dir = copy_of(host("alpha"));
    write_text(dir / sec::kPermissionsCaFile, "");
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::unreadable_file);
    EXPECT_NE(error.message.find("permissions_ca.pem: empty file"), std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, HugeFileIsNotReadIn) {
    const fs::path dir = copy_of(host("alpha"));
    write_text(dir / sec::kGovernanceFile, std::string((1 << 20) + 1, 'x'));
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::unreadable_file);
    EXPECT_NE(error.message.find("governance.p7s: 1048577 bytes: too large"), std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, PrivateKeyReadableByOthersIsRefused) {
    const fs::path dir = copy_of(host("alpha"));
    ASSERT_EQ(::chmod((dir / sec::kIdentityPrivateKeyFile).c_str(), 0644), 0);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::insecure_private_key);
    EXPECT_NE(error.message.find("mode 0644"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("chmod 600"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, GarbageCertificateIsNotACertificate) {
    const fs::path dir = copy_of(host("alpha"));
    write_text(dir / sec::kIdentityCertificateFile, "hello\n");
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_certificate);
    EXPECT_EQ(error.file, dir / sec::kIdentityCertificateFile);
    EXPECT_NE(error.message.find("not a PEM X.509 certificate"), std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, ExpiredCertificateSaysExpiredWithItsDates) {
    const fs::path dir = copy_of(host("old"));
    const fs::path cert = dir / sec::kIdentityCertificateFile;
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::expired);
    EXPECT_EQ(error.file, cert);
    const std::string from = openssl_date(cert, "startdate"), to = openssl_date(cert, "enddate");
    EXPECT_NE(error.message.find(
                  fmt::format("certificate expired on {} (valid from {} to {})", to, from, to)),
              std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, NotYetValidCertificateSaysNotYetValidWithItsDates) {
    const fs::path dir = copy_of(host("future"));
    const fs::path cert = dir / sec::kIdentityCertificateFile;
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::not_yet_valid);
    EXPECT_NE(error.message.find(fmt::format("certificate is not yet valid: valid from {} to {}",
                                             openssl_date(cert, "startdate"),
                                             openssl_date(cert, "enddate"))),
              std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, ValidityIsJudgedAtTheGivenTime) {
    sec::SecurityConfig config;
    sec::SecurityError error;
    ASSERT_TRUE(sec::make_security_config(host("alpha"), &config, &error)) << error.message;

    sec::SecurityOptions later;
    later.now = config.not_after + hours(1);
    EXPECT_EQ(expect_failure(host("alpha"), later).problem, sec::SecurityProblem::expired);
    sec::SecurityOptions earlier;
    earlier.now = config.not_before - hours(1);
    EXPECT_EQ(expect_failure(host("alpha"), earlier).problem, sec::SecurityProblem::not_yet_valid);
    // And the "future" host is fine two days from now.
    sec::SecurityOptions in_two_days;
    in_two_days.now = Clock::now() + hours(48);
    EXPECT_TRUE(sec::make_security_config(host("future"), nullptr, &error, in_two_days))
        << error.message;
}

TEST_F(SecurityConfig, CertificateFromAnotherCaIsUntrusted) {
    const fs::path dir = copy_of(host("alpha"));
    for (const char* f : {sec::kIdentityCertificateFile, sec::kIdentityPrivateKeyFile}) {
        fs::copy_file(other_host("mallory") / f, dir / f, fs::copy_options::overwrite_existing);
    }
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::untrusted_certificate);
    EXPECT_EQ(error.file, dir / sec::kIdentityCertificateFile);
    EXPECT_NE(error.message.find("not signed by the identity CA in identity_ca.pem"),
              std::string::npos)
        << error.message;
    // Both CAs are named, so the user sees which PKI each came from.
    EXPECT_NE(error.message.find("OU=other"), std::string::npos) << error.message;
    EXPECT_NE(error.message.find("OU=pki"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, KeyOfAnotherHostIsAMismatch) {
    const fs::path dir = copy_of(host("alpha"));
    fs::copy_file(host("beta") / sec::kIdentityPrivateKeyFile, dir / sec::kIdentityPrivateKeyFile,
                  fs::copy_options::overwrite_existing);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::key_mismatch);
    EXPECT_EQ(error.file, dir / sec::kIdentityPrivateKeyFile);
    EXPECT_NE(error.message.find("does not belong to the certificate in identity_certificate.pem"),
              std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, PasswordProtectedKeyIsRefusedWithoutPrompting) {
    const fs::path dir = copy_of(host("alpha"));
    const fs::path key = dir / sec::kIdentityPrivateKeyFile;
    std::string out;
    ASSERT_EQ(run(fmt::format("openssl pkey -in {0} -aes256 -passout pass:secret -out {0}.enc && "
                              "mv {0}.enc {0} && chmod 600 {0}",
                              quote(key)),
                  &out),
              0)
        << out;
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_private_key);
    EXPECT_NE(error.message.find("password-protected"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, KeyTypeCycloneRejectsIsUnsupported) {
    const fs::path dir = copy_of(host("alpha"));
    std::string out;
    ASSERT_EQ(run(fmt::format("openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-384 "
                              "-nodes -subj /CN=alpha -days 2 -keyout {} -out {}",
                              quote(dir / sec::kIdentityPrivateKeyFile),
                              quote(dir / sec::kIdentityCertificateFile)),
                  &out),
              0)
        << out;
    ::chmod((dir / sec::kIdentityPrivateKeyFile).c_str(), 0600);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::unsupported_key);
    EXPECT_NE(error.message.find("EC key on curve secp384r1"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, TamperedPermissionsFailTheirSignature) {
    const fs::path dir = copy_of(host("alpha"));
    std::string p7s = read_text(dir / sec::kPermissionsFile);
    const std::string grant = "<topic>zfd/a</topic>";
    auto at = p7s.find(grant);
    ASSERT_NE(at, std::string::npos);
    p7s.replace(at, grant.size(), "<topic>zfd/*</topic>");  // publish everything
    write_text(dir / sec::kPermissionsFile, p7s);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_signature);
    EXPECT_EQ(error.file, dir / sec::kPermissionsFile);
    EXPECT_NE(error.message.find("content does not match its signature"), std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, TamperedGovernanceFailsItsSignature) {
    const fs::path dir = copy_of(host("alpha"));
    std::string p7s = read_text(dir / sec::kGovernanceFile);
    const std::string rule = "<data_protection_kind>ENCRYPT</data_protection_kind>";
    auto at = p7s.find(rule);
    ASSERT_NE(at, std::string::npos);
    p7s.replace(at, rule.size(), "<data_protection_kind>NONE</data_protection_kind>");
    write_text(dir / sec::kGovernanceFile, p7s);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_signature);
    EXPECT_EQ(error.file, dir / sec::kGovernanceFile);
}

TEST_F(SecurityConfig, DocumentsSignedByAnotherPermissionsCaAreRefused) {
    for (const char* name : {sec::kGovernanceFile, sec::kPermissionsFile}) {
        SCOPED_TRACE(name);
        const fs::path dir = copy_of(host("alpha"));
        fs::copy_file(other_host("mallory") / name, dir / name,
                      fs::copy_options::overwrite_existing);
        auto error = expect_failure(dir);
        EXPECT_EQ(error.problem, sec::SecurityProblem::wrong_signer);
        EXPECT_EQ(error.file, dir / name);
        EXPECT_NE(error.message.find("not signed by the permissions CA in permissions_ca.pem "
                                     "(signer \"CN=zfd permissions CA,OU=other"),
                  std::string::npos)
            << error.message;
    }
}

TEST_F(SecurityConfig, PermissionsOfAnotherHostDoNotMatchTheSubject) {
    const fs::path dir = copy_of(host("alpha"));
    fs::copy_file(host("beta") / sec::kPermissionsFile, dir / sec::kPermissionsFile,
                  fs::copy_options::overwrite_existing);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::subject_mismatch);
    EXPECT_NE(error.message.find("no grant for the subject \"CN=alpha\" of "
                                 "identity_certificate.pem (grants for: \"CN=beta\")"),
              std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, SwappedDocumentsAreNamed) {
    const fs::path dir = copy_of(host("alpha"));
    fs::rename(dir / sec::kGovernanceFile, dir / "tmp");
    fs::rename(dir / sec::kPermissionsFile, dir / sec::kGovernanceFile);
    fs::rename(dir / "tmp", dir / sec::kPermissionsFile);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_document);
    EXPECT_EQ(error.file, dir / sec::kGovernanceFile);
    EXPECT_NE(error.message.find("not a governance document"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, UnsignedXmlIsNotAnSmimeDocument) {
    const fs::path dir = copy_of(host("alpha"));
    fs::copy_file(dir / "permissions.xml", dir / sec::kPermissionsFile,
                  fs::copy_options::overwrite_existing);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_document);
    EXPECT_NE(error.message.find("not an S/MIME signed document"), std::string::npos)
        << error.message;
}

// Signs `xml` with the test PKI's permissions CA, as zfd-keys.sh does.
void sign_permissions(const fs::path& pki, const fs::path& xml, const fs::path& p7s) {
    std::string out;
    ASSERT_EQ(run(fmt::format("openssl smime -sign -text -in {} -out {} -signer {} -inkey {}",
                              quote(xml), quote(p7s), quote(pki / "ca" / "permissions_ca.pem"),
                              quote(pki / "ca" / "permissions_ca_key.pem")),
                  &out),
              0)
        << out;
}

TEST_F(SecurityConfig, DocumentSignedWithoutTextTypeFailsAsInCyclone) {
    // Cyclone verifies with PKCS7_TEXT: content signed without `smime -text` is refused.
    const fs::path dir = copy_of(host("alpha"));
    const fs::path pki = root_ / "pki";
    std::string out;
    ASSERT_EQ(run(fmt::format("openssl smime -sign -in {} -out {} -signer {} -inkey {}",
                              quote(dir / "permissions.xml"), quote(dir / sec::kPermissionsFile),
                              quote(pki / "ca" / "permissions_ca.pem"),
                              quote(pki / "ca" / "permissions_ca_key.pem")),
                  &out),
              0)
        << out;
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::bad_signature);
    EXPECT_NE(error.message.find("not signed as text/plain"), std::string::npos) << error.message;
}

TEST_F(SecurityConfig, ExpiredGrantIsRefusedEvenWithAValidCertificate) {
    const fs::path dir = copy_of(host("alpha"));
    std::string xml = read_text(dir / "permissions.xml");
    auto from = xml.find("<not_after>"), to = xml.find("</not_after>");
    ASSERT_NE(from, std::string::npos);
    xml.replace(from, to - from, "<not_after>2020-01-01T00:00:00Z");
    write_text(dir / "permissions.xml", xml);
    sign_permissions(root_ / "pki", dir / "permissions.xml", dir / sec::kPermissionsFile);
    auto error = expect_failure(dir);
    EXPECT_EQ(error.problem, sec::SecurityProblem::permissions_not_valid);
    EXPECT_NE(error.message.find("grant for \"CN=alpha\" expired on 2020-01-01 00:00:00Z"),
              std::string::npos)
        << error.message;
}

TEST_F(SecurityConfig, GrantSubjectIsComparedFieldByFieldAsCycloneDoes) {
    // Cyclone accepts a grant whose subject holds every field of the certificate's
    // subject (extra fields allowed, any order); so does the check.
    const fs::path dir = copy_of(host("alpha"));
    std::string xml = read_text(dir / "permissions.xml");
    const std::string subject = "<subject_name>CN=alpha</subject_name>";
    auto at = xml.find(subject);
    ASSERT_NE(at, std::string::npos);
    xml.replace(at, subject.size(), "<subject_name>O=somewhere,CN=alpha</subject_name>");
    write_text(dir / "permissions.xml", xml);
    sign_permissions(root_ / "pki", dir / "permissions.xml", dir / sec::kPermissionsFile);
    sec::SecurityError error;
    EXPECT_TRUE(sec::make_security_config(dir, nullptr, &error)) << error.message;

    // ... but not a different common name.
    xml.replace(xml.find("CN=alpha"), 8, "CN=alphaX");
    write_text(dir / "permissions.xml", xml);
    sign_permissions(root_ / "pki", dir / "permissions.xml", dir / sec::kPermissionsFile);
    EXPECT_EQ(expect_failure(dir).problem, sec::SecurityProblem::subject_mismatch);
}

TEST_F(SecurityConfig, MissingPluginLibraryIsNamed) {
    sec::SecurityOptions options;
    options.plugin_dir = root_ / "no-plugins-here";
    auto error = expect_failure(host("alpha"), options);
    EXPECT_EQ(error.problem, sec::SecurityProblem::missing_plugin);
    EXPECT_EQ(error.file, options.plugin_dir / "libdds_security_auth.so");
}

TEST_F(SecurityConfig, NullOutputsAreAllowed) {
    EXPECT_TRUE(sec::make_security_config(host("alpha"), nullptr, nullptr));
    EXPECT_FALSE(sec::make_security_config(host("old"), nullptr, nullptr));
}

TEST(SecurityProblemName, EveryProblemHasItsOwnName) {
    std::set<std::string> names;
    for (int p = static_cast<int>(sec::SecurityProblem::none);
         p <= static_cast<int>(sec::SecurityProblem::missing_plugin); ++p) {
        std::string name = sec::security_problem_name(static_cast<sec::SecurityProblem>(p));
        EXPECT_NE(name, "unknown");
        EXPECT_TRUE(names.insert(name).second) << name;
    }
}

}  // namespace
