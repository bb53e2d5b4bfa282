/*
 * version_test.c — the version is one fact in three places: the header
 * macros, the loaded library (zfd_version_number/zfd_version_string) and
 * meson.project_version(), passed as argv[1]. All must agree.
 *
 * SPDX-License-Identifier: Apache-2.0
 */
#include <zerodds/flatdata.h>

#include <stdio.h>
#include <string.h>

int main(int argc, char **argv) {
    unsigned major = 0, minor = 0, patch = 0;
    char header_text[64];
    const char *lib_text;
    int failures = 0;

    if (argc != 2) {
        fprintf(stderr, "usage: %s <project-version>\n", argv[0]);
        return 2;
    }
    if (sscanf(argv[1], "%u.%u.%u", &major, &minor, &patch) != 3) {
        fprintf(stderr, "cannot parse project version '%s'\n", argv[1]);
        return 2;
    }

    if (major != ZFD_VERSION_MAJOR || minor != ZFD_VERSION_MINOR || patch != ZFD_VERSION_PATCH) {
        fprintf(stderr, "header macros %d.%d.%d != project version %s\n", ZFD_VERSION_MAJOR,
                ZFD_VERSION_MINOR, ZFD_VERSION_PATCH, argv[1]);
        ++failures;
    }
    if (ZFD_VERSION_NUMBER != major * 10000u + minor * 100u + patch) {
        fprintf(stderr, "ZFD_VERSION_NUMBER %d does not encode %s\n", ZFD_VERSION_NUMBER, argv[1]);
        ++failures;
    }
    if (zfd_version_number() != (uint32_t)ZFD_VERSION_NUMBER) {
        fprintf(stderr, "zfd_version_number() %u != ZFD_VERSION_NUMBER %d\n",
                (unsigned)zfd_version_number(), ZFD_VERSION_NUMBER);
        ++failures;
    }

    lib_text = zfd_version_string();
    if (lib_text == NULL) {
        fprintf(stderr, "zfd_version_string() returned NULL\n");
        return 1;
    }
    snprintf(header_text, sizeof header_text, "%d.%d.%d", ZFD_VERSION_MAJOR, ZFD_VERSION_MINOR,
             ZFD_VERSION_PATCH);
    if (strcmp(lib_text, argv[1]) != 0 || strcmp(lib_text, header_text) != 0) {
        fprintf(stderr, "zfd_version_string() '%s', header '%s', project '%s'\n", lib_text,
                header_text, argv[1]);
        ++failures;
    }
    if (failures == 0) printf("version %s consistent\n", lib_text);
    return failures == 0 ? 0 : 1;
}
