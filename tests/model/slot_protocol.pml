/*
 * slot_protocol.pml — Promela model of the slot protocol (src/PROTOCOL.md),
 * checked by tests/model/run_spin.sh.
 *
 * Scope
 * -----
 * 1 writer (the owner, one thread), 2 readers, 3 slots, a commit log of 4
 * entries (log_size = the next power of two >= slot_count, as in
 * compute_geometry). The writer makes at most WBUDGET calls (reserve+commit,
 * evict, mark_reader_disconnected, reap) of which at most MAXR reserves, so
 * the state space is finite; run_spin.sh runs several bounded configurations.
 *
 * Reader 0 is fine-grained: every shared access is its own step, it may crash
 * between any two of them (-DCRASH_READER=1: it stops, its lock byte is free,
 * the writer reaps it), and the owner may mark it disconnected. Reader 1 runs
 * the same code, but each API call (open, take, wait, release, close) as one
 * atomic step. The two readers touch each other's state only through RMWs of
 * disjoint bits (pending, active_readers), which commute, so interleaving both
 * finely would only multiply states: every writer/reader race is explored with
 * reader 0, and reader 1 supplies the second bit in pending masks, the
 * last-bit release, and stale bits of its own close.
 *
 * The writer may crash between any two of its steps (-DCRASH_WRITER=1). The
 * takeover by a new owner is modelled as what the old segment's readers see:
 * the owner lock byte is free (wdead), so they take what is published, get
 * PEER_GONE and close. A graceful end (close_owner: owner_closed = 1) is the
 * same for them.
 *
 * Not covered within these bounds: a log that wraps (at most 2-3 commits, so
 * the overwritten-entry jump of peek is never taken), reserve finding every
 * slot busy (reclaim runs at the writer's end instead), several owner
 * threads (evict_stale racing reserve/commit on another thread), take_copy,
 * a reader holding more than one sample, and re-attaching on a freed index.
 *
 * Memory model and granularity
 * ----------------------------
 * Promela is sequentially consistent: the model checks the interleaving logic
 * of the protocol, not the acquire/release placement. Each load, store or RMW
 * of a word that another process may write is its own step (CAS, fetch_and and
 * fetch_or are one d_step). Merged into one step, and why that is exact here:
 *  - writer: the state load, pending load and CAS of try_claim (only this
 *    thread moves `state`, and readers only clear pending bits, so a slot seen
 *    free is still free at the CAS); the LOANED->BUSY CAS with the mask load;
 *    the log's tag = 0 / slot / tag.exchange (the entry is fresh within the
 *    bounds: asserted; readers read `slot` only after seeing the tag).
 *  - reader: the tag load, slot load and tag re-read of the seqlock (an entry
 *    is written once within the bounds, so the re-read cannot differ);
 *    start_seq = next_seq (start_seq is read only for ACTIVE entries).
 * The generation is kept mod GENMOD and asserted never to wrap within the
 * bounds, so "the generation did not change" is exact.
 *
 * Ghost state: data[k] says whose bytes slot k's payload holds: seq + 1 of a
 * sample, or INFLUX (0) from the reserve until the commit's fill step (in the
 * code the payload is written while LOANED, so this window is, if anything,
 * too wide).
 *
 * Mapping of model steps to the code
 * ----------------------------------
 *  claim            slot_allocator.cpp try_claim(): state load (acquire),
 *                   pending load if COMMITTED, CAS -> LOANED(g+1).
 *  reserve          Segment::reserve(): the code scans from reserve_cursor and
 *                   takes the first free slot; the model takes any free slot (a
 *                   superset). None free: reclaim_stale_bits(), then retry once
 *                   (the full_at_generation shortcut only skips scans).
 *  commit           commit_loan(): CAS LOANED(g) -> BUSY(g); mask =
 *                   active_readers (seq_cst); seq = next_seq.fetch_add(1);
 *                   store seq (len, commit_ns); pending = mask; store
 *                   COMMITTED(g) (release); log: tag = 0, slot = k,
 *                   tag.exchange(seq + 1).
 *  evict            Segment::evict_stale() on one slot old enough (age is a
 *                   nondeterministic choice): state and pending loads,
 *                   pending := 0, CAS COMMITTED(g) -> FREE(g+1).
 *  detach           segment.cpp detach(): CAS entry -> FREE(e+1),
 *                   active_readers &= ~bit, clear_reader_bits(i).
 *  mark_disconnected Segment::mark_reader_disconnected(): ACTIVE entries only.
 *  reap             Segment::reap_dead_readers(): ACTIVE or CLOSING entries
 *                   whose lock byte is free (the reader died).
 *  clear_bits       Segment::Impl::clear_reader_bits(): per slot, relaxed
 *                   check of the bit, then pending.fetch_and(~bit).
 *  reclaim          Segment::Impl::reclaim_stale_bits(): snapshot of inactive
 *                   readers and start_seq; per COMMITTED slot with pending:
 *                   stale = inactive bits and bits with start_seq > seq;
 *                   fetch_and(~stale); state re-check (cannot fail with one
 *                   writer thread: asserted).
 *  close_owner      Segment::close_owner(): no loan is open at that point;
 *                   owner_closed = 1.
 *  reader_open      Reader::open(): owner gone -> PEER_GONE; start_seq =
 *                   next_seq; CAS entry FREE(e) -> ACTIVE(e+1);
 *                   active_readers |= bit.
 *  peek             Reader::Impl::peek(): tag (acquire), slot, tag re-read;
 *                   empty / overwritten (jump to max(c+1, t-L)) / found;
 *                   state (acquire), seq, pending, state re-read; skip (c + 1)
 *                   unless an unchanged COMMITTED(g) with seq == c and our bit.
 *  reader_take      Reader::take(): attached() check (DETACHED); peek; nothing:
 *                   empty_status() (owner gone -> peek once more, else
 *                   PEER_GONE); held[k] = g; cursor++.
 *  reader_wait      zfd_reader_wait(): until a sample is published at the
 *                   cursor, the owner is gone or the reader is detached; or a
 *                   timeout, after which the reader closes.
 *  reader_release   Reader::release() + release_slot(): attached() check;
 *                   held[k] = NotHeld; state != COMMITTED(g) -> EVICTED;
 *                   pending.fetch_and(~bit); bit was clear -> EVICTED; OK.
 *  reader_close     Reader::~Reader(): CAS ACTIVE(e) -> CLOSING(e), and if
 *                   that fails (detached) touch nothing; active_readers &=
 *                   ~bit; clear_reader_bits(i); entry = FREE(e+1).
 *
 * Properties
 * ----------
 *  P1 (assert in release): a release that returns OK held good data: the
 *     payload was the sample taken (data[k] == seq + 1) when the take validated
 *     it and when the user last read it before releasing, and the slot's
 *     generation at the release's state check is the one taken. So a slot
 *     being written (LOANED/BUSY) or reused while held is never reported good.
 *  P2 (assert in commit): no sample carries the bit of a reader whose
 *     start_seq is above its sequence (PROTOCOL.md, why the mask is loaded
 *     before the sequence is taken).
 *  P3 (assert at PEER_GONE): nothing is published at or after the cursor of
 *     a reader that reports PEER_GONE.
 *  P4 (assert at the writer's end): when the writer outlives its readers, once
 *     they closed or died and were reaped, and after one reclaim pass, every
 *     slot is free (FREE, or COMMITTED with pending == 0).
 *  P5 (ltl eventually_free, checked with weak fairness): once the writer stops
 *     producing, eventually it is dead, or it closed, or every slot is free;
 *     and eventually both readers have finished (closed, or died).
 *  Spin also checks that no run deadlocks (invalid end states).
 *
 * Mutations (compile with -DMUT_<name>). run_spin.sh checks that the first
 * three make spin report an error, so the model can fail:
 *  MUT_RELEASE_NO_STATE_CHECK  release skips its state == COMMITTED(g) check:
 *                              P1 (evicted, reused, new bits; release says OK).
 *  MUT_COMMITTED_BEFORE_FILL   commit stores COMMITTED before seq/pending/bytes:
 *                              P1 (a slow peek pairs the old seq with the new
 *                              sample's state and bits).
 *  MUT_SEQ_BEFORE_MASK         commit takes the sequence before loading the
 *                              mask: P2 (an attaching reader is charged a
 *                              sample below its start_seq).
 * These three are NOT caught, and the model says why:
 *  MUT_NO_RECHECK              peek does not re-read state: an inconsistent
 *                              snapshot is still caught by the release's state
 *                              check (and take_copy's), so P1 holds.
 *  MUT_EVICT_NO_BUSY           eviction clears pending while the slot is
 *                              still COMMITTED (the former order): only a
 *                              reserve on another owner thread could reuse the
 *                              slot in between, and this model has one owner
 *                              thread (the library parks it in BUSY for that).
 *  MUT_DETACH_KEEPS_BITS       detach/reaping leaves the reader's bits: the
 *                              writer's reclaim clears bits of inactive readers,
 *                              so slots still come free (P4, P5).
 */

