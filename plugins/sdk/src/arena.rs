//! An optional global allocator for plugins (feature `arena`): a bump allocator that
//! rewinds whenever everything it handed out has been freed.
//!
//! Why: a `process` call allocates the batch, every output value and the outcome list, and
//! all of it is freed by the time the host's post-return finishes. Bumping a pointer and
//! rewinding once is cheaper than a general allocator's bookkeeping (measured +9–10% events
//! per second on a splicing enricher at batch 512, see `research/wasmtime-notes.md`).
//!
//! The arena is switched on once `init` has succeeded ([`activate`]): the plugin's own state,
//! built in `init`, comes from the system allocator and does not pin the arena.
//!
//! Why it is sound whatever the plugin does: a byte of the arena is only handed out again
//! after *every* arena block has been freed, so no live block can be overwritten. An
//! allocation that outlives a call (state kept in the plugin) simply keeps the arena from
//! rewinding; allocations that no longer fit then go to the system allocator — slower,
//! never wrong. When a cycle overflowed, the arena doubles (up to 16 MiB) at its next rewind.

#![allow(
    unsafe_code,
    reason = "a global allocator is unsafe by contract; invariants below"
)]

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::ptr;

const INITIAL_SIZE: usize = 256 << 10;
const MAX_SIZE: usize = 16 << 20;
const CHUNK_ALIGN: usize = 16;

/// The arena allocator. Only for single-threaded targets (`wasm32-wasip2`).
pub struct Arena {
    /// Start of the current chunk (null until first use or after a failed refill).
    base: Cell<*mut u8>,
    /// Size of the current chunk.
    size: Cell<usize>,
    /// Offset of the first free byte.
    top: Cell<usize>,
    /// Arena blocks handed out and not yet freed.
    live: Cell<usize>,
    /// Some allocation of this cycle did not fit.
    overflowed: Cell<bool>,
    /// Whether new blocks come from the arena at all.
    active: Cell<bool>,
}

// SAFETY: used only as the global allocator of a single-threaded WebAssembly instance
// (the `cfg` excludes targets with threads), so the cells are never accessed concurrently.
#[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
unsafe impl Sync for Arena {}

impl Arena {
    /// An empty arena; its first chunk is taken from the system allocator on first use.
    pub const fn new() -> Self {
        Arena {
            base: Cell::new(ptr::null_mut()),
            size: Cell::new(0),
            top: Cell::new(0),
            live: Cell::new(0),
            overflowed: Cell::new(false),
            active: Cell::new(false),
        }
    }

    /// From now on, serve allocations from the arena.
    pub fn activate(&self) {
        self.active.set(true);
    }

    fn owns(&self, block: *mut u8) -> bool {
        let base = self.base.get() as usize;
        !self.base.get().is_null() && (base..base + self.size.get()).contains(&(block as usize))
    }

    /// Takes a new chunk of `size` bytes. Only called while no arena block is live.
    fn refill(&self, size: usize) {
        let old = self.base.get();
        if !old.is_null() {
            // SAFETY: `old` came from `System.alloc` with this exact layout, and no block in
            // it is live (callers guarantee `live == 0`).
            unsafe {
                System.dealloc(
                    old,
                    Layout::from_size_align_unchecked(self.size.get(), CHUNK_ALIGN),
                )
            };
        }
        // SAFETY: size is non-zero and the alignment a power of two.
        let new = unsafe { System.alloc(Layout::from_size_align_unchecked(size, CHUNK_ALIGN)) };
        self.base.set(new);
        self.size.set(if new.is_null() { 0 } else { size });
        self.top.set(0);
    }

    /// Called when the last arena block is freed.
    fn rewind(&self) {
        self.top.set(0);
        if self.overflowed.replace(false) && self.size.get() < MAX_SIZE {
            self.refill((self.size.get() * 2).clamp(INITIAL_SIZE, MAX_SIZE));
        }
    }
}

impl Default for Arena {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: every block returned is either a fresh system allocation or a range of the
// current chunk that no live block overlaps (blocks are bumped past `top`, and `top` only
// goes back when `live` reaches zero); `dealloc`/`realloc` route each block back to
// whoever handed it out, using `owns`, which holds because the chunk is only replaced
// while no arena block is live.
unsafe impl GlobalAlloc for Arena {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if !self.active.get() {
            // SAFETY: forwarded with the caller's layout.
            return unsafe { System.alloc(layout) };
        }
        if self.base.get().is_null() && self.live.get() == 0 {
            self.refill(INITIAL_SIZE);
        }
        let base = self.base.get() as usize;
        if base != 0 {
            let start = (base + self.top.get() + layout.align() - 1) & !(layout.align() - 1);
            if let Some(end) = start.checked_add(layout.size())
                && end <= base + self.size.get()
            {
                self.top.set(end - base);
                self.live.set(self.live.get() + 1);
                return start as *mut u8;
            }
        }
        self.overflowed.set(true);
        // SAFETY: forwarded with the caller's (valid, non-zero-size) layout.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, block: *mut u8, layout: Layout) {
        if self.owns(block) {
            let live = self.live.get() - 1;
            self.live.set(live);
            if live == 0 {
                self.rewind();
            }
        } else {
            // SAFETY: not ours, so `System` handed it out with this layout.
            unsafe { System.dealloc(block, layout) }
        }
    }

