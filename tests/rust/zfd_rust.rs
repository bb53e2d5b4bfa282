//! Rust consumer of libzerodds_flatdata through the C ABI alone: `extern "C"`
//! declarations written by hand, std only (no crates, no bindgen, no cargo).
//!
//!   zfd_rust sub NAME COUNT   read COUNT ExampleSamples (from examples/c/publisher.c)
//!                             and check each one; exit 0 when all arrived in order
//!   zfd_rust pub NAME COUNT   publish them (for examples/c/subscriber.c)
//!
//! Both modes print what the C subscriber prints, so one driver checks either.
//! Build: rustc --edition 2021 -O -L <libdir> -l zerodds_flatdata zfd_rust.rs
//! SPDX-License-Identifier: Apache-2.0

use std::ffi::{CStr, CString};
use std::os::raw::{c_char, c_void};
use std::time::{Duration, Instant};
use std::{env, mem, process, ptr, thread};

// ---------------------------------------------------------------------------
// The part of include/zerodds/flatdata.h this program uses.
// ---------------------------------------------------------------------------

const ZFD_OK: i32 = 0;
const ZFD_E_TIMEOUT: i32 = -7;
const ZFD_E_NOT_FOUND: i32 = -12;
const ZFD_TYPE_HASH_SIZE: usize = 16;
const ZFD_SEGMENT_REPLACE_STALE: u32 = 1;

/// Opaque handles: never constructed in Rust, only pointed to.
#[repr(C)]
struct ZfdSegment {
    _opaque: [u8; 0],
}
#[repr(C)]
struct ZfdReader {
    _opaque: [u8; 0],
}

#[repr(C)]
struct ZfdError {
    struct_size: u32,
    code: i32,
    sys_errno: i32,
    message: [c_char; 256],
}

#[repr(C)]
struct ZfdSegmentOptions {
    struct_size: u32,
    slot_count: u32,
    slot_capacity: u64,
    mode: u32,
    flags: u32,
    has_type_hash: u32,
    type_hash: [u8; ZFD_TYPE_HASH_SIZE],
    reserved: u32,
    // 0.2 (zfd_segment_options_init fills the whole 0.2 struct)
    history: u32,
    reserved2: u32,
    mirror_of: [u8; 16],
    origin: [c_char; 64],
}

#[repr(C)]
struct ZfdSegmentInfo {
    struct_size: u32,
    slot_count: u32,
    slot_capacity: u64,
    slot_stride: u64,
    total_size: u64,
    segment_id: u64,
    is_named: u32,
    is_owner: u32,
    has_type_hash: u32,
    type_hash: [u8; ZFD_TYPE_HASH_SIZE],
    active_readers: u64,
    owner_pid: i32,
    owner_alive: u32,
    next_sequence: u64,
    // 0.2
    instance_id: [u8; 16],
    flags: u32,
    history: u32,
    mirror_of: [u8; 16],
    origin: [c_char; 64],
}

// Pin the struct layouts to the C header's sizes (a mismatch fails to compile).
const _: () = assert!(mem::size_of::<ZfdError>() == 268);
const _: () = assert!(mem::size_of::<ZfdSegmentOptions>() == 136);
const _: () = assert!(mem::size_of::<ZfdSegmentInfo>() == 200);

#[link(name = "zerodds_flatdata")]
extern "C" {
    fn zfd_version_number() -> u32;
    fn zfd_status_str(status: i32) -> *const c_char;
    fn zfd_segment_options_init(opts: *mut ZfdSegmentOptions);
    fn zfd_segment_create(name: *const c_char, opts: *const ZfdSegmentOptions,
                          out_segment: *mut *mut ZfdSegment, out_err: *mut ZfdError) -> i32;
    fn zfd_segment_open(name: *const c_char, expected_type_hash: *const u8, flags: u32,
                        out_segment: *mut *mut ZfdSegment, out_err: *mut ZfdError) -> i32;
    fn zfd_segment_close(segment: *mut ZfdSegment);
    fn zfd_segment_get_info(segment: *const ZfdSegment, out_info: *mut ZfdSegmentInfo) -> i32;
    fn zfd_reserve_wait(segment: *mut ZfdSegment, timeout_ns: i64, out_slot: *mut u64,
                        out_data: *mut *mut c_void) -> i32;
    fn zfd_commit_in_place(segment: *mut ZfdSegment, slot: u64, len: usize,
                           out_sequence: *mut u64) -> i32;
    fn zfd_discard(segment: *mut ZfdSegment, slot: u64) -> i32;
    fn zfd_reader_open(segment: *mut ZfdSegment, flags: u32, out_reader: *mut *mut ZfdReader) -> i32;
    fn zfd_reader_close(reader: *mut ZfdReader);
    fn zfd_take(reader: *mut ZfdReader, out_slot: *mut u64, out_data: *mut *const c_void,
                out_len: *mut usize, out_sequence: *mut u64) -> i32;
    fn zfd_release(reader: *mut ZfdReader, slot: u64) -> i32;
    fn zfd_reader_wait(reader: *mut ZfdReader, timeout_ns: i64) -> i32;
    fn zfd_type_hash(layout_descriptor: *const c_char, len: usize, out_hash: *mut u8) -> i32;
}

