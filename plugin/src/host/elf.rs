//! Whether an ELF library is whole. The system loader maps a library's segments without
//! checking that the file holds them, so a library cut short can load and then crash the
//! process (`SIGBUS`) when code in the missing part runs; this reads the ELF headers and
//! refuses such a file first. Other formats are left to the loader.

use std::io::Read;
use std::path::Path;

/// How many bytes `path` should have, when it is an ELF file with fewer: the end of its
/// furthest loadable segment or of its section header table, which linkers put last.
pub(crate) fn missing_bytes(path: &Path) -> Option<(u64, u64)> {
    let mut head = Vec::new();
    let file = std::fs::File::open(path).ok()?;
    let size = file.metadata().ok()?.len();
    file.take(64).read_to_end(&mut head).ok()?;
    if head.get(..4)? != b"\x7fELF" {
        return None;
    }
    let wide = *head.get(4)? == 2;
    let little = *head.get(5)? == 1;
    let number = |bytes: &[u8]| -> u64 {
        let mut value = 0u64;
        for (place, byte) in bytes.iter().enumerate() {
            let shift = if little {
                place
            } else {
                bytes.len() - 1 - place
            };
            value |= u64::from(*byte) << (8 * shift);
        }
        value
    };
    let field = |offset: usize, len: usize| head.get(offset..offset + len).map(number);
    let (phoff, phentsize, phnum, shoff, shentsize, shnum) = if wide {
        (
            field(0x20, 8)?,
            field(0x36, 2)?,
            field(0x38, 2)?,
            field(0x28, 8)?,
            field(0x3A, 2)?,
            field(0x3C, 2)?,
        )
    } else {
        (
            field(0x1C, 4)?,
            field(0x2A, 2)?,
            field(0x2C, 2)?,
            field(0x20, 4)?,
            field(0x2E, 2)?,
            field(0x30, 2)?,
        )
    };
    let mut needed = shoff.saturating_add(shentsize.saturating_mul(shnum));
    needed = needed.max(phoff.saturating_add(phentsize.saturating_mul(phnum)));
    if needed <= size {
        let table = std::fs::read(path).ok()?;
        for index in 0..phnum {
            let at = usize::try_from(phoff + index * phentsize).ok()?;
            let header = table.get(at..at + usize::try_from(phentsize).ok()?)?;
            let read = |offset: usize, len: usize| header.get(offset..offset + len).map(number);
            let (kind, offset, filesz) = if wide {
                (read(0, 4)?, read(8, 8)?, read(32, 8)?)
            } else {
                (read(0, 4)?, read(4, 4)?, read(16, 4)?)
            };
            const LOAD: u64 = 1;
            if kind == LOAD {
                needed = needed.max(offset.saturating_add(filesz));
            }
        }
    }
    (needed > size).then_some((size, needed))
}
