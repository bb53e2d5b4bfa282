// security_config.cpp — checks of a security directory and the Cyclone
// <Domain><Security> fragment (see security_config.hpp).
//
// Each check mirrors one Cyclone DDS 0.10.2 plugin check (authentication:
// auth_utils.c; access control: access_control.c, access_control_utils.c)
// with the same OpenSSL calls where that matters — e.g. S/MIME documents are
// verified with PKCS7_TEXT because Cyclone does, so a document signed without
// `-text` fails here as it would fail there.
#include "security_config.hpp"

#include <fmt/format.h>
#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/pem.h>
#include <openssl/pkcs7.h>
#include <openssl/x509.h>
#include <openssl/x509_vfy.h>
#include <sys/stat.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <ctime>
#include <memory>
#include <string_view>
#include <system_error>
#include <utility>
#include <vector>

#ifndef ZFD_DDS_SECURITY_PLUGIN_DIR
#error "ZFD_DDS_SECURITY_PLUGIN_DIR must name the directory of libdds_security_*.so"
#endif

namespace zerodds::flatdata::dds {
namespace {

namespace fs = std::filesystem;
using Clock = std::chrono::system_clock;

// ---------------------------------------------------------------------------
// OpenSSL ownership
// ---------------------------------------------------------------------------
template <auto Free>
struct Deleter {
    template <typename T>
    void operator()(T* p) const noexcept {
        Free(p);
    }
};
using BioPtr = std::unique_ptr<BIO, Deleter<BIO_free_all>>;
using X509Ptr = std::unique_ptr<X509, Deleter<X509_free>>;
using KeyPtr = std::unique_ptr<EVP_PKEY, Deleter<EVP_PKEY_free>>;
using StorePtr = std::unique_ptr<X509_STORE, Deleter<X509_STORE_free>>;
using StoreCtxPtr = std::unique_ptr<X509_STORE_CTX, Deleter<X509_STORE_CTX_free>>;
using Pkcs7Ptr = std::unique_ptr<PKCS7, Deleter<PKCS7_free>>;
void free_x509_stack(STACK_OF(X509) * stack) { sk_X509_free(stack); }  // sk_X509_free is a macro
using SignersPtr = std::unique_ptr<STACK_OF(X509), Deleter<free_x509_stack>>;

// The first queued OpenSSL error as text (and the queue emptied), or "".
std::string take_openssl_error() {
    unsigned long code = ERR_get_error();
    std::string text;
    if (code != 0) {
        std::array<char, 256> buf{};
        ERR_error_string_n(code, buf.data(), buf.size());
        text = buf.data();
    }
    ERR_clear_error();
    return text;
}

BioPtr memory_bio(const std::string& data) {
    return BioPtr(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
}

// ---------------------------------------------------------------------------
// Reporting
// ---------------------------------------------------------------------------
struct Failure {
    SecurityProblem problem;
    fs::path file;
    std::string what;
};

bool fail(SecurityError* error, Failure f) {
    if (error != nullptr) {
        error->problem = f.problem;
        error->message = fmt::format("{}: {}", f.file.string(), f.what);
        error->file = std::move(f.file);
    }
    return false;
}

// "2026-12-01 07:57:12Z" — the form `openssl x509 -dateopt iso_8601` prints.
std::string iso_time(std::time_t t) {
    std::tm tm{};
    gmtime_r(&t, &tm);
    std::array<char, 32> buf{};
    std::strftime(buf.data(), buf.size(), "%Y-%m-%d %H:%M:%SZ", &tm);
    return buf.data();
}

std::optional<std::time_t> asn1_to_time(const ASN1_TIME* t) {
    std::tm tm{};
    if (t == nullptr || ASN1_TIME_to_tm(t, &tm) != 1) return std::nullopt;
    return timegm(&tm);
}

// "CN=alpha" — X509_NAME_print_ex with XN_FLAG_RFC2253, as Cyclone prints subjects.
std::string name_text(const X509_NAME* name) {
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || name == nullptr || X509_NAME_print_ex(bio.get(), name, 0, XN_FLAG_RFC2253) < 0) {
        return "?";
    }
    char* data = nullptr;
    long len = BIO_get_mem_data(bio.get(), &data);
    return std::string(data, static_cast<std::size_t>(len));
}

// ---------------------------------------------------------------------------
// Files
// ---------------------------------------------------------------------------
struct LoadedFile {
    fs::path path;
    std::string data;
    mode_t mode = 0;
};

// Certificates, keys and signed documents are a few KiB; anything this big is a mistake.
constexpr off_t kMaxFileSize = off_t{1} << 20;

// Reads a whole regular file (symlinks followed, as Cyclone's stat() does).
bool load_file(const fs::path& path, LoadedFile* out, SecurityError* error) {
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0) {
        int err = errno;
        if (err == ENOENT) return fail(error, {SecurityProblem::missing_file, path, "missing"});
        return fail(error, {SecurityProblem::unreadable_file, path,
                            fmt::format("cannot stat: {}", std::strerror(err))});
    }
    if (!S_ISREG(st.st_mode)) {
        return fail(error, {SecurityProblem::unreadable_file, path, "not a regular file"});
    }
    if (st.st_size > kMaxFileSize) {
        return fail(error, {SecurityProblem::unreadable_file, path,
                            fmt::format("{} bytes: too large for a credentials file (at most {})",
                                        st.st_size, kMaxFileSize)});
    }
    std::FILE* fp = std::fopen(path.c_str(), "rb");
    if (fp == nullptr) {
        int err = errno;
        return fail(error, {SecurityProblem::unreadable_file, path,
                            fmt::format("cannot open: {}", std::strerror(err))});
    }
    std::string data;
    std::array<char, 4096> buf{};
    std::size_t n = 0;
    while ((n = std::fread(buf.data(), 1, buf.size(), fp)) > 0) data.append(buf.data(), n);
    bool read_error = std::ferror(fp) != 0;
    int err = errno;
    std::fclose(fp);
    if (read_error) {
        return fail(error, {SecurityProblem::unreadable_file, path,
                            fmt::format("read failed: {}", std::strerror(err))});
    }
    if (data.empty()) return fail(error, {SecurityProblem::unreadable_file, path, "empty file"});
    out->path = path;
    out->data = std::move(data);
    out->mode = st.st_mode;
    return true;
}

// ---------------------------------------------------------------------------
// Certificates and keys
// ---------------------------------------------------------------------------
bool parse_certificate(const LoadedFile& file, X509Ptr* out, SecurityError* error) {
    BioPtr bio = memory_bio(file.data);
    X509Ptr cert(bio ? PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr) : nullptr);
    if (!cert) {
        std::string why = take_openssl_error();
        return fail(error, {SecurityProblem::bad_certificate, file.path,
                            fmt::format("not a PEM X.509 certificate ({})",
                                        why.empty() ? "no certificate found" : why)});
    }
    *out = std::move(cert);
    return true;
}

