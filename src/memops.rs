//! `memcpy`, `memmove`, `memcmp` and `bcmp` for the static musl builds.
//!
//! Why: musl's x86_64 `memcpy` (and `memmove`, which jumps into it) copies everything from 8 bytes
//! up with `rep movsq`, whose start-up costs tens of cycles, and its `memcmp` compares one byte at
//! a time. A proxied request makes about 90 small copies (request parts, responses and records
//! moved between steps, header bytes), and under the proxy benchmark musl's `memcpy` was 4.5% of
//! tollgate's CPU, kernel included, and 11% of its instructions (docs/PERFORMANCE.md).
//!
//! How: sizes up to 128 bytes are copied with a fixed handful of possibly overlapping 8- or
//! 16-byte loads, all done before the first store, so the same code serves `memmove`. Larger
//! copies run 64 bytes per step in the direction overlap allows, and beyond `REP_MOVSB_FROM` the
//! CPU's own `rep movsb`, fast for long copies on every x86_64 of the last decade.
//!
//! Where: the symbols are exported only in musl builds (the `memops` feature), so they replace
//! musl's copies at static link time; a glibc build keeps glibc's and the tests call these
//! functions by their Rust names. `memcpy`/`memmove` only on x86_64: musl's aarch64 versions are
//! already tuned assembly. `memcmp` everywhere musl runs.
//!
//! `#[inline(never)]` keeps link-time optimisation from copying a body into every caller that
//! names the function (hundreds of `==` on byte slices call `bcmp`): +40 KiB of code otherwise.
//!
//! These bodies must never turn into calls to themselves: they hold no loop the compiler could
//! recognise as a copy (the 64-byte steps move vector registers) and `ci/size-check.sh` checks
//! the built binary's `memcpy`, `memmove` and `memcmp` call nothing.

use std::ptr;

/// From this length on, `memcpy` hands the copy to `rep movsb`.
#[cfg(target_arch = "x86_64")]
const REP_MOVSB_FROM: usize = 2048;

/// Copy `n` bytes, `n <= 128`. Every load comes before every store, so the regions may overlap.
///
/// # Safety
/// `src` readable and `dst` writable for `n` bytes.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_upto_128(dst: *mut u8, src: *const u8, n: usize) {
    use std::arch::x86_64::{_mm_loadu_si128 as load, _mm_storeu_si128 as store};
    // SAFETY (whole body): each access lies within [0, n) of its region, per the contract; the
    // two halves of every case overlap in the middle instead of looping over a remainder.
    unsafe {
        if n <= 16 {
            copy_upto_16(dst, src, n);
        } else if n <= 32 {
            let a = load(src.cast());
            let b = load(src.add(n - 16).cast());
            store(dst.cast(), a);
            store(dst.add(n - 16).cast(), b);
        } else if n <= 64 {
            let a = load(src.cast());
            let b = load(src.add(16).cast());
            let c = load(src.add(n - 32).cast());
            let d = load(src.add(n - 16).cast());
            store(dst.cast(), a);
            store(dst.add(16).cast(), b);
            store(dst.add(n - 32).cast(), c);
            store(dst.add(n - 16).cast(), d);
        } else {
            let a = load(src.cast());
            let b = load(src.add(16).cast());
            let c = load(src.add(32).cast());
            let d = load(src.add(48).cast());
            let e = load(src.add(n - 64).cast());
            let f = load(src.add(n - 48).cast());
            let g = load(src.add(n - 32).cast());
            let h = load(src.add(n - 16).cast());
            store(dst.cast(), a);
            store(dst.add(16).cast(), b);
            store(dst.add(32).cast(), c);
            store(dst.add(48).cast(), d);
            store(dst.add(n - 64).cast(), e);
            store(dst.add(n - 48).cast(), f);
            store(dst.add(n - 32).cast(), g);
            store(dst.add(n - 16).cast(), h);
        }
    }
}

/// Copy `n` bytes, `n <= 16`, loads before stores.
///
/// # Safety
/// As for [`copy_upto_128`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_upto_16(dst: *mut u8, src: *const u8, n: usize) {
    // SAFETY: as in `copy_upto_128`; unaligned reads and writes of whole integers.
    unsafe {
        if n >= 8 {
            let a = ptr::read_unaligned(src.cast::<u64>());
            let b = ptr::read_unaligned(src.add(n - 8).cast::<u64>());
            ptr::write_unaligned(dst.cast::<u64>(), a);
            ptr::write_unaligned(dst.add(n - 8).cast::<u64>(), b);
        } else if n >= 4 {
            let a = ptr::read_unaligned(src.cast::<u32>());
            let b = ptr::read_unaligned(src.add(n - 4).cast::<u32>());
            ptr::write_unaligned(dst.cast::<u32>(), a);
            ptr::write_unaligned(dst.add(n - 4).cast::<u32>(), b);
        } else if n >= 2 {
            let a = ptr::read_unaligned(src.cast::<u16>());
            let b = ptr::read_unaligned(src.add(n - 2).cast::<u16>());
            ptr::write_unaligned(dst.cast::<u16>(), a);
            ptr::write_unaligned(dst.add(n - 2).cast::<u16>(), b);
        } else if n == 1 {
            *dst = *src;
        }
    }
}

