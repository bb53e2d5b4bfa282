/*
 * sample_protocol.pml — Promela model of the sample protocol (layout 3,
 * src/PROTOCOL.md), checked by tests/model/run_spin.sh.
 *
 * Scope
 * -----
 * 3 slots, a log of 4 descriptors (the power of two >= slot_count), 2
 * readers, and WT writer threads (1 or 2) of the owner that each make at most
 * BUDGET writer calls (reserve+commit, reserve+discard, eviction when EVICT,
 * reaping), so the state space is finite; run_spin.sh runs several bounded
 * configurations: the default policy and OVERWRITE_OLDEST, with HISTORY 0 or
 * 1, with or without crashes.
 *
 * Writer threads run their calls inside the writer gate, modelled as in
 * writer_gate.hpp: thread 1 is the owner and enters by storing `inside` and
 * checking `shared`; thread 2 takes the mutex, sets `shared` (the membarrier
 * makes that store and the owner's `inside` a Dekker pair, which the SC
 * model gives as is), and waits for `inside == 0`. Inside the gate every
 * shared access is its own step, so readers interleave with every step.
 *
 * Reader 0 is fine-grained: every shared access is its own step, it may
 * crash between any two of them (CRASH_READER: it stops, its lock is free,
 * the writer reaps it) and, with HIST_READER, it attaches with
 * ZFD_READER_HISTORY after the writer has committed. Reader 1 runs each API
 * call (attach, take, release, close) as one atomic step; with REATTACH it
 * closes after its first sample and attaches again (the writer-kill torture
 * found that a reattaching reader could be given a sample twice when
 * next_pos moved after the descriptor). Each reader holds at most one sample.
 *
 * The writer process may crash at any of its steps (CRASH_WRITER): every
 * writer thread stops; readers take what is published, then see the owner
 * gone and close.
 *
 * Memory model: Promela is sequentially consistent. The model checks the
 * interleavings; a missing store-load fence is modelled by its consequence,
 * the load done before the store (the mutants below).
 *
 * Mapping of model steps to the code
 * ----------------------------------
 *  fast claim       sample_path::reserve_locked: a FREE slot, or COMMITTED at
 *                   a position below cached_min (the code tries the cursor's
 *                   slot; the model any slot: a superset).
 *  refresh          Segment::Impl::refresh: active_readers, then each active
 *                   reader's released and cursor; cached_min =
 *                   min(released, next_pos - history).
 *  slow claim       reusable_default: not retained, and for every reader in
 *                   the snapshot released > q, or cursor > q and its held bit
 *                   (read now) clear.
 *  probe            Segment::Impl::probe (OVERWRITE_OLDEST): BUSY, then the
 *                   active mask, each reader's released and held bit; a hold:
 *                   COMMITTED again; none: LOANED.
 *  commit           commit_loan: pos, data; COMMITTED; next_pos; descriptor
 *                   tag 0; fields; tag p + 1.
 *  evict            evict_stale on one slot: BUSY, evict_high, evictions++,
 *                   FREE(g+1).
 *  reap             reap_dead_readers: a dead reader's ACTIVE/CLOSING entry
 *                   -> FREE, its active bit cleared.
 *  attach           Reader::open: start/cursor/released = N0 - h; entry
 *                   ACTIVE; active |= bit; evictions, evict_high; N1 =
 *                   next_pos; start/cursor/released = N1 - h.
 *  take             sample_path::take / take_slow: tag, fields, tag again;
 *                   held bit; (overwrite: the slot check; history positions
 *                   and evictions: the slot check); cursor = c + 1.
 *  release          evictions (slot check if it moved); bit cleared;
 *                   released = cursor.
 *  close            entry CLOSING; active &= ~bit; entry FREE.
 *
 * Properties
 * ----------
 *  P1 no held sample overwritten: when a writer claims slot k, no reader
 *     holds the sample in k unless that sample was evicted; and a release
 *     that says OK was never evicted (else it must say EVICTED).
 *  P2 exactly once, in order (default policy, no eviction): every reader's
 *     samples are consecutive positions from its start; a reader that
 *     drained to the end got every position from its start to the last.
 *  P3 history exactly: a history reader's first sample is N1 - h (the newest
 *     h committed at its attach), then consecutive (covered by P2).
 *  P4 no slot leaked: when the writer is done and every reader closed or was
 *     reaped, the writer can claim every slot but the `history` newest.
 *  P5 writer threads exclude each other (the gate).
 *  Spin also checks that no run deadlocks (invalid end states).
 *
 * Mutants (-DMUT_<name>): run_spin.sh checks that each makes spin report an
 * error, so the model can fail:
 *  MUT_CURSOR_BEFORE_BIT     take moves the cursor before setting its bit: P1
 *  MUT_CHECK_BEFORE_BIT      overwrite: the reader checks the slot before its
 *                            bit is visible (no fence): P1
 *  MUT_ATTACH_ONE_LOAD       attach keeps the start read before its bit was
 *                            visible: P1 (a sample the writer judged free)
 *  MUT_NEXTPOS_AFTER_TAG     commit counts next_pos after publishing: P2 (a
 *                            reattaching reader gets a sample twice)
 *  MUT_CACHE_NO_HISTORY      cached_min ignores history: P1/P3
 *  MUT_GATE_NO_RECHECK       the owner enters the gate without looking at
 *                            `shared`: P5
 */

