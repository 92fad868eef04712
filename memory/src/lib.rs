//! The process's allocator, and a heap apart.
//!
//! mimalloc fills each of its pages with blocks of one size, whoever asks
//! for them. A farm's read models (kept while the farm is open) and its
//! governance replay (freed when the farm rests, see
//! `windledger_app::integrity::Integrity::rest`) are built together, event
//! by event, so without care their blocks share pages: once the replay is
//! freed, its blocks leave holes that keep those pages resident, and a
//! farm at rest holds about half as much again as its read models need.
//!
//! [`Allocator`] is mimalloc's, except on a thread inside [`apart`]: there
//! it allocates from a second heap (a first-class mimalloc heap, which any
//! thread may allocate from), whose pages hold nothing else. Freeing is the
//! same for both (`mi_free` finds a block's heap), and a block may be
//! reallocated or freed outside [`apart`].
//!
//! A program that does not install [`Allocator`] (the tests, which use the
//! system's) runs [`apart`]'s closure just the same: it only chooses where
//! memory comes from, never what the code does.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

use libmimalloc_sys as mi;

thread_local! {
    /// Whether this thread allocates from the heap apart.
    static APART: Cell<bool> = const { Cell::new(false) };
}

/// The heap apart, made on first use and kept for the process's life.
static HEAP: AtomicPtr<mi::mi_heap_t> = AtomicPtr::new(null_mut());

/// Runs `f`, whose allocations on this thread come from the heap apart
/// when [`Allocator`] is the process's. For memory that is freed together
/// later; `f` must not await (it is a plain closure: it cannot).
pub fn apart<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0;
            let _ = APART.try_with(|a| a.set(previous));
        }
    }
    let previous = APART.try_with(|a| a.replace(true)).unwrap_or(false);
    let _restore = Restore(previous);
    f()
}

fn apart_now() -> bool {
    APART.try_with(Cell::get).unwrap_or(false)
}

/// The heap apart (null if mimalloc could not make one: then the main
/// heap serves).
fn heap() -> *mut mi::mi_heap_t {
    let heap = HEAP.load(Ordering::Acquire);
    if !heap.is_null() {
        return heap;
    }
    // SAFETY: `mi_heap_new` has no preconditions; a heap that loses the
    // race is deleted, its (no) blocks moved to the main heap.
    let made = unsafe { mi::mi_heap_new() };
    match HEAP.compare_exchange(null_mut(), made, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => made,
        Err(theirs) => {
            if !made.is_null() {
                unsafe { mi::mi_heap_delete(made) };
            }
            theirs
        }
    }
}

/// mimalloc, with the heap apart for [`apart`]'s allocations.
pub struct Allocator;

/// The heap apart, if this thread is inside [`apart`] (and mimalloc could
/// make one).
fn apart_heap() -> Option<*mut mi::mi_heap_t> {
    if !apart_now() {
        return None;
    }
    Some(heap()).filter(|h| !h.is_null())
}

/// A block of `layout` from the heap apart by `apart`, or from the main
/// heap by `main`.
unsafe fn allocate(
    layout: Layout,
    apart: unsafe extern "C" fn(*mut mi::mi_heap_t, usize, usize) -> *mut c_void,
    main: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    unsafe {
        match apart_heap() {
            Some(heap) => apart(heap, size, align),
            None => main(size, align),
        }
    }
    .cast()
}

// SAFETY: every block comes from mimalloc with the layout's size and
// alignment, and goes back to it by `mi_free`/`mi_realloc_aligned`, which
// accept a block of any heap.
unsafe impl GlobalAlloc for Allocator {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        unsafe { allocate(layout, mi::mi_heap_malloc_aligned, mi::mi_malloc_aligned) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        unsafe { allocate(layout, mi::mi_heap_zalloc_aligned, mi::mi_zalloc_aligned) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, _layout: Layout) {
        unsafe { mi::mi_free(ptr.cast::<c_void>()) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let (ptr, align) = (ptr.cast::<c_void>(), layout.align());
        unsafe {
            match apart_heap() {
                Some(heap) => mi::mi_heap_realloc_aligned(heap, ptr, new_size, align),
                None => mi::mi_realloc_aligned(ptr, new_size, align),
            }
        }
        .cast()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    unsafe extern "C" {
        /// Whether `heap` holds the block `p` (mimalloc 3's own).
        fn mi_heap_contains(heap: *const mi::mi_heap_t, p: *const c_void) -> bool;
    }

    #[test]
    fn apart_is_undone_after_the_closure_and_after_a_panic() {
        assert!(!apart_now());
        assert!(apart(apart_now));
        assert!(!apart_now());
        let nested = apart(|| apart(apart_now) && apart_now());
        assert!(nested);
        assert!(!apart_now());
        let caught = std::panic::catch_unwind(|| apart(|| panic!("in the closure")));
        assert!(caught.is_err());
        assert!(!apart_now());
    }

    #[test]
    fn blocks_of_the_heap_apart_are_kept_apart_and_freed_by_either_path() {
        let a = Allocator;
        unsafe {
            for align in [1, 8, 64, 4096] {
                let layout = Layout::from_size_align(100, align).unwrap();
                let p = apart(|| a.alloc(layout));
                assert!(!p.is_null());
                assert_eq!(p as usize % align, 0);
                // Only the heap apart holds it.
                assert!(mi_heap_contains(heap(), p.cast()));
                p.write_bytes(7, 100);
                // Grown outside `apart`: moved to the main heap, contents kept.
                let q = a.realloc(p, layout, 10_000);
                assert_eq!(q as usize % align, 0);
                assert_eq!(*q.add(99), 7);
                let moved = Layout::from_size_align(10_000, align).unwrap();
                let z = apart(|| a.alloc_zeroed(moved));
                assert!(mi_heap_contains(heap(), z.cast()));
                assert!(
                    std::slice::from_raw_parts(z, 10_000)
                        .iter()
                        .all(|b| *b == 0)
                );
                a.dealloc(z, moved);
                let m = a.alloc(layout);
                assert!(!mi_heap_contains(heap(), m.cast()));
                a.dealloc(m, layout);
                a.dealloc(q, moved);
            }
        }
    }
}
