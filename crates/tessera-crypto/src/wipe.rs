//! Best-effort wiping of secret bytes on drop.
//!
//! Without `unsafe` (forbidden in this workspace) or the `zeroize` crate, the
//! compiler may in principle elide these writes; `black_box` makes that unlikely.
//! Copies made elsewhere (by ring, argon2, the allocator on reallocation) are not
//! covered.

/// Overwrites `bytes` with zeros.
pub(crate) fn wipe(bytes: &mut [u8]) {
    bytes.fill(0);
    std::hint::black_box(&*bytes);
}

/// A byte buffer that is wiped when dropped.
pub(crate) struct WipeOnDrop(pub(crate) Vec<u8>);

impl Drop for WipeOnDrop {
    fn drop(&mut self) {
        wipe(&mut self.0);
    }
}