#ifndef NS
#define NS 3            /* slots: 2 or 3 */
#endif
#define NR 2
#if NS > 2
#define L  4
#else
#define L  2
#endif

#ifndef WT
#define WT 2
#endif
#ifndef BUDGET
#define BUDGET 2
#endif
#ifndef OVERWRITE
#define OVERWRITE 0
#endif
#ifndef HISTORY
#define HISTORY 0
#endif
#ifndef EVICT
#define EVICT 0
#endif
#ifndef CRASH_READER
#define CRASH_READER 0
#endif
#ifndef CRASH_WRITER
#define CRASH_WRITER 0
#endif
#ifndef HIST_READER
#define HIST_READER 0
#endif
#ifndef REATTACH
#define REATTACH 0
#endif

#define FREE      0
#define LOANED    1
#define COMMITTED 2
#define BUSY      3
#define RFREE     0
#define RACTIVE   1
#define RCLOSING  2

#define SW(g, s)  ((g) * 4 + (s))
#define ST(w)     ((w) % 4)
#define GEN(w)    ((w) / 4)
#define GENMOD    16
#define NEXTG(w)  ((GEN(w) + 1) % GENMOD)
#define NOPOS     255

/* ---- shared segment words ---- */
byte sstate[NS];
byte spos[NS];
byte dtag[L];
byte dslot[L];
byte dgen[L];
byte next_pos;
byte areaders;           /* SegmentHeader::active_readers */
byte evictions;
byte evict_high;
bool owner_closed;
byte rword[NR];
byte rstart[NR];
byte rcur[NR];
byte rrel[NR];
byte rbits[NR];

/* ---- writer-private (owner heap), guarded by the gate ---- */
byte wnext;
byte cached_min;
bool inside;
bool shared;
byte wlock;

/* ---- environment ---- */
bool wdead;
byte wdone;              /* writer threads that finished their budget */
bool checked;            /* the leak check ran */
bool rdead[NR];
bool rfin[NR];

/* ---- ghost ---- */
byte data[NS];           /* position + 1 whose bytes slot k holds; 0 while written */
byte gh_slot[NR];        /* the sample reader i holds: slot, position, evicted */
byte gh_pos[NR];
bool gh_evicted[NR];
byte in_op;              /* writer threads inside a call */

#define OWNER_GONE (wdead || owner_closed)
#define RETAINED(q, np) ((q) + HISTORY >= (np))

/* P1 at a claim: nobody holds the sample in k (unless it was evicted). */
#define NOT_HELD(k) \
    ((gh_slot[0] != (k) || gh_pos[0] != spos[k] || gh_evicted[0]) && \
     (gh_slot[1] != (k) || gh_pos[1] != spos[k] || gh_evicted[1]))

#define WCP if :: CRASH_WRITER -> wdead = 1; goto wend :: skip fi

/* ======================================================================
 * Writer threads
 * ====================================================================== */