#define NS 3            /* slots */
#define NR 2            /* readers */
#define L  4            /* log entries */

#ifndef GENMOD
#define GENMOD 8        /* the generation is kept mod GENMOD */
#endif
#ifndef MAXR
#define MAXR 3          /* reserves */
#endif
#ifndef WBUDGET
#define WBUDGET 3       /* writer calls: reserve+commit, evict, detach, reap */
#endif
#ifndef CRASH_READER
#define CRASH_READER 0  /* reader 0 may crash */
#endif
#ifndef CRASH_WRITER
#define CRASH_WRITER 0  /* the writer may crash */
#endif

/* slot.state low bits */
#define FREE      0
#define LOANED    1
#define COMMITTED 2
#define BUSY      3
/* reader entry word low bits */
#define RFREE     0
#define RACTIVE   1
#define RCLOSING  2

#define SW(g, s)     ((g) * 4 + (s))
#define ST(w)        ((w) % 4)
#define GEN(w)       ((w) / 4)
#define NEXTGEN(w)   ((GEN(w) + 1) % GENMOD)
#define NEXTEPOCH(w) ((GEN(w) + 1) % 16)

#define INFLUX    0
#define NOTHELD   255

/* ---- shared segment words ---- */
byte sstate[NS];        /* SlotControl::state   (gen << 2 | state) */
byte spend[NS];         /* SlotControl::pending (bit i = reader i) */
byte sseq[NS];          /* SlotControl::seq */
byte ltag[L];           /* LogEntry::tag  (seq + 1; 0 while being written) */
byte lslot[L];          /* LogEntry::slot */
byte next_seq;          /* SegmentHeader::next_seq */
byte areaders;          /* SegmentHeader::active_readers */
bool owner_closed;      /* SegmentHeader::owner_closed */
byte rword[NR];         /* ReaderEntry::word (epoch << 2 | state) */
byte rstart[NR];        /* ReaderEntry::start_seq */

