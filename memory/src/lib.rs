//! The process's allocator, and two heaps apart.
//!
//! mimalloc fills each of its pages with blocks of one size, whoever asks
//! for them. A farm's read models (kept while the farm is open) and its
//! governance replay (freed when the farm rests, see
//! `windledger_app::integrity::Integrity::rest`) are built together, event
//! by event, so without care their blocks share pages: once the replay is
//! freed, its blocks leave holes that keep those pages resident, and a
//! farm at rest holds about half as much again as its read models need.
//! Likewise the read models, built from thousands of events whose decoded
//! forms come and go, would leave the pages they share with those holed.
//!
//! [`Allocator`] is mimalloc's, except on a thread inside [`apart`] or
//! [`scratch`]: there it allocates from a heap of their own (first-class
//! mimalloc heaps, which any thread may allocate from), whose pages hold
//! nothing else:
//!
//! - [`apart`], for what is freed as a whole later (a farm's governance
//!   replay);
//! - [`scratch`], for what is built there, then copied out and freed (a
//!   farm's read models while the farm is opened: the copy, made in the
//!   main heap at once, holds only what is kept, in pages of its own).
//!
//! Freeing is the same for every heap (`mi_free` finds a block's heap), and
//! a block may be reallocated or freed outside [`apart`] and [`scratch`].
//!
//! A program that does not install [`Allocator`] (the tests, which use the
//! system's) runs their closures just the same: they only choose where
//! memory comes from, never what the code does.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::ffi::c_void;
use std::ptr::null_mut;
use std::sync::atomic::{AtomicPtr, Ordering};

use libmimalloc_sys as mi;

/// Where a thread's allocations come from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heap {
    Main,
    /// [`apart`]'s.
    Apart,
    /// [`scratch`]'s.
    Scratch,
}

thread_local! {
    /// The heap this thread allocates from.
    static CURRENT: Cell<Heap> = const { Cell::new(Heap::Main) };
}

/// The heaps of [`apart`] and [`scratch`], each made on first use and kept
/// for the process's life.
static HEAPS: [AtomicPtr<mi::mi_heap_t>; 2] =
    [AtomicPtr::new(null_mut()), AtomicPtr::new(null_mut())];

/// Runs `f`, whose allocations on this thread come from the heap apart
/// when [`Allocator`] is the process's. For memory that is freed together
/// later; `f` must not await (it is a plain closure: it cannot).
pub fn apart<R>(f: impl FnOnce() -> R) -> R {
    within(Heap::Apart, f)
}

/// Runs `f`, whose allocations on this thread come from the scratch heap
/// when [`Allocator`] is the process's. For what is built there, then
/// copied out (outside [`scratch`]) and freed; `f` must not await.
pub fn scratch<R>(f: impl FnOnce() -> R) -> R {
    within(Heap::Scratch, f)
}

/// Returns to the system the scratch heap's pages that this thread's
/// [`scratch`] filled and that are free now (mimalloc would otherwise keep
/// them a while for the next allocations). After what was built there is
/// copied out and freed.
pub fn release_scratch() {
    let heap = slot(Heap::Scratch).map_or(null_mut(), |s| s.load(Ordering::Acquire));
    if !heap.is_null() {
        // SAFETY: the heap is live for the process's life; collecting it
        // frees only pages with no block in use.
        unsafe { mi::mi_heap_collect(heap, true) }
    }
}

fn within<R>(heap: Heap, f: impl FnOnce() -> R) -> R {
    struct Restore(Heap);
    impl Drop for Restore {
        fn drop(&mut self) {
            let previous = self.0;
            let _ = CURRENT.try_with(|c| c.set(previous));
        }
    }
    let previous = CURRENT.try_with(|c| c.replace(heap)).unwrap_or(Heap::Main);
    let _restore = Restore(previous);
    f()
}

fn current() -> Heap {
    CURRENT.try_with(Cell::get).unwrap_or(Heap::Main)
}

/// Where the heap of [`apart`] or [`scratch`] is kept (the main heap is
/// mimalloc's own).
fn slot(which: Heap) -> Option<&'static AtomicPtr<mi::mi_heap_t>> {
    match which {
        Heap::Main => None,
        Heap::Apart => Some(&HEAPS[0]),
        Heap::Scratch => Some(&HEAPS[1]),
    }
}