inline claim(k) {
    d_step {
        assert(ST(sstate[k]) == FREE || ST(sstate[k]) == COMMITTED || ST(sstate[k]) == BUSY);
        assert(ST(sstate[k]) == FREE || NOT_HELD(k));            /* P1 */
        assert(NEXTG(sstate[k]) != 0);                            /* no wrap within the bounds */
        sstate[k] = SW(NEXTG(sstate[k]), LOANED);
        data[k] = 0;
        got = 1
    }
}

/* refresh: the active mask, then each active reader's line */
inline refresh() {
    d_step { mask = areaders; rl0 = NOPOS; rl1 = NOPOS; cu0 = NOPOS; cu1 = NOPOS };
    WCP;
    if :: (mask & 1) -> d_step { rl0 = rrel[0]; cu0 = rcur[0] }; WCP :: else fi;
    if :: (mask & 2) -> d_step { rl1 = rrel[1]; cu1 = rcur[1] }; WCP :: else fi;
    d_step {
        cached_min = wnext;
#ifndef MUT_CACHE_NO_HISTORY
        if :: wnext >= HISTORY -> cached_min = wnext - HISTORY :: else -> cached_min = 0 fi;
#endif
        if :: (mask & 1) && rl0 < cached_min -> cached_min = rl0 :: else fi;
        if :: (mask & 2) && rl1 < cached_min -> cached_min = rl1 :: else fi
    }
}

/* reusable_default(k) against the snapshot; held bits read now */
inline slow_check(k) {
    d_step {
        q = spos[k];
        ok = (ST(sstate[k]) == COMMITTED && !RETAINED(q, wnext));
        if :: ok && (mask & 1) && rl0 <= q && cu0 <= q -> ok = 0 :: else fi;
        if :: ok && (mask & 2) && rl1 <= q && cu1 <= q -> ok = 0 :: else fi
    };
    WCP;
    if :: ok && (mask & 1) && rl0 <= q -> d_step { if :: (rbits[0] >> k) & 1 -> ok = 0 :: else fi }; WCP :: else fi;
    if :: ok && (mask & 2) && rl1 <= q -> d_step { if :: (rbits[1] >> k) & 1 -> ok = 0 :: else fi }; WCP :: else fi
}

/* OVERWRITE_OLDEST probe of slot k: BUSY, fence, then look for a hold */
inline probe(k) {
    d_step {
        w = sstate[k]; q = spos[k];
        ok = (ST(w) == COMMITTED && !RETAINED(q, wnext));
        if :: ok -> sstate[k] = SW(GEN(w), BUSY) :: else fi
    };
    WCP;
    if
    :: ok ->
        mask = areaders;
        WCP;
        if :: ok && (mask & 1) -> d_step { if :: rrel[0] <= q && ((rbits[0] >> k) & 1) -> ok = 0 :: else fi }; WCP :: else fi;
        if :: ok && (mask & 2) -> d_step { if :: rrel[1] <= q && ((rbits[1] >> k) & 1) -> ok = 0 :: else fi }; WCP :: else fi;
        if :: !ok -> sstate[k] = w; WCP :: else fi
    :: else
    fi
}

inline reserve() {
    got = 0;
    if
    :: d_step { (ST(sstate[0]) == FREE || (ST(sstate[0]) == COMMITTED && spos[0] < cached_min)) -> k = 0 }; claim(k)
    :: d_step { (ST(sstate[1]) == FREE || (ST(sstate[1]) == COMMITTED && spos[1] < cached_min)) -> k = 1 }; claim(k)
#if NS > 2
    :: d_step { (ST(sstate[2]) == FREE || (ST(sstate[2]) == COMMITTED && spos[2] < cached_min)) -> k = 2 }; claim(k)
#endif
    :: true ->
        refresh();
        WCP;
#if NS > 2
        if :: k = 0 :: k = 1 :: k = 2 fi;
#else
        if :: k = 0 :: k = 1 fi;
#endif
        if
        :: d_step { (ST(sstate[k]) == FREE || (ST(sstate[k]) == COMMITTED && spos[k] < cached_min)) -> skip }; claim(k)
        :: ST(sstate[k]) == COMMITTED ->
            slow_check(k);
            if
            :: ok -> claim(k)
#if OVERWRITE
            :: !ok -> probe(k); if :: ok -> claim(k) :: else fi
#endif
            :: else
            fi
        :: else
        fi
    fi;
    d_step { mask = 0; rl0 = 0; rl1 = 0; cu0 = 0; cu1 = 0; q = 0; ok = 0; w = 0 }
}