/* ---- environment ---- */
bool rdead[NR];         /* reader i died: its lock byte is free */
bool wdead;             /* the writer died: the owner lock byte is free */
bool rdone[NR];         /* reader i finished normally */
bool wstop;             /* the writer stopped producing */
bool wend;              /* the writer finished its end phase */

/* ---- ghost ---- */
byte data[NS];          /* whose bytes the payload holds: seq + 1, or INFLUX */

#define OWNER_GONE (wdead || owner_closed)
#define SFREE(k)   (ST(sstate[k]) == FREE || (ST(sstate[k]) == COMMITTED && spend[k] == 0))
#define ALLFREE    (SFREE(0) && SFREE(1) && SFREE(2))
#define RFIN(i)    (rdone[i] || rdead[i])

ltl eventually_free {
    ([] (wstop -> <> (wdead || owner_closed || ALLFREE))) && (<> (RFIN(0) && RFIN(1)))
}

/* A crash point: the process may die here (it then takes no further step). */
#define WCP  if :: CRASH_WRITER -> goto wcrashed :: skip fi
#define RCP  if :: (CRASH_READER && me == 0) -> goto rcrashed :: skip fi

/* ======================================================================
 * Writer (one owner thread)
 * ====================================================================== */

/* try_claim(k) of a free slot, one step; not offered when the slot is not free. */
inline claim(k) {
    d_step {
        SFREE(k);
        assert(NEXTGEN(sstate[k]) != 0);    /* no wrap within the bounds */
        sstate[k] = SW(NEXTGEN(sstate[k]), LOANED);
        data[k] = INFLUX;                   /* the payload is written from here on */
        got = 1
    }
}

