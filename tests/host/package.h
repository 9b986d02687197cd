/*
 * package.h: 1C add-in packages, a .zip holding MANIFEST.XML and one
 * library per platform.  manifest.c reads the manifest, package.c picks and
 * extracts the library for the platform the host is built for.
 */
#ifndef WEBHOOK1C_PACKAGE_H
#define WEBHOOK1C_PACKAGE_H

#include "host.h"

/* ---- manifest.c ---------------------------------------------------------- */

/* One <component .../> element; an attribute that is absent is NULL.
 * Values are UTF-8 with XML character references decoded. */
typedef struct manifest_component {
    char *os;
    char *arch;
    char *path;
    char *type;
} manifest_component;

typedef struct manifest {
    manifest_component *components;
    size_t count;
} manifest;

/* Parses MANIFEST.XML (UTF-8, optional BOM).  The root element must be
 * <bundle>; every <component> element in it is listed.  On malformed XML
 * returns false with a malloc'ed message (with a line number) in *error. */
bool manifest_parse(const char *xml, size_t len, manifest *m, char **error);
void manifest_free(manifest *m);

/* ---- package.c ----------------------------------------------------------- */

/* True for a LIBRARY argument that names a package (ends in .zip, any case). */
bool package_path_is_zip(const char *path);

/* Reads the package (with the unzip program), picks the component for this
 * host's platform, extracts it into a fresh temporary directory and prints
 * the "# package:" line.  Returns the path of the extracted library (owned
 * by package.c, valid until package_cleanup), or NULL with a malloc'ed
 * one-line message in *error.  The Windows build refuses every package. */
const char *package_extract(const char *zip_path, char **error);

/* Removes the extracted file and its directory (call after the library is
 * unloaded).  Safe to call more than once; also registered with atexit. */
void package_cleanup(void);

#endif /* WEBHOOK1C_PACKAGE_H */