inline commit(k) {
    d_step {
        p = wnext;
        spos[k] = p;
        data[k] = p + 1;           /* the bytes are complete (written while LOANED) */
        w = sstate[k];
        assert(ST(w) == LOANED)
    };
    WCP;
    sstate[k] = SW(GEN(w), COMMITTED);
    WCP;
#ifndef MUT_NEXTPOS_AFTER_TAG
    d_step { wnext = p + 1; next_pos = p + 1 };
    WCP;
#endif
    dtag[p % L] = 0;
    WCP;
    d_step { dslot[p % L] = k; dgen[p % L] = GEN(w) };
    WCP;
    dtag[p % L] = p + 1;
    WCP;
#ifdef MUT_NEXTPOS_AFTER_TAG
    d_step { wnext = p + 1; next_pos = p + 1 };
    WCP;
#endif
    d_step { p = 0; w = 0 }
}

inline evict(k) {
    d_step {
        w = sstate[k];
        ok = (ST(w) == COMMITTED);
        if :: ok -> sstate[k] = SW(GEN(w), BUSY) :: else -> w = 0 fi
    };
    WCP;
    if
    :: ok ->
        d_step { if :: evict_high < spos[k] + 1 -> evict_high = spos[k] + 1 :: else fi };
        WCP;
        d_step {
            evictions++;
            if :: gh_slot[0] == k && gh_pos[0] == spos[k] -> gh_evicted[0] = 1 :: else fi;
            if :: gh_slot[1] == k && gh_pos[1] == spos[k] -> gh_evicted[1] = 1 :: else fi
        };
        WCP;
        sstate[k] = SW(NEXTG(w), FREE);
        WCP
    :: else
    fi;
    d_step { ok = 0; w = 0 }
}

inline reap() {
    d_step {
        if
        :: rdead[0] && (ST(rword[0]) == RACTIVE || ST(rword[0]) == RCLOSING) ->
            rword[0] = SW(GEN(rword[0]) + 1, RFREE); got = 1;
            gh_slot[0] = NOPOS; gh_pos[0] = NOPOS     /* its holds pin nothing any more */
        :: else -> got = 0
        fi
    };
    WCP;
    if :: got -> areaders = areaders & ~1; WCP :: else fi;
    got = 0
}

/* One writer call inside the gate. */
inline writer_call() {
    if
    :: reserve();
        WCP;
        if
        :: got -> commit(k)
        :: got -> sstate[k] = SW(GEN(sstate[k]), FREE); WCP    /* discard */
        :: else
        fi
#if EVICT
#if NS > 2
    :: if :: k = 0 :: k = 1 :: k = 2 fi; evict(k)
#else
    :: if :: k = 0 :: k = 1 fi; evict(k)
#endif
#endif
#if CRASH_READER
    :: reap()
#endif
    fi;
    d_step { k = 0; got = 0 }
}

proctype Writer(byte me) {
    byte k, got, p, w, q, mask, ok, rl0, rl1, cu0, cu1;
    byte calls = 0;
    bool fast;
    do
    :: calls < BUDGET && !wdead ->
        /* enter the gate */
        if
        :: me == 1 && !shared ->
            inside = 1;
#ifndef MUT_GATE_NO_RECHECK
            if
            :: shared -> inside = 0; goto slow
            :: else -> fast = 1
            fi
#else
            fast = 1
#endif
        :: else ->
slow:       atomic { wlock == 0 -> wlock = me };
            shared = 1;
            (!inside);
            fast = 0
        fi;
        if :: wdead -> goto wend :: else fi;                  /* the process died meanwhile */
        in_op++;
        assert(in_op == 1);                                   /* P5 */
        writer_call();
        in_op--;
        if :: fast -> inside = 0 :: else -> wlock = 0 fi;
        calls++
    :: else -> break
    od;
wend:
    skip;
    /* a crashed thread leaves nothing behind that would block the other one */
    d_step { if :: fast -> inside = 0 :: else fi; if :: wlock == me -> wlock = 0 :: else fi; wdone++ }
}

