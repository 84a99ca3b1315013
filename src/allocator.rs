//! The global allocator: mimalloc, called the way the C library's `malloc` would be.
//!
//! The `mimalloc` crate sends every Rust allocation through `mi_malloc_aligned`. In mimalloc v3
//! that call only stays on the fast path while the size class's current page has a free block;
//! when the page runs out, classes whose block size is not a power of two (48, 80, 96 bytes...)
//! fall to an over-allocating path that never refills that class's page. Under the proxy's load
//! that was 10 of 26 allocations per request and 5% of all instructions (callgrind,
//! docs/PERFORMANCE.md). Every mimalloc size class above 8 bytes is a multiple of 16 bytes, so
//! `mi_malloc` already returns 16-byte alignment for those sizes, as C's `malloc` must for
//! `max_align_t`; the aligned entry points are kept for stricter alignments only. This is the
//! rule Rust's own `System` allocator applies to `malloc`.

use std::alloc::{GlobalAlloc, Layout};
use std::ffi::c_void;

use libmimalloc_sys as mi;

/// Hands this thread's freed memory back to the kernel now (`mi_collect(true)`). mimalloc
/// purges freed pages only at a later call on the same thread, after its purge delay: after a
/// burst that never comes on an idle router. For rare, large frees only: it walks the thread's
/// pages.
pub fn release_free_memory() {
    // libmimalloc-sys declares `mi_collect` only with its `extended` feature; the symbol is in
    // every build of the library.
    unsafe extern "C" {
        fn mi_collect(force: bool);
    }
    // SAFETY: a plain flag; mimalloc collects only memory it owns and no block is live in it.
    unsafe { mi_collect(true) }
}

/// The alignment every `mi_malloc` block of at least this many bytes has (`MI_MAX_ALIGN_SIZE`).
const PLAIN_ALIGN: usize = 16;

/// mimalloc, with plain `malloc` calls where the alignment allows.
pub struct MiMalloc;

/// Whether a plain (unaligned) mimalloc call satisfies `align` for a block of `size` bytes.
#[inline]
fn plain(size: usize, align: usize) -> bool {
    align <= PLAIN_ALIGN && align <= size
}

// SAFETY: every pointer handed out comes from mimalloc and goes back to it; `plain` only picks
// the unaligned entry points when mimalloc's size classes guarantee the requested alignment.
unsafe impl GlobalAlloc for MiMalloc {
    #[inline]
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: FFI calls with a size and a power-of-two alignment from a valid Layout.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi::mi_malloc(layout.size()).cast()
            } else {
                mi::mi_malloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as in `alloc`.
        unsafe {
            if plain(layout.size(), layout.align()) {
                mi::mi_zalloc(layout.size()).cast()
            } else {
                mi::mi_zalloc_aligned(layout.size(), layout.align()).cast()
            }
        }
    }

    #[inline]
    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        // SAFETY: `ptr` came from one of the mimalloc calls above (GlobalAlloc's contract).
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    #[inline]
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: `ptr` came from this allocator with `layout` (GlobalAlloc's contract).
        unsafe {
            if plain(new_size, layout.align()) {
                mi::mi_realloc(ptr.cast::<c_void>(), new_size).cast()
            } else {
                mi::mi_realloc_aligned(ptr.cast::<c_void>(), new_size, layout.align()).cast()
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every size and alignment the rule sends to plain `mi_malloc` comes back aligned.
    #[test]
    fn plain_allocations_are_aligned_as_asked() {
        let allocator = MiMalloc;
        for align in [1usize, 2, 4, 8, 16, 32, 64, 128, 4096] {
            for size in (1..=4200).step_by(7) {
                let layout = Layout::from_size_align(size, align).expect("valid layout");
                // SAFETY: a non-zero size; the block is freed with the same layout.
                unsafe {
                    let mut held = Vec::new();
                    // Several blocks per class, so the pages' later blocks are checked too.
                    for _ in 0..4 {
                        let p = allocator.alloc(layout);
                        assert!(!p.is_null());
                        assert_eq!(p as usize % align, 0, "size {size} align {align}");
                        held.push(p);
                    }
                    let grown = allocator.realloc(held[0], layout, size * 3);
                    assert_eq!(grown as usize % align, 0, "realloc size {size} align {align}");
                    held[0] = grown;
                    let big = Layout::from_size_align(size * 3, align).expect("valid layout");
                    allocator.dealloc(held[0], big);
                    for &p in &held[1..] {
                        allocator.dealloc(p, layout);
                    }
                    let z = allocator.alloc_zeroed(layout);
                    assert_eq!(z as usize % align, 0);
                    assert!(std::slice::from_raw_parts(z, size).iter().all(|&b| b == 0));
                    allocator.dealloc(z, layout);
                }
            }
        }
    }
}
