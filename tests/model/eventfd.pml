/*
 * eventfd.pml — the arming protocol of the event-loop descriptors
 * (src/event_fd.cpp, PROTOCOL.md "Event-loop descriptors"), checked with
 * spin: an event loop that takes until "nothing", then waits for its
 * descriptor to be readable, is never left waiting while a sample it has not
 * taken exists (no lost wake-up), with several wakers (commits or releases)
 * racing the arming.
 *
 * The shared words: `events` (samples committed), `armed` (the reader's bit
 * in fd_armed), `queued` (datagrams in the reader's socket; readable while
 * > 0). Wakers: make an event, then (the light barrier: spin is sequentially
 * consistent, which is what the barrier pair provides) exchange `armed` with
 * 0 and, if it was set, send one datagram. The reader (zfd_take + settle):
 * take until nothing; drain the socket; if still armed, wait; else arm, look
 * once more (the barrier pair again), and take what came, or wait.
 * A lost wake-up shows as the reader blocked in its wait with events left:
 * an invalid end state.
 *
 * Mutants (-D...), each must be caught: MUT_NO_RECHECK (no look after
 * arming), MUT_DRAIN_AFTER_ARM (drain after arming and looking),
 * MUT_NEVER_REARM (treat the descriptor as armed for good after the first
 * arming), MUT_FIRE_WITHOUT_CLEAR (send only if armed but never disarm, and
 * skip the send when a byte is queued: a waker that trusts the socket).
 * SPDX-License-Identifier: Apache-2.0
 */
#ifndef WAKERS
#define WAKERS 2
#endif
#ifndef PER_WAKER
#define PER_WAKER 2
#endif
#define TOTAL (WAKERS * PER_WAKER)

byte events = 0;
bit armed = 0;
byte queued = 0;
bit ever_armed = 0;

active [WAKERS] proctype Waker() {
    byte i = 0;
    do
    :: i < PER_WAKER ->
        events++;
#ifdef MUT_FIRE_WITHOUT_CLEAR
        atomic { if :: armed == 1 && queued == 0 -> queued++ :: else -> skip fi }
#else
        atomic { if :: armed == 1 -> armed = 0; queued++ :: else -> skip fi }
#endif
        i++
    :: else -> break
    od
}

active proctype Reader() {
    byte taken = 0;
    /* zfd_reader_fd: made and armed, then one look */
    armed = 1;
    ever_armed = 1;
    do
    :: taken == TOTAL -> break
    :: else ->
        /* take until nothing */
        do
        :: taken < events -> taken++
        :: else -> break
        od;
        /* settle (a take that found nothing) */
#ifndef MUT_DRAIN_AFTER_ARM
        do
        :: queued > 0 -> queued--
        :: else -> break
        od;
#endif
#ifdef MUT_NEVER_REARM
        if
        :: ever_armed == 1 -> goto wait
        :: else -> skip
        fi;
#endif
        if
        :: armed == 1 -> goto wait   /* still armed since the last look */
        :: else -> skip
        fi;
        armed = 1;
#ifndef MUT_NO_RECHECK
        if
        :: taken < events -> goto again  /* the take once more finds it */
        :: else -> skip
        fi;
#endif
#ifdef MUT_DRAIN_AFTER_ARM
        do
        :: queued > 0 -> queued--
        :: else -> break
        od;
#endif
wait:
        if
        :: taken == TOTAL -> skip
        :: else -> (queued > 0)          /* epoll_wait: readable */
        fi;
again:
        skip
    od
}