// Cyclone's authentication plugin accepts RSA keys of exactly 2048 bits and
// EC keys on prime256v1 (check_key_type_and_size in auth_utils.c).
std::optional<std::string> unsupported_key_reason(EVP_PKEY* key) {
    int bits = EVP_PKEY_get_bits(key);
    switch (EVP_PKEY_get_base_id(key)) {
        case EVP_PKEY_RSA:
            if (bits == 2048) return std::nullopt;
            return fmt::format("RSA key of {} bits", bits);
        case EVP_PKEY_EC: {
            std::array<char, 64> group{};
            std::size_t len = 0;
            if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group.data(),
                                               group.size(), &len) == 1 &&
                std::string_view(group.data(), len) == SN_X9_62_prime256v1) {
                return std::nullopt;
            }
            ERR_clear_error();
            return fmt::format("EC key on curve {}", len > 0 ? group.data() : "?");
        }
        default:
            return fmt::format("{} key", OBJ_nid2sn(EVP_PKEY_get_base_id(key)));
    }
}

bool check_key_type(const LoadedFile& file, X509* cert, SecurityError* error) {
    EVP_PKEY* key = X509_get0_pubkey(cert);
    if (key == nullptr) {
        return fail(error, {SecurityProblem::bad_certificate, file.path,
                            fmt::format("public key unreadable ({})", take_openssl_error())});
    }
    if (auto reason = unsupported_key_reason(key)) {
        return fail(error, {SecurityProblem::unsupported_key, file.path,
                            fmt::format("{}; Cyclone DDS accepts only RSA-2048 and EC prime256v1 "
                                        "(P-256) keys",
                                        *reason)});
    }
    return true;
}

