//! How the process's heap is kept: what it asks of glibc's allocator, and when.
//!
//! By default glibc serves every block above 128 KiB (a threshold that rises to at most
//! 32 MiB as such blocks are freed) with a fresh `mmap`, and unmaps it on `free`; it also
//! gives the top of its heaps back to the kernel as soon as 128 KiB there are free.
//! Ingest allocates and frees a read buffer the size of each message, and a batch's
//! parsed messages: so in a bulk run every large message cost fresh pages from the
//! kernel, each zeroed and faulted in (100,000 page faults for 10,000 complaints, and on
//! this project's virtual machine, whose freed memory goes back to the host, up to 3 s
//! of the kernel's time). With the heap kept, the same pages serve message after
//! message (22,000 page faults).

/// Blocks up to 32 MiB come from the heap, and freed memory stays in it: called once,
/// first thing in `main`. A single message larger than that still gets its own mapping
/// (and gives it back).
pub fn keep_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: mallopt only sets allocator parameters (under the allocator's lock).
    unsafe {
        libc::mallopt(libc::M_MMAP_THRESHOLD, 32 << 20);
        libc::mallopt(libc::M_TRIM_THRESHOLD, 1 << 30);
    }
}

/// Gives the heap's free memory back to the kernel: the long-running worker calls it
/// between cycles, so that a burst of mail does not keep its memory while idle.
pub fn give_back_freed_memory() {
    #[cfg(all(target_os = "linux", target_env = "gnu"))]
    // SAFETY: malloc_trim only releases free memory; it takes the allocator's locks.
    unsafe {
        libc::malloc_trim(0);
    }
}