/* After every writer thread: wait for the readers, reap, then every slot but
   the retained ones must be claimable (P4); then the owner closes. */
proctype Owner() {
    byte k, n;
    (wdone == WT);
    if
    :: wdead -> goto done
    :: else
    fi;
    ((rfin[0] || rdead[0]) && (rfin[1] || rdead[1]));
    /* reap a dead reader */
    d_step {
        if
        :: rdead[0] && (ST(rword[0]) == RACTIVE || ST(rword[0]) == RCLOSING) ->
            rword[0] = SW(GEN(rword[0]) + 1, RFREE); areaders = areaders & ~1;
            gh_slot[0] = NOPOS; gh_pos[0] = NOPOS
        :: else
        fi
    };
    d_step { assert(areaders == 0); n = 0 };
    /* P4: every slot FREE, or COMMITTED and not retained, with nobody attached */
    d_step {
        k = 0;
        do
        :: k < NS ->
            assert(ST(sstate[k]) == FREE || ST(sstate[k]) == COMMITTED);
            if :: ST(sstate[k]) == FREE || !RETAINED(spos[k], wnext) -> n++ :: else fi;
            k++
        :: else -> break
        od;
        if
        :: wnext >= HISTORY -> assert(n >= NS - HISTORY)
        :: else -> assert(n >= NS - wnext)
        fi;
        checked = 1
    };
done:
    owner_closed = 1
}

/* ======================================================================
 * Readers
 * ====================================================================== */

#define RCP if :: (CRASH_READER && me == 0) -> goto rcrashed :: skip fi