bool check_validity(const LoadedFile& file, X509* cert, std::time_t now, SecurityConfig* config,
                    SecurityError* error) {
    auto not_before = asn1_to_time(X509_get0_notBefore(cert));
    auto not_after = asn1_to_time(X509_get0_notAfter(cert));
    if (!not_before || !not_after) {
        return fail(error,
                    {SecurityProblem::bad_certificate, file.path, "unreadable validity dates"});
    }
    std::string period =
        fmt::format("valid from {} to {}", iso_time(*not_before), iso_time(*not_after));
    if (now < *not_before) {
        return fail(error, {SecurityProblem::not_yet_valid, file.path,
                            fmt::format("certificate is not yet valid: {}, now is {}", period,
                                        iso_time(now))});
    }
    if (now > *not_after) {
        return fail(error, {SecurityProblem::expired, file.path,
                            fmt::format("certificate expired on {} ({}), now is {}",
                                        iso_time(*not_after), period, iso_time(now))});
    }
    config->not_before = Clock::from_time_t(*not_before);
    config->not_after = Clock::from_time_t(*not_after);
    return true;
}

// Never prompts: a password-protected key is refused (zfd does not pass passwords).
int no_password(char*, int, int, void*) { return -1; }

bool check_private_key(const LoadedFile& file, X509* cert, const fs::path& cert_path,
                       SecurityError* error) {
    BioPtr bio = memory_bio(file.data);
    KeyPtr key(bio ? PEM_read_bio_PrivateKey(bio.get(), nullptr, no_password, nullptr) : nullptr);
    if (!key) {
        std::string why = take_openssl_error();
        bool encrypted = file.data.find("ENCRYPTED") != std::string::npos;
        return fail(error, {SecurityProblem::bad_private_key, file.path,
                            encrypted ? std::string("private key is password-protected; "
                                                    "zfd needs an unencrypted key (mode 0600)")
                                      : fmt::format("not a PEM private key ({})", why)});
    }
    if (X509_check_private_key(cert, key.get()) != 1) {
        ERR_clear_error();
        return fail(error, {SecurityProblem::key_mismatch, file.path,
                            fmt::format("private key does not belong to the certificate in {}",
                                        cert_path.filename().string())});
    }
    return true;
}

bool check_chain(const LoadedFile& cert_file, X509* cert, const LoadedFile& ca_file, X509* ca,
                 std::time_t now, SecurityError* error) {
    StorePtr store(X509_STORE_new());
    StoreCtxPtr ctx(X509_STORE_CTX_new());
    if (!store || !ctx || X509_STORE_add_cert(store.get(), ca) != 1 ||
        X509_STORE_CTX_init(ctx.get(), store.get(), cert, nullptr) != 1) {
        throw std::bad_alloc();
    }
    X509_STORE_CTX_set_time(ctx.get(), 0, now);
    if (X509_verify_cert(ctx.get()) == 1) return true;
    int code = X509_STORE_CTX_get_error(ctx.get());
    ERR_clear_error();
    std::string issuer = name_text(X509_get_issuer_name(cert));
    std::string ca_subject = name_text(X509_get_subject_name(ca));
    if (code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT_LOCALLY ||
        code == X509_V_ERR_UNABLE_TO_GET_ISSUER_CERT || code == X509_V_ERR_CERT_SIGNATURE_FAILURE) {
        return fail(error, {SecurityProblem::untrusted_certificate, cert_file.path,
                            fmt::format("certificate is not signed by the identity CA in {} "
                                        "(certificate issuer \"{}\", identity CA \"{}\": {})",
                                        ca_file.path.filename().string(), issuer, ca_subject,
                                        X509_verify_cert_error_string(code))});
    }
    if (X509_STORE_CTX_get_error_depth(ctx.get()) > 0) {  // the fault lies with the CA
        return fail(error, {SecurityProblem::untrusted_certificate, ca_file.path,
                            fmt::format("identity CA \"{}\" cannot vouch for the certificate: {}",
                                        ca_subject, X509_verify_cert_error_string(code))});
    }
    return fail(error, {SecurityProblem::untrusted_certificate, cert_file.path,
                        fmt::format("certificate does not verify against the identity CA in {}: "
                                    "{}",
                                    ca_file.path.filename().string(),
                                    X509_verify_cert_error_string(code))});
}

