//! The C ABI between godwit and a plugin: the header a plugin's entry symbol returns, and the
//! signatures of the functions it points to. Only `#[repr(C)]` types, integers, byte pointers
//! and `extern "C"` function pointers appear here; what the calls carry is serialised
//! messages ([`crate::wire`]).
//!
//! The first two fields of [`Header`] (the ABI version and the header's size) and the name of
//! the entry symbol ([`ENTRY_SYMBOL`]) are frozen for every ABI version to come: a host reads
//! them, and only them, before it has decided the plugin speaks its ABI, so it can name both
//! versions when they differ. Everything after them may change with a new [`ABI_VERSION`].

use std::ffi::c_void;

/// The version of the header layout and of the calling conventions below. A host loads only
/// plugins of its own ABI version.
pub const ABI_VERSION: u32 = 1;

/// The version of the message contract ([`crate::wire`]): which requests exist and the
/// serialised form of what they carry, which mirrors core's `Dialect`, `Store` and `Backend`
/// traits. A host loads only plugins of its own contract version.
pub const CONTRACT_VERSION: u32 = 2;

/// The one symbol a plugin exports: an [`EntryFn`]. Unversioned on purpose, so that a
/// plugin of another ABI version is found and refused with both versions named, rather than
/// looking like a library that is no plugin at all.
pub const ENTRY_SYMBOL: &str = "godwit_plugin_entry";

/// The entry symbol's type: returns the plugin's header, valid for as long as the library is
/// loaded, or null when the plugin failed to start (its panic is caught).
pub type EntryFn = extern "C" fn() -> *const Header;

/// A synchronous call: the request's bytes in, the reply's bytes out, in a buffer the plugin
/// allocated and the host hands back to [`Header::free`].
///
/// # Safety
///
/// `request` must be valid for reads of `len` bytes for the duration of the call.
pub type CallFn = unsafe extern "C" fn(request: *const u8, len: usize) -> Buffer;

/// An asynchronous call: the plugin copies the request, returns at once, and later calls
/// `notify` with `context`: zero or more times with [`EVENT`], then exactly once with
/// [`REPLY`], never after that.
///
/// # Safety
///
/// `request` must be valid for reads of `len` bytes for the duration of the call, and
/// `notify` must accept `context` until it has been called with [`REPLY`].
pub type CallAsyncFn =
    unsafe extern "C" fn(request: *const u8, len: usize, context: *mut c_void, notify: NotifyFn);

/// How a plugin reports on an asynchronous call. The message's bytes belong to the plugin
/// and are valid only during the call: the host copies what it keeps.
///
/// # Safety
///
/// `context` must be the one given to [`CallAsyncFn`], not yet passed with [`REPLY`], and
/// `message` valid for reads of `len` bytes.
pub type NotifyFn =
    unsafe extern "C" fn(context: *mut c_void, kind: u32, message: *const u8, len: usize);

/// Frees a [`Buffer`] a [`CallFn`] returned.
///
/// # Safety
///
/// `buffer` must be one the same plugin's [`CallFn`] returned, freed once.
pub type FreeFn = unsafe extern "C" fn(buffer: Buffer);

/// [`NotifyFn`]'s kind of a message that is an event of a call still running (a statement
/// starting).
pub const EVENT: u32 = 0;
/// [`NotifyFn`]'s kind of the message that ends a call: its reply.
pub const REPLY: u32 = 1;

/// Bytes allocated by a plugin, handed to the host, and given back to the plugin to free.
#[repr(C)]
#[derive(Debug)]
pub struct Buffer {
    /// The first byte.
    pub ptr: *mut u8,
    /// How many bytes are the message.
    pub len: usize,
    /// How many bytes were allocated.
    pub capacity: usize,
}

/// Text in a fixed number of bytes, so the header holds no pointer and needs no allocation.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct Text<const N: usize> {
    len: u32,
    bytes: [u8; N],
}

impl<const N: usize> Text<N> {
    /// `text`, or `None` when it does not fit in `N` bytes.
    pub fn new(text: &str) -> Option<Self> {
        let mut bytes = [0; N];
        bytes
            .get_mut(..text.len())?
            .copy_from_slice(text.as_bytes());
        Some(Text {
            len: u32::try_from(text.len()).ok()?,
            bytes,
        })
    }

    /// The text, or `None` when its length or its bytes are not valid UTF-8 text of at most
    /// `N` bytes (a damaged header).
    pub fn get(&self) -> Option<&str> {
        let len = usize::try_from(self.len).ok()?;
        std::str::from_utf8(self.bytes.get(..len)?).ok()
    }
}

/// What a plugin's entry symbol returns.
#[repr(C)]
#[derive(Debug)]
pub struct Header {
    /// [`ABI_VERSION`] the plugin was built with. Frozen position.
    pub abi_version: u32,
    /// `size_of::<Header>()` in the plugin. Frozen position.
    pub header_size: u32,
    /// [`CONTRACT_VERSION`] the plugin was built with.
    pub contract_version: u32,
    /// The plugin's name: its crate's (`godwit-mysql`).
    pub name: Text<64>,
    /// The plugin's version: its crate's.
    pub version: Text<32>,
    /// The URL schemes it serves, separated by spaces (`mysql mariadb`).
    pub schemes: Text<256>,
    /// Synchronous calls: the dialect's methods, reading URLs, the description.
    pub call: CallFn,
    /// Asynchronous calls: opening stores and their methods.
    pub call_async: CallAsyncFn,
    /// Frees what [`Header::call`] returned.
    pub free: FreeFn,
}
