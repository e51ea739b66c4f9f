//! # godwit-plugin
//!
//! godwit's plugin ABI: how a dialect crate ships as a dynamic library that godwit loads at
//! run time, and how godwit loads one. A plugin and a dialect compiled into godwit behind a
//! cargo feature are the same crate: it builds as a `cdylib` too and invokes
//! [`export_plugin!`] once over its [`godwit_core::Backend`].
//!
//! The boundary is a C ABI that depends on nothing of Rust's layout ([`abi`]): one entry
//! symbol returning a `#[repr(C)]` header (ABI version, header size, contract version, the
//! plugin's name, version and URL schemes, function pointers for calls and for freeing
//! buffers). Requests and replies are JSON messages mirroring the `Dialect`, `Store` and
//! `Backend` methods one to one ([`wire`]). Store calls are asynchronous for the host; the
//! plugin runs them on a Tokio runtime of its own.
//!
//! Feature flags:
//!
//! - `guest`: [`export_plugin!`] and the plugin's side of the calls (a Tokio runtime).
//! - `host`: [`host::load`], [`host::search`] and the adapters to core's traits
//!   (libloading).
//!
//! The `unsafe` code of the boundary is in two small modules, `host::load` and
//! `guest::raw`, each block with the reason it is sound, and in the `#[unsafe(no_mangle)]` of
//! the entry symbol [`export_plugin!`] writes. The invariants they rely on: a plugin built
//! for another ABI or contract version is refused before any call, with both versions named;
//! a panic in the plugin is caught in the plugin and crosses as an error; each buffer is
//! freed by the side that allocated it; a library is never unloaded.
#![warn(missing_docs)]

pub mod abi;
pub mod wire;

#[cfg(feature = "guest")]
#[doc(hidden)]
pub mod guest;

#[cfg(feature = "host")]
pub mod host;

/// Core, for the code [`export_plugin!`] writes in a crate that may name it otherwise.
#[doc(hidden)]
pub use godwit_core as __core;
