/*
 * zerodds/flatdata.hpp — typed, header-only C++20 layer over zerodds/flatdata.h.
 *
 * Copyright 2026 The zerodds-flatdata authors
 * SPDX-License-Identifier: Apache-2.0
 *
 * This header calls only the zfd_* functions of the C ABI; it adds no
 * exported symbol and never touches the library's internals. Everything lives
 * in namespace zfd:
 *
 *   struct Pose { double x, y, z; std::uint64_t stamp_ns; };
 *   ZFD_FLAT_STRUCT(Pose, x, y, z, stamp_ns);            // after the struct, same namespace
 *
 *   auto writer = zfd::Writer<Pose>::create("poses");    // owner of /dev/shm/zfd.poses
 *   if (auto loan = writer.try_loan()) {                  // a slot, written in place
 *       (*loan)->x = 1.0;  ...
 *       loan->commit();
 *   }
 *
 *   auto reader = zfd::Reader<Pose>::open("poses");      // refuses another layout of Pose
 *   if (auto sample = reader.try_take_for(std::chrono::milliseconds(10))) {
 *       use((*sample)->x, sample->sequence());            // read in place; released at scope end
 *   }
 *
 * Error handling — why exceptions for setup and optional/bool for the hot path
 * ----------------------------------------------------------------------------
 * Two kinds of outcome reach a caller, and they are reported differently:
 *
 *  - Failures that end what the caller was trying to do — a segment that cannot
 *    be created or opened, a Reader whose layout differs from the Writer's
 *    (ZFD_E_TYPE_MISMATCH), the owner gone (ZFD_E_PEER_GONE), a reader detached
 *    by the owner (ZFD_E_DETACHED), a misused handle — throw zfd::error. It is a
 *    std::runtime_error carrying the int32_t ZFD_E_* code, the errno behind it
 *    and the library's zfd_error message. These happen at setup or at the end of
 *    a stream, where unwinding is the natural control flow, constructors cannot
 *    return a status, and an ignored error code would be a silent bug. g++ 12 has
 *    no std::expected, and a hand-rolled one would be one more vocabulary type
 *    for every user to learn.
 *
 *  - The expected outcomes of the data path — no free slot, nothing to read, a
 *    wait that ran out — are not errors. The try_* methods report them without
 *    throwing: std::optional (empty) or false. They never allocate on success and
 *    never throw for these outcomes, so a publish or take loop needs no
 *    try/catch. Sample::release() returns false when the sample was evicted
 *    while held (ZFD_E_EVICTED): the data read from it may be torn.
 *
 * Destructors never throw; they ignore what a C close/discard/release reports.
 *
 * Threads: a Segment and a Writer may be used from any thread, as in the C API.
 * A Reader, and the Samples taken from it, are used by one thread at a time.
 * A Loan must not outlive its Writer, a Sample must not outlive its Reader.
 */
#ifndef ZERODDS_FLATDATA_HPP
#define ZERODDS_FLATDATA_HPP

#include <zerodds/flatdata.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <limits>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

/* ======================================================================
 * Layout descriptor grammar (DESIGN §6)
 * ======================================================================
 *
 * ZFD_FLAT_STRUCT(Type, field1, field2, ...) records, for each listed field,
 * its name, type, offsetof and sizeof, and for Type its sizeof and alignof.
 * zfd::type_descriptor<T>() renders that as text and zfd::type_hash<T>()
 * hashes the text with zfd_type_hash (XXH3-128). The text is:
 *
 *   descriptor := struct | type                       (a struct for a ZFD_FLAT_STRUCT type)
 *   struct     := "struct " NAME "{" field { "," field } "};size=" N ";align=" N
 *   field      := NAME ":" type "@" OFFSET "+" SIZE   (byte offset and size in the struct)
 *   type       := base { "[" N "]" }                  (arrays, outermost extent first)
 *   base       := scalar | "enum(" scalar ")" | "byte" | "(" struct ")"
 *   scalar     := "bool" | "char" | "i8" | "i16" | "i32" | "i64" | "i128"
 *               | "u8" | "u16" | "u32" | "u64" | "u128" | "f32" | "f64" | "f80" | "f128"
 *               | "wchar" | "char8" | "char16" | "char32"
 *   N, OFFSET, SIZE := decimal digits
 *
 * - NAME is the text written in the macro: the type name exactly as given
 *   (not namespace-qualified unless written so) and the field names.
 * - Integers are named by signedness and width (long and long long are both
 *   i64 on LP64); signed char is i8 and unsigned char u8, plain char is char.
 *   Floating types are named by their mantissa: float f32, double f64, x86
 *   long double f80, IEEE quad f128.
 * - T[N] and std::array<T, N> give the same text, since they have the same
 *   layout: int32_t m[2][3] and std::array<std::array<int32_t, 3>, 2> are both
 *   "i32[2][3]".
 * - A field whose type has its own ZFD_FLAT_STRUCT embeds that type's full
 *   struct text in parentheses, so a change inside a nested type changes the
 *   hash of every type that contains it.
 * - Enumerations are "enum(" underlying ")"; std::byte is "byte".
 *
 * Example: struct Pose { double x, y, z; std::uint64_t stamp_ns; } gives
 *   struct Pose{x:f64@0+8,y:f64@8+8,z:f64@16+8,stamp_ns:u64@24+8};size=32;align=8
 * and a struct Body { std::int32_t id; Pose pose; } around it gives
 *   struct Body{id:i32@0+4,pose:(struct Pose{...as above...};size=32;align=8)@8+32};size=40;align=8
 *
 * Two types hash equal exactly when their descriptors are equal: same type
 * name, same field names, types, offsets and sizes in the same order, same
 * total size and alignment. The C API hashes the bytes without parsing them,
 * so a program in another language can build the same text to interoperate.
 */

/**
 * Declare the layout of a flat struct for zfd::type_descriptor, zfd::type_hash,
 * zfd::Writer and zfd::Reader.
 *
 * Write it at namespace scope after the struct, in the struct's own namespace
 * (the descriptor is found by argument-dependent lookup), and end it with ';'.
 * List every field (1 to 32) in declaration order. A nested struct field needs
 * its own ZFD_FLAT_STRUCT earlier in the translation unit. Type must be a plain
 * name or a qualified name without template arguments (use an alias for a
 * template specialisation).
 *
 * Compile-time checks (static_assert): Type is standard-layout and trivially
 * copyable; every field is an arithmetic type, an enumeration, std::byte, a C
 * array or std::array of those, or a struct with its own ZFD_FLAT_STRUCT —
 * pointers, references, unions and other classes are refused with a message
 * naming the problem; fields are listed in increasing offset order, without
 * overlap, inside sizeof(Type).
 *
 *   struct Pose { double x, y, z; std::uint64_t stamp_ns; };
 *   ZFD_FLAT_STRUCT(Pose, x, y, z, stamp_ns);
 *
 * Since: 0.1
 */