proctype Reader(byte me; bool hist) {
    byte h, n0, n1, x, start, c, t, t2, k, g, e_seen, vbelow, e_take, last, got_any, st;
    byte attaches = 0;
    bool fresh;
    bool valid;
    h = (hist -> HISTORY : 0);
    if :: hist -> (next_pos >= 2 || wdone == WT) :: else fi;   /* a late joiner */
attach:
    attaches++;
    if :: OWNER_GONE -> goto closed :: else fi;
    d_step {
        n0 = next_pos;
        if :: n0 >= h -> x = n0 - h :: else -> x = 0 fi;
        rstart[me] = x; rcur[me] = x; rrel[me] = x; rbits[me] = 0
    };
    RCP;
    d_step { assert(ST(rword[me]) == RFREE); rword[me] = SW(GEN(rword[me]) + 1, RACTIVE) };
    RCP;
    areaders = areaders | (1 << me);
    RCP;
    d_step { e_seen = evictions; vbelow = evict_high };
    RCP;
#ifndef MUT_ATTACH_ONE_LOAD
    d_step {
        n1 = next_pos;
        if :: n1 >= h -> start = n1 - h :: else -> start = 0 fi;
        rstart[me] = start; rcur[me] = start; rrel[me] = start
    };
#else
    d_step { n1 = n0; start = x };
#endif
    RCP;
    c = start;
    fresh = 1;
    /* take / release until the owner is gone (or finished) and nothing is left */
    do
    :: true ->
        t = dtag[c % L];
        RCP;
        if
        :: t == c + 1 ->
            d_step { k = dslot[c % L]; g = dgen[c % L] };
            RCP;
            t2 = dtag[c % L];
            RCP;
            if
            :: t2 != t -> d_step { t = 0; t2 = 0; k = 0; g = 0 }    /* rewritten while read: again */
            :: else ->
#ifdef MUT_CURSOR_BEFORE_BIT
                rcur[me] = c + 1;
                RCP;
#endif
#if OVERWRITE && defined(MUT_CHECK_BEFORE_BIT)
                d_step { valid = (sstate[k] == SW(g, COMMITTED) && spos[k] == c); e_take = evictions };
                RCP;
                rbits[me] = rbits[me] | (1 << k);
                RCP;
#else
                rbits[me] = rbits[me] | (1 << k);
                RCP;
                valid = 1;
                if
                :: OVERWRITE ->
                    /* the fence, then the slot check (Dekker with the probe) */
                    d_step { valid = (sstate[k] == SW(g, COMMITTED) && spos[k] == c); e_take = evictions }
                :: else ->
                    e_take = evictions;
                    RCP;
                    if
                    :: e_take != e_seen -> e_seen = e_take; vbelow = evict_high; RCP
                    :: else
                    fi;
                    if
                    :: c < n1 || c < vbelow ->
                        d_step { valid = (sstate[k] == SW(g, COMMITTED) && spos[k] == c) }
                    :: else
                    fi
                fi;
                RCP;
#endif
                if
                :: !valid ->
                    rbits[me] = rbits[me] & ~(1 << k);
                    RCP;
                    d_step { c++; rcur[me] = c; rrel[me] = c; t = 0; t2 = 0; k = 0; g = 0; valid = 0 }    /* skipped: a gap */
                :: else ->
#ifndef MUT_CURSOR_BEFORE_BIT
                    rcur[me] = c + 1;
                    RCP;
#endif
                    d_step {
                        /* the sample is ours: its bytes are the ones committed */
                        assert(EVICT || data[k] == c + 1);
                        /* P2 / P3: consecutive from the start */
                        if
                        :: !OVERWRITE && !EVICT ->
                            assert((!fresh && c == last + 1) || (fresh && c == start))
                        :: else
                        fi;
                        /* never twice, across attaches too */
                        assert(!got_any || c > last);
                        last = c; got_any = 1; fresh = 0;
                        gh_slot[me] = k; gh_pos[me] = c; gh_evicted[me] = 0
                    };
                    c++;
                    /* release */
                    /* P1: a release that says OK decided it while its sample was intact */
                    st = 0;
                    if
                    :: d_step { evictions != e_take -> skip };
                        RCP;
                        d_step {
                            if
                            :: !(sstate[k] == SW(g, COMMITTED) && spos[k] == c - 1) -> st = 1
                            :: else -> assert(!gh_evicted[me])
                            fi
                        }
                    :: d_step { evictions == e_take -> assert(!gh_evicted[me]) }
                    fi;
                    RCP;
                    /* the bit goes: the hold ends here (our reads are done) */
                    d_step { rbits[me] = rbits[me] & ~(1 << k); gh_slot[me] = NOPOS; gh_pos[me] = NOPOS };
                    RCP;
                    d_step { rrel[me] = c; t = 0; t2 = 0; k = 0; g = 0; e_take = 0; st = 0; valid = 0 };
                    RCP;
                    if
                    :: REATTACH && me == 1 && attaches == 1 ->
                        /* close and attach again */
                        rword[me] = SW(GEN(rword[me]), RCLOSING);
                        areaders = areaders & ~(1 << me);
                        rword[me] = SW(GEN(rword[me]) + 1, RFREE);
                        goto attach
                    :: else
                    fi
                fi
            fi
        :: t > c + 1 ->
            /* the log went a whole round past us: jump (a gap) */
            d_step {
                if :: t - L > c + 1 -> c = t - L :: else -> c = c + 1 fi;
                rcur[me] = c; rrel[me] = c; t = 0
            }
        :: t < c + 1 ->
            if
            :: dtag[c % L] != t -> t = 0          /* something moved: look again */
            :: OWNER_GONE ->
                /* the last look, then PEER_GONE */
                if
                :: dtag[c % L] == c + 1 -> skip
                :: else -> break
                fi
            :: wdone == WT && !OWNER_GONE ->
                /* the writers are done: no more commits before the close */
                if
                :: dtag[c % L] == c + 1 -> skip
                :: else ->
                    /* P2: a reader that drained got everything from its start */
                    d_step {
                        if
                        :: !OVERWRITE && !EVICT && !wdead ->
                            assert((fresh && start == wnext) || (!fresh && last + 1 == wnext))
                        :: else
                        fi
                    };
                    break
                fi
            fi
        fi
    od;
    /* close */
    rword[me] = SW(GEN(rword[me]), RCLOSING);
    RCP;
    areaders = areaders & ~(1 << me);
    RCP;
    rword[me] = SW(GEN(rword[me]) + 1, RFREE);
closed:
    rfin[me] = 1;
    goto rend;
rcrashed:
    rdead[me] = 1;
rend:
    skip
}

