/*
 * bcryptprimitives.dll for Wine releases that lack it (Debian 12's Wine
 * 8.0): Go's Windows runtime (1.24 on) loads it at start for ProcessPrng
 * and aborts without it. This stand-in fills the buffer from
 * RtlGenRandom (advapi32's SystemFunction036), the generator Go used
 * before. Test infrastructure only: scripts/wine/setup builds it with
 * mingw-w64 into the Wine prefix; Windows itself has the real DLL.
 */
#include <windows.h>

BOOLEAN WINAPI SystemFunction036(PVOID buffer, ULONG length);

BOOL WINAPI ProcessPrng(PBYTE data, SIZE_T len)
{
    while (len > 0) {
        ULONG n = len > 0x10000000 ? 0x10000000 : (ULONG)len;
        if (!SystemFunction036(data, n))
            return FALSE;
        data += n;
        len -= n;
    }
    return TRUE;
}

BOOL WINAPI DllMain(HINSTANCE inst, DWORD reason, LPVOID reserved)
{
    (void)inst; (void)reason; (void)reserved;
    return TRUE;
}