// ---------------------------------------------------------------------------
// Signed documents
// ---------------------------------------------------------------------------

// Verifies an S/MIME document as Cyclone's access control plugin does and
// returns its content. Two passes tell "content changed" from "someone else
// signed it": first the signature over the content alone, then the signer.
bool open_signed_document(const LoadedFile& file, X509* permissions_ca,
                          const fs::path& permissions_ca_path, std::time_t now,
                          std::string* content, SecurityError* error) {
    BioPtr in = memory_bio(file.data);
    BIO* detached = nullptr;
    Pkcs7Ptr p7(in ? SMIME_read_PKCS7(in.get(), &detached) : nullptr);
    BioPtr detached_owner(detached);
    if (!p7 || !PKCS7_type_is_signed(p7.get())) {
        std::string why = take_openssl_error();
        return fail(error, {SecurityProblem::bad_document, file.path,
                            fmt::format("not an S/MIME signed document ({})",
                                        why.empty() ? "not a signed PKCS#7 structure" : why)});
    }
    // The content is read from the detached part once; keep it for both passes.
    std::string body;
    if (detached != nullptr) {
        std::array<char, 4096> buf{};
        int n = 0;
        while ((n = BIO_read(detached, buf.data(), static_cast<int>(buf.size()))) > 0) {
            body.append(buf.data(), static_cast<std::size_t>(n));
        }
    }

    auto verify = [&](X509_STORE* store, int flags, std::string* out) {
        BioPtr data = detached != nullptr ? memory_bio(body) : nullptr;
        BioPtr result(BIO_new(BIO_s_mem()));
        if (!result || (detached != nullptr && !data)) throw std::bad_alloc();
        int ok = PKCS7_verify(p7.get(), nullptr, store, data.get(), result.get(), flags);
        if (ok == 1 && out != nullptr) {
            char* mem = nullptr;
            long len = BIO_get_mem_data(result.get(), &mem);
            out->assign(mem, static_cast<std::size_t>(len));
        }
        return ok == 1;
    };

    // Pass 1: is the content the content that was signed? (PKCS7_TEXT: Cyclone's flag.)
    if (!verify(nullptr, PKCS7_TEXT | PKCS7_NOVERIFY, nullptr)) {
        std::string why = take_openssl_error();
        return fail(error, {SecurityProblem::bad_signature, file.path,
                            fmt::format("content does not match its signature: tampered with, "
                                        "damaged, or not signed as text/plain ({})",
                                        why)});
    }
    // Pass 2: was it signed by the permissions CA?
    StorePtr store(X509_STORE_new());
    if (!store || X509_STORE_add_cert(store.get(), permissions_ca) != 1) throw std::bad_alloc();
    X509_VERIFY_PARAM_set_time(X509_STORE_get0_param(store.get()), now);
    if (!verify(store.get(), PKCS7_TEXT, content)) {
        std::string why = take_openssl_error();
        std::string signer = "?";
        SignersPtr signers(PKCS7_get0_signers(p7.get(), nullptr, 0));
        if (signers && sk_X509_num(signers.get()) > 0) {
            signer = name_text(X509_get_subject_name(sk_X509_value(signers.get(), 0)));
        }
        ERR_clear_error();
        return fail(error, {SecurityProblem::wrong_signer, file.path,
                            fmt::format("not signed by the permissions CA in {} (signer \"{}\", "
                                        "permissions CA \"{}\": {})",
                                        permissions_ca_path.filename().string(), signer,
                                        name_text(X509_get_subject_name(permissions_ca)), why)});
    }
    return true;
}

