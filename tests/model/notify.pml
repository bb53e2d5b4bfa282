/*
 * notify.pml — the sleep/wake handshake of src/notify.hpp (wait_until and
 * wake_if_waiting), checked with spin: no sleeper is left asleep while the
 * event it waits for has happened (no lost wake-up), with the "armed" flag
 * that lets a burst of events wake sleepers once instead of once per event.
 *
 * Waiters wait for the event count to reach 1, then 2 (so they re-arm after
 * a wake); wakers each make one event, then notify. futex_wait is modelled
 * as blocking until the word differs from the value read (a wake always
 * follows a bump of the word, and a wait on a changed word returns at once);
 * spurious wake-ups and the library's 100 ms sleep slices are left out, so a
 * lost wake-up shows as a waiter blocked forever: an invalid end state.
 *
 * Mutants (-D...): MUT_NO_RECHECK (no look at the state after arming),
 * MUT_ARM_BEFORE_READ (arm before reading the word), MUT_NO_ARM (never arm),
 * each must be caught.
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef WAITERS
#define WAITERS 2
#endif
#ifndef WAKERS
#define WAKERS 2
#endif

byte events = 0;   /* the state waiters wait on (commits, freed slots) */
byte waiters = 0;  /* hdr->*_waiters */
byte word = 0;     /* hdr->*_futex */
bit armed = 0;     /* hdr->*_armed */
byte finished = 0;

/* wait_until(ready = events >= want) */
inline wait_for(want) {
    do
    :: events >= want -> break
    :: else ->
        waiters++;
#ifdef MUT_ARM_BEFORE_READ
        armed = 1;
        seen = word;
#else
        seen = word;
#ifndef MUT_NO_ARM
        armed = 1;
#endif
#endif
#ifndef MUT_NO_RECHECK
        if
        :: events >= want -> waiters--; break
        :: else -> skip
        fi;
#endif
        (word != seen);  /* futex_wait(word, seen) */
        waiters--
    od
}

active [WAITERS] proctype Waiter() {
    byte seen;
    wait_for(1);
    wait_for(WAKERS);
    finished++
}

active [WAKERS] proctype Waker() {
    bit was;
    events++;  /* the state change, seq_cst, before the notify */
    /* wake_if_waiting */
    if
    :: waiters > 0 ->
        atomic { was = armed; armed = 0 };
        if
        :: was -> word++  /* bump, then FUTEX_WAKE(all) */
        :: else -> skip
        fi
    :: else -> skip
    fi
}
