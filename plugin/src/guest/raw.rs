//! The guest's `unsafe`: the `extern "C"` functions of the header, which read the host's
//! bytes, hand buffers over and back, and call the host's notifier. Each only moves bytes
//! between raw pointers and [`super::call`] / [`super::call_async`], which are safe code that
//! never unwinds.
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::mem::ManuallyDrop;

use crate::abi::{Buffer, EVENT, NotifyFn, REPLY};

/// [`crate::abi::CallFn`].
pub(crate) unsafe extern "C" fn call(request: *const u8, len: usize) -> Buffer {
    // SAFETY: the host passes a pointer valid for reads of `len` bytes for the duration of
    // the call (the contract of `CallFn`); the slice does not outlive the call.
    let request = unsafe { bytes(request, len) };
    let mut reply = ManuallyDrop::new(super::call(request));
    Buffer {
        ptr: reply.as_mut_ptr(),
        len: reply.len(),
        capacity: reply.capacity(),
    }
}

/// [`crate::abi::FreeFn`].
pub(crate) unsafe extern "C" fn free(buffer: Buffer) {
    // SAFETY: the host gives back, once, a buffer `call` made from a `Vec<u8>` of this very
    // library's allocator with exactly these pointer, length and capacity (the contract of
    // `FreeFn`), so rebuilding the vector and dropping it frees it as Rust allocated it.
    drop(unsafe { Vec::from_raw_parts(buffer.ptr, buffer.len, buffer.capacity) });
}

/// [`crate::abi::CallAsyncFn`].
pub(crate) unsafe extern "C" fn call_async(
    request: *const u8,
    len: usize,
    context: *mut c_void,
    notify: NotifyFn,
) {
    // SAFETY: as in `call`: valid for `len` bytes during this call, and `call_async` copies
    // what it needs before it returns.
    let request = unsafe { bytes(request, len) };
    super::call_async(
        request,
        Notifier {
            notify,
            context: context as usize,
        },
    );
}

/// `len` bytes at `ptr`; empty for a null pointer of length 0.
///
/// # Safety
///
/// `ptr` must be valid for reads of `len` bytes for the lifetime the caller gives the slice.
unsafe fn bytes<'a>(ptr: *const u8, len: usize) -> &'a [u8] {
    if len == 0 {
        return &[];
    }
    // SAFETY: the caller's contract.
    unsafe { std::slice::from_raw_parts(ptr, len) }
}

/// The host's notifier of one asynchronous call, sent to the runtime's threads. The context
/// travels as an address: the host's contract lets any thread use it until the reply.
struct Notifier {
    notify: NotifyFn,
    context: usize,
}

impl Notifier {
    fn send(&self, kind: u32, message: &[u8]) {
        // SAFETY: `context` is the host's, not yet passed with `REPLY`: `super::call_async`
        // sends events only before its single reply (the contract of `NotifyFn`), and the
        // message is valid for its length during the call.
        unsafe {
            (self.notify)(
                self.context as *mut c_void,
                kind,
                message.as_ptr(),
                message.len(),
            );
        }
    }
}

impl super::Notify for Notifier {
    fn event(&self, message: &[u8]) {
        self.send(EVENT, message);
    }

    fn reply(&self, message: &[u8]) {
        self.send(REPLY, message);
    }
}
