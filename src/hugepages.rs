//! Transparent huge pages, refused for the whole process.
//!
//! Where the kernel's setting is `always` (Debian's arm64 kernels, among others), every
//! 2 MiB-aligned stretch of the allocator's arena that is touched at all is backed by a whole
//! 2 MiB page: idle RSS on an emulated arm64 board was 12.6-14.7 MiB with `always` and
//! 3.3-3.5 MiB with `madvise` (bench/board-rss.sh, docs/PERFORMANCE.md). mimalloc's `no_thp`
//! build only stops its own `madvise(MADV_HUGEPAGE)`, and a heap grown with `brk` under musl's
//! allocator is as exposed, so the refusal does not depend on the allocator.

/// Sets `PR_SET_THP_DISABLE`. The binary registers this as a constructor (`main.rs`), so it runs
/// before the first allocation; a kernel without the call leaves the setting as it was.
#[cfg(target_os = "linux")]
pub extern "C" fn refuse() {
    // SAFETY: prctl with integer arguments only; it reads and writes no memory of ours.
    unsafe {
        libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
    }
}