// ---------------------------------------------------------------------------
// The sample (examples/c/example_sample.h) and a thin safe layer.
// ---------------------------------------------------------------------------

#[repr(C)]
#[derive(Clone, Copy)]
struct ExampleSample {
    index: u64,
    value: f64,
    text: [u8; 32],
}
const _: () = assert!(mem::size_of::<ExampleSample>() == 48);
const LAYOUT: &str =
    "example_sample{index:u64@0:8,value:f64@8:8,text:char[32]@16:32}size=48,align=8";
const SLOT_COUNT: u32 = 8;
const SECOND_NS: i64 = 1_000_000_000;

fn status(rc: i32) -> String {
    // zfd_status_str returns static text, never NULL.
    let text = unsafe { CStr::from_ptr(zfd_status_str(rc)) };
    format!("{} ({})", text.to_string_lossy(), rc)
}

fn check(rc: i32, what: &str) -> Result<(), String> {
    if rc == ZFD_OK { Ok(()) } else { Err(format!("{}: {}", what, status(rc))) }
}

fn new_error() -> ZfdError {
    ZfdError { struct_size: mem::size_of::<ZfdError>() as u32, code: 0, sys_errno: 0, message: [0; 256] }
}

fn error_text(err: &ZfdError) -> String {
    unsafe { CStr::from_ptr(err.message.as_ptr()) }.to_string_lossy().into_owned()
}

fn type_hash() -> [u8; ZFD_TYPE_HASH_SIZE] {
    let mut hash = [0u8; ZFD_TYPE_HASH_SIZE];
    let rc = unsafe { zfd_type_hash(LAYOUT.as_ptr() as *const c_char, LAYOUT.len(), hash.as_mut_ptr()) };
    assert_eq!(rc, ZFD_OK);
    hash
}

/// The text the publisher writes for sample `i`, NUL-padded.
fn sample_text(i: u64) -> [u8; 32] {
    let mut text = [0u8; 32];
    let s = format!("sample {}", i);
    text[..s.len()].copy_from_slice(s.as_bytes());
    text
}

struct Segment(*mut ZfdSegment);
impl Drop for Segment {
    fn drop(&mut self) {
        unsafe { zfd_segment_close(self.0) }
    }
}

struct Reader(*mut ZfdReader);
impl Drop for Reader {
    fn drop(&mut self) {
        unsafe { zfd_reader_close(self.0) }
    }
}

// ---------------------------------------------------------------------------
// Subscriber
// ---------------------------------------------------------------------------

fn open_when_ready(name: &CStr, hash: &[u8; ZFD_TYPE_HASH_SIZE]) -> Result<Segment, String> {
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut seg = ptr::null_mut();
        let mut err = new_error();
        let rc = unsafe { zfd_segment_open(name.as_ptr(), hash.as_ptr(), 0, &mut seg, &mut err) };
        if rc == ZFD_OK {
            return Ok(Segment(seg));
        }
        if (rc != ZFD_E_NOT_FOUND && rc != ZFD_E_TIMEOUT) || Instant::now() > deadline {
            return Err(format!("zfd_segment_open: {}: {}", status(rc), error_text(&err)));
        }
        thread::sleep(Duration::from_millis(10));
    }
}