// ---------------------------------------------------------------------------
// The few facts read from the permissions XML. A full XML parser is not
// needed: the document is signed by the permissions CA, and only the text of
// <subject_name>, <not_before> and <not_after> inside each <grant> is read.
// ---------------------------------------------------------------------------
std::string strip_comments(std::string_view xml) {
    std::string out;
    std::size_t pos = 0;
    while (pos < xml.size()) {
        std::size_t start = xml.find("<!--", pos);
        if (start == std::string_view::npos) break;
        out.append(xml.substr(pos, start - pos));
        std::size_t end = xml.find("-->", start + 4);
        if (end == std::string_view::npos) return out;
        pos = end + 3;
    }
    if (pos < xml.size()) out.append(xml.substr(pos));
    return out;
}

std::string xml_unescape(std::string_view text) {
    static constexpr std::array<std::pair<std::string_view, char>, 5> kEntities{
        {{"&amp;", '&'}, {"&lt;", '<'}, {"&gt;", '>'}, {"&quot;", '"'}, {"&apos;", '\''}}};
    std::string out;
    for (std::size_t i = 0; i < text.size();) {
        bool replaced = false;
        if (text[i] == '&') {
            for (const auto& [entity, ch] : kEntities) {
                if (text.substr(i, entity.size()) == entity) {
                    out.push_back(ch);
                    i += entity.size();
                    replaced = true;
                    break;
                }
            }
        }
        if (!replaced) out.push_back(text[i++]);
    }
    return out;
}

std::string_view trim(std::string_view s) {
    const char* ws = " \t\r\n";
    std::size_t b = s.find_first_not_of(ws);
    if (b == std::string_view::npos) return {};
    return s.substr(b, s.find_last_not_of(ws) - b + 1);
}

// Text of the first <tag>...</tag> in `xml` (element names are matched exactly,
// so <tag> does not match <tagged>), or nullopt.
std::optional<std::string> element_text(std::string_view xml, std::string_view tag) {
    std::string open = fmt::format("<{}", tag);
    std::size_t pos = 0;
    while ((pos = xml.find(open, pos)) != std::string_view::npos) {
        std::size_t after = pos + open.size();
        if (after < xml.size() && (xml[after] == '>' || xml[after] == ' ')) {
            std::size_t body = xml.find('>', after);
            std::size_t close = xml.find(fmt::format("</{}>", tag), body);
            if (body == std::string_view::npos || close == std::string_view::npos) break;
            return xml_unescape(trim(xml.substr(body + 1, close - body - 1)));
        }
        pos = after;
    }
    return std::nullopt;
}

struct Grant {
    std::string subject;
    std::string not_before;
    std::string not_after;
};

std::vector<Grant> read_grants(std::string_view document) {
    std::string xml = strip_comments(document);
    std::vector<Grant> grants;
    std::size_t pos = 0;
    while ((pos = xml.find("<grant", pos)) != std::string::npos) {
        std::size_t end = xml.find("</grant>", pos);
        if (end == std::string::npos) break;
        std::string_view body(xml.data() + pos, end - pos);
        grants.push_back({element_text(body, "subject_name").value_or(""),
                          element_text(body, "not_before").value_or(""),
                          element_text(body, "not_after").value_or("")});
        pos = end;
    }
    return grants;
}

// Cyclone's ac_check_subjects_are_equal: split both names at ',', '/' and '|'
// into name=value pairs; every pair of the certificate's subject must appear
// with the same value in the grant's subject.
std::vector<std::pair<std::string, std::string>> subject_fields(std::string_view name) {
    std::vector<std::pair<std::string, std::string>> fields;
    std::size_t pos = 0;
    while (pos <= name.size()) {
        std::size_t end = name.find_first_of(",/|", pos);
        if (end == std::string_view::npos) end = name.size();
        std::string_view token = name.substr(pos, end - pos);
        if (!token.empty()) {
            std::size_t eq = token.find('=');
            fields.emplace_back(
                std::string(token.substr(0, eq)),
                eq == std::string_view::npos ? std::string() : std::string(token.substr(eq + 1)));
        }
        pos = end + 1;
    }
    return fields;
}