#define ZFD_FLAT_STRUCT(Type, ...)                                                          \
    static_assert(::std::is_standard_layout_v<Type>,                                        \
                  "ZFD_FLAT_STRUCT(" #Type                                                  \
                  "): the type must be standard-layout (no virtual "                        \
                  "functions, one access level for all fields, no data in a base class)");  \
    static_assert(::std::is_trivially_copyable_v<Type>,                                     \
                  "ZFD_FLAT_STRUCT(" #Type "): the type must be trivially copyable");       \
    ZFD_DETAIL_FOR_EACH(ZFD_DETAIL_CHECK_FIELD, Type, __VA_ARGS__)                          \
    static_assert(                                                                          \
        ::zfd::detail::fields_in_order(                                                     \
            {ZFD_DETAIL_FOR_EACH(ZFD_DETAIL_FIELD_SPAN, Type, __VA_ARGS__)}, sizeof(Type)), \
        "ZFD_FLAT_STRUCT(" #Type "): list every field once, in declaration order");         \
    [[maybe_unused]] inline void zfd_flat_struct_describe(::zfd::detail::tag<Type>,         \
                                                          ::std::string& zfd_out) {         \
        ::zfd::detail::struct_begin(zfd_out, #Type);                                        \
        ZFD_DETAIL_FOR_EACH(ZFD_DETAIL_DESCRIBE_FIELD, Type, __VA_ARGS__)                   \
        ::zfd::detail::struct_end(zfd_out, sizeof(Type), alignof(Type));                    \
    }                                                                                       \
    static_assert(true, "ZFD_FLAT_STRUCT is followed by a semicolon")

/* Implementation of ZFD_FLAT_STRUCT: a FOR_EACH over at most 32 fields. */
#define ZFD_DETAIL_CHECK_FIELD(Type, field)                           \
    static_assert(::zfd::detail::check_flat<decltype(Type::field)>(), \
                  "ZFD_FLAT_STRUCT(" #Type "): field " #field " is not flat");
#define ZFD_DETAIL_FIELD_SPAN(Type, field) \
    ::zfd::detail::field_span{offsetof(Type, field), sizeof(Type::field)},
#define ZFD_DETAIL_DESCRIBE_FIELD(Type, field)                                                 \
    ::zfd::detail::append_field<decltype(Type::field)>(zfd_out, #field, offsetof(Type, field), \
                                                       sizeof(Type::field));
#define ZFD_DETAIL_CAT(a, b) ZFD_DETAIL_CAT_(a, b)
#define ZFD_DETAIL_CAT_(a, b) a##b
#define ZFD_DETAIL_FOR_EACH(M, T, ...) \
    ZFD_DETAIL_CAT(ZFD_DETAIL_FE_, ZFD_DETAIL_NARG(__VA_ARGS__))(M, T, __VA_ARGS__)
#define ZFD_DETAIL_NARG(...)                                                                      \
    ZFD_DETAIL_NARG_(__VA_ARGS__, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22, 21, 20, 19, 18, 17, \
                     16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0)
#define ZFD_DETAIL_NARG_(_1, _2, _3, _4, _5, _6, _7, _8, _9, _10, _11, _12, _13, _14, _15, _16, \
                         _17, _18, _19, _20, _21, _22, _23, _24, _25, _26, _27, _28, _29, _30,  \
                         _31, _32, N, ...)                                                      \
    N
#define ZFD_DETAIL_FE_1(M, T, a) M(T, a)
#define ZFD_DETAIL_FE_2(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_1(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_3(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_2(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_4(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_3(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_5(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_4(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_6(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_5(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_7(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_6(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_8(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_7(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_9(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_8(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_10(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_9(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_11(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_10(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_12(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_11(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_13(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_12(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_14(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_13(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_15(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_14(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_16(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_15(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_17(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_16(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_18(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_17(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_19(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_18(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_20(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_19(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_21(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_20(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_22(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_21(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_23(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_22(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_24(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_23(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_25(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_24(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_26(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_25(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_27(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_26(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_28(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_27(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_29(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_28(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_30(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_29(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_31(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_30(M, T, __VA_ARGS__)
#define ZFD_DETAIL_FE_32(M, T, a, ...) M(T, a) ZFD_DETAIL_FE_31(M, T, __VA_ARGS__)

namespace zfd {

/* ======================================================================
 * Constants and errors
 * ====================================================================== */

/** The 16-byte type hash of a layout (see zfd_type_hash). Since: 0.1 */
using TypeHash = std::array<std::uint8_t, ZFD_TYPE_HASH_SIZE>;

/** A timeout meaning "no limit" (any negative duration means the same). Since: 0.1 */
inline constexpr std::chrono::nanoseconds wait_forever{ZFD_WAIT_FOREVER};

/**
 * The exception thrown for failed setup, lifecycle events and misuse.
 *
 * code() is the ZFD_E_* status of the failed C call, sys_errno() the errno
 * behind it (0 when none), what() "operation: status text[: detail]" with the
 * zfd_error message when the call provides one. Since: 0.1
 */
class error : public std::runtime_error {
public:
    /** Make an error for status code with the given message and errno. Since: 0.1 */
    error(std::int32_t code, const std::string& message, int sys_errno = 0)
        : std::runtime_error(message), code_(code), sys_errno_(sys_errno) {}

    /** The ZFD_E_* code (negative). Since: 0.1 */
    std::int32_t code() const noexcept { return code_; }

    /** The errno behind ZFD_E_SYSTEM/ZFD_E_PERMISSION/..., else 0. Since: 0.1 */
    int sys_errno() const noexcept { return sys_errno_; }

private:
    std::int32_t code_;
    int sys_errno_;
};

/** Static text for a status code (zfd_status_str). Never NULL. Since: 0.1 */
inline const char* status_str(std::int32_t code) noexcept { return zfd_status_str(code); }

/** Version of the loaded library as text, for example "0.1.0". Since: 0.1 */
inline const char* version_string() noexcept { return zfd_version_string(); }

/** Lower-case hex text of a type hash (32 characters). Allocates. Since: 0.1 */
inline std::string to_hex(const TypeHash& hash) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string text;
    text.reserve(2 * hash.size());
    for (std::uint8_t b : hash) {
        text += digits[b >> 4];
        text += digits[b & 0xF];
    }
    return text;
}

namespace detail {

[[noreturn]] inline void throw_error(std::int32_t code, const char* operation,
                                     const zfd_error* detail = nullptr) {
    std::string message = operation;
    message += ": ";
    message += zfd_status_str(code);
    int sys_errno = 0;
    if (detail != nullptr && detail->code == code) {
        sys_errno = detail->sys_errno;
        if (detail->message[0] != '\0') {
            message += ": ";
            message.append(detail->message, strnlen(detail->message, sizeof detail->message));
        }
    }
    throw error(code, message, sys_errno);
}

[[noreturn]] inline void throw_error(std::int32_t code, const char* operation,
                                     const std::string& detail) {
    throw error(code, std::string(operation) + ": " + zfd_status_str(code) + ": " + detail);
}

inline void check(std::int32_t rc, const char* operation) {
    if (rc != ZFD_OK) throw_error(rc, operation);
}

inline zfd_error make_error() noexcept {
    zfd_error e;
    std::memset(&e, 0, sizeof e);
    e.struct_size = sizeof e;
    return e;
}

// Negative durations mean "no limit"; the C API knows only -1 for that.
inline std::int64_t to_timeout(std::chrono::nanoseconds timeout) noexcept {
    return timeout.count() < 0 ? ZFD_WAIT_FOREVER : static_cast<std::int64_t>(timeout.count());
}

/* ---- layout descriptors ---------------------------------------------- */

// ADL carrier: ZFD_FLAT_STRUCT defines zfd_flat_struct_describe(tag<Type>, std::string&)
// in Type's namespace, where argument-dependent lookup finds it.
template <class T>
struct tag {};

template <class T>
concept has_flat_struct = requires(std::string& out) {
    zfd_flat_struct_describe(tag<T>{}, out);
};

template <class T>
inline constexpr bool always_false = false;

template <class T>
struct array_info {
    static constexpr bool is_array = false;
};
template <class E, std::size_t N>
struct array_info<E[N]> {
    static constexpr bool is_array = true;
    static constexpr std::size_t extent = N;
    using element = E;
};
template <class E, std::size_t N>
struct array_info<std::array<E, N>> {
    static constexpr bool is_array = true;
    static constexpr std::size_t extent = N;
    using element = E;
};

template <class T>
constexpr const char* scalar_name() {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, bool>) {
        return "bool";
    } else if constexpr (std::is_same_v<U, char>) {
        return "char";
    } else if constexpr (std::is_same_v<U, wchar_t>) {
        return "wchar";
    } else if constexpr (std::is_same_v<U, char8_t>) {
        return "char8";
    } else if constexpr (std::is_same_v<U, char16_t>) {
        return "char16";
    } else if constexpr (std::is_same_v<U, char32_t>) {
        return "char32";
    } else if constexpr (std::is_integral_v<U>) {
        constexpr bool s = std::is_signed_v<U>;
        constexpr const char* names[2][5] = {{"u8", "u16", "u32", "u64", "u128"},
                                             {"i8", "i16", "i32", "i64", "i128"}};
        constexpr int width = sizeof(U) == 1    ? 0
                              : sizeof(U) == 2  ? 1
                              : sizeof(U) == 4  ? 2
                              : sizeof(U) == 8  ? 3
                              : sizeof(U) == 16 ? 4
                                                : -1;
        static_assert(width >= 0, "zfd: integer type of an unsupported width");
        return names[s ? 1 : 0][width];
    } else if constexpr (std::is_floating_point_v<U>) {
        constexpr int digits = std::numeric_limits<U>::digits;
        static_assert(digits == 24 || digits == 53 || digits == 64 || digits == 113,
                      "zfd: floating type of an unsupported format");
        return digits == 24 ? "f32" : digits == 53 ? "f64" : digits == 64 ? "f80" : "f128";
    } else {
        static_assert(always_false<U>, "zfd: not an arithmetic type");
    }
}

// True for a type a flat sample may hold; otherwise a static_assert names the
// problem. Used by ZFD_FLAT_STRUCT for every field and by Writer/Reader for T.
template <class T>
constexpr bool check_flat() {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_reference_v<T>) {
        static_assert(always_false<T>,
                      "zfd: a reference cannot be shared between processes; store the value");
    } else if constexpr (std::is_pointer_v<U> || std::is_member_pointer_v<U> ||
                         std::is_null_pointer_v<U>) {
        static_assert(always_false<T>,
                      "zfd: a pointer is meaningless in another process; store an index or an "
                      "offset instead");
    } else if constexpr (array_info<U>::is_array) {
        static_assert(array_info<U>::extent > 0, "zfd: std::array<T, 0> is not supported");
        return check_flat<typename array_info<U>::element>();
    } else if constexpr (std::is_arithmetic_v<U> || std::is_enum_v<U>) {
        return true;
    } else if constexpr (std::is_union_v<U>) {
        static_assert(always_false<T>,
                      "zfd: unions are not supported; the descriptor could not tell which member "
                      "is live");
    } else if constexpr (std::is_class_v<U>) {
        static_assert(has_flat_struct<U>,
                      "zfd: this class has no ZFD_FLAT_STRUCT; declare ZFD_FLAT_STRUCT(Type, "
                      "fields...) in its namespace before use (std::string, std::vector and other "
                      "owning classes can never be flat)");
        return true;
    } else {
        static_assert(always_false<T>, "zfd: unsupported type in a flat sample");
    }
    return false;
}

template <class T>
void append_base(std::string& out) {
    using U = std::remove_cv_t<T>;
    if constexpr (std::is_same_v<U, std::byte>) {
        out += "byte";
    } else if constexpr (std::is_enum_v<U>) {
        out += "enum(";
        out += scalar_name<std::underlying_type_t<U>>();
        out += ')';
    } else if constexpr (std::is_arithmetic_v<U>) {
        out += scalar_name<U>();
    } else if constexpr (has_flat_struct<U>) {
        out += '(';
        zfd_flat_struct_describe(tag<U>{}, out);
        out += ')';
    }  // anything else was refused by check_flat's static_assert
}

template <class T, bool = array_info<T>::is_array>
struct innermost {
    using type = T;
};
template <class T>
struct innermost<T, true> {
    using type = typename innermost<std::remove_cv_t<typename array_info<T>::element>>::type;
};

template <class T>
void append_extents(std::string& out) {
    if constexpr (array_info<T>::is_array) {
        out += '[';
        out += std::to_string(array_info<T>::extent);
        out += ']';
        append_extents<std::remove_cv_t<typename array_info<T>::element>>(out);
    }
}

// The innermost element, then every extent outermost first, as C declares it:
// int m[2][3] and std::array<std::array<int, 3>, 2> are both "i32[2][3]".
template <class T>
void append_type(std::string& out) {
    using U = std::remove_cv_t<T>;
    append_base<typename innermost<U>::type>(out);
    append_extents<U>(out);
}

inline void struct_begin(std::string& out, const char* name) {
    out += "struct ";
    out += name;
    out += '{';
}

template <class F>
void append_field(std::string& out, const char* name, std::size_t offset, std::size_t size) {
    if (out.back() != '{') out += ',';
    out += name;
    out += ':';
    append_type<F>(out);
    out += '@';
    out += std::to_string(offset);
    out += '+';
    out += std::to_string(size);
}

inline void struct_end(std::string& out, std::size_t size, std::size_t align) {
    out += "};size=";
    out += std::to_string(size);
    out += ";align=";
    out += std::to_string(align);
}

struct field_span {
    std::size_t offset;
    std::size_t size;
};

constexpr bool fields_in_order(std::initializer_list<field_span> fields, std::size_t total) {
    std::size_t end = 0;
    bool first = true;
    for (const field_span& f : fields) {
        if (!first && f.offset < end) return false;
        if (f.offset + f.size > total) return false;
        end = f.offset + f.size;
        first = false;
    }
    return true;
}

// The slot is 64-byte aligned and holds the bytes of T written by the writer:
// T must be flat, fit that alignment, and be an implicit-lifetime type so that
// C++20 lets us treat the mapped bytes as a T (P0593).
template <class T>
constexpr bool check_sample_type() {
    static_assert(!std::is_const_v<T> && !std::is_volatile_v<T>,
                  "zfd: use Writer<T>/Reader<T> with an unqualified T");
    static_assert(check_flat<T>());
    static_assert(std::is_trivially_copyable_v<T>, "zfd: a sample type must be trivially copyable");
    static_assert(alignof(T) <= 64, "zfd: slots are 64-byte aligned; alignof(T) must be <= 64");
    return true;
}

}  // namespace detail

/* ======================================================================
 * Type identity
 * ====================================================================== */

/**
 * The canonical layout descriptor of T (grammar above).
 *
 * T is a type with ZFD_FLAT_STRUCT, an arithmetic or enumeration type, or an
 * array of those; anything else fails to compile with a static_assert.
 * Allocates the returned string; not for the hot path. Thread-safe.
 * Since: 0.1
 */
template <class T>
std::string type_descriptor() {
    static_assert(detail::check_flat<T>());
    using U = std::remove_cv_t<T>;
    std::string out;
    if constexpr (detail::has_flat_struct<U>) {
        zfd_flat_struct_describe(detail::tag<U>{}, out);
    } else {
        detail::append_type<U>(out);
    }
    return out;
}

/**
 * The 16-byte type hash of T: zfd_type_hash of type_descriptor<T>().
 *
 * Computed once per program and cached. Throws zfd::error only if the library
 * refuses the call (it does not for a valid descriptor). Thread-safe.
 * Since: 0.1
 */
template <class T>
TypeHash type_hash() {
    static const TypeHash cached = [] {
        const std::string descriptor = type_descriptor<T>();
        TypeHash hash{};
        detail::check(zfd_type_hash(descriptor.data(), descriptor.size(), hash.data()),
                      "zfd_type_hash");
        return hash;
    }();
    return cached;
}

/* ======================================================================
 * Segment
 * ====================================================================== */

/**
 * Options for Segment::create and Writer<T>::create. A zero count or capacity
 * means the default. Since: 0.1
 */
struct SegmentOptions {
    /** Number of slots; 0 = library default (64). */
    std::uint32_t slot_count = 0;
    /** Payload bytes per slot; 0 = library default (1024), or sizeof(T) for Writer<T>. */
    std::uint64_t slot_capacity = 0;
    /** Permission bits of a named segment. */
    std::uint32_t mode = 0600;
    /** Replace a same-named segment whose owner is dead (ZFD_SEGMENT_REPLACE_STALE). */
    bool replace_stale = false;
    /**
     * The writer never waits for readers (ZFD_SEGMENT_OVERWRITE_OLDEST): with no
     * free slot it reuses the oldest sample no reader holds; readers that had not
     * taken it see a gap. A held sample is never overwritten. Since: 0.2
     */
    bool overwrite_oldest = false;
    /**
     * The newest `history` samples stay readable for readers attached with
     * ReaderOptions::history (zfd_segment_options.history); below the slot count.
     * Since: 0.2
     */
    std::uint32_t history = 0;
    /** Type hash stored in the segment; Writer<T> sets type_hash<T>(). */
    std::optional<TypeHash> type_hash;
};

/**
 * Options for attaching a Reader. Since: 0.2
 */
struct ReaderOptions {
    /**
     * First take the samples the segment retains as history (SegmentOptions::history),
     * oldest first with their original sequence numbers, then the live ones, with no
     * gap between (ZFD_READER_HISTORY). Since: 0.2
     */
    bool history = false;
};

/**
 * RAII owner of a zfd_segment handle: the owner (writer) side of a segment
 * made by create/create_in_memory, or a consumer attached by open.
 *
 * Move-only; the destructor calls zfd_segment_close, which for the owner
 * unlinks the name and tells readers in other processes the owner is gone.
 * A moved-from or default-constructed Segment is empty: operations on it
 * throw zfd::error(ZFD_E_INVAL). May be used from any thread.
 * Since: 0.1
 */
class Segment {
public:
    /** An empty segment (no handle). Since: 0.1 */
    Segment() noexcept = default;

    /** Adopt a handle from zfd_segment_create/zfd_segment_open; NULL gives an empty Segment. */
    explicit Segment(zfd_segment* handle) noexcept : handle_(handle) {}

    Segment(const Segment&) = delete;
    Segment& operator=(const Segment&) = delete;

    /** Take other's handle; other becomes empty. Since: 0.1 */
    Segment(Segment&& other) noexcept : handle_(std::exchange(other.handle_, nullptr)) {}

    /** Close this handle, then take other's; other becomes empty. Since: 0.1 */
    Segment& operator=(Segment&& other) noexcept {
        if (this != &other) {
            close();
            handle_ = std::exchange(other.handle_, nullptr);
        }
        return *this;
    }

    /** Closes the handle (zfd_segment_close). Never throws. */
    ~Segment() { close(); }

    /**
     * Create the named segment /dev/shm/zfd.<name>; this handle is its owner.
     * name: 1..200 characters of [A-Za-z0-9._-].
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_EXISTS, ZFD_E_PERMISSION, ZFD_E_NOMEM,
     * ZFD_E_SYSTEM, with the library's detail message. Thread-safe. Since: 0.1
     */
    static Segment create(const std::string& name, const SegmentOptions& options = {}) {
        return create_impl(name.c_str(), options, "zfd_segment_create");
    }

    /**
     * Create an in-memory segment private to this process; this handle is its owner.
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_NOMEM. Thread-safe. Since: 0.1
     */
    static Segment create_in_memory(const SegmentOptions& options = {}) {
        return create_impl(nullptr, options, "zfd_segment_create");
    }

    /**
     * Attach to the named segment as a consumer (readers only).
     * expected_type_hash: when given, a segment with another (or no) type hash is
     * refused with ZFD_E_TYPE_MISMATCH.
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_NOT_FOUND, ZFD_E_PERMISSION,
     * ZFD_E_INCOMPATIBLE, ZFD_E_CORRUPT, ZFD_E_TYPE_MISMATCH, ZFD_E_TIMEOUT,
     * ZFD_E_NOMEM, ZFD_E_SYSTEM. Thread-safe. Since: 0.1
     */
    static Segment open(const std::string& name,
                        const std::optional<TypeHash>& expected_type_hash = std::nullopt) {
        zfd_error err = detail::make_error();
        zfd_segment* handle = nullptr;
        const std::int32_t rc = zfd_segment_open(
            name.c_str(), expected_type_hash ? expected_type_hash->data() : nullptr, 0, &handle,
            &err);
        if (rc != ZFD_OK) detail::throw_error(rc, "zfd_segment_open", &err);
        return Segment(handle);
    }

    /**
     * Remove the named segment's objects (zfd_segment_unlink), even when corrupt.
     * Returns true when removed, false when there was none (ZFD_E_NOT_FOUND).
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_SYSTEM. Since: 0.1
     */
    static bool unlink(const std::string& name) {
        zfd_error err = detail::make_error();
        const std::int32_t rc = zfd_segment_unlink(name.c_str(), &err);
        if (rc == ZFD_E_NOT_FOUND) return false;
        if (rc != ZFD_OK) detail::throw_error(rc, "zfd_segment_unlink", &err);
        return true;
    }

    /** Close the handle now (idempotent); the Segment becomes empty. Never throws. */
    void close() noexcept { zfd_segment_close(std::exchange(handle_, nullptr)); }

    /** The C handle, still owned by this Segment; NULL when empty. Since: 0.1 */
    zfd_segment* native_handle() const noexcept { return handle_; }

    /**
     * Owner only: the descriptor an event loop watches for "a slot may be
     * free" (zfd_segment_fd), still owned by this Segment: never close it.
     * native_handle() stays the C handle (0.1); this is the OS descriptor,
     * for asio (posix::stream_descriptor over a dup()), libuv, epoll.
     * Throws zfd::error (permission on a consumer handle). Since: 0.2
     */
    int native_fd() const {
        int fd = -1;
        detail::check(zfd_segment_fd(handle_, &fd), "zfd_segment_fd");
        return fd;
    }

    /** Give up ownership: returns the handle (caller closes it) and becomes empty. */
    [[nodiscard]] zfd_segment* release() noexcept { return std::exchange(handle_, nullptr); }

    /** True when the Segment holds a handle. Since: 0.1 */
    explicit operator bool() const noexcept { return handle_ != nullptr; }

    /**
     * Describe the segment (zfd_segment_get_info).
     * Throws zfd::error(ZFD_E_INVAL) when empty. Thread-safe. Since: 0.1
     */
    zfd_segment_info info() const {
        zfd_segment_info out;
        std::memset(&out, 0, sizeof out);
        out.struct_size = sizeof out;
        detail::check(zfd_segment_get_info(handle_, &out), "zfd_segment_get_info");
        return out;
    }

    /** True for the owner (writer) handle. Throws as info(). Since: 0.1 */
    bool is_owner() const { return info().is_owner == 1; }

    /** True when created with SegmentOptions::overwrite_oldest. Throws as info(). Since: 0.2 */
    bool overwrite_oldest() const { return (info().flags & ZFD_SEGMENT_OVERWRITE_OLDEST) != 0; }

    /** The history the segment was created with. Throws as info(). Since: 0.2 */
    std::uint32_t history() const { return info().history; }

    /** The segment's type hash, or nullopt when it has none. Throws as info(). Since: 0.1 */
    std::optional<TypeHash> type_hash() const {
        const zfd_segment_info i = info();
        if (i.has_type_hash != 1) return std::nullopt;
        TypeHash hash;
        std::memcpy(hash.data(), i.type_hash, hash.size());
        return hash;
    }

    /** The notify generation (zfd_notify_generation); 0 when empty. Never blocks. Since: 0.1 */
    std::uint64_t notify_generation() const noexcept { return zfd_notify_generation(handle_); }

    /**
     * Wait until the notify generation differs from last_generation.
     * Returns true when it did, false when the timeout ran out (negative = no limit).
     * Throws zfd::error(ZFD_E_INVAL) when empty. Thread-safe. Since: 0.1
     */
    bool wait_for_change(std::uint64_t last_generation, std::chrono::nanoseconds timeout) {
        const std::int32_t rc =
            zfd_wait_for_change(handle_, last_generation, detail::to_timeout(timeout));
        if (rc == ZFD_E_TIMEOUT) return false;
        detail::check(rc, "zfd_wait_for_change");
        return true;
    }

    /**
     * Owner only: force-free every slot committed at least max_age ago that a
     * reader still holds or has not taken (zfd_evict_stale). Returns the count.
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_PERMISSION. Thread-safe. Since: 0.1
     */
    std::uint32_t evict_stale(std::chrono::nanoseconds max_age) {
        std::uint32_t evicted = 0;
        detail::check(zfd_evict_stale(handle_, max_age.count(), &evicted), "zfd_evict_stale");
        return evicted;
    }

    /**
     * Owner only: detach every reader whose process died (zfd_reap_dead_readers).
     * Returns the count. Throws zfd::error: ZFD_E_INVAL, ZFD_E_PERMISSION. Since: 0.1
     */
    std::uint32_t reap_dead_readers() {
        std::uint32_t reaped = 0;
        detail::check(zfd_reap_dead_readers(handle_, &reaped), "zfd_reap_dead_readers");
        return reaped;
    }

    /**
     * Owner only: detach reader reader_index (zfd_mark_reader_disconnected).
     * Throws zfd::error: ZFD_E_INVAL, ZFD_E_PERMISSION, ZFD_E_NOT_FOUND. Since: 0.1
     */
    void mark_reader_disconnected(std::uint32_t reader_index) {
        detail::check(zfd_mark_reader_disconnected(handle_, reader_index),
                      "zfd_mark_reader_disconnected");
    }

private:
    static Segment create_impl(const char* name, const SegmentOptions& options,
                               const char* operation) {
        zfd_segment_options opts;
        zfd_segment_options_init(&opts);
        if (options.slot_count != 0) opts.slot_count = options.slot_count;
        if (options.slot_capacity != 0) opts.slot_capacity = options.slot_capacity;
        opts.mode = options.mode;
        if (options.replace_stale) opts.flags |= ZFD_SEGMENT_REPLACE_STALE;
        if (options.overwrite_oldest) opts.flags |= ZFD_SEGMENT_OVERWRITE_OLDEST;
        opts.history = options.history;
        if (options.type_hash) {
            opts.has_type_hash = 1;
            std::memcpy(opts.type_hash, options.type_hash->data(), ZFD_TYPE_HASH_SIZE);
        }
        zfd_error err = detail::make_error();
        zfd_segment* handle = nullptr;
        const std::int32_t rc = zfd_segment_create(name, &opts, &handle, &err);
        if (rc != ZFD_OK) detail::throw_error(rc, operation, &err);
        return Segment(handle);
    }

    zfd_segment* handle_ = nullptr;
};

/* ======================================================================
 * Writer side
 * ====================================================================== */

template <class T>
class Writer;

/**
 * A loaned slot of a Writer<T>: write the T in place, then commit() or discard().
 *
 * get(), operator* and operator-> give the slot itself (64-byte aligned, writable
 * until commit/discard). The slot holds whatever an earlier sample left there:
 * write every field. The destructor discards a loan that was not committed.
 * Move-only; an empty Loan (moved-from, committed, discarded) has get() == nullptr.
 * A Loan must not outlive its Writer; it may be committed from any thread.
 * Since: 0.1
 */
template <class T>
class Loan {
public:
    /** An empty loan. Since: 0.1 */
    Loan() noexcept = default;

    Loan(const Loan&) = delete;
    Loan& operator=(const Loan&) = delete;

    /** Take other's slot; other becomes empty. Since: 0.1 */
    Loan(Loan&& other) noexcept
        : segment_(std::exchange(other.segment_, nullptr)),
          slot_(std::exchange(other.slot_, 0)),
          data_(std::exchange(other.data_, nullptr)) {}

    /** Discard this loan if open, then take other's slot. Since: 0.1 */
    Loan& operator=(Loan&& other) noexcept {
        if (this != &other) {
            discard();
            segment_ = std::exchange(other.segment_, nullptr);
            slot_ = std::exchange(other.slot_, 0);
            data_ = std::exchange(other.data_, nullptr);
        }
        return *this;
    }

    /** Discards an uncommitted loan (the slot is free again). Never throws. */
    ~Loan() { discard(); }

    /** The slot as a T; nullptr when empty. Since: 0.1 */
    T* get() const noexcept { return data_; }
    /** The slot as a T. Precondition: not empty. Since: 0.1 */
    T& operator*() const noexcept { return *data_; }
    /** The slot as a T. Precondition: not empty. Since: 0.1 */
    T* operator->() const noexcept { return data_; }
    /** True while the loan is open. Since: 0.1 */
    explicit operator bool() const noexcept { return data_ != nullptr; }
    /** The C token of the slot (0 when empty). Since: 0.1 */
    zfd_slot token() const noexcept { return slot_; }

    /**
     * Publish the slot's sizeof(T) bytes (zfd_commit_in_place); returns the
     * sample's sequence number. The Loan becomes empty. Never allocates on success.
     * Throws zfd::error: ZFD_E_NOT_LOANED for an empty Loan or a token the library
     * no longer knows; other codes leave the loan open. Since: 0.1
     */
    std::uint64_t commit() {
        if (data_ == nullptr) detail::throw_error(ZFD_E_NOT_LOANED, "zfd::Loan::commit");
        std::uint64_t sequence = 0;
        const std::int32_t rc = zfd_commit_in_place(segment_, slot_, sizeof(T), &sequence);
        if (rc == ZFD_OK || rc == ZFD_E_NOT_LOANED) clear();
        if (rc != ZFD_OK) detail::throw_error(rc, "zfd_commit_in_place");
        return sequence;
    }

    /** Give the slot back unpublished (zfd_discard); no-op when empty. Never throws. */
    void discard() noexcept {
        if (data_ != nullptr) (void)zfd_discard(segment_, slot_);
        clear();
    }

private:
    friend class Writer<T>;
    Loan(zfd_segment* segment, zfd_slot slot, void* data) noexcept
        : segment_(segment), slot_(slot), data_(static_cast<T*>(data)) {}
    void clear() noexcept {
        segment_ = nullptr;
        slot_ = 0;
        data_ = nullptr;
    }

    zfd_segment* segment_ = nullptr;
    zfd_slot slot_ = 0;
    T* data_ = nullptr;
};

/**
 * The typed writer: owns a segment whose type hash is type_hash<T>() and whose
 * slots hold a T, and publishes T samples into it.
 *
 * Move-only; the destructor closes the segment (unlinking a named one).
 * Readers in other processes that expect another layout are refused when they
 * open (ZFD_E_TYPE_MISMATCH). Any thread may use a Writer. Since: 0.1
 */
template <class T>
class Writer {
    static_assert(detail::check_sample_type<T>());

public:
    /** An empty writer. Since: 0.1 */
    Writer() noexcept = default;

    /**
     * Take an owner segment made elsewhere. It must be the owner handle
     * (else ZFD_E_PERMISSION), carry type_hash<T>() (else ZFD_E_TYPE_MISMATCH)
     * and have slot_capacity >= sizeof(T) (else ZFD_E_TOO_LARGE); an empty one
     * gives ZFD_E_INVAL. Throws zfd::error; on failure the segment is closed.
     * Since: 0.1
     */
    explicit Writer(Segment&& segment) : segment_(std::move(segment)) {
        const zfd_segment_info i = segment_.info();
        if (i.is_owner != 1) {
            detail::throw_error(ZFD_E_PERMISSION, "zfd::Writer",
                                "the segment handle is not the owner");
        }
        if (i.has_type_hash != 1 ||
            std::memcmp(i.type_hash, type_hash<T>().data(), ZFD_TYPE_HASH_SIZE) != 0) {
            detail::throw_error(
                ZFD_E_TYPE_MISMATCH, "zfd::Writer",
                "the segment's type hash is not type_hash<T>() of " + type_descriptor<T>());
        }
        if (i.slot_capacity < sizeof(T)) {
            detail::throw_error(ZFD_E_TOO_LARGE, "zfd::Writer",
                                "slot_capacity " + std::to_string(i.slot_capacity) +
                                    " < sizeof(T) " + std::to_string(sizeof(T)));
        }
    }

    /**
     * Create the named segment /dev/shm/zfd.<name> for T samples.
     * options.slot_capacity 0 means sizeof(T); a smaller nonzero one is refused
     * with ZFD_E_TOO_LARGE; options.type_hash, if given, must equal type_hash<T>()
     * (else ZFD_E_TYPE_MISMATCH). Other errors as Segment::create. Since: 0.1
     */
    static Writer create(const std::string& name, SegmentOptions options = {}) {
        prepare(options);
        return Writer(Segment::create(name, options));
    }

    /** As create(), for an in-memory segment private to this process. Since: 0.1 */
    static Writer create_in_memory(SegmentOptions options = {}) {
        prepare(options);
        return Writer(Segment::create_in_memory(options));
    }

    /** The owned segment (for info, eviction, attaching an in-process Reader). */
    Segment& segment() noexcept { return segment_; }
    /** The owned segment. Since: 0.1 */
    const Segment& segment() const noexcept { return segment_; }

    /**
     * Loan a free slot without blocking (zfd_reserve). Returns nullopt when every
     * slot is loaned or still held by a reader. Never allocates.
     * Throws zfd::error for anything else (ZFD_E_INVAL when empty). Since: 0.1
     */
    [[nodiscard]] std::optional<Loan<T>> try_loan() {
        zfd_slot slot = 0;
        void* data = nullptr;
        const std::int32_t rc = zfd_reserve(segment_.native_handle(), &slot, &data);
        if (rc == ZFD_E_NO_FREE_SLOT) return std::nullopt;
        detail::check(rc, "zfd_reserve");
        return Loan<T>(segment_.native_handle(), slot, data);
    }

    /**
     * Loan a slot, waiting up to timeout for one to free (zfd_reserve_wait;
     * negative = no limit). Returns nullopt when the wait ran out. Never allocates.
     * Throws zfd::error for anything else. Since: 0.1
     */
    [[nodiscard]] std::optional<Loan<T>> try_loan_for(std::chrono::nanoseconds timeout) {
        zfd_slot slot = 0;
        void* data = nullptr;
        const std::int32_t rc =
            zfd_reserve_wait(segment_.native_handle(), detail::to_timeout(timeout), &slot, &data);
        if (rc == ZFD_E_TIMEOUT || rc == ZFD_E_NO_FREE_SLOT) return std::nullopt;
        detail::check(rc, "zfd_reserve_wait");
        return Loan<T>(segment_.native_handle(), slot, data);
    }

    /**
     * Loan a slot, waiting up to timeout (default: no limit).
     * Throws zfd::error: ZFD_E_TIMEOUT when the wait ran out, others as try_loan.
     * Since: 0.1
     */
    [[nodiscard]] Loan<T> loan(std::chrono::nanoseconds timeout = wait_forever) {
        if (auto l = try_loan_for(timeout)) return std::move(*l);
        detail::throw_error(ZFD_E_TIMEOUT, "zfd_reserve_wait");
    }

    /**
     * Copy value into a free slot and publish it (zfd_publish); never blocks.
     * Returns the sequence number, or nullopt when no slot is free. Never allocates.
     * Throws zfd::error for anything else. Since: 0.1
     */
    [[nodiscard]] std::optional<std::uint64_t> try_publish(const T& value) {
        std::uint64_t sequence = 0;
        const std::int32_t rc =
            zfd_publish(segment_.native_handle(), std::addressof(value), sizeof(T), &sequence);
        if (rc == ZFD_E_NO_FREE_SLOT) return std::nullopt;
        detail::check(rc, "zfd_publish");
        return sequence;
    }

    /**
     * Copy value into a slot and publish it, waiting up to timeout (default: no
     * limit) for a free slot. Returns the sequence number.
     * Throws zfd::error: ZFD_E_TIMEOUT, others as try_loan. Since: 0.1
     */
    std::uint64_t publish(const T& value, std::chrono::nanoseconds timeout = wait_forever) {
        Loan<T> l = loan(timeout);
        std::memcpy(static_cast<void*>(l.get()), std::addressof(value), sizeof(T));
        return l.commit();
    }

private:
    static void prepare(SegmentOptions& options) {
        const TypeHash hash = type_hash<T>();
        if (options.type_hash && *options.type_hash != hash) {
            detail::throw_error(ZFD_E_TYPE_MISMATCH, "zfd::Writer::create",
                                "options.type_hash is not type_hash<T>()");
        }
        options.type_hash = hash;
        if (options.slot_capacity == 0) options.slot_capacity = sizeof(T);
        if (options.slot_capacity < sizeof(T)) {
            detail::throw_error(ZFD_E_TOO_LARGE, "zfd::Writer::create",
                                "options.slot_capacity " + std::to_string(options.slot_capacity) +
                                    " < sizeof(T) " + std::to_string(sizeof(T)));
        }
    }

    Segment segment_;
};

/* ======================================================================
 * Reader side
 * ====================================================================== */

template <class T>
class Reader;

/**
 * A sample taken by a Reader<T>, read in place.
 *
 * get(), operator* and operator-> give the T in the slot itself (read-only; in
 * another process the mapping is read-only). The destructor releases it; call
 * release() to learn whether it was evicted while held. Move-only; an empty
 * Sample has get() == nullptr. Used by the Reader's thread; must not outlive
 * the Reader. Since: 0.1
 */
template <class T>
class Sample {
public:
    /** An empty sample. Since: 0.1 */
    Sample() noexcept = default;

    Sample(const Sample&) = delete;
    Sample& operator=(const Sample&) = delete;

    /** Take other's sample; other becomes empty. Since: 0.1 */
    Sample(Sample&& other) noexcept
        : reader_(std::exchange(other.reader_, nullptr)),
          slot_(std::exchange(other.slot_, 0)),
          data_(std::exchange(other.data_, nullptr)),
          sequence_(std::exchange(other.sequence_, 0)) {}

    /** Release this sample if held, then take other's. Since: 0.1 */
    Sample& operator=(Sample&& other) noexcept {
        if (this != &other) {
            reset();
            reader_ = std::exchange(other.reader_, nullptr);
            slot_ = std::exchange(other.slot_, 0);
            data_ = std::exchange(other.data_, nullptr);
            sequence_ = std::exchange(other.sequence_, 0);
        }
        return *this;
    }

    /** Releases a held sample, ignoring the outcome. Never throws. */
    ~Sample() { reset(); }

    /** The sample in place; nullptr when empty. Since: 0.1 */
    const T* get() const noexcept { return data_; }
    /** The sample in place. Precondition: not empty. Since: 0.1 */
    const T& operator*() const noexcept { return *data_; }
    /** The sample in place. Precondition: not empty. Since: 0.1 */
    const T* operator->() const noexcept { return data_; }
    /** True while the sample is held. Since: 0.1 */
    explicit operator bool() const noexcept { return data_ != nullptr; }
    /** The sample's sequence number (0 when empty); a jump means samples were evicted. */
    std::uint64_t sequence() const noexcept { return sequence_; }
    /** The C token of the sample (0 when empty). Since: 0.1 */
    zfd_slot token() const noexcept { return slot_; }

    /**
     * Release the sample now (zfd_release); the Sample becomes empty.
     * Returns true when the data was intact while held, false when the slot was
     * evicted or reused meanwhile (ZFD_E_EVICTED): whatever was read from it
     * may be torn and must be discarded. Never allocates on success.
     * Throws zfd::error: ZFD_E_NOT_LOANED (empty Sample), ZFD_E_DETACHED (the
     * owner detached the reader; the data may be torn too). Since: 0.1
     */
    [[nodiscard]] bool release() {
        if (data_ == nullptr) detail::throw_error(ZFD_E_NOT_LOANED, "zfd::Sample::release");
        const std::int32_t rc = zfd_release(reader_, slot_);
        clear();
        if (rc == ZFD_E_EVICTED) return false;
        detail::check(rc, "zfd_release");
        return true;
    }

private:
    friend class Reader<T>;
    Sample(zfd_reader* reader, zfd_slot slot, const void* data, std::uint64_t sequence) noexcept
        : reader_(reader), slot_(slot), data_(static_cast<const T*>(data)), sequence_(sequence) {}
    void reset() noexcept {
        if (data_ != nullptr) (void)zfd_release(reader_, slot_);
        clear();
    }
    void clear() noexcept {
        reader_ = nullptr;
        slot_ = 0;
        data_ = nullptr;
        sequence_ = 0;
    }

    zfd_reader* reader_ = nullptr;
    zfd_slot slot_ = 0;
    const T* data_ = nullptr;
    std::uint64_t sequence_ = 0;
};

/**
 * The typed reader: a zfd_reader on a segment whose type hash is type_hash<T>().
 *
 * Sees every sample committed after it attached, in order, exactly once.
 * Move-only; the destructor closes the reader (and the consumer segment that
 * open() made). A Reader is used by one thread at a time. Since: 0.1
 */
template <class T>
class Reader {
    static_assert(detail::check_sample_type<T>());

public:
    /** An empty reader. Since: 0.1 */
    Reader() noexcept = default;

    /**
     * Attach to a segment this process already has (an owner's, e.g.
     * writer.segment(), or a consumer's). The segment must carry type_hash<T>()
     * (else ZFD_E_TYPE_MISMATCH) and slots of at least sizeof(T) bytes (else
     * ZFD_E_TOO_LARGE). The reader keeps the mapping alive by itself; segment is
     * borrowed for the call only.
     * Throws zfd::error: those, ZFD_E_INVAL (empty), ZFD_E_NO_READER_SLOT,
     * ZFD_E_PEER_GONE, ZFD_E_NOMEM, ZFD_E_SYSTEM. Since: 0.1 (options: 0.2)
     */
    explicit Reader(Segment& segment, const ReaderOptions& options = {}) {
        attach(segment, true, options);
    }

    /**
     * Open the named segment as a consumer, refusing any other layout, and attach
     * a reader to it.
     * Throws zfd::error: ZFD_E_TYPE_MISMATCH when the writer's type hash is not
     * type_hash<T>(); the codes of Segment::open and Reader(Segment&).
     * Since: 0.1 (options: 0.2)
     */
    static Reader open(const std::string& name, const ReaderOptions& options = {}) {
        Reader r;
        r.segment_ = Segment::open(name, type_hash<T>());
        r.attach(r.segment_, false, options);
        return r;
    }

    Reader(const Reader&) = delete;
    Reader& operator=(const Reader&) = delete;

    /** Take other's reader and segment; other becomes empty. Since: 0.1 */
    Reader(Reader&& other) noexcept
        : segment_(std::move(other.segment_)), reader_(std::exchange(other.reader_, nullptr)) {}

    /** Close this reader, then take other's. Since: 0.1 */
    Reader& operator=(Reader&& other) noexcept {
        if (this != &other) {
            close();
            segment_ = std::move(other.segment_);
            reader_ = std::exchange(other.reader_, nullptr);
        }
        return *this;
    }

    /** Closes the reader, releasing what it holds. Never throws. */
    ~Reader() { close(); }

    /** Close the reader (and an owned consumer segment) now; idempotent. */
    void close() noexcept {
        zfd_reader_close(std::exchange(reader_, nullptr));
        segment_.close();
    }

    /** The C handle, still owned by this Reader; NULL when empty. Since: 0.1 */
    zfd_reader* native_handle() const noexcept { return reader_; }

    /**
     * The descriptor an event loop watches (zfd_reader_fd): readable when a
     * sample (or a terminal error) is waiting. Still owned by this Reader:
     * never read or close it. When it is readable, try_take() until it
     * returns nullopt; then it is readable again with the next commit.
     * native_handle() stays the C handle (0.1); this is the OS descriptor,
     * for asio (posix::stream_descriptor over a dup()), libuv, epoll.
     * Throws zfd::error. Since: 0.2
     */
    int native_fd() const {
        int fd = -1;
        detail::check(zfd_reader_fd(reader_, &fd), "zfd_reader_fd");
        return fd;
    }

    /** True when the Reader holds a reader handle. Since: 0.1 */
    explicit operator bool() const noexcept { return reader_ != nullptr; }

    /** The reader's index in the segment; UINT32_MAX when empty. Since: 0.1 */
    std::uint32_t index() const noexcept { return zfd_reader_index(reader_); }

    /** The consumer segment open() made; empty for a Reader attached to a borrowed one. */
    Segment& segment() noexcept { return segment_; }

    /**
     * Take the oldest unread sample in place (zfd_take) without blocking.
     * Returns nullopt when nothing is unread. Never allocates on success.
     * Throws zfd::error: ZFD_E_PEER_GONE (the owner closed and nothing unread
     * remains: the end of the stream), ZFD_E_DETACHED, ZFD_E_INVAL (empty),
     * ZFD_E_TYPE_MISMATCH (a sample whose size is not sizeof(T); it is released).
     * Since: 0.1
     */
    [[nodiscard]] std::optional<Sample<T>> try_take() { return take_with(zfd_take, "zfd_take"); }

    /**
     * Take the newest sample in place (zfd_take_latest) without blocking; every
     * older sample not yet taken counts as read. The keep-last-1 read: a reader
     * that wants the current value, not every value. Returns nullopt when
     * nothing new is there. Never allocates on success.
     * Throws zfd::error as try_take. Since: 0.2
     */
    [[nodiscard]] std::optional<Sample<T>> try_take_latest() {
        return take_with(zfd_take_latest, "zfd_take_latest");
    }

    /**
     * Wait up to timeout (negative = no limit) for a sample and take it in place.
     * Returns nullopt when the wait ran out. Never allocates.
     * Throws zfd::error as try_take. Since: 0.1
     */
    [[nodiscard]] std::optional<Sample<T>> try_take_for(std::chrono::nanoseconds timeout) {
        const bool forever = timeout.count() < 0;
        const auto deadline =
            std::chrono::steady_clock::now() + (forever ? timeout.zero() : timeout);
        for (;;) {
            if (auto sample = try_take()) return sample;
            std::chrono::nanoseconds left = wait_forever;
            if (!forever) {
                left = std::chrono::duration_cast<std::chrono::nanoseconds>(
                    deadline - std::chrono::steady_clock::now());
                if (left.count() <= 0) return std::nullopt;
            }
            if (!wait(left)) return std::nullopt;
        }
    }

    /**
     * Copy the oldest unread sample out and release it (zfd_take_copy); never
     * returns torn data. sequence (may be NULL) receives its sequence number.
     * Returns nullopt when nothing is unread. Never allocates on success.
     * Throws zfd::error as try_take. Since: 0.1
     */
    [[nodiscard]] std::optional<T> try_take_copy(std::uint64_t* sequence = nullptr) {
        std::optional<T> value(std::in_place);
        std::size_t len = 0;
        const std::int32_t rc = zfd_take_copy(reader_, static_cast<void*>(std::addressof(*value)),
                                              sizeof(T), &len, sequence);
        if (rc == ZFD_E_NO_SAMPLE) return std::nullopt;
        if (rc == ZFD_E_TOO_LARGE) {
            // Not consumed by the library: take it, which releases it and throws.
            (void)try_take();
            bad_size(len);
        }
        detail::check(rc, "zfd_take_copy");
        if (len != sizeof(T)) bad_size(len);
        return value;
    }

    /**
     * Wait until an unread sample exists (zfd_reader_wait; spins briefly, then
     * sleeps on a futex). Returns true when one exists, false when the timeout
     * (negative = no limit) ran out. Never allocates.
     * Throws zfd::error: ZFD_E_PEER_GONE, ZFD_E_DETACHED, ZFD_E_INVAL. Since: 0.1
     */
    bool wait(std::chrono::nanoseconds timeout) {
        const std::int32_t rc = zfd_reader_wait(reader_, detail::to_timeout(timeout));
        if (rc == ZFD_E_TIMEOUT) return false;
        detail::check(rc, "zfd_reader_wait");
        return true;
    }

private:
    using TakeFn = std::int32_t (*)(zfd_reader*, zfd_slot*, const void**, std::size_t*, std::uint64_t*);

    std::optional<Sample<T>> take_with(TakeFn take, const char* operation) {
        zfd_slot slot = 0;
        const void* data = nullptr;
        std::size_t len = 0;
        std::uint64_t sequence = 0;
        const std::int32_t rc = take(reader_, &slot, &data, &len, &sequence);
        if (rc == ZFD_E_NO_SAMPLE) return std::nullopt;
        detail::check(rc, operation);
        Sample<T> sample(reader_, slot, data, sequence);
        if (len != sizeof(T)) bad_size(len);  // ~Sample releases it
        return sample;
    }

    void attach(Segment& segment, bool check_hash, const ReaderOptions& options) {
        const zfd_segment_info i = segment.info();
        if (check_hash && (i.has_type_hash != 1 || std::memcmp(i.type_hash, type_hash<T>().data(),
                                                               ZFD_TYPE_HASH_SIZE) != 0)) {
            detail::throw_error(
                ZFD_E_TYPE_MISMATCH, "zfd::Reader",
                "the segment's type hash is not type_hash<T>() of " + type_descriptor<T>());
        }
        if (i.slot_capacity < sizeof(T)) {
            detail::throw_error(ZFD_E_TOO_LARGE, "zfd::Reader",
                                "slot_capacity " + std::to_string(i.slot_capacity) +
                                    " < sizeof(T) " + std::to_string(sizeof(T)));
        }
        detail::check(zfd_reader_open(segment.native_handle(), options.history ? ZFD_READER_HISTORY : 0u,
                                      &reader_),
                      "zfd_reader_open");
    }

    [[noreturn]] static void bad_size(std::size_t len) {
        detail::throw_error(ZFD_E_TYPE_MISMATCH, "zfd::Reader",
                            "a sample of " + std::to_string(len) + " bytes, sizeof(T) is " +
                                std::to_string(sizeof(T)));
    }

    Segment segment_;  // the consumer segment open() made; empty when attached to a borrowed one
    zfd_reader* reader_ = nullptr;
};

}  // namespace zfd

#endif /* ZERODDS_FLATDATA_HPP */