/* clear_reader_bits(i): per slot, relaxed check of the bit, then fetch_and. */
inline w_clear_bits(ci) {
    d_step { if :: (spend[0] & (1 << ci)) != 0 -> spend[0] = spend[0] & ~(1 << ci) :: else fi };
    WCP;
    d_step { if :: (spend[1] & (1 << ci)) != 0 -> spend[1] = spend[1] & ~(1 << ci) :: else fi };
    WCP;
    d_step { if :: (spend[2] & (1 << ci)) != 0 -> spend[2] = spend[2] & ~(1 << ci) :: else fi };
    WCP
}

/* detach(i, word): CAS entry -> FREE(e+1), leave the mask, clear the bits. */
inline detach(di, dw) {
    d_step {
        if
        :: rword[di] == dw -> rword[di] = SW(NEXTEPOCH(dw), RFREE); got = 1
        :: else -> got = 0
        fi;
        dw = 0
    };
    WCP;
    if
    :: got ->
        d_step { areaders = areaders & ~(1 << di); got = 0 };
        WCP;
#ifndef MUT_DETACH_KEEPS_BITS
        w_clear_bits(di)
#else
        skip
#endif
    :: else
    fi
}

/* mark_reader_disconnected(i) */
inline mark_disconnected(di) {
    ew = rword[di];
    WCP;
    if
    :: ST(ew) == RACTIVE -> detach(di, ew)
    :: else -> ew = 0
    fi
}

/* reap_dead_readers(): an ACTIVE or CLOSING entry whose lock byte is free. */
inline reap_one(ri) {
    d_step {
        ew = rword[ri];
        if
        :: (ST(ew) == RACTIVE || ST(ew) == RCLOSING) && rdead[ri] -> got = 1
        :: else -> got = 0; ew = 0
        fi
    };
    WCP;
    if
    :: got -> got = 0; detach(ri, ew)
    :: else
    fi
}

inline reap() {
    reap_one(0);
    reap_one(1)
}

/* reclaim_stale_bits() for slot k, given the snapshot inactive/st0/st1. */
inline reclaim_slot(k) {
    d_step {
        w = sstate[k];
        if
        :: ST(w) == COMMITTED && spend[k] != 0 ->
            p = spend[k];
            stale = p & inactive;
            if :: (p & ~inactive & 1) != 0 && st0 > sseq[k] -> stale = stale | 1 :: else fi;
            if :: (p & ~inactive & 2) != 0 && st1 > sseq[k] -> stale = stale | 2 :: else fi
        :: else -> stale = 0
        fi;
        p = 0
    };
    WCP;
    if
    :: stale != 0 ->
        /* fetch_and(~stale), then the state re-check */
        d_step { spend[k] = spend[k] & ~stale; assert(sstate[k] == w); stale = 0 };
        WCP
    :: else
    fi;
    w = 0
}

inline reclaim() {
    /* snapshot of the reader table: each reader's bit is handled on its own */
    d_step {
        inactive = (ST(rword[0]) != RACTIVE -> 1 : 0) | (ST(rword[1]) != RACTIVE -> 2 : 0);
        st0 = rstart[0];
        st1 = rstart[1]
    };
    WCP;
    reclaim_slot(0);
    reclaim_slot(1);
    reclaim_slot(2);
    d_step { inactive = 0; st0 = 0; st1 = 0 }
}

/* reserve(): any free slot; none free: reclaim once and retry. */
inline reserve() {
    if
    :: claim(0); k = 0
    :: claim(1); k = 1
    :: claim(2); k = 2
    :: !SFREE(0) && !SFREE(1) && !SFREE(2) ->
        WCP;
        reclaim();
        if
        :: claim(0); k = 0
        :: claim(1); k = 1
        :: claim(2); k = 2
        :: !SFREE(0) && !SFREE(1) && !SFREE(2) -> got = 0     /* NO_FREE_SLOT */
        fi
    fi;
    WCP
}