    unsafe fn realloc(&self, block: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if self.owns(block) {
            let offset = block as usize - self.base.get() as usize;
            // The most recent block grows or shrinks in place.
            if offset + layout.size() == self.top.get() && offset + new_size <= self.size.get() {
                self.top.set(offset + new_size);
                return block;
            }
            if new_size <= layout.size() {
                return block;
            }
        }
        // SAFETY: the caller guarantees `new_size` is valid for `layout.align()`.
        let new_layout = unsafe { Layout::from_size_align_unchecked(new_size, layout.align()) };
        // SAFETY: as for `alloc`/`dealloc`; the copy stays within both blocks.
        unsafe {
            let new = self.alloc(new_layout);
            if !new.is_null() {
                ptr::copy_nonoverlapping(block, new, layout.size().min(new_size));
                self.dealloc(block, layout);
            }
            new
        }
    }
}

/// Switches the global arena on (called by the export glue after a successful `init`).
/// Does nothing unless the arena is the global allocator.
pub fn activate() {
    #[cfg(all(target_family = "wasm", not(target_feature = "atomics")))]
    crate::ALLOCATOR.activate();
}

#[cfg(test)]
mod tests {
    use super::*;

    fn layout(size: usize, align: usize) -> Layout {
        Layout::from_size_align(size, align).unwrap()
    }

    #[test]
    fn rewinds_only_when_every_block_is_freed() {
        let arena = Arena::new();
        arena.activate();
        unsafe {
            let a = arena.alloc(layout(100, 8));
            let b = arena.alloc(layout(100, 8));
            assert!(arena.owns(a) && arena.owns(b));
            assert!(b as usize >= a as usize + 100, "blocks overlap");
            arena.dealloc(a, layout(100, 8));
            let c = arena.alloc(layout(10, 1));
            assert!(
                c as usize >= b as usize + 100,
                "a byte was reused while `b` was live"
            );
            arena.dealloc(b, layout(100, 8));
            arena.dealloc(c, layout(10, 1));
            assert_eq!(
                arena.alloc(layout(1, 1)),
                a,
                "empty arena rewinds to its start"
            );
        }
    }

    #[test]
    fn a_block_that_outlives_the_call_pins_the_arena_and_overflow_goes_to_the_system() {
        let arena = Arena::new();
        arena.activate();
        unsafe {
            let kept = arena.alloc(layout(8, 8));
            let big = arena.alloc(layout(INITIAL_SIZE, 8));
            assert!(!arena.owns(big) && !big.is_null());
            big.write_bytes(7, INITIAL_SIZE);
            arena.dealloc(big, layout(INITIAL_SIZE, 8));
            assert!(arena.owns(kept));
            arena.dealloc(kept, layout(8, 8));
            // The overflow made the next chunk twice as large.
            assert_eq!(arena.size.get(), INITIAL_SIZE * 2);
        }
    }

    #[test]
    fn realloc_grows_the_last_block_in_place_and_copies_otherwise() {
        let arena = Arena::new();
        arena.activate();
        unsafe {
            let a = arena.alloc(layout(4, 1));
            a.copy_from_nonoverlapping(b"abcd".as_ptr(), 4);
            let grown = arena.realloc(a, layout(4, 1), 64);
            assert_eq!(grown, a);
            let b = arena.alloc(layout(4, 1));
            let moved = arena.realloc(a, layout(64, 1), 128);
            assert_ne!(moved, a);
            assert_eq!(std::slice::from_raw_parts(moved, 4), b"abcd");
            arena.dealloc(b, layout(4, 1));
            arena.dealloc(moved, layout(128, 1));
            assert_eq!(arena.live.get(), 0);
            assert_eq!(arena.top.get(), 0);
        }
    }

    #[test]
    fn an_inactive_arena_forwards_to_the_system() {
        let arena = Arena::new();
        unsafe {
            let block = arena.alloc(layout(16, 8));
            assert!(!arena.owns(block));
            arena.activate();
            let inside = arena.alloc(layout(16, 8));
            assert!(arena.owns(inside));
            arena.dealloc(block, layout(16, 8));
            arena.dealloc(inside, layout(16, 8));
        }
    }

    #[test]
    fn respects_alignment() {
        let arena = Arena::new();
        arena.activate();
        unsafe {
            arena.alloc(layout(3, 1));
            let aligned = arena.alloc(layout(64, 64));
            assert_eq!(aligned as usize % 64, 0);
        }
    }
}