bool subjects_match(std::string_view grant_subject, std::string_view cert_subject) {
    auto grant = subject_fields(grant_subject);
    for (const auto& field : subject_fields(cert_subject)) {
        bool found = false;
        for (const auto& g : grant) {
            if (g.first == field.first) {  // Cyclone looks up the first field of that name
                found = g.second == field.second;
                break;
            }
        }
        if (!found) return false;
    }
    return true;
}

// CCYY-MM-DDThh:mm:ss[.fraction][Z|(+|-)hh:mm], no zone = UTC (as Cyclone reads it).
std::optional<std::time_t> parse_xml_date(const std::string& text) {
    int year = 0, month = 0, day = 0, hour = 0, minute = 0, second = 0, used = 0;
    if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &year, &month, &day, &hour, &minute,
                    &second, &used) != 6 ||
        used != 19) {
        return std::nullopt;
    }
    std::string_view rest = std::string_view(text).substr(19);
    if (!rest.empty() && rest.front() == '.') {
        std::size_t digits = rest.find_first_not_of("0123456789", 1);
        rest = rest.substr(digits == std::string_view::npos ? rest.size() : digits);
    }
    long offset = 0;
    if (rest == "Z" || rest.empty()) {
        offset = 0;
    } else if (rest.size() == 6 && (rest[0] == '+' || rest[0] == '-') && rest[3] == ':') {
        int oh = 0, om = 0;
        if (std::sscanf(std::string(rest.substr(1)).c_str(), "%2d:%2d", &oh, &om) != 2) {
            return std::nullopt;
        }
        offset = (rest[0] == '-' ? -1 : 1) * (oh * 3600L + om * 60L);
    } else {
        return std::nullopt;
    }
    std::tm tm{};
    tm.tm_year = year - 1900;
    tm.tm_mon = month - 1;
    tm.tm_mday = day;
    tm.tm_hour = hour;
    tm.tm_min = minute;
    tm.tm_sec = second;
    return timegm(&tm) - offset;
}

bool check_grant(const LoadedFile& file, const std::string& document,
                 const std::string& cert_subject, const fs::path& cert_path, std::time_t now,
                 SecurityError* error) {
    std::vector<Grant> grants = read_grants(document);
    const Grant* match = nullptr;
    for (const Grant& g : grants) {
        if (subjects_match(g.subject, cert_subject)) {
            match = &g;
            break;
        }
    }
    if (match == nullptr) {
        std::string names;
        for (const Grant& g : grants)
            names += fmt::format("{}\"{}\"", names.empty() ? "" : ", ", g.subject);
        return fail(error, {SecurityProblem::subject_mismatch, file.path,
                            fmt::format("no grant for the subject \"{}\" of {} (grants for: {})",
                                        cert_subject, cert_path.filename().string(),
                                        names.empty() ? "none" : names)});
    }
    auto not_before = parse_xml_date(match->not_before);
    auto not_after = parse_xml_date(match->not_after);
    if (!not_before || !not_after) {
        return fail(error, {SecurityProblem::bad_document, file.path,
                            fmt::format("grant for \"{}\" has an unreadable validity "
                                        "(not_before \"{}\", not_after \"{}\")",
                                        match->subject, match->not_before, match->not_after)});
    }
    // Cyclone refuses at now <= not_before and at now >= not_after.
    if (now <= *not_before) {
        return fail(error, {SecurityProblem::permissions_not_valid, file.path,
                            fmt::format("grant for \"{}\" is not valid before {}, now is {}",
                                        match->subject, iso_time(*not_before), iso_time(now))});
    }
    if (now >= *not_after) {
        return fail(error, {SecurityProblem::permissions_not_valid, file.path,
                            fmt::format("grant for \"{}\" expired on {}, now is {}", match->subject,
                                        iso_time(*not_after), iso_time(now))});
    }
    return true;
}