inline commit(k) {
#ifndef MUT_SEQ_BEFORE_MASK
    /* CAS LOANED(g) -> BUSY(g); mask = active_readers ... */
    d_step { w = sstate[k]; assert(ST(w) == LOANED); sstate[k] = SW(GEN(w), BUSY); mask = areaders };
    WCP;
    /* ... then seq = next_seq.fetch_add(1) */
    d_step { seq = next_seq; next_seq++ };
    WCP;
#else
    d_step { w = sstate[k]; assert(ST(w) == LOANED); sstate[k] = SW(GEN(w), BUSY); seq = next_seq; next_seq++ };
    WCP;
    mask = areaders;
    WCP;
#endif
#ifdef MUT_COMMITTED_BEFORE_FILL
    sstate[k] = SW(GEN(w), COMMITTED);
    WCP;
#endif
    /* store seq (len, commit_ns); ghost: the sample's bytes are complete */
    d_step { sseq[k] = seq; data[k] = seq + 1 };
    WCP;
    d_step {
        spend[k] = mask;
        /* P2 */
        assert((mask & 1) == 0 || rstart[0] <= seq);
        assert((mask & 2) == 0 || rstart[1] <= seq);
        mask = 0
    };
    WCP;
#ifndef MUT_COMMITTED_BEFORE_FILL
    sstate[k] = SW(GEN(w), COMMITTED);
    WCP;
#endif
    /* publish: tag = 0, slot = k, tag.exchange(seq + 1) */
    d_step {
        assert(ltag[seq % L] == 0);         /* the entry is fresh within the bounds */
        lslot[seq % L] = k;
        ltag[seq % L] = seq + 1;
        seq = 0; w = 0
    };
    WCP
}

/* evict_stale() on slot k: CAS COMMITTED(g) -> BUSY(g), pending := 0,
   state := FREE(g+1). */
inline evict(k) {
    d_step {
        w = sstate[k];
        if
        :: ST(w) == COMMITTED && spend[k] != 0 ->
#ifndef MUT_EVICT_NO_BUSY
            got = 1; sstate[k] = SW(GEN(w), BUSY)
#else
            got = 1
#endif
        :: else -> got = 0; w = 0
        fi
    };
    WCP;
    if
    :: got ->
        spend[k] = 0;
        WCP;
        d_step {
#ifndef MUT_EVICT_NO_BUSY
            assert(sstate[k] == SW(GEN(w), BUSY));
            assert(NEXTGEN(w) != 0); sstate[k] = SW(NEXTGEN(w), FREE);
#else
            if   /* the former order: pending first, then CAS COMMITTED(g) -> FREE(g+1) */
            :: sstate[k] == w -> assert(NEXTGEN(w) != 0); sstate[k] = SW(NEXTGEN(w), FREE)
            :: else
            fi;
#endif
            w = 0; got = 0
        };
        WCP
    :: else
    fi
}

#define RESET_WRITER_LOCALS \
    k = 0; w = 0; mask = 0; seq = 0; p = 0; stale = 0; inactive = 0; st0 = 0; st1 = 0; \
    ew = 0; got = 0; budget = 0; reserves = 0