/// Copy `n > 128` bytes front to back in 64-byte steps. The last 64 bytes are read before the
/// loop and written after it, so this is also right when `dst` is below an overlapping `src`.
///
/// # Safety
/// As for [`copy_upto_128`], and `dst <= src` if the regions overlap.
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_forward_long(dst: *mut u8, src: *const u8, n: usize) {
    use std::arch::x86_64::{_mm_loadu_si128 as load, _mm_storeu_si128 as store};
    // SAFETY: offsets stay below n (the loop stops while 64 bytes remain at most); the tail is
    // read before any store could reach it.
    unsafe {
        let t0 = load(src.add(n - 64).cast());
        let t1 = load(src.add(n - 48).cast());
        let t2 = load(src.add(n - 32).cast());
        let t3 = load(src.add(n - 16).cast());
        let mut i = 0;
        while i + 64 < n {
            let a = load(src.add(i).cast());
            let b = load(src.add(i + 16).cast());
            let c = load(src.add(i + 32).cast());
            let d = load(src.add(i + 48).cast());
            store(dst.add(i).cast(), a);
            store(dst.add(i + 16).cast(), b);
            store(dst.add(i + 32).cast(), c);
            store(dst.add(i + 48).cast(), d);
            i += 64;
        }
        store(dst.add(n - 64).cast(), t0);
        store(dst.add(n - 48).cast(), t1);
        store(dst.add(n - 32).cast(), t2);
        store(dst.add(n - 16).cast(), t3);
    }
}

/// Copy `n > 128` bytes back to front: the mirror of [`copy_forward_long`], for `dst` above an
/// overlapping `src`.
///
/// # Safety
/// As for [`copy_upto_128`].
#[cfg(target_arch = "x86_64")]
#[inline(always)]
unsafe fn copy_backward_long(dst: *mut u8, src: *const u8, n: usize) {
    use std::arch::x86_64::{_mm_loadu_si128 as load, _mm_storeu_si128 as store};
    // SAFETY: as in `copy_forward_long`, with the head read first.
    unsafe {
        let h0 = load(src.cast());
        let h1 = load(src.add(16).cast());
        let h2 = load(src.add(32).cast());
        let h3 = load(src.add(48).cast());
        let mut end = n;
        while end > 128 {
            let a = load(src.add(end - 64).cast());
            let b = load(src.add(end - 48).cast());
            let c = load(src.add(end - 32).cast());
            let d = load(src.add(end - 16).cast());
            store(dst.add(end - 64).cast(), a);
            store(dst.add(end - 48).cast(), b);
            store(dst.add(end - 32).cast(), c);
            store(dst.add(end - 16).cast(), d);
            end -= 64;
        }
        // 64 < end <= 128 bytes are left: copy them whole, loads first.
        copy_upto_128(dst.add(64), src.add(64), end - 64);
        store(dst.cast(), h0);
        store(dst.add(16).cast(), h1);
        store(dst.add(32).cast(), h2);
        store(dst.add(48).cast(), h3);
    }
}

/// `memcpy`: the regions do not overlap.
///
/// # Safety
/// The C contract: `src` readable and `dst` writable for `n` bytes, not overlapping.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(all(feature = "memops", target_env = "musl"), unsafe(export_name = "memcpy"))]
#[inline(never)]
pub unsafe extern "C" fn copy(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract, passed on.
    unsafe {
        if n <= 128 {
            copy_upto_128(dst, src, n);
        } else if n < REP_MOVSB_FROM {
            copy_forward_long(dst, src, n);
        } else {
            // The direction flag is clear on entry to any function (System V ABI).
            std::arch::asm!(
                "rep movsb",
                inout("rcx") n => _,
                inout("rdi") dst => _,
                inout("rsi") src => _,
                options(nostack, preserves_flags),
            );
        }
    }
    dst
}

/// `memmove`: the regions may overlap.
///
/// # Safety
/// The C contract: `src` readable and `dst` writable for `n` bytes.
#[cfg(target_arch = "x86_64")]
#[cfg_attr(all(feature = "memops", target_env = "musl"), unsafe(export_name = "memmove"))]
#[inline(never)]
pub unsafe extern "C" fn r#move(dst: *mut u8, src: *const u8, n: usize) -> *mut u8 {
    // SAFETY: the caller's contract; the direction is chosen so no byte is overwritten before
    // it has been read.
    unsafe {
        if n <= 128 {
            copy_upto_128(dst, src, n);
        } else if (dst as usize).wrapping_sub(src as usize) >= n {
            // `dst` below `src`, or past its end: front to back is safe.
            copy_forward_long(dst, src, n);
        } else {
            copy_backward_long(dst, src, n);
        }
    }
    dst
}

/// `memcmp`: the sign of the first differing byte's difference, as unsigned bytes.
///
/// # Safety
/// The C contract: both regions readable for `n` bytes.
#[cfg_attr(all(feature = "memops", target_env = "musl"), unsafe(export_name = "memcmp"))]
#[inline(never)]
pub unsafe extern "C" fn compare(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract, passed on.
    unsafe { compare_body(a, b, n) }
}