// ---------------------------------------------------------------------------
// The XML fragment
// ---------------------------------------------------------------------------
std::string xml_escape(std::string_view text) {
    std::string out;
    for (char c : text) {
        switch (c) {
            case '&':
                out += "&amp;";
                break;
            case '<':
                out += "&lt;";
                break;
            case '>':
                out += "&gt;";
                break;
            case '"':
                out += "&quot;";
                break;
            case '\'':
                out += "&apos;";
                break;
            default:
                out.push_back(c);
        }
    }
    return out;
}

std::string file_uri(const fs::path& p) { return "file:" + xml_escape(p.string()); }

struct Plugin {
    const char* element;   // Authentication, AccessControl, Cryptographic
    const char* library;   // file name in the plugin directory
    const char* init;      // initFunction
    const char* finalize;  // finalizeFunction
};
constexpr std::array<Plugin, 3> kPlugins{{
    {"Authentication", "libdds_security_auth.so", "init_authentication", "finalize_authentication"},
    {"AccessControl", "libdds_security_ac.so", "init_access_control", "finalize_access_control"},
    {"Cryptographic", "libdds_security_crypto.so", "init_crypto", "finalize_crypto"},
}};

std::string library_xml(const Plugin& plugin, const fs::path& dir) {
    // An absolute path must name the file itself: Cyclone adds "lib" and ".so"
    // only to a bare name without '/' (ddsrt_dlopen), whatever its docs say.
    return fmt::format(R"(<Library path="{}" initFunction="{}" finalizeFunction="{}"/>)",
                       xml_escape((dir / plugin.library).string()), plugin.init, plugin.finalize);
}

}  // namespace

const char* security_problem_name(SecurityProblem problem) {
    switch (problem) {
        case SecurityProblem::none:
            return "none";
        case SecurityProblem::missing_file:
            return "missing_file";
        case SecurityProblem::unreadable_file:
            return "unreadable_file";
        case SecurityProblem::insecure_private_key:
            return "insecure_private_key";
        case SecurityProblem::bad_certificate:
            return "bad_certificate";
        case SecurityProblem::unsupported_key:
            return "unsupported_key";
        case SecurityProblem::not_yet_valid:
            return "not_yet_valid";
        case SecurityProblem::expired:
            return "expired";
        case SecurityProblem::bad_private_key:
            return "bad_private_key";
        case SecurityProblem::key_mismatch:
            return "key_mismatch";
        case SecurityProblem::untrusted_certificate:
            return "untrusted_certificate";
        case SecurityProblem::bad_document:
            return "bad_document";
        case SecurityProblem::bad_signature:
            return "bad_signature";
        case SecurityProblem::wrong_signer:
            return "wrong_signer";
        case SecurityProblem::subject_mismatch:
            return "subject_mismatch";
        case SecurityProblem::permissions_not_valid:
            return "permissions_not_valid";
        case SecurityProblem::missing_plugin:
            return "missing_plugin";
    }
    return "unknown";
}

fs::path default_security_plugin_dir() { return fs::path(ZFD_DDS_SECURITY_PLUGIN_DIR); }