/// The heap of [`apart`] or [`scratch`], made on first use (null for the
/// main heap, or if mimalloc could not make one: then the main heap
/// serves).
fn heap(which: Heap) -> *mut mi::mi_heap_t {
    let Some(slot) = slot(which) else {
        return null_mut();
    };
    let heap = slot.load(Ordering::Acquire);
    if !heap.is_null() {
        return heap;
    }
    // SAFETY: `mi_heap_new` has no preconditions; a heap that loses the
    // race is deleted, its (no) blocks moved to the main heap.
    let made = unsafe { mi::mi_heap_new() };
    match slot.compare_exchange(null_mut(), made, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => made,
        Err(theirs) => {
            if !made.is_null() {
                unsafe { mi::mi_heap_delete(made) };
            }
            theirs
        }
    }
}

/// mimalloc, with heaps of their own for [`apart`]'s and [`scratch`]'s
/// allocations.
pub struct Allocator;

/// The heap this thread allocates from, if it is not the main one (and
/// mimalloc could make it).
fn thread_heap() -> Option<*mut mi::mi_heap_t> {
    Some(heap(current())).filter(|h| !h.is_null())
}

/// A block of `layout` from the thread's heap by `in_heap`, or from the
/// main heap by `main`.
unsafe fn allocate(
    layout: Layout,
    in_heap: unsafe extern "C" fn(*mut mi::mi_heap_t, usize, usize) -> *mut c_void,
    main: unsafe extern "C" fn(usize, usize) -> *mut c_void,
) -> *mut u8 {
    let (size, align) = (layout.size(), layout.align());
    unsafe {
        match thread_heap() {
            Some(heap) => in_heap(heap, size, align),
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
            match thread_heap() {
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
    fn each_heap_is_undone_after_its_closure_and_after_a_panic() {
        assert_eq!(current(), Heap::Main);
        assert_eq!(apart(current), Heap::Apart);
        assert_eq!(scratch(current), Heap::Scratch);
        assert_eq!(current(), Heap::Main);
        // Nested: the inner one, then the outer one again.
        let nested = apart(|| (scratch(current), current()));
        assert_eq!(nested, (Heap::Scratch, Heap::Apart));
        assert_eq!(current(), Heap::Main);
        let caught = std::panic::catch_unwind(|| scratch(|| apart(|| panic!("in the closure"))));
        assert!(caught.is_err());
        assert_eq!(current(), Heap::Main);
    }

    #[test]
    fn blocks_of_each_heap_are_kept_in_it_and_freed_by_either_path() {
        let a = Allocator;
        type Within = fn(&dyn Fn() -> *mut u8) -> *mut u8;
        let heaps: [(Heap, Within); 2] =
            [(Heap::Apart, |f| apart(f)), (Heap::Scratch, |f| scratch(f))];
        for (which, within) in heaps {
            let (mine, other) = match which {
                Heap::Apart => (heap(Heap::Apart), heap(Heap::Scratch)),
                _ => (heap(Heap::Scratch), heap(Heap::Apart)),
            };
            unsafe {
                for align in [1, 8, 64, 4096] {
                    let layout = Layout::from_size_align(100, align).unwrap();
                    let p = within(&|| a.alloc(layout));
                    assert!(!p.is_null());
                    assert_eq!(p as usize % align, 0);
                    // Only its own heap holds it.
                    assert!(mi_heap_contains(mine, p.cast()));
                    assert!(!mi_heap_contains(other, p.cast()));
                    p.write_bytes(7, 100);
                    // Grown outside: moved to the main heap, contents kept.
                    let q = a.realloc(p, layout, 10_000);
                    assert_eq!(q as usize % align, 0);
                    assert_eq!(*q.add(99), 7);
                    assert!(!mi_heap_contains(mine, q.cast()));
                    let moved = Layout::from_size_align(10_000, align).unwrap();
                    let z = within(&|| a.alloc_zeroed(moved));
                    assert!(mi_heap_contains(mine, z.cast()));
                    assert!(
                        std::slice::from_raw_parts(z, 10_000)
                            .iter()
                            .all(|b| *b == 0)
                    );
                    a.dealloc(z, moved);
                    let m = a.alloc(layout);
                    assert!(!mi_heap_contains(mine, m.cast()));
                    assert!(!mi_heap_contains(other, m.cast()));
                    a.dealloc(m, layout);
                    a.dealloc(q, moved);
                }
            }
        }
    }
}