/// `bcmp`: zero when equal (what compilers call for `==` on byte slices). Its own copy of the
/// body rather than a call to `compare`: the call would go through the GOT, and
/// `ci/memops-check.sh` wants none of these four to call out.
///
/// # Safety
/// As for [`compare`].
#[cfg_attr(all(feature = "memops", target_env = "musl"), unsafe(export_name = "bcmp"))]
#[inline(never)]
pub unsafe extern "C" fn equal(a: *const u8, b: *const u8, n: usize) -> i32 {
    // SAFETY: the caller's contract, passed on.
    unsafe { compare_body(a, b, n) }
}

/// # Safety
/// As for [`compare`].
#[inline(always)]
unsafe fn compare_body(a: *const u8, b: *const u8, n: usize) -> i32 {
    let mut i = 0;
    // SAFETY: every read lies within [0, n) of its region, per the contract.
    unsafe {
        // Eight bytes at a time; read big-endian, the first differing byte decides the order.
        while i + 8 <= n {
            let x = u64::from_be_bytes(ptr::read_unaligned(a.add(i).cast::<[u8; 8]>()));
            let y = u64::from_be_bytes(ptr::read_unaligned(b.add(i).cast::<[u8; 8]>()));
            if x != y {
                return if x < y { -1 } else { 1 };
            }
            i += 8;
        }
        while i < n {
            let (x, y) = (*a.add(i), *b.add(i));
            if x != y {
                return i32::from(x) - i32::from(y);
            }
            i += 1;
        }
    }
    0
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Distinct bytes, so a byte copied from the wrong place shows.
    fn pattern(len: usize, seed: u8) -> Vec<u8> {
        (0..len).map(|i| (i as u8).wrapping_mul(31).wrapping_add(seed)).collect()
    }

    /// Lengths around every branch: each size up to 300, then steps across the `rep movsb` limit.
    fn lengths() -> impl Iterator<Item = usize> {
        (0..=300).chain([511, 512, 513, 1000, 2047, 2048, 2049, 4096, 65_537])
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn copy_matches_a_plain_copy_at_every_length_and_alignment() {
        for n in lengths() {
            for (s_off, d_off) in [(0, 0), (1, 0), (0, 3), (7, 9), (15, 1)] {
                let src = pattern(n + 16, n as u8);
                let mut dst = vec![0xEEu8; n + 32];
                let ret = unsafe { copy(dst.as_mut_ptr().add(d_off), src.as_ptr().add(s_off), n) };
                assert_eq!(ret, unsafe { dst.as_mut_ptr().add(d_off) });
                assert_eq!(
                    &dst[d_off..d_off + n],
                    &src[s_off..s_off + n],
                    "n {n} offsets {s_off},{d_off}"
                );
                assert!(dst[..d_off].iter().all(|&b| b == 0xEE), "wrote before, n {n}");
                assert!(dst[d_off + n..].iter().all(|&b| b == 0xEE), "wrote past, n {n}");
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    #[test]
    fn move_matches_copy_within_for_overlaps_both_ways() {
        for n in lengths().filter(|&n| n <= 4096) {
            for shift in [1usize, 2, 7, 8, 15, 16, 17, 63, 64, 65, 127, 128, 129, 300] {
                for forward in [true, false] {
                    let buf = pattern(n + shift + 8, shift as u8);
                    let (from, to) = if forward { (shift, 0) } else { (0, shift) };
                    let mut expected = buf.clone();
                    expected.copy_within(from..from + n, to);
                    let mut got = buf.clone();
                    let p = got.as_mut_ptr();
                    unsafe { r#move(p.add(to), p.add(from), n) };
                    assert_eq!(got, expected, "n {n} shift {shift} dst below src {forward}");
                }
            }
        }
    }

    #[test]
    fn compare_orders_by_the_first_differing_byte_as_unsigned() {
        for n in lengths().filter(|&n| n <= 600) {
            let a = pattern(n, 5);
            assert_eq!(unsafe { compare(a.as_ptr(), a.clone().as_ptr(), n) }, 0, "equal, n {n}");
            // Every position, and a byte above 127 against one below to catch signed bytes.
            for at in (0..n).step_by(1 + n / 40) {
                let mut b = a.clone();
                b[at] = if a[at] >= 0x80 { 0x01 } else { 0xF0 };
                let want = a[at].cmp(&b[at]) as i32;
                let got = unsafe { compare(a.as_ptr(), b.as_ptr(), n) };
                assert_eq!(got.signum(), want, "n {n} at {at}");
                assert_ne!(unsafe { equal(a.as_ptr(), b.as_ptr(), n) }, 0);
                // Later bytes do not outvote the first difference.
                if at + 1 < n {
                    b[n - 1] = a[n - 1].wrapping_add(if want < 0 { 0x80 } else { 0 });
                    let got = unsafe { compare(a.as_ptr(), b.as_ptr(), n) };
                    assert_eq!(got.signum(), want, "n {n} at {at}, last changed");
                }
            }
        }
    }
}