fn subscribe(name: &CStr, count: u64) -> Result<(), String> {
    let seg = open_when_ready(name, &type_hash())?;
    let mut raw = ptr::null_mut();
    check(unsafe { zfd_reader_open(seg.0, 0, &mut raw) }, "zfd_reader_open")?;
    let reader = Reader(raw);

    let mut last_seq: Option<u64> = None;
    for expected in 0..count {
        check(unsafe { zfd_reader_wait(reader.0, 5 * SECOND_NS) }, "zfd_reader_wait")
            .map_err(|e| format!("{} after {} samples", e, expected))?;
        let (mut slot, mut data, mut len, mut seq) = (0u64, ptr::null(), 0usize, 0u64);
        check(unsafe { zfd_take(reader.0, &mut slot, &mut data, &mut len, &mut seq) }, "zfd_take")?;

        // Read in place: the slot stays ours until zfd_release.
        if len != mem::size_of::<ExampleSample>() {
            return Err(format!("sample {}: {} bytes", expected, len));
        }
        let s = unsafe { ptr::read(data as *const ExampleSample) };
        let ok = s.index == expected && s.value == expected as f64 * 0.5 && s.text == sample_text(expected);
        let text_len = s.text.iter().position(|&b| b == 0).unwrap_or(s.text.len());
        println!("seq {}: index {} value {:.1} text \"{}\"", seq, s.index, s.value,
                 String::from_utf8_lossy(&s.text[..text_len]));
        check(unsafe { zfd_release(reader.0, slot) }, "zfd_release")?;

        if !ok {
            return Err(format!("sample {}: wrong contents", expected));
        }
        if let Some(prev) = last_seq {
            if seq != prev + 1 {
                return Err(format!("sequence {} after {}", seq, prev));
            }
        }
        last_seq = Some(seq);
    }
    println!("received {} of {}", count, count);
    Ok(())
}

// ---------------------------------------------------------------------------
// Publisher
// ---------------------------------------------------------------------------

fn publish(name: &CStr, count: u64) -> Result<(), String> {
    let mut opts: ZfdSegmentOptions = unsafe { mem::zeroed() };
    unsafe { zfd_segment_options_init(&mut opts) };
    opts.slot_count = SLOT_COUNT;
    opts.slot_capacity = mem::size_of::<ExampleSample>() as u64;
    opts.flags = ZFD_SEGMENT_REPLACE_STALE;
    opts.has_type_hash = 1;
    opts.type_hash = type_hash();
    let mut raw = ptr::null_mut();
    let mut err = new_error();
    let rc = unsafe { zfd_segment_create(name.as_ptr(), &opts, &mut raw, &mut err) };
    if rc != ZFD_OK {
        return Err(format!("zfd_segment_create: {}: {}", status(rc), error_text(&err)));
    }
    let seg = Segment(raw);

    // Wait for a reader: it sees only samples committed after it attached.
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let mut info: ZfdSegmentInfo = unsafe { mem::zeroed() };
        info.struct_size = mem::size_of::<ZfdSegmentInfo>() as u32;
        check(unsafe { zfd_segment_get_info(seg.0, &mut info) }, "zfd_segment_get_info")?;
        if info.active_readers != 0 {
            break;
        }
        if Instant::now() > deadline {
            return Err("no reader attached".into());
        }
        thread::sleep(Duration::from_millis(1));
    }

    for i in 0..count {
        let (mut slot, mut data) = (0u64, ptr::null_mut());
        check(unsafe { zfd_reserve_wait(seg.0, 5 * SECOND_NS, &mut slot, &mut data) }, "zfd_reserve_wait")?;
        let sample = ExampleSample { index: i, value: i as f64 * 0.5, text: sample_text(i) };
        unsafe { ptr::write(data as *mut ExampleSample, sample) }; // 64-byte aligned slot
        check(unsafe { zfd_commit_in_place(seg.0, slot, mem::size_of::<ExampleSample>(), ptr::null_mut()) },
              "zfd_commit_in_place")?;
    }

    // Everything consumed once every slot can be loaned again.
    let mut loans = Vec::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    let mut result = Ok(());
    while loans.len() < SLOT_COUNT as usize {
        let left = deadline.saturating_duration_since(Instant::now()).as_nanos() as i64;
        let mut slot = 0u64;
        let rc = unsafe { zfd_reserve_wait(seg.0, left, &mut slot, ptr::null_mut()) };
        if rc != ZFD_OK {
            result = check(rc, "waiting for the subscriber to release");
            break;
        }
        loans.push(slot);
    }
    for slot in loans {
        unsafe { zfd_discard(seg.0, slot) };
    }
    result // dropping `seg` closes and unlinks the segment
}

fn main() {
    let args: Vec<String> = env::args().collect();
    if args.len() != 4 || (args[1] != "sub" && args[1] != "pub") {
        eprintln!("usage: {} sub|pub NAME COUNT", args[0]);
        process::exit(2);
    }
    if unsafe { zfd_version_number() } / 10000 != 0 {
        eprintln!("unexpected library major version");
        process::exit(1);
    }
    let name = CString::new(args[2].as_str()).expect("NAME without NUL");
    let count: u64 = args[3].parse().expect("COUNT must be a number");
    let result = if args[1] == "sub" { subscribe(&name, count) } else { publish(&name, count) };
    if let Err(e) = result {
        eprintln!("zfd_rust {}: {}", args[1], e);
        process::exit(1);
    }
}
