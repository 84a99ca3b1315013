//! Tables allocated zeroed, so that their pages cost no resident memory until written.
//!
//! The engine's capacities are fixed when it is built (several hundred KiB by default), but a
//! freshly started proxy, or a small site, uses a sliver of them. Memory from `alloc_zeroed`
//! comes untouched from the kernel (or is known zero to the allocator), whereas `vec![x; n]` of a
//! struct writes every element. Each table using this gives "unused" an all-zero form.

use std::alloc::{Layout, alloc_zeroed, handle_alloc_error};

/// Types for which all-zero bytes are a valid value that means "unused".
///
/// # Safety
/// The type must be plain data (integers and arrays or structs of them): no references, no
/// pointers, no enums, nothing whose all-zero form is not a value.
pub(crate) unsafe trait Zeroable: Copy {}

// SAFETY: four integers; all-zero is the ring's unused bucket.
unsafe impl Zeroable for super::series::Bucket {}
// SAFETY: integers and byte arrays; hash 0 is the agent cache's empty slot.
unsafe impl Zeroable for super::engine::CachedAgent {}

/// `n` zeroed values of `T` in one allocation.
pub(crate) fn boxed<T: Zeroable>(n: usize) -> Box<[T]> {
    let layout = match Layout::array::<T>(n) {
        Ok(l) if l.size() > 0 => l,
        // Nothing to allocate (or a size no machine has, which `Vec` would refuse the same way).
        _ => return Vec::new().into_boxed_slice(),
    };
    // SAFETY: the layout's size is non-zero; the memory is zeroed, which `Zeroable` says is a
    // valid `T`; `Box<[T]>` frees with `Layout::array::<T>(n)`, the layout allocated here.
    unsafe {
        let ptr = alloc_zeroed(layout).cast::<T>();
        if ptr.is_null() {
            handle_alloc_error(layout);
        }
        Box::from_raw(std::ptr::slice_from_raw_parts_mut(ptr, n))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq)]
    struct Pair {
        a: u32,
        b: u64,
    }
    // SAFETY: two integers.
    unsafe impl Zeroable for Pair {}

    #[test]
    fn tables_start_zeroed_and_hold_values() {
        let mut t: Box<[Pair]> = boxed(1000);
        assert_eq!(t.len(), 1000);
        assert!(t.iter().all(|p| *p == Pair { a: 0, b: 0 }));
        t[999] = Pair { a: 7, b: 9 };
        assert_eq!(t[999].b, 9);
        let empty: Box<[Pair]> = boxed(0);
        assert!(empty.is_empty());
    }
}
