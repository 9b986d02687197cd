/*
 * bcryptprimitives.c: a TEST-ONLY stand-in for bcryptprimitives.dll, used
 * when the Windows builds run under Wine (tests/wine/run.sh).
 *
 * Rust's standard library (1.78 and later) gets its randomness from
 * bcryptprimitives.dll!ProcessPrng, which real Windows 10+ has and Wine 8
 * lacks, so under Wine the add-in would fail to load.  This DLL provides
 * that one function on top of advapi32!SystemFunction036 (RtlGenRandom).
 * It lives next to the test host in target/wine/<arch>/ and is never part
 * of a package: on Windows the system's own DLL is used.
 */
#include <windows.h>

/* RtlGenRandom, exported by advapi32 under this name. */
BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

/* Same contract as Windows: fills the buffer and always returns TRUE. */
BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T length)
{
    while (length > 0) {
        ULONG chunk = length > 0x10000000u ? 0x10000000u : (ULONG)length;
        /* Windows documents ProcessPrng as never failing; retry rather
         * than hand out unfilled bytes. */
        while (!SystemFunction036(data, chunk)) {
        }
        data += chunk;
        length -= chunk;
    }
    return TRUE;
}