active proctype Writer() {
    byte k, w, mask, seq, p, stale, inactive, st0, st1, ew;
    bool got;
    byte budget = WBUDGET;
    byte reserves = 0;

    WCP;
    do
    :: budget > 0 && reserves < MAXR ->
        budget--;
        reserve();
        if
        :: got ->                           /* k is the loaned slot */
            reserves++;
            got = 0;
            commit(k);
            k = 0
        :: else                             /* NO_FREE_SLOT */
        fi
    /* the maintenance calls, offered when they can have an effect */
    :: budget > 0 && ST(sstate[0]) == COMMITTED && spend[0] != 0 -> budget--; evict(0)
    :: budget > 0 && ST(sstate[1]) == COMMITTED && spend[1] != 0 -> budget--; evict(1)
    :: budget > 0 && ST(sstate[2]) == COMMITTED && spend[2] != 0 -> budget--; evict(2)
    :: budget > 0 && ST(rword[0]) == RACTIVE -> budget--; mark_disconnected(0)
    :: budget > 0 && rdead[0] && ST(rword[0]) != RFREE -> budget--; reap()
    :: break
    od;

    wstop = 1;
    if
    :: /* close_owner(): no loan is open here; tell the readers */
        owner_closed = 1
    :: /* stay: wait until the readers closed or died, reap, reclaim */
        skip;                               /* committed to staying: a real wait */
        if
        :: RFIN(0) && RFIN(1)
        :: CRASH_WRITER -> goto wcrashed
        fi;
        reap();
        reclaim();
        /* P4 */
        assert(ALLFREE)
    fi;
    d_step { wend = 1; RESET_WRITER_LOCALS };
    goto wexit;
wcrashed:
    skip;
    d_step { wdead = 1; RESET_WRITER_LOCALS };
wexit:
    skip
}

/* ======================================================================
 * Readers
 * ====================================================================== */

/* peek(): on return res is 1 (found: slot k, word w, sequence c, okv = the
 * payload held sample c when validated) or 0 (no sample). */
inline peek() {
    res = 2;
    do
    :: res == 2 ->
        d_step {                            /* tag (acquire), slot, tag re-read */
            steps++;
            c = cursor;
            t = ltag[c % L];
            if
            :: steps > L + 2 -> res = 0     /* bounded: no sample this call */
            :: else ->
                if
                :: t == 0 || t < c + 1 -> res = 0           /* nothing new */
                :: t > c + 1 ->                             /* overwritten: jump */
                    if
                    :: t - 1 >= L && t - L > c + 1 -> cursor = t - L
                    :: else -> cursor = c + 1
                    fi
                :: else -> res = 3; k = lslot[c % L]
                fi
            fi;
            t = 0
        };
        RCP;
        if
        :: res == 3 ->
            d_step { w = sstate[k]; okv = (data[k] == c + 1) };    /* state (acquire) */
            RCP;
            sq = sseq[k];                   /* seq */
            RCP;
            p = spend[k];                   /* pending */
            RCP;
            d_step {
#ifndef MUT_NO_RECHECK
                if                          /* state re-read */
                :: sstate[k] != w -> res = 5
                :: else -> okv = (data[k] == c + 1)
                fi;
#endif
                if
                :: res == 5 || ST(w) != COMMITTED || sq != c || (p & (1 << me)) == 0 ->
                    cursor = c + 1;         /* not ours, evicted or recycled: skip */
                    res = 2; k = 0; w = 0; okv = 0
                :: else -> res = 1
                fi;
                sq = 0; p = 0
            };
            RCP
        :: else
        fi
    :: else -> break
    od;
    steps = 0
}

inline reader_open() {
    if
    :: OWNER_GONE -> goto finished          /* PEER_GONE */
    :: else
    fi;
    RCP;
    d_step { cursor = next_seq; rstart[me] = cursor };      /* start_seq = next_seq ... */
    RCP;
    d_step {                                /* CAS entry FREE(e) -> ACTIVE(e+1) */
        assert(ST(rword[me]) == RFREE);
        myword = SW(NEXTEPOCH(rword[me]), RACTIVE);
        rword[me] = myword
    };
    RCP;
    areaders = areaders | (1 << me);        /* ... before the active bit */
    RCP
}

inline reader_take() {
    if
    :: rword[me] != myword -> goto close    /* DETACHED */
    :: else
    fi;
    RCP;
    peek();
    if
    :: res == 0 && OWNER_GONE ->
        peek();                             /* empty_status(): look once more */
        if
        :: res == 0 ->
            assert(!(ltag[cursor % L] > cursor));   /* P3 */
            goto close                      /* PEER_GONE */
        :: else
        fi
    :: else
    fi;
    if
    :: res == 1 ->
        d_step {                            /* held[k] = g; cursor++ */
            hk = k; hg = GEN(w); hok = okv;
            cursor = c + 1;                 /* while held, the held sequence is cursor - 1 */
            res = 0; k = 0; w = 0; c = 0; okv = 0
        }
    :: else -> c = 0                        /* NO_SAMPLE */
    fi
}