bool make_security_config(const fs::path& dir_in, SecurityConfig* out, SecurityError* error,
                          const SecurityOptions& options) {
    ERR_clear_error();
    const std::time_t now = Clock::to_time_t(options.now.value_or(Clock::now()));
    std::error_code ec;
    fs::path dir = fs::absolute(dir_in, ec).lexically_normal();
    if (ec) dir = dir_in;

    struct stat st {};
    if (::stat(dir.c_str(), &st) != 0) {
        return fail(error, {SecurityProblem::missing_file, dir,
                            fmt::format("security directory: {}", std::strerror(errno))});
    }
    if (!S_ISDIR(st.st_mode)) {
        return fail(error, {SecurityProblem::unreadable_file, dir, "not a directory"});
    }

    LoadedFile id_ca, id_cert, id_key, perm_ca, governance, permissions;
    const std::array<std::pair<const char*, LoadedFile*>, 6> files{{
        {kIdentityCaFile, &id_ca},
        {kIdentityCertificateFile, &id_cert},
        {kIdentityPrivateKeyFile, &id_key},
        {kPermissionsCaFile, &perm_ca},
        {kGovernanceFile, &governance},
        {kPermissionsFile, &permissions},
    }};
    for (const auto& [name, file] : files) {
        if (!load_file(dir / name, file, error)) return false;
    }
    if ((id_key.mode & (S_IRWXG | S_IRWXO)) != 0) {
        return fail(error, {SecurityProblem::insecure_private_key, id_key.path,
                            fmt::format("private key is accessible by group or others (mode "
                                        "{:04o}); run: chmod 600 {}",
                                        id_key.mode & 07777, id_key.path.string())});
    }

    SecurityConfig config;
    X509Ptr ca_cert, cert, perm_ca_cert;
    if (!parse_certificate(id_ca, &ca_cert, error) ||
        !check_key_type(id_ca, ca_cert.get(), error) || !parse_certificate(id_cert, &cert, error) ||
        !check_key_type(id_cert, cert.get(), error) ||
        !check_validity(id_cert, cert.get(), now, &config, error) ||
        !check_private_key(id_key, cert.get(), id_cert.path, error) ||
        !check_chain(id_cert, cert.get(), id_ca, ca_cert.get(), now, error) ||
        !parse_certificate(perm_ca, &perm_ca_cert, error)) {
        return false;
    }
    config.subject = name_text(X509_get_subject_name(cert.get()));

    std::string governance_xml, permissions_xml;
    if (!open_signed_document(governance, perm_ca_cert.get(), perm_ca.path, now, &governance_xml,
                              error) ||
        !open_signed_document(permissions, perm_ca_cert.get(), perm_ca.path, now, &permissions_xml,
                              error)) {
        return false;
    }
    // A swapped or foreign document is caught here, not by Cyclone's later parse error.
    if (strip_comments(governance_xml).find("<domain_access_rules") == std::string::npos) {
        return fail(error, {SecurityProblem::bad_document, governance.path,
                            "signed content is not a governance document (no "
                            "<domain_access_rules>)"});
    }
    if (strip_comments(permissions_xml).find("<permissions") == std::string::npos) {
        return fail(error, {SecurityProblem::bad_document, permissions.path,
                            "signed content is not a permissions document (no <permissions>)"});
    }
    if (!check_grant(permissions, permissions_xml, config.subject, id_cert.path, now, error)) {
        return false;
    }

    const fs::path plugin_dir =
        options.plugin_dir.empty() ? default_security_plugin_dir() : options.plugin_dir;
    for (const Plugin& plugin : kPlugins) {
        fs::path lib = plugin_dir / plugin.library;
        if (!fs::is_regular_file(lib, ec)) {
            return fail(error, {SecurityProblem::missing_plugin, lib,
                                fmt::format("Cyclone DDS security plugin ({}) not found; on "
                                            "Debian it comes with libddsc0debian",
                                            plugin.element)});
        }
    }

    std::string xml = R"(<Domain id="any"><Security>)";
    xml += fmt::format(
        "<Authentication>{}<IdentityCA>{}</IdentityCA>"
        "<IdentityCertificate>{}</IdentityCertificate>"
        "<PrivateKey>{}</PrivateKey></Authentication>",
        library_xml(kPlugins[0], plugin_dir), file_uri(id_ca.path), file_uri(id_cert.path),
        file_uri(id_key.path));
    xml += fmt::format(
        "<AccessControl>{}<PermissionsCA>{}</PermissionsCA>"
        "<Governance>{}</Governance><Permissions>{}</Permissions></AccessControl>",
        library_xml(kPlugins[1], plugin_dir), file_uri(perm_ca.path), file_uri(governance.path),
        file_uri(permissions.path));
    xml += fmt::format("<Cryptographic>{}</Cryptographic>", library_xml(kPlugins[2], plugin_dir));
    xml += "</Security></Domain>";
    config.xml = std::move(xml);

    if (out != nullptr) *out = std::move(config);
    if (error != nullptr) *error = SecurityError{};
    return true;
}

}  // namespace zerodds::flatdata::dds
