//! The host's `unsafe`: loading a library, finding its entry symbol, checking its header
//! before reading more than its two frozen fields, and the calls through the header's
//! function pointers. Everything else of the host is safe code over [`Loaded`].
#![allow(unsafe_code)]

use std::ffi::c_void;
use std::path::Path;

use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};

use crate::abi::{ABI_VERSION, CONTRACT_VERSION, ENTRY_SYMBOL, EntryFn, Header, REPLY};
use crate::host::LoadError;

/// A plugin library that is loaded for good, and whose header was checked.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Loaded {
    header: &'static Header,
}

/// What a plugin said on an asynchronous call.
#[derive(Debug)]
pub(crate) enum Message {
    /// An event of the call.
    Event(Vec<u8>),
    /// Its reply, the last message.
    Reply(Vec<u8>),
}

/// Load the library at `path` for the rest of the process, and check that it is a plugin of
/// this host's ABI and contract versions.
pub(crate) fn load(path: &Path) -> Result<Loaded, LoadError> {
    // SAFETY: loading a library runs its initialisers, which can do anything; that is the
    // trust a user gives a plugin by naming it or putting it in a plugin folder, as with any
    // program they run. Nothing of it is called here before its header is checked.
    let library =
        unsafe { libloading::Library::new(path) }.map_err(|error| LoadError::NotALibrary {
            path: path.to_path_buf(),
            message: error.to_string(),
        })?;
    // SAFETY: the symbol is read as the frozen `EntryFn`: a function of no argument returning
    // a pointer, which every ABI version keeps. A library whose symbol of this name is
    // something else breaks the contract it claims by exporting the name.
    let entry = unsafe { library.get::<EntryFn>(ENTRY_SYMBOL.as_bytes()) }
        .map(|symbol| *symbol)
        .map_err(|_| LoadError::NoEntry {
            path: path.to_path_buf(),
        })?;
    // Never unloaded: the header, its function pointers and every dialect adapter handed out
    // as `&'static` point into the library, and a plugin's runtime threads run its code.
    std::mem::forget(library);
    let header = entry();
    if header.is_null() {
        return Err(LoadError::EntryFailed {
            path: path.to_path_buf(),
        });
    }
    // SAFETY: every ABI version starts its header with two `u32`s, the ABI version and the
    // header's size (the frozen prefix), so these two reads are in bounds and aligned (the
    // header is at least `u32`-aligned) whatever version the plugin was built for.
    let (abi_version, header_size) = unsafe {
        (
            header.cast::<u32>().read(),
            header.cast::<u32>().add(1).read(),
        )
    };
    if abi_version != ABI_VERSION {
        return Err(LoadError::AbiMismatch {
            path: path.to_path_buf(),
            plugin: abi_version,
            host: ABI_VERSION,
        });
    }
    if usize::try_from(header_size).ok() != Some(size_of::<Header>()) {
        return Err(LoadError::BadHeader {
            path: path.to_path_buf(),
            problem: format!(
                "its header is {header_size} bytes, where ABI {ABI_VERSION} has {}",
                size_of::<Header>()
            ),
        });
    }
    // SAFETY: the plugin speaks this ABI and its header has this ABI's size, so the pointer
    // is to a `Header` as declared here; the library is never unloaded, so it lives for the
    // rest of the process, and the plugin never writes to it after returning it.
    let header: &'static Header = unsafe { &*header };
    if header.contract_version != CONTRACT_VERSION {
        return Err(LoadError::ContractMismatch {
            path: path.to_path_buf(),
            plugin: header.contract_version,
            host: CONTRACT_VERSION,
        });
    }
    Ok(Loaded { header })
}

impl Loaded {
    /// The checked header.
    pub(crate) fn header(&self) -> &'static Header {
        self.header
    }

    /// A synchronous call: the reply's bytes.
    pub(crate) fn call(&self, request: &[u8]) -> Vec<u8> {
        // SAFETY: `request` is valid for its length during the call; the plugin's `call`
        // catches its panics, so nothing unwinds across the boundary.
        let buffer = unsafe { (self.header.call)(request.as_ptr(), request.len()) };
        let reply = if buffer.len == 0 {
            Vec::new()
        } else {
            // SAFETY: the plugin returned a buffer valid for `len` bytes until it is freed,
            // which happens below, after the copy.
            unsafe { std::slice::from_raw_parts(buffer.ptr, buffer.len) }.to_vec()
        };
        // SAFETY: the buffer is the one this plugin's `call` returned, freed once, by the
        // plugin that allocated it.
        unsafe { (self.header.free)(buffer) };
        reply
    }

    /// Start an asynchronous call: its events and its reply arrive on the receiver.
    pub(crate) fn call_async(&self, request: &[u8]) -> UnboundedReceiver<Message> {
        let (sender, receiver) = unbounded_channel();
        let context = Box::into_raw(Box::new(sender)).cast::<c_void>();
        // SAFETY: `request` is valid during the call (the plugin copies it), and `context` is
        // a boxed sender that `notify` accepts until the reply, which frees it.
        unsafe { (self.header.call_async)(request.as_ptr(), request.len(), context, notify) };
        receiver
    }
}

/// [`crate::abi::NotifyFn`]: copies the message and sends it to the call's receiver, which
/// may be gone (a call whose future was dropped, a released store): then it is dropped.
unsafe extern "C" fn notify(context: *mut c_void, kind: u32, message: *const u8, len: usize) {
    let message = if len == 0 {
        Vec::new()
    } else {
        // SAFETY: the plugin passes a message valid for `len` bytes during this call.
        unsafe { std::slice::from_raw_parts(message, len) }.to_vec()
    };
    let context = context.cast::<UnboundedSender<Message>>();
    if kind == REPLY {
        // SAFETY: `context` is the box `call_async` made, and the reply is its last use: the
        // plugin sends one reply per call and nothing after it, so it is freed exactly once.
        let sender = unsafe { Box::from_raw(context) };
        let _gone = sender.send(Message::Reply(message));
    } else {
        // SAFETY: `context` is the box `call_async` made, alive until the reply frees it;
        // the plugin sends a call's messages one after another, never two at once.
        let sender = unsafe { &*context };
        let _gone = sender.send(Message::Event(message));
    }
}