inline reader_wait() {
    if
    :: ltag[cursor % L] > cursor || OWNER_GONE || rword[me] != myword
    :: goto close                           /* timed out */
    fi;
    RCP
}

/* The user's last read of the payload, then zfd_release(). */
inline reader_release() {
    if
    :: rword[me] != myword -> goto close    /* DETACHED */
    :: else
    fi;
    RCP;
    d_step {                                /* held[k] = NotHeld; state (acquire) */
        hok = hok && (data[hk] == cursor);
        w = sstate[hk];
#ifndef MUT_RELEASE_NO_STATE_CHECK
        got = (w == SW(hg, COMMITTED))
#else
        got = 1
#endif
    };
    RCP;
    if
    :: !got -> skip                         /* EVICTED */
    :: else ->
        d_step {                            /* fetch_and(~bit) */
            p = spend[hk];
            spend[hk] = spend[hk] & ~(1 << me);
            if
            :: (p & (1 << me)) == 0 -> skip /* EVICTED */
            :: else ->
                /* OK. P1: the data held was the sample taken, never overwritten. */
                assert(hok && GEN(w) == hg)
            fi;
            p = 0
        };
        RCP
    fi;
    d_step { hk = NOTHELD; hg = 0; hok = 0; w = 0; got = 0 }
}

inline reader_close() {
    d_step {                                /* CAS ACTIVE(e) -> CLOSING(e) */
        if
        :: rword[me] == myword -> rword[me] = SW(GEN(myword), RCLOSING); got = 1
        :: else -> got = 0                  /* detached: touch nothing shared */
        fi
    };
    RCP;
    if
    :: got ->
        areaders = areaders & ~(1 << me);
        RCP;
        d_step { if :: (spend[0] & (1 << me)) != 0 -> spend[0] = spend[0] & ~(1 << me) :: else fi };
        RCP;
        d_step { if :: (spend[1] & (1 << me)) != 0 -> spend[1] = spend[1] & ~(1 << me) :: else fi };
        RCP;
        d_step { if :: (spend[2] & (1 << me)) != 0 -> spend[2] = spend[2] & ~(1 << me) :: else fi };
        RCP;
        rword[me] = SW(NEXTEPOCH(myword), RFREE)
    :: else
    fi
}

#define RESET_READER_LOCALS \
    myword = 0; cursor = 0; c = 0; t = 0; k = 0; w = 0; sq = 0; p = 0; res = 0; \
    steps = 0; hk = NOTHELD; hg = 0; hok = 0; got = 0; okv = 0

/* Reader `me`, holding at most one sample at a time. fine: every step on its
 * own; otherwise each call is one atomic step (see the top comment). */
proctype Reader(byte me; bool fine) {
    byte myword, cursor, c, t, k, w, sq, p, res, steps;
    byte hk = NOTHELD, hg;                  /* the held sample: slot, generation */
    bool hok;                               /* every payload read saw that sample */
    bool got, okv;

    RCP;
    if
    :: fine -> reader_open()
    :: else -> atomic { reader_open() }
    fi;
    do
    :: hk == NOTHELD ->
        if
        :: fine -> reader_take()
        :: else -> atomic { reader_take() }
        fi;
        if
        :: hk == NOTHELD ->
            if
            :: fine -> reader_wait()
            :: else -> atomic { reader_wait() }
            fi
        :: else
        fi
    :: hk != NOTHELD ->
        if
        :: fine -> reader_release()
        :: else -> atomic { reader_release() }
        fi
    :: break                                /* the user closes the reader */
    od;
close:
    skip;
    if
    :: fine -> reader_close()
    :: else -> atomic { reader_close() }
    fi;
finished:
    skip;
    d_step { rdone[me] = 1; RESET_READER_LOCALS };
    goto rexit;
rcrashed:
    skip;
    /* died: its lock byte is free; only its shared words remain */
    d_step { rdead[me] = 1; RESET_READER_LOCALS };
rexit:
    skip
}

init {
    atomic {
        run Reader(0, true);
        run Reader(1, false)
    }
}
