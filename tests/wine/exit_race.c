/*
 * exit_race.c: not a test of Webhook1C. It shows a fault of 32-bit Wine 8
 * that tests/support/host.rs tolerates: a process that returns from main
 * while some of its threads are still starting dies with SIGSEGV in Wine's
 * thread-termination signal handler, with no add-in loaded.
 *
 *   i686-w64-mingw32-gcc -O2 -o exit_race.exe tests/wine/exit_race.c
 *   for i in $(seq 60); do wine exit_race.exe 9 0 >/dev/null; echo $?; done | sort | uniq -c
 *
 * Seen here under load: 4-5 of 60 runs end with 139 (SIGSEGV) with
 * "9 0" (nine threads, exit at once); 0 of 60 with "9 300" (the threads
 * have started), 0 of 60 with "0 0", 0 of 60 under 64-bit Wine.
 */
#include <stdio.h>
#include <stdlib.h>
#include <windows.h>

static SRWLOCK lock = SRWLOCK_INIT;
static CONDITION_VARIABLE wake = CONDITION_VARIABLE_INIT;

static DWORD WINAPI waiter(LPVOID unused)
{
    (void)unused;
    AcquireSRWLockExclusive(&lock);
    for (;;)
        SleepConditionVariableSRW(&wake, &lock, INFINITE, 0);
    return 0;
}

int main(int argc, char **argv)
{
    int threads = argc > 1 ? atoi(argv[1]) : 9;
    int settle_ms = argc > 2 ? atoi(argv[2]) : 0;
    for (int i = 0; i < threads; i++)
        CloseHandle(CreateThread(NULL, 0, waiter, NULL, 0, NULL));
    if (settle_ms > 0)
        Sleep((DWORD)settle_ms);
    puts("done");
    return 0;
}