/* Reader 1: each API call one atomic step (it cannot crash). */
proctype CoarseReader(byte me) {
    byte start, c, t, k, g, e_seen, vbelow, e_take, last, attaches;
    bool fresh, got_any, valid, holding;
attach:
    atomic {
        attaches++;
        if :: OWNER_GONE -> goto closed :: else fi;
        start = next_pos;
        rstart[me] = start; rcur[me] = start; rrel[me] = start; rbits[me] = 0;
        assert(ST(rword[me]) == RFREE);
        rword[me] = SW(GEN(rword[me]) + 1, RACTIVE);
        areaders = areaders | (1 << me);
        e_seen = evictions; vbelow = evict_high;
        start = next_pos;
        rstart[me] = start; rcur[me] = start; rrel[me] = start;
        c = start; fresh = 1
    };
    do
    :: atomic {
        t = dtag[c % L];
        if
        :: t == c + 1 ->
            k = dslot[c % L]; g = dgen[c % L];
            rbits[me] = rbits[me] | (1 << k);
            e_take = evictions;
            valid = 1;
            if
            :: OVERWRITE || e_take != e_seen || c < vbelow ->
                if :: e_take != e_seen -> e_seen = e_take; vbelow = evict_high :: else fi;
                if
                :: OVERWRITE || c < vbelow -> valid = (sstate[k] == SW(g, COMMITTED) && spos[k] == c)
                :: else
                fi
            :: else
            fi;
            if
            :: !valid -> rbits[me] = rbits[me] & ~(1 << k); c++; rcur[me] = c; rrel[me] = c
            :: else ->
                rcur[me] = c + 1;
                assert(EVICT || data[k] == c + 1);
                if
                :: !OVERWRITE && !EVICT -> assert((!fresh && c == last + 1) || (fresh && c == start))
                :: else
                fi;
                assert(!got_any || c > last);
                last = c; got_any = 1; fresh = 0;
                gh_slot[me] = k; gh_pos[me] = c; gh_evicted[me] = 0;
                c++;
                holding = 1
            fi
        :: t > c + 1 ->
            if :: t - L > c + 1 -> c = t - L :: else -> c = c + 1 fi;
            rcur[me] = c; rrel[me] = c
        :: t < c + 1 && dtag[c % L] != t -> skip
        :: t < c + 1 && (OWNER_GONE || wdone == WT) && dtag[c % L] != c + 1 ->
            if
            :: !OVERWRITE && !EVICT && !wdead && !OWNER_GONE ->
                assert((fresh && start == wnext) || (!fresh && last + 1 == wnext))
            :: else
            fi;
            goto leave
        fi;
        t = 0
       };
       if
       :: holding ->
           atomic {   /* release, a step of its own after the take */
               if
               :: evictions != e_take && !(sstate[k] == SW(g, COMMITTED) && spos[k] == c - 1) ->
                   skip    /* EVICTED */
               :: else ->
                   assert(!gh_evicted[me])
               fi;
               rbits[me] = rbits[me] & ~(1 << k);
               gh_slot[me] = NOPOS; gh_pos[me] = NOPOS;
               rrel[me] = c;
               holding = 0; k = 0; g = 0; e_take = 0
           };
           if
           :: REATTACH && attaches == 1 ->
               atomic {
                   rword[me] = SW(GEN(rword[me]), RCLOSING);
                   areaders = areaders & ~(1 << me);
                   rword[me] = SW(GEN(rword[me]) + 1, RFREE)
               };
               goto attach
           :: else
           fi
       :: else
       fi
    od;
leave:
    atomic {
        rword[me] = SW(GEN(rword[me]), RCLOSING);
        areaders = areaders & ~(1 << me);
        rword[me] = SW(GEN(rword[me]) + 1, RFREE)
    };
closed:
    rfin[me] = 1
}

init {
    byte i;
    d_step {
        i = 0;
        do :: i < NR -> gh_slot[i] = NOPOS; gh_pos[i] = NOPOS; i++ :: else -> break od;
        i = 0;
        do :: i < NS -> sstate[i] = SW(1, FREE); i++ :: else -> break od;
        i = 0
    };
    atomic {
        run Writer(1);
#if WT > 1
        run Writer(2);
#endif
        run Owner();
        run Reader(0, HIST_READER);
        run CoarseReader(1)
    }
}
